"""The learning curve: labels chosen by `labelled suggest` against labels chosen at random.

    .venv/bin/python benchmarks/active_learning.py [--seed-rows 500] [--step 250] [--steps 6]

The texts that could be labelled are the gold training rows and the pool's fully voted
texts (`train.pool`), never the fixed test split nor the new writers' sets. From a
seed of `--seed-rows` of them (the same seed for every curve), `--step` more are added
at a time, chosen either by the suggest module (`pipeline.batch.suggest.choose`, as
`behaviours labelled suggest` calls it, with the counts of the rows labelled so far) or
at random; the labels of a chosen text are revealed when it is picked. After each step
the head is retrained and macro-F1 measured on the test split (labelled/test_ids.txt)
and on the new writers' development part (labelled/newwriters/dev.csv). Each strategy
is run with forty-eight seeds (random: the picks; suggest: its seeded draws, a new seed at each
step), and the means are compared, with a 90% bootstrap interval of their difference.

The head retrained each step is the shipped one at text level: TF-IDF words beside the
MiniLM vector, one logistic regression per behaviour plus the "any behaviour" gate,
per-behaviour thresholds and the gate chosen on `train.cv_folds`-fold out-of-fold
probabilities (`pipeline.training.fit`). The shipped model's sentence head and learned
aggregation are left out: they take minutes per fit, too slow for 576 retrains,
so the figures are below the shipped model's and only the comparison between the
curves counts. Six steps (500 to 2,000 labels) keep each curve near a minute of one
CPU core with a warm cache (all 96: an hour and a half; split them over processes with
`--curves`). Suggest reads each candidate as that head does, with the head's
cross-validated F1 per behaviour as the model card holds it. Vectors come from the
embedding cache (.cache/embeddings.sqlite3); the run says how many pieces it had to
encode (0 when the cache is warm).

Writes plots/active_learning.csv (labels, strategy, seed, set, macro_f1),
docs/active_learning.png and benchmarks/results/active_learning.json, whose summary
gives, per set, the labels suggest needs (mean curve) to reach the random curve's final
mean figure (interpolated between steps) and so how many it saves.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline.batch.suggest import Readings, choose, label_counts
from pipeline.config import load_params
from pipeline.data.pool import pool_training_rows
from pipeline.data.rows import label_matrix, labelled_files, load_labelled, read_labelled_file
from pipeline.data.split import TEST_IDS, partition, read_test_ids
from pipeline.data.stats import corpus_stats
from pipeline.tagger import EmbeddedTexts, text_inputs
from pipeline.taxonomy import load_taxonomy
from pipeline.training.fit import choose_thresholds, fit_head, gated, out_of_fold_probabilities, with_any_column
from pipeline.training.metrics import behaviour_f1, macro_f1
from pipeline.training.train import embed_labelled

ROOT = Path(__file__).resolve().parent.parent
SEEDS = tuple(range(48))  # each strategy's curves: random picks, and suggest's seeded draws
TAXONOMY = load_taxonomy()


def benchmark_params():
    """configs/params.yaml with the head read at text level (no sentence head): see the module docstring."""
    params = load_params(ROOT / "configs" / "params.yaml")
    return replace(params, train=replace(params.train, aggregation="text", sentence_head=False))


def labelled_sets(params) -> tuple[list, list, list, list]:
    """The gold training rows, the pool's fully voted texts, the test split and the new writers' development part."""
    labelled = ROOT / "labelled"
    gold_train, test = partition(load_labelled(labelled_files(labelled), TAXONOMY), read_test_ids(labelled / TEST_IDS))
    pool = pool_training_rows(labelled / "pool", TAXONOMY, params.pool.min_votes)
    dev, problems = read_labelled_file(labelled / "newwriters" / "dev.csv", TAXONOMY)
    if problems:
        sys.exit(f"labelled/newwriters/dev.csv: {problems[0]}")
    return gold_train, pool, test, dev


class Head:
    """The benchmark's head (see the module docstring) fitted on some texts."""

    def __init__(self, embedded: EmbeddedTexts, Y: np.ndarray, params, ids: tuple[str, ...]) -> None:
        targets = with_any_column(Y)
        oof, _ = out_of_fold_probabilities(embedded, targets, params)
        self.thresholds, self.gate_threshold = choose_thresholds(Y, oof, params, ids)
        self.f1 = behaviour_f1(Y, gated(oof, self.thresholds, self.gate_threshold))  # as the model card has it
        self.head, self.words = fit_head(embedded, targets, np.arange(len(Y)), params.train, None)

    def text_probabilities(self, embedded: EmbeddedTexts) -> np.ndarray:
        return self.head.predict_proba(text_inputs(embedded, self.words))

    def macro_f1(self, embedded: EmbeddedTexts, Y: np.ndarray) -> float:
        return macro_f1(Y, gated(self.text_probabilities(embedded), self.thresholds, self.gate_threshold))

    def readings(self, embedded: EmbeddedTexts) -> Readings:
        probs = self.text_probabilities(embedded)
        return Readings(
            probabilities=probs[:, :-1], gate=probs[:, -1], sentences=np.diff(embedded.offsets),
            vectors=embedded.text_vectors(), thresholds=self.thresholds, gate_threshold=self.gate_threshold, f1=self.f1,
        )


