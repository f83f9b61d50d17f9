"""`behaviours labelled suggest` output: the labelled schema plus `reason`, pre-filled with the model's labels.

Written and read here: read both to send the texts to a labelling tool and, corrected
in place, to add them as labelled rows (the `reason` column is then ignored). Each
row goes through the same checks as a labelled CSV row (`parse_record`), with its
line. Text that starts like a formula is written with an apostrophe before it, and
reading takes exactly that apostrophe off again (`escape_cell`), so a text comes back
as it went; `polarity` holds only `+`, `-` and `;` and is written as it is.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from pipeline.data.rows import COLUMNS, LabelledRow, Problem, display_path, parse_record
from pipeline.errors import InputError
from pipeline.io.files import CSV_LINE_END, atomic_path, escape_cell, unescape_cell
from pipeline.taxonomy import Taxonomy

SUGGESTION_COLUMNS = (*COLUMNS, "reason")


@dataclass(frozen=True)
class Suggestion:
    """A text to label, with the model's labels as a labelled row, and why it was picked."""

    row: LabelledRow
    reason: str


def read_suggestions(path: Path, taxonomy: Taxonomy) -> tuple[list[Suggestion], list[Problem]]:
    """The valid suggestions of a file and the problems of the others (file and line, as in a labelled CSV)."""
    name = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    suggestions, problems = [], []
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != SUGGESTION_COLUMNS:
            raise InputError(f"{path}: header must be {','.join(SUGGESTION_COLUMNS)} (`labelled suggest` output)")
        line = reader.line_num + 1
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(SUGGESTION_COLUMNS):
                problems.append(Problem(name, start, f"expected {len(SUGGESTION_COLUMNS)} fields, found {len(record)}"))
                continue
            cells = [cell if column == "polarity" else unescape_cell(cell) for column, cell in zip(SUGGESTION_COLUMNS, record)]
            row, row_problems = parse_record(cells[: len(COLUMNS)], name, start, taxonomy)
            problems += row_problems
            if row is not None:
                suggestions.append(Suggestion(row, cells[-1].strip()))
    except csv.Error as exc:
        raise InputError(f"{name}:{reader.line_num}: malformed CSV ({exc})") from None
    return suggestions, problems


def write_suggestions(suggestions: list[Suggestion], output: Path) -> None:
    """The suggestions as UTF-8 CSV in their order, atomically (CRLF line ends, as every CSV output here)."""
    with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator=CSV_LINE_END)
        writer.writerow(SUGGESTION_COLUMNS)
        for suggestion in suggestions:
            row = suggestion.row
            writer.writerow(
                [escape_cell(row.id), escape_cell(row.text), ";".join(row.labels), ";".join(row.polarity),
                 escape_cell(row.register), escape_cell(row.source), escape_cell(suggestion.reason)]
            )


def is_suggestions_header(columns: list[str]) -> bool:
    return tuple(c.strip().lstrip("\ufeff") for c in columns) == SUGGESTION_COLUMNS
