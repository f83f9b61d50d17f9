"""Static embeddings: one vector per word piece, distilled from the adapted encoder.

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
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import EncoderParams, Params
from pipeline.data import LabelledRow
from pipeline.encode import SentenceTransformerEncoder, _cut_at_word_starts
from pipeline.errors import InputError
from pipeline.io import atomic_folder
from pipeline.model import SavedModel, save_model
from pipeline.taxonomy import Taxonomy
from pipeline.text import SentenceSplitter
from pipeline.train import fit_model

if TYPE_CHECKING:
    from model2vec import StaticModel

STATIC_ENCODER_FOLDER = "encoder"  # inside a static model's folder
MAX_TOKENS = 254  # pieces cut as for MiniLM, so evidence sentences are the same pieces


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
        return _cut_at_word_starts(sentence, starts, self.max_tokens)


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
