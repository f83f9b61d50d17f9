import numpy as np
import pytest
from sklearn.base import clone

from pipeline.heads import LogisticHead


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 8)).astype(np.float32)
    Y = np.stack([(X[:, 0] > 0), (X[:, 1] > 0.5)], axis=1).astype(int)
    return X, Y


def test_fit_returns_self_and_learns():
    X, Y = _data()
    head = LogisticHead(C=10.0)
    assert head.fit(X, Y) is head
    accuracy = ((head.predict_proba(X) >= 0.5) == Y).mean()
    assert accuracy > 0.9


def test_follows_estimator_contract():
    head = LogisticHead(C=3.0, class_weight=None)
    assert clone(head).get_params() == {"C": 3.0, "class_weight": None}
    assert not hasattr(head, "coef_")


def test_arrays_round_trip():
    X, Y = _data()
    head = LogisticHead().fit(X, Y)
    restored = LogisticHead.from_arrays(head.to_arrays())
    np.testing.assert_allclose(restored.predict_proba(X), head.predict_proba(X))


def test_a_behaviour_without_positives_is_an_error():
    X, Y = _data()
    Y[:, 1] = 0
    with pytest.raises(ValueError, match="only one class"):
        LogisticHead().fit(X, Y)
