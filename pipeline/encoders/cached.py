"""An encoder whose vectors are kept on disk, for the labelled texts only."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from pipeline.config import EncoderParams
from pipeline.encoders.base import Encoder
from pipeline.encoders.load import load_encoder


class CachedEncoder:
    """An encoder whose vectors are kept on disk by (encoder fingerprint, text) hash.

    For labelled data only: retraining after adding rows encodes only the new texts.
    Never used for the texts people score, which must not be kept on disk.
    """

    def __init__(self, encoder: Encoder, path: Path) -> None:
        self.base = encoder
        self.name, self.dim, self.max_tokens = encoder.name, encoder.dim, encoder.max_tokens
        self.within_limit = encoder.within_limit
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self.encoded = 0  # texts actually sent to the encoder, for reporting

    @property
    def fingerprint(self) -> str:
        return self.base.fingerprint  # read each time: merging an adapter changes it

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.fingerprint}\0{text}".encode()).hexdigest()

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(text) for text in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):  # SQLite's limit on query parameters
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self.db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found))
        if missing:
            fresh = self.base.encode(missing)
            rows = [(self._key(t), v.astype(np.float32).tobytes()) for t, v in zip(missing, fresh)]
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            found.update((key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows)
        self.encoded += len(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[key] for key in keys])


def cached_encoder(params: EncoderParams, path: Path) -> CachedEncoder:
    """The encoder `params` names, its vectors kept in the SQLite file at `path`."""
    return CachedEncoder(load_encoder(params), path)