def run_curve(strategy, seed, seed_head, start, universe, embedded, Y, evaluations, params, ids, step, steps, log) -> list[dict]:
    """One learning curve: macro-F1 on each evaluation set after the seed rows (`seed_head`, fitted on them once for
    every curve) and after each step."""
    rng = np.random.default_rng(seed)
    chosen = list(start)
    records = []
    for k in range(steps + 1):
        began = time.perf_counter()
        rows = np.array(chosen)
        head = seed_head if k == 0 else Head(embedded.subset(rows), Y[rows], params, ids)
        for name, (eval_embedded, eval_Y) in evaluations.items():
            records.append({"labels": len(rows), "strategy": strategy, "seed": seed, "set": name,
                            "macro_f1": round(head.macro_f1(eval_embedded, eval_Y), 4)})
        if k < steps:
            remaining = np.setdiff1d(np.arange(len(universe)), rows)
            if strategy == "random":
                picked = rng.choice(remaining, size=step, replace=False)
            else:
                counts = label_counts(corpus_stats([universe[i] for i in rows], TAXONOMY))
                # a new draw at each step (the seed moves on), as a new `suggest` run would be seeded afresh
                drawn = replace(params.suggest, seed=seed * 1000 + k)
                picks = choose(
                    head.readings(embedded.subset(remaining)), counts, ids, step, drawn, params.data.near_duplicate_cosine
                )
                picked = remaining[[p.index for p in picks]]
            chosen += [int(i) for i in picked]
        shown = ", ".join(f"{r['set']} {r['macro_f1']:.3f}" for r in records[-len(evaluations):])
        log(f"{strategy} seed {seed}: {len(rows)} labels: {shown} ({time.perf_counter() - began:.0f} s)")
    return records


def labels_to_reach(labels: list[int], figures: list[float], target: float) -> float | None:
    """The labels at which a curve first reaches `target`, interpolated linearly between steps (None: never)."""
    if figures[0] >= target:
        return float(labels[0])
    for (x0, y0), (x1, y1) in zip(zip(labels, figures), zip(labels[1:], figures[1:])):
        if y1 >= target > y0:
            return round(x0 + (target - y0) / (y1 - y0) * (x1 - x0), 1)
    return None


def by_labels(records: list[dict], strategy: str, name: str) -> dict[int, list[float]]:
    """Each step's figures of every seed of one strategy on one set."""
    out: dict[int, list[float]] = {}
    for r in records:
        if r["strategy"] == strategy and r["set"] == name:
            out.setdefault(r["labels"], []).append(r["macro_f1"])
    return dict(sorted(out.items()))


