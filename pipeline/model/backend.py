"""Which encoder backend scores texts: a runtime choice, the model's head and thresholds unchanged.

- `torch`: the model's own encoder under PyTorch (sentence-transformers), adapter merged.
- `onnx`, `onnx-int8`: the same encoder exported by `behaviours export-onnx` into
  `<model>/onnx/` (fp32, or MatMul/Gemm weights quantised to int8), under ONNX Runtime.
- `static`: a static model (`models/static/`, made by `behaviours train-static`): word-piece
  vectors distilled from the adapted encoder, with its own head trained on them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline.config import PROJECT_ROOT, BackendParams
from pipeline.encoders.base import Encoder, adapter_suffix, folder_fingerprint, resolve_model_folder
from pipeline.encoders.load import load_encoder
from pipeline.encoders.onnx import OnnxEncoder
from pipeline.errors import InputError
from pipeline.model.folder import SavedModel

BACKENDS = ("torch", "onnx", "onnx-int8", "static")


def backend_model_dir(model_dir: Path | None, backend: str, params: BackendParams) -> Path:
    """The model folder to load: the one given, else the static model for `static` and the default model otherwise."""
    if model_dir is not None:
        return Path(model_dir)
    return PROJECT_ROOT / params.static_model if backend == "static" else PROJECT_ROOT / "models" / "default"


def backend_encoder(model: SavedModel, backend: str, model_dir: Path, params: BackendParams) -> Encoder:
    """The encoder of the model saved in `model_dir`, under `backend` (anything but plain `torch`)."""
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if model.encoder.backend == "static":
        if backend != "static":
            raise InputError(f"{model_dir} is a static model: score it with --backend static")
        return load_encoder(dataclasses.replace(model.encoder, model=str(Path(model_dir) / model.encoder.model)))
    if backend == "static":
        raise InputError(f"{model_dir} is not a static model (make one with `behaviours train-static`)")
    if backend == "torch":
        raise ValueError("the torch backend is the model's own encoder: use model_encoder")
    return OnnxEncoder(model_dir, backend, source_fingerprint(model), params.onnx_threads, params.onnx_batch_size)


def model_encoder(
    model: SavedModel, backend: str = "torch", folder: Path | None = None, settings: BackendParams | None = None
) -> Encoder:
    """The encoder a saved model was trained with, its fine-tuned adapter merged in; or, for another
    backend or a static model, the one `backend_encoder` loads from the model's `folder`."""
    if backend != "torch" or model.encoder.backend == "static":
        if folder is None:
            raise ValueError(f"the {backend} backend needs the model's folder")
        return backend_encoder(model, backend, folder, settings or BackendParams())
    encoder = load_encoder(model.encoder)
    if model.adapter is not None:
        encoder.apply_adapter(model.adapter, model.adapter_scale)
    return encoder


def source_fingerprint(model: SavedModel) -> str:
    """The encoder an ONNX export depends on: the base model's files and the merged adapter, hashed.

    The same string as `SentenceTransformerEncoder.fingerprint` once the adapter is merged,
    but without loading PyTorch or the weights.
    """
    base = folder_fingerprint(resolve_model_folder(model.encoder.model))
    return base if model.adapter is None else base + adapter_suffix(model.adapter, model.adapter_scale)
