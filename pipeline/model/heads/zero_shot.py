"""Zero-shot: similarity to each behaviour's description, no labelled examples used to fit.

The baseline every trained head must beat. The "prototypes" are the encoder's
vectors of each behaviour's description and indicators (configs/behaviours.yaml),
given by the caller; the last output ("any behaviour") is the best of them.
Thresholds are still chosen on labelled data, like every head's.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

SCALE = 10.0  # cosine similarities of unrelated and related texts differ by ~0.1-0.3


class ZeroShotHead(BaseEstimator):
    def __init__(self, prototypes: np.ndarray | None = None) -> None:
        self.prototypes = prototypes

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "ZeroShotHead":
        if self.prototypes is None:
            raise ValueError("ZeroShotHead needs the behaviour descriptions' vectors as prototypes")
        self.prototypes_ = np.asarray(self.prototypes, dtype=np.float32)
        return self  # nothing learned from X and Y

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        similarity = np.asarray(X, np.float32) @ self.prototypes_.T
        probs = 1.0 / (1.0 + np.exp(-SCALE * (similarity - similarity.mean(axis=1, keepdims=True))))
        return np.hstack([probs, probs.max(axis=1, keepdims=True)])

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"prototypes": self.prototypes_}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], **params) -> "ZeroShotHead":
        head = cls()
        head.prototypes_ = arrays["prototypes"]
        return head
