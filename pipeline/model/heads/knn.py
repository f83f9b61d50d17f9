"""k nearest neighbours: the similarity-weighted share of the closest labelled texts that show each behaviour."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator


class KNNHead(BaseEstimator):
    """Keeps the training vectors; a text's probability for an output is the share of its `k`
    most similar training texts (cosine, weighted by similarity) that have it."""

    def __init__(self, k: int = 15) -> None:
        self.k = k

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "KNNHead":
        self.vectors_ = np.asarray(X, dtype=np.float32)
        self.labels_ = np.asarray(Y, dtype=np.float32)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        similarity = np.asarray(X, np.float32) @ self.vectors_.T
        k = min(self.k, len(self.vectors_))
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        weights = np.clip(np.take_along_axis(similarity, nearest, axis=1), 1e-6, None)
        votes = np.einsum("nk,nkj->nj", weights, self.labels_[nearest])
        return votes / weights.sum(axis=1, keepdims=True)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"vectors": self.vectors_, "labels": self.labels_}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], **params) -> "KNNHead":
        head = cls(**params)
        head.vectors_, head.labels_ = arrays["vectors"], arrays["labels"]
        return head