def difference_interval(suggest: list[float], random: list[float], resamples: int = 2000, seed: int = 0) -> list[float]:
    """90% bootstrap interval of mean(suggest) - mean(random), the seeds of each strategy resampled on their own
    (a suggest seed and a random seed share nothing but the seed rows, so they are not paired)."""
    rng = np.random.default_rng(seed)
    s, r = np.asarray(suggest), np.asarray(random)
    differences = (rng.choice(s, (resamples, len(s))).mean(axis=1) - rng.choice(r, (resamples, len(r))).mean(axis=1))
    return [round(float(x), 4) for x in np.percentile(differences, [5, 95])]


def summary(records: list[dict], sets: list[str]) -> dict:
    out = {}
    for name in sets:
        suggest, random = by_labels(records, "suggest", name), by_labels(records, "random", name)
        labels = list(suggest)
        suggest_mean = [round(float(np.mean(suggest[x])), 4) for x in labels]
        random_mean = [round(float(np.mean(random[x])), 4) for x in labels]
        reach = labels_to_reach(labels, suggest_mean, random_mean[-1])
        out[name] = {
            "labels": labels,
            "suggest_mean": suggest_mean,
            "suggest_min": [min(suggest[x]) for x in labels],
            "suggest_max": [max(suggest[x]) for x in labels],
            "random_mean": random_mean,
            "random_min": [min(random[x]) for x in labels],
            "random_max": [max(random[x]) for x in labels],
            "seeds_per_point": {"suggest": [len(suggest[x]) for x in labels], "random": [len(random[x]) for x in labels]},
            "suggest_at_or_above_random_mean_every_step": all(s >= r for s, r in zip(suggest_mean, random_mean)),
            "suggest_minus_random_mean": [round(s - r, 4) for s, r in zip(suggest_mean, random_mean)],
            "suggest_minus_random_interval_90": [difference_interval(suggest[x], random[x]) for x in labels],
            "random_final_macro_f1": random_mean[-1],
            "labels_suggest_needs_to_reach_random_final": reach,
            "labels_saved": None if reach is None else round(labels[-1] - reach, 1),
        }
    return out


