"""Nearest prototype: how much closer a text is to a behaviour's examples than to the rest."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


class PrototypeHead(BaseEstimator):
    """Per output, the mean vector of its positive and of its negative texts; a one-feature
    logistic regression turns (similarity to positives − similarity to negatives) into a
    probability, class-balanced so that a rare behaviour's examples can reach the thresholds."""

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "PrototypeHead":
        X, Y = np.asarray(X, dtype=np.float32), np.asarray(Y).astype(bool)
        self.positive_ = _unit(np.stack([X[Y[:, j]].mean(axis=0) for j in range(Y.shape[1])]))
        self.negative_ = _unit(np.stack([X[~Y[:, j]].mean(axis=0) for j in range(Y.shape[1])]))
        margin = self._margin(X)
        scale, offset = [], []
        for j in range(Y.shape[1]):
            calibration = LogisticRegression(class_weight="balanced").fit(margin[:, [j]], Y[:, j])
            scale.append(calibration.coef_[0, 0])
            offset.append(calibration.intercept_[0])
        self.scale_, self.offset_ = np.asarray(scale, np.float32), np.asarray(offset, np.float32)
        return self

    def _margin(self, X: np.ndarray) -> np.ndarray:
        return X @ self.positive_.T - X @ self.negative_.T

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self._margin(np.asarray(X, np.float32)) * self.scale_ + self.offset_)))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"positive": self.positive_, "negative": self.negative_, "scale": self.scale_, "offset": self.offset_}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], **params) -> "PrototypeHead":
        head = cls(**params)
        head.positive_, head.negative_ = arrays["positive"], arrays["negative"]
        head.scale_, head.offset_ = arrays["scale"], arrays["offset"]
        return head
