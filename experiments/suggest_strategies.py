"""Ways of choosing what to label next, tried on the learning-curve benchmark before `suggest` drew its picks.

    .venv/bin/python experiments/suggest_strategies.py UNCERTAINTY DIVERSITY [--register-rarity]

Runs one suggest curve of benchmarks/active_learning.py (the same seed rows, head, steps
and evaluation sets; compare with its random curves) with `pipeline.batch.suggest.choose`
replaced by one of the strategies below, and prints the curve as the benchmark does.
Each strategy mixes the same signals as `suggest` (how undecided the model is, the
rarity of the behaviours a text probably shows, and, with `--register-rarity`, of its
register), then picks with a different rule:

- UNCERTAINTY `sum`: the sharp undecidedness of every behaviour and the gate added up
  (`pipeline.batch.suggest.undecided`); `sum-per-sentence`: that sum over the square root
  of the text's sentences (what `suggest` uses). (The first `suggest` took the most
  undecided single reading instead, and spread its picks with a greedy core-set: git
  history before this file, figures in docs/decisions.md.)
- DIVERSITY `kmeans`: the most informative tenth of the candidates (`--prefilter 10`; 100
  takes them all) clustered by a k-means weighted by priority, one pick per cluster, the
  one nearest its centre (Zhdanov 2019); `typical`: an unweighted k-means over all
  candidates, one pick per cluster, the most informative of the five nearest its centre;
  `strata`: a quota per register × length third as random picks would fill it, each
  filled by the weighted k-means. What `suggest` does instead (drawn in proportion to
  priority ** 2) is the benchmark itself: benchmarks/active_learning.py.

The figures of the runs made (single seed, on a loaded 2-core machine) are in
`experiments/suggest_strategies.json` and docs/decisions.md.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import active_learning  # noqa: E402  (the benchmark module: its curve, head and data)

from pipeline.batch import suggest  # noqa: E402
from pipeline.batch.suggest import label_counts  # noqa: E402
from pipeline.config import load_params  # noqa: E402
from pipeline.data.pool import pool_training_rows  # noqa: E402
from pipeline.data.rows import labelled_files, load_labelled  # noqa: E402
from pipeline.data.split import TEST_IDS, partition, read_test_ids  # noqa: E402
from pipeline.text import normalise  # noqa: E402

TAXONOMY = active_learning.TAXONOMY


@dataclass(frozen=True)
class Counts:
    """Labels per behaviour (as `suggest` counts them) and per register."""

    behaviours: dict[str, int]
    registers: dict[str, int]


def informativeness(readings, registers, counts, ids, params, uncertainty: str, register_rarity: bool) -> np.ndarray:
    P, t = readings.probabilities, readings.thresholds
    behaviour = suggest.undecided(P, t)
    gate = suggest.undecided(readings.gate, readings.gate_threshold)
    u = behaviour.sum(axis=1) + gate
    if uncertainty == "sum-per-sentence":
        u = u / np.sqrt(np.maximum(readings.sentences, 1))
    u = u / u.max()
    rare = (P * suggest.rarity(counts.behaviours, ids)).max(axis=1)
    if register_rarity:
        names = sorted(set(registers))
        by_register = dict(zip(names, suggest.rarity(counts.registers, names)))
        rare = rare + np.array([by_register[r] for r in registers])
    return params.uncertainty_weight * u + params.rarity_weight * rare


def first_free(candidates, vectors, chosen: list[int], near: float) -> int | None:
    """The first of `candidates` not a near duplicate of a text already chosen."""
    for m in candidates:
        if not chosen or (vectors[chosen] @ vectors[m]).max() < near:
            return int(m)
    return None


def weighted_kmeans(priority, vectors, n, prefilter, near) -> list[int]:
    kept = np.argsort(-priority, kind="stable")[: prefilter * n]
    weights = priority[kept] - priority[kept].min() + 1e-3
    km = KMeans(n_clusters=n, n_init=1, random_state=0).fit(vectors[kept], sample_weight=weights)
    distance = km.transform(vectors[kept])
    chosen: list[int] = []
    for c in np.argsort(-np.bincount(km.labels_, weights=weights, minlength=n)):
        members = np.where(km.labels_ == c)[0]
        m = first_free(kept[members[np.argsort(distance[members, c])]], vectors, chosen, near)
        if m is not None:
            chosen.append(m)
    return chosen


def typical(priority, vectors, n, near, nearest=5) -> list[int]:
    km = KMeans(n_clusters=n, n_init=1, random_state=0).fit(vectors)
    distance = km.transform(vectors)
    chosen: list[int] = []
    for c in range(n):
        members = np.where(km.labels_ == c)[0]
        close = members[np.argsort(distance[members, c])][:nearest]
        m = first_free(close[np.argsort(-priority[close])], vectors, chosen, near)
        if m is not None:
            chosen.append(m)
    return chosen


def strata(priority, vectors, n, near, sentences, registers) -> list[int]:
    lengths = np.digitize(sentences, np.quantile(sentences, [1 / 3, 2 / 3]))
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(registers, lengths)):
        groups.setdefault(key, []).append(i)
    quota = {k: len(v) * n / len(priority) for k, v in groups.items()}
    counts = {k: int(q) for k, q in quota.items()}
    for k in sorted(quota, key=lambda k: counts[k] - quota[k])[: n - sum(counts.values())]:
        counts[k] += 1
    chosen: list[int] = []
    for k, members in groups.items():
        members = np.array(members)
        if counts[k] == 1:
            chosen.append(int(members[np.argmax(priority[members])]))
        elif counts[k] > 1:
            chosen += [int(members[j]) for j in weighted_kmeans(priority[members], vectors[members], counts[k], 10**6, near)]
    return chosen


def strategy(uncertainty: str, diversity: str, prefilter: int, register_rarity: bool):
    def choose(readings, counts, ids, n, params, near):
        priority = informativeness(readings, readings.registers, counts, ids, params, uncertainty, register_rarity)
        if diversity == "kmeans":
            picked = weighted_kmeans(priority, readings.vectors, n, prefilter, near)
        elif diversity == "typical":
            picked = typical(priority, readings.vectors, n, near)
        else:
            picked = strata(priority, readings.vectors, n, near, readings.sentences, readings.registers)
        return [suggest.Pick(i, float(priority[i]), "") for i in picked]

    return choose


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("uncertainty", choices=["sum", "sum-per-sentence"])
    parser.add_argument("diversity", choices=["kmeans", "typical", "strata"])
    parser.add_argument("--prefilter", type=int, default=10, help="kmeans: candidates per pick clustered")
    parser.add_argument("--register-rarity", action="store_true", help="rarity also counts the register's labels")
    args = parser.parse_args()
    # Registers and their label counts, which suggest's own readings do not carry, looked up by text.
    params = load_params(ROOT / "configs" / "params.yaml")
    labelled = ROOT / "labelled"
    gold_train, _ = partition(load_labelled(labelled_files(labelled), TAXONOMY), read_test_ids(labelled / TEST_IDS))
    universe = gold_train + pool_training_rows(labelled / "pool", TAXONOMY, params.pool.min_votes)
    register_of = {normalise(row.text): row.register for row in universe}
    real_readings = active_learning.Head.readings

    def readings(head, embedded):
        found = real_readings(head, embedded)
        found.registers = [register_of[text] for text in embedded.texts]
        return found

    def counts_with_registers(stats, pool=None):
        return Counts(label_counts(stats, pool).behaviours, dict(stats["registers"]))

    active_learning.Head.readings = readings
    active_learning.label_counts = counts_with_registers
    active_learning.choose = strategy(args.uncertainty, args.diversity, args.prefilter, args.register_rarity)
    sys.argv = [sys.argv[0], "--curves", "suggest:0"]
    active_learning.main()


if __name__ == "__main__":
    main()
