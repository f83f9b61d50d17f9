"""The stand-in encoder: hashed word unigrams and bigrams, no model files.

Deterministic and instant, it is the encoder of the unit tests and a lexical baseline.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from pipeline.config import EncoderParams
from pipeline.encoders.base import cut_at_word_starts

_WORD = re.compile(r"\w+")


class HashingEncoder:
    """Signed feature hashing of lower-cased word unigrams and bigrams, L2-normalised."""

    def __init__(self, params: EncoderParams) -> None:
        self.dim = params.dim
        self.name = f"hashing-{params.dim}"
        self.max_tokens = 128  # words; small enough that tests exercise the cutting
        self.fingerprint = self.name  # the vectors depend on nothing else

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
                vectors[row, digest % self.dim] += 1.0 if (digest >> 32) & 1 else -1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def within_limit(self, sentence: str) -> list[str]:
        starts = [match.start() for match in _WORD.finditer(sentence)]
        if len(starts) <= self.max_tokens:
            return [sentence]
        return cut_at_word_starts(sentence, starts, self.max_tokens)
