"""Classifier heads: vectors in, one probability per behaviour out.

Heads follow the scikit-learn estimator contract (`__init__` stores arguments,
`fit` returns self, learned attributes end in `_`) and can be saved as plain
arrays, so a saved model never needs pickle.
"""

from pipeline.heads.logistic import LogisticHead

HEADS = {"logistic": LogisticHead}

__all__ = ["HEADS", "LogisticHead"]
