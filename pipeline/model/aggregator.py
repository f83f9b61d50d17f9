"""How a note's sentence scores become its behaviour probabilities: a small model learned from labelled texts.

`max` tags a behaviour when any one sentence looks like it, so the longer a note,
the more sentences can raise a false tag (notes of 60 answers got 6 tags for 2.7
true ones). The aggregator instead reads, per behaviour, a handful of numbers about
the note and learns how much each should count:

- the text vector's probability,
- the best sentence's, the second best's and the mean over sentences,
- the log of the number of sentences, and the best sentence's times it
  (a single strong sentence means less in a long note than in a short answer).

With a `line_discount`, the text's own probability is the better of the whole text's
and its best line's, each line read alone by the text head, lowered by
`line_discount` × ln(lines) in logits. A long note's paragraphs (or a list's items)
are each like the short answers the text head learned from, where the whole note's
vector dilutes what one paragraph says; the more lines, the more chances one of them
looks like a behaviour by accident, hence the discount (docs/decisions.md, "Lines
read alone"). A text of one line is read as before.

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


def note_features(
    piece_probs: np.ndarray,
    text_probs: np.ndarray,
    offsets: np.ndarray,
    best_lines: np.ndarray,
    lines: np.ndarray,
    line_discount: float | None,
) -> np.ndarray:
    """texts × outputs × FEATURES: what the aggregator reads for every (text, output), from its pieces' and its own
    probabilities (text i owns pieces offsets[i]:offsets[i+1]) and, with a `line_discount`, its best line's
    (`best_lines`) and its number of `lines`."""
    counts = np.diff(offsets)
    starts = offsets[:-1]
    best = np.maximum.reduceat(piece_probs, starts, axis=0)
    mean = np.add.reduceat(piece_probs, starts, axis=0) / counts[:, None]
    second = np.array(
        [np.sort(piece_probs[s:e], axis=0)[-2] if e - s > 1 else piece_probs[s] for s, e in zip(starts, offsets[1:])]
    ).reshape(best.shape)  # a one-sentence text's second best is its best
    log_sentences = np.broadcast_to(np.log(counts)[:, None], best.shape)
    best_logit = _logit(best)
    text = _logit(text_probs)
    if line_discount is not None:
        text = np.maximum(text, _logit(best_lines) - line_discount * np.log(lines)[:, None])
    return np.stack(
        [text, best_logit, _logit(second), _logit(mean), log_sentences, best_logit * log_sentences], axis=2
    ).astype(np.float32)


class NoteAggregator:
    """One logistic regression per behaviour over `note_features`."""

    def __init__(self, C: float = 0.1, line_discount: float | None = None) -> None:
        self.C = C
        self.line_discount = line_discount  # how its features were made (`note_features`); None in older models

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
        return {"C": self.C, "line_discount": self.line_discount}
