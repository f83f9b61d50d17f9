"""The encoder a params section (or a saved model's config) names."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import EncoderParams
from pipeline.encoders.base import Encoder
from pipeline.encoders.hashing import HashingEncoder
from pipeline.encoders.static import StaticEncoder
from pipeline.encoders.transformer import SentenceTransformerEncoder
from pipeline.errors import InputError


def load_encoder(params: EncoderParams) -> Encoder:
    """The encoder a params section (or a saved model's config) names."""
    if params.backend == "sentence_transformers":
        return SentenceTransformerEncoder(params)
    if params.backend == "hashing":
        return HashingEncoder(params)
    if params.backend == "static":  # encoder.model: a model2vec folder (pipeline/encoders/static.py)
        return StaticEncoder.load(Path(params.model))
    raise InputError(
        f"encoder.backend must be 'sentence_transformers', 'hashing' or 'static', not {params.backend!r}"
    )
