"""Contrast pairs: two texts on one topic, mostly the same words, that differ in one thing a reader labels.

`labelled/pairs/*.csv` hold `pair_id,kind,register,behaviour,polarity_a,other,polarity_z,text_a,text_z`:

- `presence`: text A shows `behaviour` (sign `polarity_a`), text Z shows no behaviour;
- `polarity`: A shows `behaviour` with `polarity_a`, Z the same behaviour with the other sign;
- `confusable`: A shows `behaviour`, Z shows `other` (sign `polarity_z`), a behaviour easily
  confused with it, and neither shows the other's.

Half the pairs (fixed by id) train as hard negatives; the other half are the committed
test that `behaviours evaluate --pairs` scores as the share ranked the right way round.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipeline.data.rows import POLARITIES, REGISTERS, LabelledRow, Problem, display_path
from pipeline.errors import InputError
from pipeline.taxonomy import Taxonomy

PAIR_COLUMNS = ("pair_id", "kind", "register", "behaviour", "polarity_a", "other", "polarity_z", "text_a", "text_z")
KINDS = ("presence", "polarity", "confusable")


@dataclass(frozen=True)
class ContrastPair:
    pair_id: str
    kind: str
    register: str
    behaviour: str
    polarity_a: str
    other: str
    polarity_z: str
    text_a: str
    text_z: str

    def rows(self, file: str) -> tuple[LabelledRow, LabelledRow]:
        """The pair as two labelled rows (ids `<pair_id>-a`, `<pair_id>-z`), for training on it."""
        a = LabelledRow(f"{self.pair_id}-a", self.text_a, (self.behaviour,), (self.polarity_a,), self.register, f"pairs:{self.kind}", file, 0)
        z_labels = {"presence": ((), ()), "polarity": ((self.behaviour,), (self.polarity_z,))}.get(
            self.kind, ((self.other,), (self.polarity_z,))
        )
        z = LabelledRow(f"{self.pair_id}-z", self.text_z, *z_labels, self.register, f"pairs:{self.kind}", file, 0)
        return a, z


def pair_part(pair_id: str) -> str:
    """`train` or `test` for a pair, fixed by its id alone (half each, in expectation)."""
    return "train" if hashlib.sha256(pair_id.encode()).digest()[0] % 2 == 0 else "test"


def _problems(record: dict[str, str], taxonomy: Taxonomy) -> list[str]:
    problems = []
    kind, behaviour, other = record["kind"], record["behaviour"], record["other"]
    if kind not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}, found {kind!r}")
    if behaviour not in taxonomy.ids:
        problems.append(f"unknown behaviour {behaviour!r}")
    if record["polarity_a"] not in POLARITIES:
        problems.append("polarity_a must be '+' or '-'")
    if record["register"] not in REGISTERS:
        problems.append(f"unknown register {record['register']!r}")
    if not record["text_a"] or not record["text_z"] or record["text_a"] == record["text_z"]:
        problems.append("text_a and text_z must both be given and differ")
    if kind == "presence" and (other or record["polarity_z"]):
        problems.append("a presence pair has no other behaviour and no polarity_z")
    if kind == "polarity" and (other or record["polarity_z"] not in POLARITIES or record["polarity_z"] == record["polarity_a"]):
        problems.append("a polarity pair has no other behaviour and the opposite sign in polarity_z")
    if kind == "confusable" and (other not in taxonomy.ids or other == behaviour or record["polarity_z"] not in POLARITIES):
        problems.append("a confusable pair names another behaviour and its sign in polarity_z")
    return problems


def read_pairs(folder: Path, taxonomy: Taxonomy) -> tuple[list[ContrastPair], list[Problem]]:
    """Every pair in `folder/*.csv`, and the problems of the rows that are not valid pairs."""
    pairs, problems, seen = [], [], set()
    for path in sorted(Path(folder).glob("*.csv")):
        name = display_path(path)
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != PAIR_COLUMNS:
                problems.append(Problem(name, 1, f"header must be {','.join(PAIR_COLUMNS)}"))
                continue
            for record in reader:
                record = {key: (value or "").strip() for key, value in record.items()}
                line_problems = _problems(record, taxonomy)
                if record["pair_id"] in seen or not record["pair_id"]:
                    line_problems.append("empty or repeated pair_id")
                seen.add(record["pair_id"])
                if line_problems:
                    problems.extend(Problem(name, reader.line_num, f"{record['pair_id']}: {p}") for p in line_problems)
                    continue
                pairs.append(ContrastPair(**record))
    return pairs, problems


def pair_training_rows(folder: Path, taxonomy: Taxonomy) -> list[LabelledRow]:
    """Both texts of every pair in the training half, as labelled rows; refuses while any pair has problems."""
    pairs, problems = read_pairs(folder, taxonomy)
    if problems:
        raise InputError(f"{len(problems)} problem(s) in {display_path(folder)}, first: {problems[0]}")
    return [row for pair in pairs if pair_part(pair.pair_id) == "train" for row in pair.rows(display_path(folder))]
