"""Static embeddings at scoring time: a text's vector is the normalised mean of its word pieces' vectors.

The vectors are distilled from a model's adapted encoder by `behaviours train-static`
(`pipeline/training/distil.py`) and stored in model2vec's format (`model.safetensors`,
`tokenizer.json`, `config.json`), loaded with model2vec's inference package: no
transformer at scoring time. A static model is a model folder of its own
(`models/static/`) whose head is trained on these vectors; its encoder lives in its
`encoder/` sub-folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.encoders.base import cut_at_word_starts
from pipeline.errors import InputError

if TYPE_CHECKING:
    from model2vec import StaticModel

STATIC_ENCODER_FOLDER = "encoder"  # inside a static model's folder
MAX_TOKENS = 254  # pieces cut as for MiniLM, so evidence sentences are the same pieces


class StaticEncoder:
    """A model2vec static model as an `Encoder`: mean of word-piece vectors, L2-normalised."""

    def __init__(self, model: StaticModel) -> None:
        self.model = model
        digest = hashlib.sha256(np.ascontiguousarray(model.embedding).tobytes()).hexdigest()[:16]
        self.fingerprint = f"static:{digest}"
        self.name = "static-" + str(model.config.get("distilled_from", "model2vec")).split(":", 1)[0]
        self.dim = int(model.dim)
        self.max_tokens = MAX_TOKENS
        self.offsets = model.tokenizer  # model2vec keeps its tokenizer without padding or truncation

    @classmethod
    def load(cls, folder: Path) -> StaticEncoder:
        """From a model2vec folder (model.safetensors, tokenizer.json, config.json)."""
        from model2vec import StaticModel

        if not (Path(folder) / "model.safetensors").is_file():
            raise InputError(f"no static encoder at {folder} (make one with `behaviours train-static`)")
        return cls(StaticModel.from_pretrained(Path(folder), normalize=True, max_length=None))

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(texts, max_length=None, use_multiprocessing=False, batch_size=4096)
        return np.asarray(vectors, dtype=np.float32)

    def within_limit(self, sentence: str) -> list[str]:
        if len(sentence) - sentence.count(" ") <= self.max_tokens:  # as SentenceTransformerEncoder.within_limit
            return [sentence]
        starts = [start for start, _ in self.offsets.encode(sentence, add_special_tokens=False).offsets]
        return cut_at_word_starts(sentence, starts, self.max_tokens)
