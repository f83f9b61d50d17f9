"""Labelled rows: read the CSV files in `labelled/`, validate them, turn them into arrays.

Every `*.csv` file in the labelled folder holds rows with the columns
`id,text,labels,polarity,register,source` (see `labelled/GUIDELINES.md`).
Problems are reported with file and line, all at once, so a labeller can fix a
file in one pass.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import InputError
from pipeline.taxonomy import Taxonomy

COLUMNS = ("id", "text", "labels", "polarity", "register", "source")
REGISTERS = (
    "exit_survey",
    "appraisal_note",
    "coaching_note",
    "feedback_360",
    "staff_survey",
    "brainstorm",
    "framework",
)
POLARITIES = ("+", "-")


@dataclass(frozen=True)
class LabelledRow:
    id: str
    text: str
    labels: tuple[str, ...]
    polarity: tuple[str, ...]
    register: str
    source: str
    file: str
    line: int


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def _split_field(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(";")) if value.strip() else ()


def text_key(text: str) -> str:
    """What counts as 'the same text': case and white space do not matter."""
    return " ".join(text.casefold().split())


def _display_path(path: Path) -> str:
    """The path as a person would type it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_labelled_file(path: Path, taxonomy: Taxonomy) -> tuple[list[LabelledRow], list[Problem]]:
    """Read one labelled CSV, returning its valid rows and the problems of the others."""
    name = _display_path(path)
    rows: list[LabelledRow] = []
    problems: list[Problem] = []
    try:
        handle = open(path, encoding="utf-8", newline="")
    except OSError as exc:
        return [], [Problem(name, 0, f"cannot read: {exc.strerror}")]
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None or tuple(h.strip().lstrip("\ufeff") for h in header) != COLUMNS:
                return [], [Problem(name, 1, f"header must be {','.join(COLUMNS)}, found {header}")]
            line = reader.line_num + 1
            for record in reader:
                start, line = line, reader.line_num + 1
                row, row_problems = _parse_record(record, name, start, taxonomy)
                problems.extend(row_problems)
                if row is not None:
                    rows.append(row)
        except UnicodeDecodeError:
            return [], [Problem(name, 0, "not UTF-8 text")]
        except csv.Error as exc:
            return [], [Problem(name, reader.line_num, f"malformed CSV ({exc})")]
    return rows, problems


def _parse_record(
    record: list[str], file: str, line: int, taxonomy: Taxonomy
) -> tuple[LabelledRow | None, list[Problem]]:
    if not any(field.strip() for field in record):
        return None, []  # a blank line
    if len(record) != len(COLUMNS):
        return None, [Problem(file, line, f"expected {len(COLUMNS)} fields, found {len(record)}")]
    row_id, text, labels, polarity, register, source = (field.strip() for field in record)
    labels_t, polarity_t = _split_field(labels), _split_field(polarity)
    problems = []
    if not row_id:
        problems.append("empty id")
    if not text:
        problems.append("empty text")
    unknown = [label for label in labels_t if label not in taxonomy.ids]
    if unknown:
        problems.append(f"unknown behaviour id(s) {', '.join(unknown)}")
    if len(set(labels_t)) != len(labels_t):
        problems.append("a behaviour is repeated in labels")
    if polarity_t and len(polarity_t) != len(labels_t):
        problems.append(f"{len(labels_t)} label(s) but {len(polarity_t)} polarity value(s)")
    if any(p not in POLARITIES for p in polarity_t):
        problems.append(f"polarity must be '+' or '-', found {polarity!r}")
    if register not in REGISTERS:
        problems.append(f"unknown register {register!r}; expected one of {', '.join(REGISTERS)}")
    if not source:
        problems.append("empty source")
    if problems:
        return None, [Problem(file, line, f"{row_id or '?'}: {p}") for p in problems]
    row = LabelledRow(row_id, text, labels_t, polarity_t, register, source, file, line)
    return row, []


def cross_file_problems(rows: list[LabelledRow]) -> list[Problem]:
    """Duplicate ids, duplicate texts and the same text with conflicting labels."""
    problems = []
    seen_ids: dict[str, LabelledRow] = {}
    seen_texts: dict[str, LabelledRow] = {}
    for row in rows:
        if row.id in seen_ids:
            first = seen_ids[row.id]
            problems.append(Problem(row.file, row.line, f"{row.id}: duplicate id (first at {first.file}:{first.line})"))
        seen_ids.setdefault(row.id, row)
        key = text_key(row.text)
        if key in seen_texts:
            first = seen_texts[key]
            kind = "conflicting labels for" if set(first.labels) != set(row.labels) else "duplicate"
            problems.append(
                Problem(row.file, row.line, f"{row.id}: {kind} text of {first.id} ({first.file}:{first.line})")
            )
        seen_texts.setdefault(key, row)
    return problems


def labelled_files(folder: Path) -> list[Path]:
    """The labelled CSV files in a folder, in name order."""
    files = sorted(Path(folder).glob("*.csv"))
    if not files:
        raise InputError(f"{folder}: no labelled *.csv files found")
    return files


def validate_files(files: list[Path], taxonomy: Taxonomy) -> tuple[list[LabelledRow], list[Problem]]:
    """Read and check files together; problems are sorted by file and line."""
    rows: list[LabelledRow] = []
    problems: list[Problem] = []
    for path in files:
        file_rows, file_problems = read_labelled_file(path, taxonomy)
        rows.extend(file_rows)
        problems.extend(file_problems)
    problems.extend(cross_file_problems(rows))
    return rows, sorted(problems, key=lambda p: (p.file, p.line))


def load_labelled(files: list[Path], taxonomy: Taxonomy) -> list[LabelledRow]:
    """Valid rows of the files, or an `InputError` naming the first problems."""
    rows, problems = validate_files(files, taxonomy)
    if problems:
        shown = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more; run `behaviours labelled validate`)" if len(problems) > 3 else ""
        raise InputError(f"labelled data has {len(problems)} problem(s): {shown}{more}")
    return rows


def label_matrix(rows: list[LabelledRow], taxonomy: Taxonomy) -> np.ndarray:
    """Multi-hot matrix (rows × behaviours, in taxonomy order)."""
    index = {behaviour_id: i for i, behaviour_id in enumerate(taxonomy.ids)}
    matrix = np.zeros((len(rows), len(taxonomy)), dtype=np.int8)
    for r, row in enumerate(rows):
        for label in row.labels:
            matrix[r, index[label]] = 1
    return matrix
