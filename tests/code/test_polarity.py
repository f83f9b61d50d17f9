"""The strength-or-gap classifier, its aggregation, and the polarity figures of an evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.data.rows import LabelledRow
from pipeline.model.polarity import PolarityClassifier, polarity_pairs, polarity_tokens
from pipeline.tagger import HeadScores, TagResult, aggregate, behaviour_polarity
from pipeline.training.metrics import polarity_figures

STRENGTHS = ["always explains the reasons", "really listens to the team", "gave me a clear direction", "always follows up"]
GAPS = ["never explains the reasons", "never listens to the team", "no clear direction at all", "never follows up"]


@pytest.fixture(scope="module")
def fitted(encoder):
    texts = STRENGTHS + GAPS
    return PolarityClassifier(C=10.0, min_df=1).fit(texts, encoder.encode(texts), [True] * 4 + [False] * 4)


def test_learns_the_cue_words(fitted, encoder):
    texts = ["she always explains", "she never explains"]
    strength = fitted.predict_proba(texts, encoder.encode(texts))
    assert strength[0] > 0.5 > strength[1]


def test_round_trips_through_plain_arrays(fitted, encoder):
    arrays = fitted.to_arrays()
    assert all(a.dtype != object for a in arrays.values())  # nothing that needs pickle
    loaded = PolarityClassifier.from_arrays(arrays, **fitted.saved_params())
    texts = ["never listens", "clear direction", "words it never saw"]
    np.testing.assert_allclose(
        loaded.predict_proba(texts, encoder.encode(texts)), fitted.predict_proba(texts, encoder.encode(texts)), rtol=1e-6
    )


def test_refuses_one_sided_training_data(encoder):
    with pytest.raises(ValueError, match="both strengths"):
        PolarityClassifier().fit(STRENGTHS, encoder.encode(STRENGTHS), [True] * 4)


def test_no_texts_no_probabilities(fitted):
    assert fitted.predict_proba([], np.zeros((0, 8))).shape == (0,)


def test_negation_marks_words_up_to_punctuation_or_a_contrast():
    assert polarity_tokens("He never explained why, but she listens.") == [
        "he", "never", "not_explained", "not_why", "but", "she", "listens",
    ]
    assert polarity_tokens("She doesn’t shy away. Nobody is left out") == [
        "she", "doesn't", "not_shy", "not_away", "nobody", "not_is", "not_left", "not_out",
    ]


def test_negated_words_are_features_of_their_own(encoder):
    texts = ["explains why", "explains decisions", "never explains why", "never explains decisions"]
    classifier = PolarityClassifier(C=10.0, min_df=1).fit(texts, encoder.encode(texts), [True, True, False, False])
    assert "not_explains" in classifier.words_.vocabulary_
    assert "not_explains" in classifier.to_arrays()["vocabulary"]


def test_pairs_follow_each_label_with_its_own_sign():
    pairs = polarity_pairs(["a", "b"], [("trust", "delivery"), ()], [("+", "-"), ()])
    assert pairs == [(0, "trust", True), (0, "delivery", False)]


def test_behaviour_polarity_reads_text_sentence_or_both():
    assert behaviour_polarity(0.8, 0.2, "text") == 0.8
    assert behaviour_polarity(0.8, 0.2, "sentence") == 0.2
    assert behaviour_polarity(0.8, 0.2, "mean") == pytest.approx(0.5)
    with pytest.raises(ValueError):
        behaviour_polarity(0.8, 0.2, "max")


def test_noisy_or_grows_with_every_piece_and_max_does_not():
    pieces = np.array([[0.5], [0.5], [0.5], [0.9]])
    text = np.array([[0.1], [0.9]])
    scores = HeadScores(pieces, text, text, np.array([1, 1]), np.array([0, 3, 4]))
    np.testing.assert_allclose(aggregate(scores, "noisy_or")[:, 0], [0.875, 0.9], rtol=1e-5)
    np.testing.assert_allclose(aggregate(scores, "max")[:, 0], [0.5, 0.9])


def _row(labels, signs, register="exit_survey"):
    return LabelledRow("x", "text", tuple(labels), tuple(signs), register, "authored", "f.csv", 2)


def test_polarity_report_counts_only_found_behaviours():
    rows = [
        _row(["trust", "delivery"], ["-", "+"]),
        _row(["trust"], ["+"], "appraisal_note"),
        _row(["mindset"], ["-"], "appraisal_note"),
    ]
    results = [
        TagResult("ok", behaviours=["trust"], polarity={"trust": 0.1}),  # right; delivery missed
        TagResult("ok", behaviours=["trust"], polarity={"trust": 0.3}),  # wrong
        TagResult("ok", behaviours=["mindset"], polarity={"mindset": 0.2}),  # right
    ]
    report = polarity_figures(rows, results)
    assert (report["pairs"], report["found"]) == (4, 3)
    assert report["accuracy"] == pytest.approx(2 / 3)
    # "+": no true positive → F1 0; "-": precision 2/3, recall 1 → F1 0.8
    assert report["macro_f1"] == pytest.approx(0.4)
    assert report["per_register"]["exit_survey"]["accuracy"] == 1.0
    assert report["per_register"]["appraisal_note"]["accuracy"] == 0.5
