import numpy as np
import pytest

from pipeline.training.metrics import evaluation_figures, multilabel_metrics

IDS = ("a", "b", "c")


def test_perfect_predictions():
    Y = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]])
    m = multilabel_metrics(Y, Y, IDS)
    assert m["macro_f1"] == m["micro_f1"] == m["exact_match"] == 1.0
    assert m["none_untagged"] == 1.0 and m["none_precision"] == 1.0


def test_known_figures():
    Y_true = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]])
    Y_pred = np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0]])
    m = multilabel_metrics(Y_true, Y_pred, IDS)
    assert m["per_behaviour"]["a"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert m["per_behaviour"]["b"]["f1"] == 1.0
    assert m["macro_f1"] == pytest.approx(0.75)  # c has no support and is left out
    assert m["exact_match"] == pytest.approx(0.6)
    assert m["none_untagged"] == pytest.approx(0.5)  # of 2 none texts, 1 left untagged
    assert m["none_precision"] == pytest.approx(0.5)  # of 2 untagged, 1 truly none


def test_per_register_breakdown(taxonomy):
    Y = np.zeros((4, 13), dtype=int)
    Y[0, 0] = Y[2, 5] = 1
    Y_pred = Y.copy()
    Y_pred[2, 5] = 0
    report = evaluation_figures(Y, Y_pred, ["exit_survey", "exit_survey", "appraisal_note", "appraisal_note"], taxonomy)
    assert report["per_register"]["exit_survey"]["macro_f1"] == 1.0
    assert report["per_register"]["appraisal_note"]["macro_f1"] == 0.0
    assert "per_behaviour" not in report["per_register"]["exit_survey"]


def test_plot_tables(taxonomy):
    from pipeline.training.metrics import plot_tables

    Y = np.zeros((4, 13), dtype=int)
    Y[0, 0] = Y[1, 0] = Y[2, 5] = 1
    predicted = np.zeros_like(Y)
    predicted[0, 0] = predicted[1, 3] = 1
    scores = np.where(predicted == 1, 0.8, 0.1).astype(np.float32)
    probabilities = np.where(predicted == 1, 0.55, 0.05).astype(np.float32)
    tables = plot_tables(Y, scores, probabilities, predicted, taxonomy)
    assert len(tables["f1_per_behaviour"]) == 13
    assert {"actual": "authenticity", "predicted": "relationships_advocacy"} in tables["confusion"]
    assert {"actual": "trust", "predicted": "none"} in tables["confusion"]
    curve = tables["precision_recall/authenticity"]
    assert curve[0]["recall"] == 1.0 and curve[-1]["precision"] == 1.0
    assert sum(band["pairs"] for band in tables["calibration"]) == 4 * 13
    assert [band["probability"] for band in tables["calibration"]] == [0.05, 0.55]


def test_calibration_error_is_small_for_honest_probabilities_and_large_for_overconfident_ones():
    from pipeline.training.metrics import calibration_figures, expected_calibration_error

    rng = np.random.default_rng(3)
    p = rng.random((4000, 13))
    honest = (rng.random(p.shape) < p).astype(int)  # each pair shows the behaviour with its probability
    assert expected_calibration_error(honest, p) < 0.02
    overconfident = np.where(p > 0.5, 0.99, 0.01)
    assert expected_calibration_error(honest, overconfident) > 0.2
    figures = calibration_figures(honest[:300], p[:300])
    low, high = figures["interval_90"]
    assert low <= figures["expected_calibration_error"] <= high and figures["pairs"] == 300 * 13


def test_every_figure_evaluate_prints_has_an_interval(taxonomy):
    from pipeline.training.metrics import evaluation_figures

    rng = np.random.default_rng(5)
    Y = (rng.random((60, 13)) < 0.15).astype(int)
    Y_pred = np.where(rng.random(Y.shape) < 0.8, Y, 1 - Y)
    report = evaluation_figures(Y, Y_pred, ["exit_survey"] * 60, taxonomy)
    assert report["none_untagged_interval_90"] is not None
    for m in report["per_behaviour"].values():
        low, high = m["f1_interval_90"]
        assert low <= m["f1"] <= high
