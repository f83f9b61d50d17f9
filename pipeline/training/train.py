"""Training runs on the labelled folder: the fixed split, fit, figures on the test rows, the model saved.

`behaviours train` and `behaviours train-static` are the same run with another encoder:
fit on the training rows, tag the test rows the way users score, write the headline
test figures into the model card, save the model folder atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Params
from pipeline.data.pairs import pair_training_rows
from pipeline.data.pool import pool_training_rows
from pipeline.data.rows import LabelledRow
from pipeline.data.split import LabelledSplit
from pipeline.encoders.base import Encoder
from pipeline.encoders.cached import CachedEncoder, cached_encoder
from pipeline.encoders.static import StaticEncoder
from pipeline.model.backend import model_encoder
from pipeline.model.folder import SavedModel, load_model, save_model
from pipeline.tagger import EmbeddedTexts, Tagger, embed_texts
from pipeline.taxonomy import Taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training.distil import fit_static_model, save_static_model
from pipeline.training.evaluate import tagger_figures
from pipeline.training.fit import fit_model
from pipeline.training.metrics import headline_figures


@dataclass
class Trained:
    """What a training run made and measured."""

    model: SavedModel
    training_figures: dict  # on the training rows: cross-validated, or held out of fine-tuning
    test_figures: dict | None  # on the fixed test split; None when there is none
    encoded: int = 0  # sentence pieces newly encoded (the rest came from the embedding cache)


def embed_labelled(texts: list[str], params: Params, cache: Path) -> tuple[EmbeddedTexts, CachedEncoder]:
    """Labelled texts' pieces and vectors exactly as training makes them, through the embedding cache."""
    encoder = cached_encoder(params.encoder, cache)
    return embed_texts(texts, SentenceSplitter(params.text), encoder), encoder


def extra_training_rows(labelled: Path, params: Params, taxonomy: Taxonomy) -> dict[str, list[LabelledRow]]:
    """Rows beyond the gold training split that `train.pool` and `train.pairs` ask for, by where they come from.

    Neither ever holds a test row: the pool's texts that repeat one are excluded
    (`labelled/pool/excluded.csv`), and only the training half of the contrast pairs is read.
    """
    extra = {}
    if params.train.pool:
        extra["pool"] = pool_training_rows(labelled / "pool", taxonomy, params.pool.min_votes)
    if params.train.pairs:
        extra["contrast_pairs"] = pair_training_rows(labelled / "pairs", taxonomy)
    return extra


def train_and_save(
    split: LabelledSplit,
    params: Params,
    taxonomy: Taxonomy,
    model_dir: Path,
    cache: Path,
    extra_rows: dict[str, list[LabelledRow]] | None = None,
) -> Trained:
    """Fit on the training rows and any `extra_rows` (vectors through the embedding cache), test, save to `model_dir`."""
    encoder = cached_encoder(params.encoder, cache)
    splitter = SentenceSplitter(params.text)
    extra_rows = extra_rows or {}
    rows = split.train + [row for rows in extra_rows.values() for row in rows]
    model, figures = fit_model(rows, params, taxonomy, encoder, splitter)
    model.card["training_data"]["gold_rows"] = len(split.train)
    model.card["training_data"]["extra_rows"] = {name: len(rows) for name, rows in extra_rows.items()}
    test = _test(model, encoder, splitter, split.test, taxonomy, params)
    save_model(model, model_dir)
    return Trained(model, figures, test, encoder.encoded)


def train_static_and_save(
    source_dir: Path, split: LabelledSplit, params: Params, taxonomy: Taxonomy, model_dir: Path
) -> Trained:
    """Distil static vectors from the adapted encoder of the model in `source_dir`, fit a head on them, test, save."""
    source = model_encoder(load_model(source_dir, taxonomy.ids))
    splitter = SentenceSplitter(params.text)
    vectors, model, figures = fit_static_model(source, split.train, params, taxonomy, splitter)
    test = _test(model, StaticEncoder(vectors), splitter, split.test, taxonomy, params)
    save_static_model(vectors, model, model_dir)
    return Trained(model, figures, test)


def _test(
    model: SavedModel,
    encoder: Encoder,
    splitter: SentenceSplitter,
    rows: list[LabelledRow],
    taxonomy: Taxonomy,
    params: Params,
) -> dict | None:
    """The model's figures on the test rows, their headline also written into its card (None without test rows)."""
    if not rows:
        return None
    figures = tagger_figures(Tagger(model, encoder=encoder, splitter=splitter), rows, taxonomy, params.score.chunk_size)
    model.card["evaluation"]["test"] = headline_figures(figures)
    return figures