def plot(records: list[dict], sets: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(sets), figsize=(5.5 * len(sets), 4), sharey=False)
    for axis, name in zip(np.atleast_1d(axes), sets):
        for strategy, colour, shown in (("random", "grey", "random"), ("suggest", "C0", "labelled suggest")):
            figures = by_labels(records, strategy, name)
            labels = list(figures)
            seeds = len({r["seed"] for r in records if r["strategy"] == strategy})
            axis.fill_between(labels, [min(v) for v in figures.values()], [max(v) for v in figures.values()],
                              alpha=0.2, color=colour, label=f"{shown} (range of {seeds} seeds)")
            axis.plot(labels, [float(np.mean(v)) for v in figures.values()], color=colour, marker="o", label=f"{shown} (mean)")
        axis.set_title({"test": "Test split", "development": "New writers, development part"}[name])
        axis.set_xlabel("labelled texts")
        axis.set_ylabel("macro-F1 (text-level head)")
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-rows", type=int, default=500)
    parser.add_argument("--step", type=int, default=250)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--seed", type=int, default=13, help="chooses the seed rows")
    parser.add_argument("--out", type=Path, default=ROOT, help="folder for plots/, docs/ and benchmarks/results/")
    parser.add_argument("--curves", nargs="+", default=[f"{strategy}:{s}" for strategy in ("suggest", "random") for s in SEEDS],
                        help="the curves to run: suggest:<seed>, random:<seed> (run them in separate processes to save time)")
    parser.add_argument("--from-logs", nargs="+", type=Path, default=None,
                        help="run nothing: combine the figures these runs printed and write the outputs")
    args = parser.parse_args()

    def log(line: str) -> None:
        print(line, flush=True)

    began, wall = time.process_time(), time.perf_counter()
    params = benchmark_params()
    gold_train, pool, test, dev = labelled_sets(params)
    universe = gold_train + pool
    sets = ["test", "development"]
    if args.from_logs:
        records = records_from_logs(args.from_logs)
        run = f"curves run in separate processes, figures (3 decimals) combined from their logs: {', '.join(p.name for p in args.from_logs)}"
    else:
        records = run_curves(args, params, universe, test, dev, log)
        run = f"one process, curves {', '.join(args.curves)}"
    if {r["strategy"] for r in records} != {"suggest", "random"}:
        return  # a part of the curves: its log is combined later (--from-logs)
    n = len(universe)
    (args.out / "plots").mkdir(exist_ok=True)
    with open(args.out / "plots" / "active_learning.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["labels", "strategy", "seed", "set", "macro_f1"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    (args.out / "docs").mkdir(exist_ok=True)
    plot(records, sets, args.out / "docs" / "active_learning.png")
    results = {
        "method": {
            "candidates": f"{len(gold_train)} gold training rows and {n - len(gold_train)} fully voted pool texts",
            "seed_rows": args.seed_rows, "step": args.step, "steps": args.steps, "seed": args.seed,
            "seeds": {strategy: sorted({r["seed"] for r in records if r["strategy"] == strategy}) for strategy in ("suggest", "random")},
            "head": "words+vectors logistic, text level, thresholds and gate from "
                    f"{params.train.cv_folds}-fold CV (no sentence head, no learned aggregation)",
            "suggest": {key: getattr(params.suggest, key) for key in params.suggest.__dataclass_fields__},
            "sets": {"test": f"{len(test)} rows of labelled/test_ids.txt", "development": f"{len(dev)} rows of labelled/newwriters/dev.csv"},
            "run": run,
        },
        "summary": summary(records, sets),
    }
    if not args.from_logs:
        results["method"] |= {"cpu_seconds": round(time.process_time() - began), "wall_seconds": round(time.perf_counter() - wall)}
    (args.out / "benchmarks" / "results").mkdir(parents=True, exist_ok=True)
    (args.out / "benchmarks" / "results" / "active_learning.json").write_text(json.dumps(results, indent=2) + "\n")
    for name, figures in results["summary"].items():
        log(f"{name}: random final {figures['random_final_macro_f1']:.3f}; suggest reaches it at "
            f"{figures['labels_suggest_needs_to_reach_random_final']} labels (saves {figures['labels_saved']}); "
            f"at or above random's mean at every step: {figures['suggest_at_or_above_random_mean_every_step']}")


LOG_LINE = re.compile(r"^(suggest|random) seed (\d+): (\d+) labels: test ([\d.]+), development ([\d.]+)")


def records_from_logs(paths: list[Path]) -> list[dict]:
    """The figures the runs printed, one record per curve, labels and set (a curve in two logs counted once)."""
    found = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = LOG_LINE.match(line)
            if match:
                strategy, seed, labels, test, development = match.groups()
                for name, value in (("test", test), ("development", development)):
                    found[(strategy, int(seed), int(labels), name)] = float(value)
    return [{"labels": labels, "strategy": strategy, "seed": seed, "set": name, "macro_f1": value}
            for (strategy, seed, labels, name), value in sorted(found.items(), key=lambda item: (item[0][0] != "suggest", item[0]))]


def run_curves(args, params, universe, test, dev, log) -> list[dict]:
    texts = [r.text for r in universe + test + dev]
    embedded_all, encoder = embed_labelled(texts, params, ROOT / ".cache" / "embeddings.sqlite3")
    log(f"{len(universe)} texts to label from, {len(test)} test, {len(dev)} development; "
        f"{encoder.encoded} pieces encoded (the rest from the cache)")
    n = len(universe)
    embedded = embedded_all.subset(np.arange(n))
    evaluations = {
        "test": (embedded_all.subset(np.arange(n, n + len(test))), label_matrix(test, TAXONOMY)),
        "development": (embedded_all.subset(np.arange(n + len(test), len(texts))), label_matrix(dev, TAXONOMY)),
    }
    Y = label_matrix(universe, TAXONOMY)
    start = np.random.default_rng(args.seed).choice(n, size=args.seed_rows, replace=False)
    ids = TAXONOMY.ids
    seed_head = Head(embedded.subset(start), Y[start], params, ids)
    common = (seed_head, start, universe, embedded, Y, evaluations, params, ids, args.step, args.steps, log)
    records = []
    for curve in args.curves:
        strategy, _, seed = curve.partition(":")
        records += run_curve(strategy, int(seed), *common)
    return records


if __name__ == "__main__":
    main()
