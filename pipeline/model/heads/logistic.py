"""One L2-regularised logistic regression per behaviour on frozen embeddings (and words, if given)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression


class LogisticHead(BaseEstimator):
    """Independent binary logistic regressions, one per behaviour (multi-label)."""

    def __init__(self, C: float = 4.0, class_weight: str | None = None) -> None:
        self.C = C
        self.class_weight = class_weight

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "LogisticHead":
        X, Y = _matrix(X), np.asarray(Y)
        if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
            raise ValueError(f"X {X.shape} and Y {Y.shape} must be 2-D with the same number of rows")
        empty = [j for j in range(Y.shape[1]) if Y[:, j].min() == Y[:, j].max()]
        if empty:
            raise ValueError(f"behaviour column(s) {empty} have only one class in the training data")
        coef, intercept = [], []
        for j in range(Y.shape[1]):
            model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
            model.fit(X, Y[:, j])
            coef.append(model.coef_[0])
            intercept.append(model.intercept_[0])
        self.coef_ = np.asarray(coef, dtype=np.float32)
        self.intercept_ = np.asarray(intercept, dtype=np.float32)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of each behaviour, shape (rows, behaviours)."""
        logits = np.asarray(_matrix(X) @ self.coef_.T) + self.intercept_
        return 1.0 / (1.0 + np.exp(-logits))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_, "intercept": self.intercept_}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], **params) -> "LogisticHead":
        head = cls(**params)
        head.coef_ = np.asarray(arrays["coef"], dtype=np.float32)
        head.intercept_ = np.asarray(arrays["intercept"], dtype=np.float32)
        return head


def _matrix(X):
    """Dense rows as float32; sparse rows (words beside vectors) as they are."""
    return X if issparse(X) else np.asarray(X, dtype=np.float32)
