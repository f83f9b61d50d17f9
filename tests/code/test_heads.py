import numpy as np
import pytest
from sklearn.base import clone

from pipeline.model.heads import KNNHead, LogisticHead, PrototypeHead, ZeroShotHead, saved_params


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


@pytest.mark.parametrize("head", [PrototypeHead(), KNNHead(k=5)])
def test_other_heads_learn_and_round_trip(head):
    X, Y = _data()
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    assert head.fit(X, Y) is head
    probs = head.predict_proba(X)
    assert probs.shape == Y.shape and ((probs >= 0) & (probs <= 1)).all()
    assert ((probs >= 0.5) == Y).mean() > 0.75
    restored = type(head).from_arrays(head.to_arrays(), **saved_params(head))
    np.testing.assert_allclose(restored.predict_proba(X), probs, rtol=1e-5)


def test_zero_shot_uses_only_the_prototypes():
    prototypes = np.eye(3, 8, dtype=np.float32)
    head = ZeroShotHead(prototypes=prototypes).fit(np.zeros((2, 8)), np.zeros((2, 4)))
    probs = head.predict_proba(np.eye(3, 8, dtype=np.float32))
    assert probs.shape == (3, 4)  # three behaviours and "any behaviour"
    assert (probs[:, :3].argmax(axis=1) == [0, 1, 2]).all()
    with pytest.raises(ValueError, match="prototypes"):
        ZeroShotHead().fit(np.zeros((2, 8)), np.zeros((2, 4)))


def test_make_head_knows_every_head():
    from pipeline.config import TrainParams
    from pipeline.model.heads import HEADS, make_head

    for name in HEADS:
        assert isinstance(make_head(TrainParams(head=name), prototypes=np.eye(2)), HEADS[name])
    with pytest.raises(ValueError, match="train.head"):
        make_head(TrainParams(head="forest"))
