"""Words beside the sentence vectors: the stacked head's input.

A frozen sentence encoder blurs the words that decide many labels ("escalated",
"rota", "never told us"); a bag of words alone misses paraphrase. With a few
thousand labelled texts a logistic regression over TF-IDF word 1–2-grams beats
one over MiniLM vectors, and one over both beats either (docs/decisions.md,
"Words and vectors"). `WordFeatures` makes that joint input: each text's TF-IDF
row followed by its vector, for a text or for one sentence alike, so the tagger
scores sentences and whole texts the same way.

Saved as plain arrays (vocabulary and idf), like every other part of a model.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer


def tfidf_arrays(vectoriser: TfidfVectorizer) -> dict[str, np.ndarray]:
    """A fitted vectoriser's vocabulary (in column order) and idf, as arrays."""
    vocabulary = sorted(vectoriser.vocabulary_, key=vectoriser.vocabulary_.get)
    return {"vocabulary": np.array(vocabulary, dtype=str), "idf": vectoriser.idf_.astype(np.float64)}


def tfidf_vocabulary(arrays: dict[str, np.ndarray]) -> dict[str, int]:
    """The vocabulary saved by `tfidf_arrays`, term → column."""
    return {str(term): i for i, term in enumerate(arrays["vocabulary"])}


class WordFeatures(BaseEstimator):
    """TF-IDF word 1–`ngram_max`-grams of a text, joined to its sentence vector."""

    def __init__(self, ngram_max: int = 2, min_df: int = 2) -> None:
        self.ngram_max = ngram_max
        self.min_df = min_df

    def _vectoriser(self, **fitted) -> TfidfVectorizer:
        return TfidfVectorizer(
            ngram_range=(1, self.ngram_max), min_df=self.min_df, sublinear_tf=True, strip_accents="unicode", **fitted
        )

    def fit(self, texts: list[str]) -> "WordFeatures":
        self.words_ = self._vectoriser().fit(texts)
        return self

    def join(self, texts: list[str], vectors: np.ndarray) -> csr_matrix:
        """One row per text: its word features, then its vector."""
        if len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} texts and {len(vectors)} vectors must match")
        return hstack([self.words_.transform(texts), csr_matrix(np.asarray(vectors, dtype=np.float32))]).tocsr()

    def to_arrays(self) -> dict[str, np.ndarray]:
        return tfidf_arrays(self.words_)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], **params) -> "WordFeatures":
        features = cls(**params)
        features.words_ = features._vectoriser(vocabulary=tfidf_vocabulary(arrays))
        features.words_.idf_ = np.asarray(arrays["idf"], dtype=np.float64)
        return features

    def saved_params(self) -> dict:
        return {"ngram_max": self.ngram_max, "min_df": self.min_df}
