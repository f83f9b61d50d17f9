"""How fast and how good each encoder backend is, on the same texts, in one run.

    .venv/bin/python benchmarks/backend_speed.py [--texts 5000] [--rounds 2] [--backends torch onnx onnx-int8 static]
        [--baseline-model DIR]

Needs `behaviours export-onnx` (for onnx, onnx-int8) and `behaviours train-static`
(for static) first. Builds a deterministic set of varied texts (one answer up to long
notes of 12-25 answers, ~10% long notes, made by joining labelled texts) and, for
each backend, loads its tagger and times the full tag path the `score` and `tag`
commands use (sentence splitting, cutting, encoding, head, gate, evidence, polarity)
over all the texts. Backends take turns each round and the best round counts, so a
busy neighbour on the machine does not decide the ratio. Prints rows/s, the ratio
against torch, and macro-F1, micro-F1 and the no-behaviour figure on the fixed test
split, with the machine they were measured on. `--baseline-model` adds another model
folder (e.g. the previously shipped model, `git archive REV models/default | tar -x -C
/tmp/old`) on the torch backend, timed in the same rounds: a new model must not be slower.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from pathlib import Path

import onnxruntime
import torch

from pipeline.config import load_params
from pipeline.data.split import load_split
from pipeline.model.backend import BACKENDS, backend_model_dir, model_encoder
from pipeline.model.folder import load_model
from pipeline.tagger import Tagger, tag_in_chunks
from pipeline.taxonomy import load_taxonomy
from pipeline.training.evaluate import tagger_figures

ROOT = Path(__file__).resolve().parent.parent


def varied_texts(pool: list[str], n: int, seed: int = 7) -> list[str]:
    """n texts: 40% single answers, 30% 2-3 joined, 20% 4-8 joined, 10% long notes of 12-25 answers."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        roll = rng.random()
        parts = (
            1 if roll < 0.40 else rng.randint(2, 3) if roll < 0.70 else rng.randint(4, 8) if roll < 0.90 else rng.randint(12, 25)
        )
        texts.append(("\n\n" if parts > 8 else " ").join(rng.choice(pool) for _ in range(parts)))
    return texts


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (
        f"{cpu}; {os.cpu_count()} cores; torch {torch.__version__} ({torch.get_num_threads()} threads); "
        f"onnxruntime {onnxruntime.__version__}; Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--baseline-model", type=Path, help="Another model folder, timed on torch beside the rest.")
    args = parser.parse_args()

    params, taxonomy = load_params(), load_taxonomy()
    rows, _, test_rows = load_split(ROOT / "labelled", taxonomy)
    texts = varied_texts([r.text for r in rows], args.texts)
    words = sorted(len(t.split()) for t in texts)
    print(f"machine: {machine()}")
    print(f"texts: {len(texts)}; words per text: median {words[len(words) // 2]}, max {words[-1]}, total {sum(words)}")

    runs = [(backend, backend, backend_model_dir(None, backend, params.backend)) for backend in args.backends]
    if args.baseline_model:
        runs.append(("baseline", "torch", args.baseline_model))
    taggers, load_seconds = {}, {}
    for name, backend, folder in runs:
        start = time.perf_counter()
        model = load_model(folder, taxonomy.ids)
        taggers[name] = Tagger(model, encoder=model_encoder(model, backend, folder, params.backend))
        taggers[name].tag(texts[:32])  # warm-up: spaCy, the first batches
        load_seconds[name] = time.perf_counter() - start
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for backend, tagger in taggers.items():
            start = time.perf_counter()
            tag_in_chunks(tagger, texts, params.score.chunk_size)
            best[backend] = max(best.get(backend, 0.0), len(texts) / (time.perf_counter() - start))

    print(f"{'backend':<10} {'load s':>7} {'rows/s':>8} {'× torch':>8} {'macro-F1':>9} {'micro-F1':>9} {'none untagged':>14}")
    for backend, tagger in taggers.items():
        figures = tagger_figures(tagger, test_rows, taxonomy, params.score.chunk_size)
        ratio = f"{best[backend] / best['torch']:8.2f}" if "torch" in best else f"{'–':>8}"
        print(
            f"{backend:<10} {load_seconds[backend]:7.1f} {best[backend]:8.1f} {ratio} {figures['macro_f1']:9.3f} "
            f"{figures['micro_f1']:9.3f} {figures['none_untagged']:14.3f}"
        )


if __name__ == "__main__":
    main()
