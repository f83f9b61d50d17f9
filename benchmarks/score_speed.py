"""How fast `behaviours score` is, against the bare encoder on the same texts, in one run.

    .venv/bin/python benchmarks/score_speed.py [--texts 5000] [--model models/default]

Builds a deterministic set of varied texts (one-word answers to multi-paragraph
notes, made by joining labelled texts), then times:
1. bare `SentenceTransformer.encode` on the texts as they are (it sorts by length
   itself and silently truncates each text at 256 word pieces);
2. the whole `behaviours score` command on a CSV of the same texts: reading the
   file, loading the model, sentence splitting, encoding every sentence (nothing
   truncated), scoring, evidence, and writing the output file.
It prints both rates, their ratio, and the machine they were measured on.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from pipeline import cli
from pipeline.config import load_params
from pipeline.data.rows import labelled_files, load_labelled
from pipeline.encoders.transformer import SentenceTransformerEncoder
from pipeline.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent


def varied_texts(n: int, seed: int = 7) -> list[str]:
    """n texts of mixed length: 40% single answers, 35% 2-3 joined, 20% 4-8 joined, 5% long notes."""
    pool = [row.text for row in load_labelled(labelled_files(ROOT / "labelled"), load_taxonomy())]
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        roll = rng.random()
        parts = 1 if roll < 0.40 else rng.randint(2, 3) if roll < 0.75 else rng.randint(4, 8) if roll < 0.95 else rng.randint(12, 25)
        separator = "\n\n" if parts > 8 else " "
        texts.append(separator.join(rng.choice(pool) for _ in range(parts)))
    return texts


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (OSError, ValueError):
        memory = float("nan")
    return (
        f"{cpu}; {os.cpu_count()} cores; torch threads {torch.get_num_threads()}; {memory:.0f} GiB; "
        f"Python {platform.python_version()}; torch {torch.__version__}; {platform.system()} {platform.machine()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    args = parser.parse_args()

    texts = varied_texts(args.texts)
    words = [len(t.split()) for t in texts]
    print(f"machine: {machine()}")
    print(f"texts: {len(texts)}; words per text: median {sorted(words)[len(words) // 2]}, max {max(words)}, total {sum(words)}")

    encoder = SentenceTransformerEncoder(load_params().encoder)
    encoder.encode(texts[:64])  # warm-up
    start = time.perf_counter()
    encoder.model.encode(texts, batch_size=encoder.batch_size, show_progress_bar=False)
    bare = len(texts) / (time.perf_counter() - start)
    print(f"bare SentenceTransformer.encode: {bare:7.1f} texts/s")

    with tempfile.TemporaryDirectory() as tmp:
        source, output = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        pd.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(source, index=False)
        sys.argv = ["behaviours", "score", str(source), "-o", str(output), "-c", "text", "--model", str(args.model)]
        start = time.perf_counter()
        try:
            cli.app(standalone_mode=False)
        finally:
            elapsed = time.perf_counter() - start
        scored = len(pd.read_csv(output))
    pipeline_rate = scored / elapsed
    print(f"behaviours score (end to end):  {pipeline_rate:7.1f} texts/s  (incl. model load, read and write)")
    print(f"ratio score / bare encoder:     {pipeline_rate / bare:7.2f}")


if __name__ == "__main__":
    main()
