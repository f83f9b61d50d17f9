import dataclasses

import numpy as np
import pytest
from helpers import tiny_params, tiny_rows

from pipeline.config import FinetuneParams
from pipeline.errors import InputError
from pipeline.model.folder import load_model
from pipeline.training.fit import data_fingerprint, fit_model, tune_thresholds


def test_thresholds_maximise_f1_within_bounds():
    Y = np.array([[1], [1], [0], [0], [0]])
    probs = np.array([[0.9], [0.6], [0.55], [0.3], [0.1]])
    [t] = tune_thresholds(Y, probs, 0.2, 0.9)
    assert 0.55 < t <= 0.6  # the only run of thresholds that separates the classes


def test_thresholds_stay_in_range_when_nothing_separates():
    Y = np.array([[0], [0], [1]])
    probs = np.array([[0.99], [0.98], [0.01]])
    [t] = tune_thresholds(Y, probs, 0.2, 0.9)
    assert 0.2 <= t <= 0.9


def test_model_learns_the_tiny_set(trained, taxonomy):
    model, cv = trained
    assert model.thresholds.shape == (13,)
    assert cv["texts"] == len(tiny_rows())
    assert cv["macro_f1"] > 0.5  # cross-validated on texts each fold never saw
    card = model.card
    assert card["training_data"]["rows"] == len(tiny_rows())
    assert card["encoder"]["name"] == "hashing-512"
    assert set(card["thresholds"]) == set(taxonomy.ids)


def test_fingerprint_changes_with_content_only():
    rows = tiny_rows()
    assert data_fingerprint(rows) == data_fingerprint(list(reversed(rows)))
    changed = [rows[0].__class__(**{**rows[0].__dict__, "text": "different"})] + rows[1:]
    assert data_fingerprint(changed) != data_fingerprint(rows)


def test_fine_tuning_needs_the_real_encoder(taxonomy, encoder, splitter):
    params = dataclasses.replace(tiny_params(), finetune=FinetuneParams(epochs=1))
    with pytest.raises(InputError, match="needs encoder.backend: sentence_transformers"):
        fit_model(tiny_rows(), params, taxonomy, encoder, splitter)


def test_too_few_examples_of_a_behaviour_is_a_clear_error(taxonomy, encoder, splitter):
    rows = [r for r in tiny_rows() if r.labels != ("trust",)][:40] + [r for r in tiny_rows() if r.labels == ("trust",)][:1]
    with pytest.raises(InputError, match=r"too few labelled texts.*trust \(1\)"):
        fit_model(rows, tiny_params(), taxonomy, encoder, splitter)


def test_gate_is_the_strictest_that_costs_little_macro_f1(params, taxonomy):
    from pipeline.training.fit import choose_thresholds, gated, with_any_column

    rng = np.random.default_rng(0)
    Y = (rng.random((200, 13)) < 0.1).astype(int)
    behaviour_probs = np.clip(Y * 0.7 + rng.random((200, 13)) * 0.4, 0, 1)
    any_prob = np.where(Y.any(axis=1), 0.9, 0.2)[:, None]  # a gate that knows the no-behaviour texts
    probs = np.hstack([behaviour_probs, any_prob])
    assert with_any_column(Y)[:, -1].tolist() == Y.any(axis=1).astype(int).tolist()
    thresholds, gate = choose_thresholds(Y, probs, params, taxonomy.ids)
    assert 0.2 <= gate <= 0.9  # closed on the no-behaviour texts (0.2), open to the others (0.9)
    tags = gated(probs, thresholds, gate)
    assert not tags[~Y.any(axis=1)].any()


def test_contrastive_pairs_target_label_overlap():
    from pipeline.training.finetune import contrastive_pairs

    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0], [0, 0]])
    pairs = contrastive_pairs(Y, per_text=1, seed=0)
    assert len(pairs) == 2 * len(Y)
    for i, j, target in pairs:
        a = set(np.flatnonzero(Y[i])) or {-1}
        b = set(np.flatnonzero(Y[j])) or {-1}
        assert target == len(a & b) / len(a | b) and i != j
    assert {t for _, _, t in pairs} >= {0.0, 1.0}


def test_fine_tuning_reads_every_gold_row_and_pool_rows_up_to_max_texts():
    from pipeline.training.fit import fine_tuning_rows

    gold = [tiny_rows()[0]] * 5
    pool = [dataclasses.replace(tiny_rows()[1], shares=(("trust", 1.0),))] * 20
    rows = pool[:10] + gold + pool[10:]
    chosen = fine_tuning_rows(rows, FinetuneParams(max_texts=12))
    assert len(chosen) == 12 and set(range(10, 15)) <= set(chosen) and list(chosen) == sorted(chosen)
    assert list(fine_tuning_rows(rows, FinetuneParams(max_texts=12))) == list(chosen)  # seeded
    assert len(fine_tuning_rows(rows, FinetuneParams())) == 25 and len(fine_tuning_rows(rows, FinetuneParams(max_texts=3))) == 5


def test_a_teacher_says_what_its_tagger_says(model_dir, params, taxonomy, encoder, splitter):
    """Distillation targets are the teacher model's tagger probabilities, "any behaviour" last."""
    from pipeline.tagger import Tagger, probability_matrix
    from pipeline.training.fit import teacher_probabilities

    texts = [row.text for row in tiny_rows()[:6]]
    targets = teacher_probabilities(model_dir, texts, splitter, encoder, params, taxonomy)
    tagger = Tagger(load_model(model_dir, taxonomy.ids), encoder=encoder, splitter=splitter)
    assert targets.shape == (6, 14) and ((targets >= 0) & (targets <= 1)).all()
    assert np.allclose(targets[:, :-1], probability_matrix(tagger.tag(texts), taxonomy.ids), atol=1e-4)
    other = dataclasses.replace(params, encoder=dataclasses.replace(params.encoder, model="another-encoder"))
    with pytest.raises(InputError, match="needs a model on the frozen another-encoder"):
        teacher_probabilities(model_dir, texts, splitter, encoder, other, taxonomy)
