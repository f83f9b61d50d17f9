"""Classifier heads: vectors in, one probability per output out.

Heads follow the scikit-learn estimator contract (`__init__` stores arguments,
`fit` returns self, learned attributes end in `_`) and can be saved as plain
arrays, so a saved model never needs pickle. Every head has one output per
behaviour plus a last one, "any behaviour" (pipeline/training/fit.py).
"""

from __future__ import annotations

import numpy as np

from pipeline.config import TrainParams
from pipeline.model.heads.knn import KNNHead
from pipeline.model.heads.logistic import LogisticHead
from pipeline.model.heads.prototype import PrototypeHead
from pipeline.model.heads.zero_shot import ZeroShotHead

HEADS = {"logistic": LogisticHead, "prototype": PrototypeHead, "knn": KNNHead, "zero_shot": ZeroShotHead}


def make_head(params: TrainParams, prototypes: np.ndarray | None = None):
    """A new, unfitted head of the configured kind (`prototypes`: description vectors, for zero-shot)."""
    if params.head == "logistic":
        return LogisticHead(C=params.C, class_weight=params.class_weight)
    if params.head == "knn":
        return KNNHead(k=params.k)
    if params.head == "prototype":
        return PrototypeHead()
    if params.head == "zero_shot":
        return ZeroShotHead(prototypes=prototypes)
    raise ValueError(f"train.head must be one of {sorted(HEADS)}, not {params.head!r}")


def saved_params(head) -> dict:
    """The head's constructor arguments that belong in config.json (arrays go to head.npz)."""
    return {k: v for k, v in head.get_params().items() if not isinstance(v, np.ndarray) and v is not None}


__all__ = ["HEADS", "KNNHead", "LogisticHead", "PrototypeHead", "ZeroShotHead", "make_head", "saved_params"]
