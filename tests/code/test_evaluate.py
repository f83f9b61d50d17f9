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
    tables = plot_tables(Y, scores, predicted, taxonomy)
    assert len(tables["f1_per_behaviour"]) == 13
    assert {"actual": "authenticity", "predicted": "relationships_advocacy"} in tables["confusion"]
    assert {"actual": "trust", "predicted": "none"} in tables["confusion"]
    curve = tables["precision_recall/authenticity"]
    assert curve[0]["recall"] == 1.0 and curve[-1]["precision"] == 1.0
    assert sum(band["pairs"] for band in tables["calibration"]) == 4 * 13
