"""ONNX Runtime backend: a saved model's adapted encoder, exported once, run without PyTorch.

`OnnxEncoder` implements the `Encoder` protocol with the same tokenisation and the
same `within_limit` cutting as `SentenceTransformerEncoder`; texts are sorted by
length and padded per batch. The int8 graph quantises its activations dynamically,
with one scale per run set by the largest value anywhere in the batch, so a text's
vector would depend on the texts batched with it (up to 0.03 in a vector component,
a different tag for 9 answers in 100 between two chunk sizes: measured). It is
therefore run one text at a time: a text's vector depends on that text alone, at
about the same rate on short texts. The graphs are written by `behaviours export-onnx`
(`pipeline/training/onnx_export.py`) into `<model>/onnx/`: `encoder.onnx` (fp32) and
`encoder_int8.onnx`, with the tokenizer beside them. Each graph records the fingerprint
of the encoder it came from (base weights + adapter), so an export left over from an
older model is refused rather than silently scoring with stale weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.encoders.base import cut_at_word_starts
from pipeline.errors import InputError

ONNX_FOLDER = "onnx"  # inside the model folder; not committed (.gitignore)
GRAPH_FILES = {"onnx": "encoder.onnx", "onnx-int8": "encoder_int8.onnx"}
TOKENIZER_FILE = "tokenizer.json"
FINGERPRINT_KEY = "source_fingerprint"
MAX_SEQ_LENGTH = 256  # all-MiniLM-L6-v2's sentence-transformers limit, [CLS] and [SEP] included


class OnnxEncoder:
    """The exported encoder under ONNX Runtime: `onnx` (fp32) or `onnx-int8`."""

    def __init__(self, model_dir: Path, variant: str, expected: str, threads: int = 2, batch_size: int = 16) -> None:
        """Load `<model_dir>/onnx/`'s graph for `variant`, refusing one exported from another encoder than
        the one whose fingerprint is `expected` (the model's, see `pipeline.model.backend.source_fingerprint`)."""
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
        if recorded != expected:
            raise InputError(f"{path} was exported from another version of the model (stale): run `{export}` again")
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))  # for offsets: no truncation, no padding
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.name = f"{expected.split(':', 1)[0]}-{variant}"
        self.fingerprint = f"{expected}+{variant}"
        self.dim = int(self.session.get_outputs()[0].shape[1])
        self.max_tokens = MAX_SEQ_LENGTH - 2
        # texts per run, sorted by length; int8 one at a time (module docstring)
        self.batch_size = 1 if variant == "onnx-int8" else batch_size

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
        return cut_at_word_starts(sentence, starts, self.max_tokens)
