"""The fixed test split: chosen once, committed, never trained on.

Rows are stratified by register and first label so that every register and
behaviour is represented on both sides. Near duplicates (text vectors at least
`group_cosine` alike: the same statement reworded, see docs/decisions.md) form a
group that goes to one side whole, so the test split does not reward memorising.
The framework's own descriptions always stay in training: they define the
behaviours. Rows added later go to training unless the split is made again on
purpose.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import numpy as np

from pipeline.config import SplitParams
from pipeline.data.rows import LabelledRow, labelled_files, load_labelled, near_duplicate_pairs
from pipeline.io.files import atomic_write_text
from pipeline.taxonomy import Taxonomy

ALWAYS_TRAIN_REGISTERS = ("framework",)

TEST_IDS = "test_ids.txt"  # the fixed test split, inside the labelled folder


def near_duplicate_groups(vectors: np.ndarray, threshold: float) -> list[int]:
    """A group number per row: rows linked by a chain of near-duplicate pairs share one."""
    parent = list(range(len(vectors)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in near_duplicate_pairs(vectors, threshold):
        parent[root(i)] = root(j)
    return [root(i) for i in range(len(vectors))]


def make_test_split(rows: list[LabelledRow], params: SplitParams, vectors: np.ndarray | None = None) -> list[str]:
    """Ids of the test rows, in a deterministic order; near-duplicate groups are never divided."""
    groups: dict[int, list[LabelledRow]] = defaultdict(list)
    labels = near_duplicate_groups(vectors, params.group_cosine) if vectors is not None else range(len(rows))
    for row, group in zip(rows, labels):
        groups[group].append(row)
    strata: dict[tuple[str, str], list[list[LabelledRow]]] = defaultdict(list)
    for members in groups.values():
        if any(r.register in ALWAYS_TRAIN_REGISTERS for r in members):
            continue
        first = min(members, key=lambda r: r.id)
        strata[(first.register, first.labels[0] if first.labels else "none")].append(members)
    rng = random.Random(params.seed)
    test: list[str] = []
    for key in sorted(strata):
        stratum = sorted(strata[key], key=lambda members: min(r.id for r in members))
        rng.shuffle(stratum)
        target, taken = round(sum(len(m) for m in stratum) * params.test_fraction), 0
        for members in stratum:
            if taken >= target:
                break
            test += [r.id for r in members]
            taken += len(members)
    return sorted(test)


def write_test_ids(ids: list[str], path: Path) -> None:
    atomic_write_text(Path(path), "".join(f"{i}\n" for i in ids))


def read_test_ids(path: Path) -> set[str]:
    """Test ids from the split file; no file means no rows are held out."""
    path = Path(path)
    return set(path.read_text(encoding="utf-8").split()) if path.is_file() else set()


def partition(rows: list[LabelledRow], test_ids: set[str]) -> tuple[list[LabelledRow], list[LabelledRow]]:
    """(train, test) rows."""
    return [r for r in rows if r.id not in test_ids], [r for r in rows if r.id in test_ids]


class LabelledSplit(NamedTuple):
    """Every labelled row, and the same rows cut by the fixed test split."""

    rows: list[LabelledRow]
    train: list[LabelledRow]
    test: list[LabelledRow]


def load_split(labelled: Path, taxonomy: Taxonomy) -> LabelledSplit:
    """The labelled folder's rows, cut into training and test rows by its `test_ids.txt`."""
    rows = load_labelled(labelled_files(labelled), taxonomy)
    return LabelledSplit(rows, *partition(rows, read_test_ids(Path(labelled) / TEST_IDS)))
