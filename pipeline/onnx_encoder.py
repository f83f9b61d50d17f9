"""ONNX Runtime backend: a saved model's adapted encoder, exported once, run without PyTorch.

`export_onnx` merges the model's adapter into the MiniLM encoder and exports the whole
sentence-transformers path (transformer, mean pooling over the attention mask, L2
normalisation) as one graph, `<model>/onnx/encoder.onnx`, and with `int8` also a copy
whose MatMul/Gemm weights are dynamically quantised to int8 (`encoder_int8.onnx`).
The tokenizer is copied beside them, and each graph records the fingerprint of the
encoder it came from (base weights + adapter), so an export left over from an older
model is refused rather than silently scoring with stale weights.

`OnnxEncoder` implements the `Encoder` protocol with the same tokenisation and the
same `within_limit` cutting as `SentenceTransformerEncoder`; texts are sorted by
length and padded per batch.
"""

from __future__ import annotations

import hashlib
import shutil
import warnings
from pathlib import Path

import numpy as np

from pipeline.encode import _cut_at_word_starts, resolve_model_folder
from pipeline.errors import InputError
from pipeline.io import atomic_folder
from pipeline.model import SavedModel

ONNX_FOLDER = "onnx"  # inside the model folder; not committed (.gitignore)
GRAPH_FILES = {"onnx": "encoder.onnx", "onnx-int8": "encoder_int8.onnx"}
TOKENIZER_FILE = "tokenizer.json"
FINGERPRINT_KEY = "source_fingerprint"
MAX_SEQ_LENGTH = 256  # all-MiniLM-L6-v2's sentence-transformers limit, [CLS] and [SEP] included


def source_fingerprint(model: SavedModel) -> str:
    """The encoder an export depends on: the base model's files and the merged adapter, hashed.

    Computed as `SentenceTransformerEncoder.fingerprint` is once the adapter is merged (the same
    string), but without loading PyTorch or the weights.
    """
    digest = hashlib.sha256()
    folder = resolve_model_folder(model.encoder.model)
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".json", ".safetensors", ".txt"):
            digest.update(path.name.encode())
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    base = f"{folder.name if folder.name != 'model' else folder.parent.name}:{digest.hexdigest()[:16]}"
    if model.adapter is None:
        return base
    adapter = hashlib.sha256(repr(model.adapter_scale).encode())
    for key in sorted(model.adapter):
        adapter.update(key.encode() + np.ascontiguousarray(model.adapter[key]).tobytes())
    return f"{base}+adapter:{adapter.hexdigest()[:16]}"


def export_onnx(model: SavedModel, model_dir: Path, int8: bool = True) -> list[Path]:
    """Write `<model_dir>/onnx/` atomically: the fp32 graph, the int8 one if asked, the tokenizer."""
    if model.encoder.backend != "sentence_transformers":
        raise InputError(f"only a sentence_transformers model can be exported to ONNX, not {model.encoder.backend!r}")
    import onnx  # slow imports, only when exporting
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from pipeline.tagger import model_encoder

    class MeanPooled(torch.nn.Module):
        """The transformer, mean pooling over real tokens and L2 normalisation, as sentence-transformers does."""

        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    encoder = model_encoder(model)  # the torch encoder, adapter merged
    transformer = encoder.model[0].auto_model.eval()
    example = torch.ones((2, 8), dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    target = Path(model_dir) / ONNX_FOLDER
    with atomic_folder(target) as staging:
        fp32 = staging / GRAPH_FILES["onnx"]
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
            torch.onnx.export(
                MeanPooled(transformer),
                (example, example),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["sentence_embedding"],
                dynamic_axes=axes | {"sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,  # one self-contained file, and measured faster under ONNX Runtime than the dynamo export
            )
        fingerprint = source_fingerprint(model)
        _record_fingerprint(fp32, fingerprint)
        if int8:
            int8_path = staging / GRAPH_FILES["onnx-int8"]
            quantize_dynamic(
                fp32,
                int8_path,
                op_types_to_quantize=["MatMul", "Gemm"],  # the embedding table stays fp32: quantising it was slower
                per_channel=True,  # test macro-F1 0.543 against 0.529 per tensor (torch 0.541), at the same speed
                weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
            _record_fingerprint(int8_path, fingerprint)
        shutil.copyfile(resolve_model_folder(model.encoder.model) / TOKENIZER_FILE, staging / TOKENIZER_FILE)
    return sorted(target.iterdir())


def _record_fingerprint(path: Path, fingerprint: str) -> None:
    import onnx

    graph = onnx.load(str(path))
    onnx.helper.set_model_props(graph, {FINGERPRINT_KEY: fingerprint})
    onnx.save(graph, str(path))


class OnnxEncoder:
    """The exported encoder under ONNX Runtime: `onnx` (fp32) or `onnx-int8`."""

    def __init__(self, model: SavedModel, model_dir: Path, variant: str, threads: int = 2, batch_size: int = 16) -> None:
        """Load `<model_dir>/onnx/`'s graph for `variant`, refusing one exported from another model."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(model_dir) / ONNX_FOLDER
        path = folder / GRAPH_FILES[variant]
        export = f"behaviours export-onnx --model {model_dir}" + (" --fp32" if variant == "onnx" else "")
        if not path.is_file():
            raise InputError(f"no ONNX export at {path} (make it with `{export}`)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: ONNX Runtime chooses
        options.inter_op_num_threads = 1
        # Threads that sleep instead of spinning: on a shared 2-core machine spinning halved the rate (measured).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        recorded = self.session.get_modelmeta().custom_metadata_map.get(FINGERPRINT_KEY)
        expected = source_fingerprint(model)
        if recorded != expected:
            raise InputError(f"{path} was exported from another version of the model (stale): run `{export}` again")
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))  # for offsets: no truncation, no padding
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.name = f"{expected.split(':', 1)[0]}-{variant}"
        self.fingerprint = f"{expected}+{variant}"
        self.dim = int(self.session.get_outputs()[0].shape[1])
        self.max_tokens = MAX_SEQ_LENGTH - 2
        self.batch_size = batch_size  # texts per run, sorted by length

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)  # with [CLS] and [SEP]
        ids = [e.ids if len(e.ids) <= MAX_SEQ_LENGTH else e.ids[: MAX_SEQ_LENGTH - 1] + e.ids[-1:] for e in encodings]
        order = np.argsort([len(row) for row in ids], kind="stable")  # similar lengths share a batch: less padding
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = max(len(ids[i]) for i in batch)
            input_ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            vectors[batch] = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        return vectors

    def within_limit(self, sentence: str) -> list[str]:
        if len(sentence) - sentence.count(" ") <= self.max_tokens:  # as SentenceTransformerEncoder.within_limit
            return [sentence]
        starts = [start for start, _ in self.tokenizer.encode(sentence, add_special_tokens=False).offsets]
        return _cut_at_word_starts(sentence, starts, self.max_tokens)
