"""Labelled rows: read the CSV files in `labelled/`, validate them, turn them into arrays.

Every `*.csv` file in the labelled folder holds rows with the columns
`id,text,labels,polarity,register,source` (see `labelled/GUIDELINES.md`).
Problems are reported with file and line, all at once, so a labeller can fix a
file in one pass.
"""

from __future__ import annotations

import csv
import io
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
    "organisational",  # board papers, inspection findings, strategies (labelled/GUIDELINES.md)
    "brainstorm",
    "framework",
)
USER_REGISTERS = ("exit_survey", "appraisal_note", "coaching_note", "feedback_360", "staff_survey")  # what people score
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
    # Pool texts with readers' sentence votes: each sentence with the behaviours at least half its readers
    # marked there, and their sign (None where the readers' signs tie): PoolText.sentence_signs.
    sentences: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] | None = None
    # Pool texts: the share of votes carrying each behaviour any vote carries (PoolText.share), the soft labels.
    shares: tuple[tuple[str, float], ...] | None = None


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


def display_path(path: Path) -> str:
    """The path as a person would type it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_labelled_file(path: Path, taxonomy: Taxonomy) -> tuple[list[LabelledRow], list[Problem]]:
    """Read one labelled CSV, returning its valid rows and the problems of the others."""
    name = display_path(path)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except OSError as exc:
        return [], [Problem(name, 0, f"cannot read: {exc.strerror}")]
    except UnicodeDecodeError:
        return [], [Problem(name, 0, "not UTF-8 text")]
    return parse_labelled_text(text, name, taxonomy)


def parse_labelled_text(text: str, name: str, taxonomy: Taxonomy) -> tuple[list[LabelledRow], list[Problem]]:
    """Parse the content of a labelled CSV (called `name` in problems): valid rows and the others' problems."""
    rows: list[LabelledRow] = []
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip().lstrip("\ufeff") for h in header) != COLUMNS:
            return [], [Problem(name, 1, f"header must be {','.join(COLUMNS)}, found {header}")]
        line = reader.line_num + 1
        for record in reader:
            start, line = line, reader.line_num + 1
            row, row_problems = parse_record(record, name, start, taxonomy)
            problems.extend(row_problems)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        return [], [Problem(name, reader.line_num, f"malformed CSV ({exc})")]
    return rows, problems


def parse_record(
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


def labelled_csv_text(rows: list[LabelledRow], header: bool, lineterminator: str = "\r\n") -> str:
    """Rows as labelled CSV text (optionally with the header), quoted as the committed files are."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=lineterminator)
    if header:
        writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.id, r.text, ";".join(r.labels), ";".join(r.polarity), r.register, r.source])
    return buffer.getvalue()


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


def near_duplicate_pairs(vectors: np.ndarray, threshold: float, block: int = 1024) -> list[tuple[int, int, float]]:
    """Pairs (i, j, cosine) with i < j whose vectors have cosine >= threshold, ordered by j then i.

    Vectors need not be unit length; a zero vector is similar to nothing. The
    similarity matrix is computed `block` rows at a time to bound memory.
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = matrix / np.where(norms == 0, 1.0, norms)
    pairs = []
    for start in range(0, len(unit), block):
        cosines = unit[start : start + block] @ unit.T
        for r, j in zip(*np.nonzero(cosines >= threshold)):
            if start + r < j:
                pairs.append((int(start + r), int(j), float(cosines[r, j])))
    return sorted(pairs, key=lambda pair: (pair[1], pair[0]))


def near_duplicate_problems(rows: list[LabelledRow], vectors: np.ndarray, threshold: float) -> list[Problem]:
    """One problem per pair of rows whose text vectors reach `threshold`, reported on the later row.

    Pairs that are the same text (already reported as duplicates) are left out.
    """
    problems = []
    for i, j, cosine in near_duplicate_pairs(vectors, threshold):
        first, later = rows[i], rows[j]
        if text_key(first.text) == text_key(later.text):
            continue
        kind = "conflicting labels for near duplicate" if set(first.labels) != set(later.labels) else "near duplicate"
        where = f"{first.file}:{first.line}, cosine {cosine:.2f}"
        problems.append(Problem(later.file, later.line, f"{later.id}: {kind} of {first.id} ({where})"))
    return problems


def by_position(problems: list[Problem]) -> list[Problem]:
    """Problems sorted by file and line (stable, so a line's problems keep their order)."""
    return sorted(problems, key=lambda p: (p.file, p.line))


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
    return rows, by_position(problems)


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


def soft_label_matrix(rows: list[LabelledRow], taxonomy: Taxonomy) -> np.ndarray:
    """Rows × behaviours (taxonomy order): a pool text's vote shares, any other row's labels as 0 or 1."""
    index = {behaviour_id: i for i, behaviour_id in enumerate(taxonomy.ids)}
    matrix = label_matrix(rows, taxonomy).astype(np.float32)
    for r, row in enumerate(rows):
        if row.shares is not None:
            matrix[r] = 0.0
            for behaviour, share in row.shares:
                matrix[r, index[behaviour]] = share
    return matrix
