"""`behaviours score` at scale: rows/s and peak memory for 1,000 to 100,000 rows, beside the bare encoder.

    .venv/bin/python benchmarks/batch_scale.py [--sizes 1000 10000 100000] [--model models/default]
        [--backend torch|onnx|onnx-int8|static]

For each size it writes a CSV of varied survey answers (deterministic): about 10%
long notes of several hundred words in paragraphs, the rest one to five sentences,
and realistic duplication ("n/a", "None", blanks, the same short answer from many
people). Each file is scored by the `behaviours score` command itself in a child
process (the same code path as a person running it, model load and file write
included), and the child's peak resident memory is read from the kernel
(`os.wait4`). In the same run, bare `SentenceTransformer.encode` times a sample of
the same texts (it truncates each at 256 word pieces; `behaviours score` encodes
every sentence in full). Peak memory must not grow with rows: the run fails if
100,000 rows peak above 1.5× the 10,000-row peak. `--backend` is passed to
`behaviours score` (README, "Backends"); the bare encoder is always PyTorch's.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from score_speed import machine

from pipeline.config import load_params
from pipeline.data.rows import labelled_files, load_labelled
from pipeline.encoders.transformer import SentenceTransformerEncoder
from pipeline.model.backend import BACKENDS
from pipeline.taxonomy import load_taxonomy
from pipeline.text import SentenceSplitter

ROOT = Path(__file__).resolve().parent.parent
FILLERS = ["n/a", "N/A", "None", "-", "no comment", "Nothing to add", "see above", "", "", "na"]
COMMON = ["Pay.", "Better pay", "Retirement", "Relocation", "Work-life balance", "Career progression", "Staffing levels"]
MAX_GROWTH = 1.5


def sentence_pool() -> list[str]:
    """Every sentence of the labelled texts and of the example exports' answers: thousands of varied sentences."""
    texts = [row.text for row in load_labelled(labelled_files(ROOT / "labelled"), load_taxonomy())]
    sys.path.insert(0, str(ROOT / "examples"))
    from make_messy_exports import BETTER, LEAVING

    texts += LEAVING + BETTER
    params = load_params()
    splitter = SentenceSplitter(params.text)
    return sorted({s for sentences in splitter.split(texts) for s in sentences if len(s.split()) >= 3})


def varied_texts(n: int, pool: list[str], seed: int = 11) -> list[str]:
    """n answers: 15% filler, 5% common short answers, 10% long notes (200-600 words), the rest 1-5 sentences."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.15:
            texts.append(rng.choice(FILLERS))
        elif roll < 0.20:
            texts.append(rng.choice(COMMON))
        elif roll < 0.30:
            words, paragraphs = rng.randint(200, 600), []
            while sum(len(p.split()) for p in paragraphs) < words:
                paragraphs.append(" ".join(rng.choice(pool) for _ in range(rng.randint(2, 6))))
            texts.append("\n\n".join(paragraphs))
        else:
            texts.append(" ".join(rng.choice(pool) for _ in range(rng.randint(1, 5))))
    return texts


def run_score(source: Path, output: Path, model: Path | None, backend: str) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of `behaviours score` in a child process."""
    command = [sys.executable, "-m", "pipeline.cli", "score", str(source), "-o", str(output), "-c", "answer",
               "--id-column", "id", "--backend", backend, "--quiet"] + (["--model", str(model)] if model else [])
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"behaviours score failed:\n{process.stderr.read().decode()}")
    process.stderr.close()
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--model", type=Path, default=None, help="Default: the backend's model (models/default, models/static).")
    parser.add_argument("--backend", default="torch", choices=BACKENDS)
    parser.add_argument("--bare-sample", type=int, default=3000, help="Texts timed with the bare encoder, at most.")
    args = parser.parse_args()

    print(f"machine: {machine()}", flush=True)
    pool = sentence_pool()
    encoder = SentenceTransformerEncoder(load_params().encoder)
    encoder.model.encode(pool[:64], batch_size=encoder.batch_size)  # warm-up
    startup, startup_peak = run_score_startup(args.model, args.backend)
    print(f"backend: {args.backend}")
    print(f"sentence pool: {len(pool)}; `behaviours score` of one row: {startup:.1f} s, peak {startup_peak:.0f} MiB")
    print(f"{'rows':>8} {'distinct':>8} {'words':>10} {'score s':>8} {'rows/s':>7} {'peak MiB':>9} {'bare rows/s':>11}")
    peaks = {}
    for size in args.sizes:
        texts = varied_texts(size, pool)
        sample = random.Random(size).sample(texts, min(size, args.bare_sample))
        start = time.perf_counter()
        encoder.model.encode(sample, batch_size=encoder.batch_size, show_progress_bar=False)
        bare = len(sample) / (time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as tmp:
            source, output = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
            directorates = ["Medicine", "Surgery", "Community", "Corporate"]
            pd.DataFrame(
                {"id": [f"R{i:06d}" for i in range(size)], "directorate": [directorates[i % 4] for i in range(size)], "answer": texts}
            ).to_csv(source, index=False)
            elapsed, peak = run_score(source, output, args.model, args.backend)
        peaks[size] = peak
        words = sum(len(t.split()) for t in texts)
        print(f"{size:>8,} {len(set(texts)):>8,} {words:>10,} {elapsed:>8.1f} {size / elapsed:>7.1f} {peak:>9.0f} {bare:>11.1f}", flush=True)
    if 10000 in peaks and 100000 in peaks:
        growth = peaks[100000] / peaks[10000]
        verdict = "ok" if growth <= MAX_GROWTH else "FAIL"
        print(f"peak memory 100,000 / 10,000 rows: {growth:.2f} (limit {MAX_GROWTH}) {verdict}")
        if growth > MAX_GROWTH:
            raise SystemExit(1)


def run_score_startup(model: Path | None, backend: str) -> tuple[float, float]:
    """The fixed cost in every run (imports, model and spaCy load): `behaviours score` of a one-row file."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "one.csv"
        pd.DataFrame({"id": ["R1"], "answer": ["She explains why decisions are made."]}).to_csv(source, index=False)
        return run_score(source, Path(tmp) / "out.csv", model, backend)


if __name__ == "__main__":
    main()
