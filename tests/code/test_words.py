"""A head that reads words beside the vectors (train.features: words+vectors)."""

import dataclasses

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.model.folder import load_model, save_model
from pipeline.model.words import WordFeatures
from pipeline.tagger import Tagger
from pipeline.training.fit import fit_model
from tests.helpers import tiny_rows


@pytest.fixture(scope="module")
def words_params(params):
    return dataclasses.replace(params, train=dataclasses.replace(params.train, features="words+vectors", words_min_df=1))


@pytest.fixture(scope="module")
def words_model(words_params, taxonomy, encoder, splitter):
    return fit_model(tiny_rows(), words_params, taxonomy, encoder, splitter)[0]


def test_word_features_sit_beside_the_vector():
    features = WordFeatures(min_df=1).fit(["never listens", "always listens to us"])
    joined = features.join(["never listens"], np.array([[0.5, -0.5]]))
    vocabulary = len(features.words_.vocabulary_)
    assert joined.shape == (1, vocabulary + 2)
    assert joined[0, vocabulary:].toarray().tolist() == [[0.5, -0.5]]
    assert joined[0, :vocabulary].nnz == 3  # "never", "listens", "never listens"
    with pytest.raises(ValueError, match="must match"):
        features.join(["a", "b"], np.zeros((1, 2)))


def test_a_words_model_saves_its_vocabulary_and_tags_the_same_after_loading(words_model, tmp_path, taxonomy, encoder, splitter):
    assert words_model.words is not None and words_model.card["head"] == "logistic"
    folder = tmp_path / "words"
    save_model(words_model, folder)
    assert (folder / "words.npz").is_file()
    loaded = load_model(folder, taxonomy.ids)
    texts = ["Never explains why decisions are made.", "The canteen closes too early. She admits her mistakes openly."]
    before = Tagger(words_model, encoder=encoder, splitter=splitter).tag(texts)
    after = Tagger(loaded, encoder=encoder, splitter=splitter).tag(texts)
    assert [r.scores for r in after] == [r.scores for r in before]
    assert [r.evidence for r in after] == [r.evidence for r in before]


def test_the_words_change_what_the_head_sees(words_model, trained, encoder, splitter):
    text = ["Shuts down new ideas and says we always do it this way."]
    with_words = Tagger(words_model, encoder=encoder, splitter=splitter).tag(text)[0].scores
    vectors_only = Tagger(trained[0], encoder=encoder, splitter=splitter).tag(text)[0].scores
    assert with_words != vectors_only


def test_words_need_the_logistic_head_and_a_known_setting(words_params, taxonomy, encoder, splitter):
    knn = dataclasses.replace(words_params, train=dataclasses.replace(words_params.train, head="knn", k=3))
    with pytest.raises(InputError, match="needs train.head: logistic"):
        fit_model(tiny_rows(), knn, taxonomy, encoder, splitter)
    unknown = dataclasses.replace(words_params, train=dataclasses.replace(words_params.train, features="characters"))
    with pytest.raises(InputError, match="train.features must be"):
        fit_model(tiny_rows(), unknown, taxonomy, encoder, splitter)
