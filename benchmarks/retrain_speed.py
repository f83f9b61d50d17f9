"""Retraining after new labels: from an empty embedding cache, and after adding 50 rows to a warm one.

    .venv/bin/python benchmarks/retrain_speed.py [--added 50]

Copies labelled/ twice into a temporary folder: the full corpus, and the corpus
without `--added` training rows (as if they had not arrived yet). Then times
1. `behaviours train` on the full corpus with an empty cache (from scratch), and
2. `behaviours embed` on the smaller corpus (yesterday's cache), then
   `behaviours train` on the full corpus with that cache (today's retrain),
and prints both, with how many sentence pieces each had to encode. Nothing is
logged to MLflow and the project's model and cache are not touched. With an adapted
encoder (`finetune.epochs` > 0) every retrain re-encodes everything, since the
adapter changes; the figures in docs/decisions.md are for the frozen encoder.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from score_speed import machine

ROOT = Path(__file__).resolve().parent.parent
BEHAVIOURS = Path(sys.executable).with_name("behaviours")


def without_rows(folder: Path, count: int) -> None:
    """Drop the last `count` training rows (never test rows) of the exit-survey file."""
    test_ids = set((folder / "test_ids.txt").read_text().split())
    path = folder / "authored_exit_survey.csv"
    header, *rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    dropped = [r for r in rows if r[0] not in test_ids][-count:]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header] + [r for r in rows if r not in dropped])


def timed(*args: str) -> tuple[float, str]:
    """Seconds a `behaviours` command took, and how many sentence pieces it encoded."""
    start = time.perf_counter()
    result = subprocess.run([str(BEHAVIOURS), *args], capture_output=True, text=True, check=True)
    encoded = re.search(r"(\d+) (?:pieces|newly) encoded", " ".join(result.stdout.split()))
    return time.perf_counter() - start, f"{encoded.group(1) if encoded else '?'} pieces encoded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--added", type=int, default=50)
    parser.add_argument("--params", type=Path, default=ROOT / "configs" / "params.yaml", help="e.g. a frozen-encoder copy")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shutil.copytree(ROOT / "labelled", tmp / "full")
        shutil.copytree(ROOT / "labelled", tmp / "before")
        without_rows(tmp / "before", args.added)
        common = ["--no-track", "--model-dir", str(tmp / "model"), "--params", str(args.params)]
        scratch, out = timed("train", "--labelled", str(tmp / "full"), "--embedding-cache", str(tmp / "empty.sqlite3"), *common)
        print(f"from scratch:            {scratch:6.1f} s  ({out})")
        timed("embed", "--labelled", str(tmp / "before"), "--embedding-cache", str(tmp / "warm.sqlite3"), "--params", str(args.params))
        added, out = timed("train", "--labelled", str(tmp / "full"), "--embedding-cache", str(tmp / "warm.sqlite3"), *common)
        print(f"after adding {args.added} rows:   {added:6.1f} s  ({out})")
        print(f"ratio: {added / scratch:.2f}")


if __name__ == "__main__":
    main()
