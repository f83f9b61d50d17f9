"""Macro-F1 computed fast for the bootstrap, and its interval."""

import numpy as np

from pipeline.training.metrics import bootstrap_interval, macro_f1, multilabel_metrics


def test_macro_f1_counts_as_the_full_metrics_do():
    rng = np.random.default_rng(0)
    truth, predicted = rng.random((200, 13)) < 0.15, rng.random((200, 13)) < 0.2
    truth[:, 4] = False  # a behaviour absent from the data is left out of the mean
    ids = tuple(f"b{j}" for j in range(13))
    assert abs(macro_f1(truth, predicted) - multilabel_metrics(truth, predicted, ids)["macro_f1"]) < 1e-12


def test_the_interval_brackets_the_figure_and_narrows_with_more_texts():
    rng = np.random.default_rng(1)
    truth = rng.random((2000, 13)) < 0.15
    predicted = truth ^ (rng.random((2000, 13)) < 0.05)
    small = bootstrap_interval(truth[:200], predicted[:200])
    large = bootstrap_interval(truth, predicted)
    assert small[0] <= macro_f1(truth[:200], predicted[:200]) <= small[1]
    assert large[1] - large[0] < small[1] - small[0]
    assert bootstrap_interval(truth, truth) == (1.0, 1.0)
