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
from pipeline.encode import Encoder, load_encoder
from pipeline.errors import InputError
from pipeline.model import SavedModel

BACKENDS = ("torch", "onnx", "onnx-int8", "static")


def backend_model_dir(model_dir: Path | None, backend: str, params: BackendParams) -> Path:
    """The model folder to load: the one given, else the static model for `static` and the default model otherwise."""
    if model_dir is not None:
        return Path(model_dir)
    return PROJECT_ROOT / params.static_model if backend == "static" else PROJECT_ROOT / "models" / "default"


def backend_encoder(model: SavedModel, backend: str, model_dir: Path, params: BackendParams) -> Encoder:
    """The encoder of the model saved in `model_dir`, under `backend` (anything but plain `torch`)."""
    from pipeline.onnx_encoder import OnnxEncoder  # imports onnxruntime: only for these backends

    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if model.encoder.backend == "static":
        if backend != "static":
            raise InputError(f"{model_dir} is a static model: score it with --backend static")
        return load_encoder(dataclasses.replace(model.encoder, model=str(Path(model_dir) / model.encoder.model)))
    if backend == "static":
        raise InputError(f"{model_dir} is not a static model (make one with `behaviours train-static`)")
    if backend == "torch":
        raise ValueError("the torch backend is the model's own encoder: use pipeline.tagger.model_encoder")
    return OnnxEncoder(model, model_dir, backend, params.onnx_threads, params.onnx_batch_size)
