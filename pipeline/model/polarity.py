"""Is a behaviour shown as a strength (`+`) or as lacking (`-`)?

One logistic regression on two views of a text: its sentence-embedding vector and
TF-IDF word uni- and bigrams. The embedding carries what the text is about and
much of its tone; the words carry the cues it blurs ("never", "not once",
"didn't", "no one", "always"), which decide polarity.

Words inside the scope of a negation are marked, as sentiment classifiers have long
done: from a cue ("not", "never", "nobody", "n't", "without"…) to the next
punctuation or contrast word ("but", "however", "although"…), each word becomes
`not_<word>`. So "never explained why" does not count as "explained why", whose
weight is learned from strengths, and "doesn't shy away" is not "shy away". Marking
raised cross-validated accuracy on the training pairs from 0.780 to 0.797 and fixed
plain negations the unmarked model read as strengths (docs/decisions.md).

It is trained on one row per labelled (text, behaviour) pair, and applied both to
whole texts and to single sentences: a behaviour's polarity in a text is read
from the text and from the sentence that is the best evidence for it (see
`POLARITY_AGGREGATIONS` in `pipeline/tagger.py`), so a note that praises one thing
and regrets another can show both a strength and a gap.

Saved as plain arrays (vocabulary, idf, weights); loading runs no code.
"""

from __future__ import annotations

import re

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipeline.model.words import tfidf_arrays, tfidf_vocabulary

_TOKENS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.,;:!?()]")
NEGATION_CUES = frozenset(
    "not no never nobody nothing none nowhere neither nor hardly barely rarely without cannot cant noone".split()
)
PUNCTUATION = frozenset(".,;:!?()")
CONTRASTS = frozenset("but however although though yet whereas while".split())  # end a scope, kept as words


def polarity_tokens(text: str) -> list[str]:
    """Lower-cased words, those in a negation's scope prefixed `not_`; punctuation dropped, contrast words kept."""
    words, negated = [], False
    for token in _TOKENS.findall(text.lower().replace("\u2019", "'")):
        if token in PUNCTUATION:
            negated = False
            continue
        if token in CONTRASTS:
            negated = False
        words.append(f"not_{token}" if negated else token)
        if token in NEGATION_CUES or token.endswith("n't"):
            negated = True
    return words


class PolarityClassifier(BaseEstimator):
    """P(strength) for texts, from their vectors and their words."""

    def __init__(self, C: float = 8.0, ngram_max: int = 2, min_df: int = 2) -> None:
        self.C = C
        self.ngram_max = ngram_max
        self.min_df = min_df

    def _vectoriser(self, **fitted) -> TfidfVectorizer:
        return TfidfVectorizer(
            tokenizer=polarity_tokens,
            token_pattern=None,
            lowercase=False,
            ngram_range=(1, self.ngram_max),
            min_df=self.min_df,
            sublinear_tf=True,
            **fitted,
        )

    def _features(self, texts: list[str], vectors: np.ndarray) -> csr_matrix:
        return hstack([self.words_.transform(texts), csr_matrix(np.asarray(vectors, dtype=np.float32))]).tocsr()

    def fit(self, texts: list[str], vectors: np.ndarray, strength: np.ndarray) -> "PolarityClassifier":
        strength = np.asarray(strength, dtype=bool)
        if len(texts) != len(vectors) or len(texts) != len(strength):
            raise ValueError(f"{len(texts)} texts, {len(vectors)} vectors and {len(strength)} labels must match")
        if strength.all() or not strength.any():
            raise ValueError("polarity needs both strengths (+) and gaps (-) in the training data")
        self.words_ = self._vectoriser().fit(texts)
        model = LogisticRegression(C=self.C, max_iter=3000).fit(self._features(texts, vectors), strength)
        self.coef_ = model.coef_[0].astype(np.float32)
        self.intercept_ = np.float32(model.intercept_[0])
        return self

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Probability that each text shows its behaviour as a strength, shape (texts,)."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        logits = self._features(texts, vectors) @ self.coef_ + self.intercept_
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {**tfidf_arrays(self.words_), "coef": self.coef_, "intercept": np.array([self.intercept_], dtype=np.float32)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], **params) -> "PolarityClassifier":
        classifier = cls(**params)
        words = classifier._vectoriser(vocabulary=tfidf_vocabulary(arrays))
        words.idf_ = np.asarray(arrays["idf"], dtype=np.float64)
        classifier.words_ = words
        classifier.coef_ = np.asarray(arrays["coef"], dtype=np.float32)
        classifier.intercept_ = np.float32(arrays["intercept"][0])
        return classifier

    def saved_params(self) -> dict:
        return {"C": self.C, "ngram_max": self.ngram_max, "min_df": self.min_df}


def polarity_pairs(texts: list[str], labels: list[tuple[str, ...]], polarity: list[tuple[str, ...]]):
    """One (text index, behaviour id, is strength) per labelled behaviour of every text."""
    return [
        (i, behaviour, sign == "+")
        for i, (behaviours, signs) in enumerate(zip(labels, polarity))
        for behaviour, sign in zip(behaviours, signs)
    ]
