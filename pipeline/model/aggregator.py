"""How a note's sentence scores become its behaviour probabilities: a small model learned from labelled texts.

`max` tags a behaviour when any one sentence looks like it, so the longer a note,
the more sentences can raise a false tag (notes of 60 answers got 6 tags for 2.7
true ones). The aggregator instead reads, per behaviour, a handful of numbers about
the note and learns how much each should count:

- the text vector's probability,
- the best sentence's, the second best's and the mean over sentences,
- the log of the number of sentences, and the best sentence's times it
  (a single strong sentence means less in a long note than in a short answer).

Probabilities enter as logits. One logistic regression per behaviour is fitted on
out-of-fold head probabilities of the training texts (texts the head never saw,
as at scoring time), so its output is itself a probability, calibrated on those
texts: docs/decisions.md, "Learned aggregation".

Saved as two arrays (coef, intercept); loading runs no code.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

FEATURES = ("text", "best_sentence", "second_sentence", "mean_sentence", "log_sentences", "best_times_log_sentences")
_EDGE = 1e-5  # probabilities are clipped this far from 0 and 1 before taking logits


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EDGE, 1.0 - _EDGE)
    return np.log(p / (1.0 - p))


def note_features(piece_probs: np.ndarray, text_probs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """texts × outputs × FEATURES: what the aggregator reads for every (text, output)."""
    counts = np.diff(offsets)
    starts = offsets[:-1]
    best = np.maximum.reduceat(piece_probs, starts, axis=0)
    mean = np.add.reduceat(piece_probs, starts, axis=0) / counts[:, None]
    second = np.array(
        [np.sort(piece_probs[s:e], axis=0)[-2] if e - s > 1 else piece_probs[s] for s, e in zip(starts, offsets[1:])]
    ).reshape(best.shape)  # a one-sentence text's second best is its best
    log_sentences = np.broadcast_to(np.log(counts)[:, None], best.shape)
    best_logit = _logit(best)
    return np.stack(
        [_logit(text_probs), best_logit, _logit(second), _logit(mean), log_sentences, best_logit * log_sentences], axis=2
    ).astype(np.float32)


class NoteAggregator:
    """One logistic regression per behaviour over `note_features`."""

    def __init__(self, C: float = 0.1) -> None:
        self.C = C

    def fit(self, features: np.ndarray, Y: np.ndarray) -> "NoteAggregator":
        coef, intercept = [], []
        for j in range(Y.shape[1]):
            model = LogisticRegression(C=self.C, max_iter=1000).fit(features[:, j], Y[:, j])
            coef.append(model.coef_[0])
            intercept.append(model.intercept_[0])
        self.coef_ = np.asarray(coef, dtype=np.float32)
        self.intercept_ = np.asarray(intercept, dtype=np.float32)
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """texts × behaviours probabilities (features for more outputs than behaviours: the extra are ignored)."""
        outputs = self.coef_.shape[0]
        logits = np.einsum("tbf,bf->tb", features[:, :outputs], self.coef_) + self.intercept_
        return 1.0 / (1.0 + np.exp(-logits))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_, "intercept": self.intercept_}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], **params) -> "NoteAggregator":
        aggregator = cls(**params)
        aggregator.coef_ = np.asarray(arrays["coef"], dtype=np.float32)
        aggregator.intercept_ = np.asarray(arrays["intercept"], dtype=np.float32)
        return aggregator

    def saved_params(self) -> dict:
        return {"C": self.C}
