"""`behaviours score` in one process against `--engine spark` on `local[2]`: the same rows, one run.

    PYTHONPATH=. .venv/bin/python benchmarks/spark_scale.py [--rows 100000] [--small 1000 10000]
        [--backend onnx-int8] [--out benchmarks/results/spark_scale.json]

Each size is a CSV of varied survey answers built as `batch_scale.py` builds them
(15% filler, 5% common short answers, 10% long notes, the rest one to five sentences),
but from sentences of the labelled *training* rows and the bundled example export's
answers only: no text of the test split. Each file is scored by the `behaviours score`
command in a child process, once per engine; peak memory is the largest sum of the
resident memory of the child and all its descendants (Spark's JVM and its Python
workers), sampled every 0.2 s. Both engines use the same two cores: the single process
runs ONNX Runtime with `backend.onnx_threads` (2), the Spark run gives each of its two
executor tasks one thread (`onnx_threads: 1`), so neither oversubscribes the machine.

The Spark overhead is the difference in seconds at the small sizes. The cluster figure is
a projection on paper, from the Spark run's measured throughput per core at the largest
size; its assumptions are written into the JSON and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import yaml
from batch_scale import varied_texts
from score_speed import machine

from pipeline.config import load_params
from pipeline.data.split import load_split
from pipeline.model.backend import BACKENDS
from pipeline.taxonomy import load_taxonomy
from pipeline.text import SentenceSplitter

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_ROWS = 700_000
CLUSTER_WORKERS, CLUSTER_CORES = 4, 8


def training_sentence_pool() -> list[str]:
    """Sentences of the labelled training rows (never the test split) and of the example export's answers."""
    split = load_split(ROOT / "labelled", load_taxonomy())
    sys.path.insert(0, str(ROOT / "examples"))
    from make_messy_exports import BETTER, LEAVING

    texts = [row.text for row in split.train] + LEAVING + BETTER
    splitter = SentenceSplitter(load_params().text)
    return sorted({s for sentences in splitter.split(texts) for s in sentences if len(s.split()) >= 3})


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_score(source: Path, output: Path, args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS of the process tree in MiB) of `behaviours score` in a child process."""
    command = [sys.executable, "-m", "pipeline.cli", "score", str(source), "-o", str(output), "-c", "answer",
               "--id-column", "id", "--quiet", *args]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    process, peak = psutil.Process(child.pid), [0]

    def sample() -> None:
        while child.poll() is None:
            try:
                peak[0] = max(peak[0], tree_rss(process))
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, err = child.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"behaviours score failed:\n{err.decode()[-2000:]}")
    return elapsed, peak[0] / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--backend", default="onnx-int8", choices=BACKENDS)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "spark_scale.json")
    args = parser.parse_args()

    pool = training_sentence_pool()
    load = os.getloadavg()
    print(f"machine: {machine()}; load average at start {load[0]:.1f}", flush=True)
    print(f"sentence pool (training rows and example answers): {len(pool):,}")
    print(f"{'rows':>8} {'engine':>8} {'seconds':>8} {'rows/s':>7} {'peak MiB':>9}", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        params = yaml.safe_load((ROOT / "configs" / "params.yaml").read_text(encoding="utf-8"))
        params["backend"]["onnx_threads"] = 1
        spark_params = Path(tmp) / "params-spark.yaml"
        spark_params.write_text(yaml.safe_dump(params), encoding="utf-8")
        engines = {
            "process": ["--backend", args.backend],
            "spark": ["--backend", args.backend, "--engine", "spark", "--spark-master", "local[2]", "--params", str(spark_params)],
        }
        for size in [*args.small, args.rows]:
            texts = varied_texts(size, pool, seed=16)
            source = Path(tmp) / f"in-{size}.csv"
            pd.DataFrame({"id": [f"R{i:06d}" for i in range(size)], "answer": texts}).to_csv(source, index=False)
            outputs = {}
            for engine, extra in engines.items():
                outputs[engine] = Path(tmp) / f"out-{size}-{engine}.csv"
                seconds, peak = run_score(source, outputs[engine], extra)
                results.append({"rows": size, "engine": engine, "seconds": round(seconds, 1),
                                "rows_per_s": round(size / seconds, 1), "peak_mib": round(peak)})
                print(f"{size:>8,} {engine:>8} {seconds:>8.1f} {size / seconds:>7.1f} {peak:>9.0f}", flush=True)
            same = outputs["process"].read_bytes() == outputs["spark"].read_bytes()
            results[-1]["same_output_as_process"] = same
            print(f"{'':>8} outputs identical: {same}", flush=True)
    by = {(r["rows"], r["engine"]): r for r in results}
    overhead = {size: round(by[(size, "spark")]["seconds"] - by[(size, "process")]["seconds"], 1) for size in args.small}
    per_core = by[(args.rows, "spark")]["rows_per_s"] / 2
    startup = min(overhead.values(), default=0.0) if overhead else 0.0
    cores = CLUSTER_WORKERS * CLUSTER_CORES
    projected = CLUSTER_ROWS / (per_core * cores) + max(startup, 0.0)
    projection = {
        "rows": CLUSTER_ROWS, "workers": CLUSTER_WORKERS, "cores_per_worker": CLUSTER_CORES,
        "rows_per_s_per_core": round(per_core, 1), "minutes": round(projected / 60, 1),
        "assumptions": [
            f"throughput per core as measured here with local[2] at {args.rows:,} rows (2 cores, 1 ONNX thread per task)",
            "cores like this machine's, not shared with other work; scales linearly: tasks share nothing but the input",
            "the smallest Spark overhead measured here added once (session start, model load per Python worker)",
            "reading the table and writing Parquet take no noticeable time against tagging (as here)",
            "the same answer mix: 15% filler, 10% long notes; a mix of longer answers is slower",
        ],
    }
    print(f"Spark overhead (s): {overhead}; throughput per core {per_core:.1f} rows/s")
    print(f"projection: {CLUSTER_ROWS:,} rows on {CLUSTER_WORKERS} workers x {CLUSTER_CORES} cores: about {projection['minutes']} min")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": machine(), "load_average_at_start": round(load[0], 1), "backend": args.backend,
        "results": results, "spark_overhead_seconds": overhead, "cluster_projection": projection,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
