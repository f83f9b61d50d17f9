"""The fixed test split: chosen once, committed, never trained on.

Rows are stratified by register and first label so that every register and
behaviour is represented on both sides. The framework's own descriptions always
stay in training: they define the behaviours. Rows added later go to training
unless the split is made again on purpose.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

from pipeline.config import SplitParams
from pipeline.data import LabelledRow
from pipeline.io import atomic_write_text

ALWAYS_TRAIN_REGISTERS = ("framework",)


def make_test_split(rows: list[LabelledRow], params: SplitParams) -> list[str]:
    """Ids of the test rows, in a deterministic order."""
    strata: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        if row.register not in ALWAYS_TRAIN_REGISTERS:
            strata[(row.register, row.labels[0] if row.labels else "none")].append(row.id)
    rng = random.Random(params.seed)
    test = []
    for key in sorted(strata):
        ids = sorted(strata[key])
        rng.shuffle(ids)
        test += ids[: round(len(ids) * params.test_fraction)]
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
