"""Distil static embeddings (one vector per word piece) from the adapted encoder, and train a head on them.

model2vec's recipe, done here with the encoder the product already loads (model2vec's
own distiller needs an extra that would replace this project's transformers):
1. every word piece of the vocabulary, alone between [CLS] and [SEP], goes through
   the adapted MiniLM encoder and is mean pooled;
2. PCA to `dims` components (centres the vectors and drops the directions that
   carry little);
3. each vector is weighted by SIF on a Zipf estimate of its frequency from its rank
   in the vocabulary, so frequent pieces weigh less in a mean;
4. stored as float16 in model2vec's format (`model.safetensors`, `tokenizer.json`,
   `config.json`), loaded with model2vec's inference package.

A text's vector is then the normalised mean of its pieces' vectors: no transformer at
scoring time. A static model is a model folder of its own (`models/static/`) whose
head is trained on these vectors; its encoder lives in its `encoder/` sub-folder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import EncoderParams, Params
from pipeline.data.rows import LabelledRow
from pipeline.encoders.static import STATIC_ENCODER_FOLDER, StaticEncoder
from pipeline.encoders.transformer import SentenceTransformerEncoder
from pipeline.io.files import atomic_folder
from pipeline.model.folder import SavedModel, save_model
from pipeline.taxonomy import Taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training.fit import fit_model

if TYPE_CHECKING:
    from model2vec import StaticModel


@dataclass(frozen=True)
class StaticParams:
    """Distillation settings (model2vec's defaults)."""

    dims: int = 256
    sif_coefficient: float = 1e-4
    batch_size: int = 512


def distil(encoder: SentenceTransformerEncoder, params: StaticParams = StaticParams()) -> np.ndarray:
    """One float16 vector per vocabulary id (vocabulary × dims), from the encoder as it is (adapter merged)."""
    import torch  # only when distilling

    tokenizer = encoder.tokenizer
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    transformer = encoder.model[0].auto_model.eval()
    size = len(tokenizer)
    pooled = np.zeros((size, encoder.dim), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, size, params.batch_size):
            ids = torch.arange(start, min(start + params.batch_size, size))
            input_ids = torch.stack([torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], dim=1)
            hidden = transformer(
                input_ids=input_ids, attention_mask=torch.ones_like(input_ids), token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state
            pooled[start : start + len(ids)] = hidden.mean(dim=1).numpy()
    centred = pooled - pooled.mean(axis=0)
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)
    reduced = centred @ eigenvectors[:, ::-1][:, : params.dims]
    inverse_rank = 1.0 / np.arange(2, size + 2)
    probability = inverse_rank / inverse_rank.sum()
    weights = params.sif_coefficient / (params.sif_coefficient + probability)
    return (reduced * weights[:, None]).astype(np.float16)


def static_model(vectors: np.ndarray, encoder: SentenceTransformerEncoder, source: str) -> StaticModel:
    """The distilled vectors with the encoder's tokenizer, as a model2vec `StaticModel` (in memory)."""
    from model2vec import StaticModel

    config = {"distilled_from": source, "normalize": True}
    return StaticModel(vectors, encoder.tokenizer.backend_tokenizer, config=config, normalize=True, max_length=None)


def fit_static_model(
    source: SentenceTransformerEncoder,
    rows: list[LabelledRow],
    params: Params,
    taxonomy: Taxonomy,
    splitter: SentenceSplitter,
    settings: StaticParams = StaticParams(),
) -> tuple[StaticModel, SavedModel, dict]:
    """(static model2vec model, saved model with its own head, training figures): distilled from `source`
    (adapter merged), then the configured head, thresholds, gate and polarity fitted on the static vectors."""
    vectors = static_model(distil(source, settings), source, source.fingerprint)
    encoder = StaticEncoder(vectors)
    static_params = dataclasses.replace(
        params,
        encoder=EncoderParams(backend="static", model=STATIC_ENCODER_FOLDER, dim=encoder.dim),  # relative to the model
        finetune=dataclasses.replace(params.finetune, epochs=0),  # the vectors are fixed: nothing to adapt
    )
    model, figures = fit_model(rows, static_params, taxonomy, encoder, splitter)
    model.card["static_encoder"] = {
        "distilled_from": source.fingerprint,
        "dims": settings.dims,
        "sif_coefficient": settings.sif_coefficient,
        "dtype": "float16",
        "recipe": "model2vec: each word piece through the adapted encoder, PCA, Zipf/SIF weighting",
    }
    return vectors, model, figures


def save_static_model(vectors: StaticModel, model: SavedModel, folder: Path) -> None:
    """Write the static model folder atomically: the saved model, its encoder in `encoder/`."""
    with atomic_folder(folder) as staging:
        save_model(model, staging)  # replaces the empty staging folder with the model's files
        vectors.save_pretrained(staging / STATIC_ENCODER_FOLDER)
