"""Newly labelled rows into `labelled/`: read them, skip duplicates, settle conflicts, and the files' new content.

The new rows come as a labelled CSV (the schema of `labelled/`), as the output of
`behaviours score` whose `behaviours` column a person has corrected (it gets its
register and source from the caller and ids under a prefix), or as a labelling
tool's export (`pipeline/data/tools/`: Argilla, Label Studio, the filled-in sheet,
corrected `labelled suggest` output), which go through the same checks.

A new row whose text (as `text_key` compares texts) is already labelled the same
way is skipped as a duplicate; labelled differently, it is a conflict that the
caller settles (`Prefer`) or refuses. The same text twice in the new rows is
skipped when the labels agree and always refused when they do not. The new
content of every changed file is computed here as text, so that the whole corpus
can be validated as it would be before anything is written.
"""

from __future__ import annotations

import csv
import io
import re
from contextlib import ExitStack
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

import pandas as pd

from pipeline.data.rows import (
    COLUMNS,
    REGISTERS,
    LabelledRow,
    Problem,
    by_position,
    cross_file_problems,
    display_path,
    labelled_csv_text,
    labelled_files,
    load_labelled,
    parse_labelled_text,
    parse_record,
    read_labelled_file,
    text_key,
)
from pipeline.data.tools.formats import ExportFormat, export_format, read_export
from pipeline.errors import InputError
from pipeline.io.files import atomic_path, read_table
from pipeline.taxonomy import Taxonomy
from pipeline.text import is_blank

SCORE_OUTPUT_COLUMNS = ("behaviours", "evidence", "status")  # as `behaviours score` writes them


class Prefer(str, Enum):
    """Which labels win when a new row's text is already labelled differently."""

    new = "new"  # the existing row takes the new labels and polarity, and keeps its id, file and line
    existing = "existing"  # the new row is skipped


@dataclass(frozen=True)
class Match:
    """A new row and the row already holding its text."""

    new: LabelledRow
    existing: LabelledRow


@dataclass(frozen=True)
class Plan:
    """What adding would do: rows to append, and the new rows that match a text already there."""

    added: list[LabelledRow]
    duplicates: list[Match]  # same text, same labels (an existing row or an earlier new one): skipped
    conflicts: list[Match]  # same text as an existing row, other labels: settled by `Prefer` or refused
    clashes: list[Match]  # same text as an earlier new row, other labels: always refused


def same_labels(a: LabelledRow, b: LabelledRow) -> bool:
    """The same behaviours, with the same polarity for each where both rows give one."""
    if set(a.labels) != set(b.labels):
        return False
    return not (a.polarity and b.polarity) or dict(zip(a.labels, a.polarity)) == dict(zip(b.labels, b.polarity))


def plan_addition(existing: list[LabelledRow], new: list[LabelledRow]) -> Plan:
    """Sort each new row into added, duplicate, conflict (with an existing row) or clash (within the new rows)."""
    existing_by_text: dict[str, LabelledRow] = {}
    for row in existing:
        existing_by_text.setdefault(text_key(row.text), row)
    new_by_text: dict[str, LabelledRow] = {}
    added, duplicates, conflicts, clashes = [], [], [], []
    for row in new:
        key = text_key(row.text)
        earlier = new_by_text.setdefault(key, row)
        if earlier is not row:
            (duplicates if same_labels(row, earlier) else clashes).append(Match(row, earlier))
            continue
        match = existing_by_text.get(key)
        if match is None:
            added.append(row)
        else:
            (duplicates if same_labels(row, match) else conflicts).append(Match(row, match))
    return Plan(added, duplicates, conflicts, clashes)


def relabelled(conflicts: list[Match], prefer: Prefer) -> list[LabelledRow]:
    """The existing rows as they become when conflicts are settled: new labels, same id, file and line."""
    if prefer is Prefer.existing:
        return []
    return [replace(m.existing, labels=m.new.labels, polarity=m.new.polarity) for m in conflicts]


def _line_ending(text: str) -> str:
    return "\n" if "\n" in text and "\r\n" not in text else "\r\n"  # new files end lines as csv does


def with_rows_appended(text: str, rows: list[LabelledRow]) -> str:
    """The content of a labelled CSV (empty: a new file, which gets the header) with rows added at the end."""
    ending = _line_ending(text)
    if text and not text.endswith(("\n", "\r")):
        text += ending
    return text + labelled_csv_text(rows, header=not text, lineterminator=ending)


def with_labels_replaced(text: str, rows: list[LabelledRow]) -> str:
    """The content of a labelled CSV with the labels and polarity of these rows (by id) replaced; all else as it was."""
    by_id = {r.id: r for r in rows}
    ending = _line_ending(text)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=ending)
    for number, record in enumerate(csv.reader(io.StringIO(text, newline=""))):
        row = by_id.get(record[0].strip()) if number and len(record) == len(COLUMNS) else None
        if row is not None:
            record = [*record[:2], ";".join(row.labels), ";".join(row.polarity), *record[4:]]
        writer.writerow(record)
    return buffer.getvalue()


def corpus_problems(contents: dict[str, str], taxonomy: Taxonomy) -> list[Problem]:
    """Every problem of a corpus given as file name → CSV content (in corpus order), as `validate` finds them."""
    rows: list[LabelledRow] = []
    problems: list[Problem] = []
    for name, text in contents.items():
        file_rows, file_problems = parse_labelled_text(text, name, taxonomy)
        rows += file_rows
        problems += file_problems
    return by_position(problems + cross_file_problems(rows))


def id_prefix(path: Path) -> str:
    """`add-<file stem>`, lower case, letters and digits only, for ids of rows from a file without ids."""
    return "add-" + (re.sub(r"[^a-z0-9]+", "-", Path(path).stem.lower()).strip("-") or "rows")


def fresh_ids(prefix: str, count: int, used: set[str]) -> list[str]:
    """`count` ids `<prefix>-0001`, `<prefix>-0002`, … skipping any already used."""
    ids: list[str] = []
    number = 0
    while len(ids) < count:
        number += 1
        candidate = f"{prefix}-{number:04d}"
        if candidate not in used:
            ids.append(candidate)
    return ids


def _cell(value: object) -> str:
    return "" if is_blank(value) else str(value).strip()


def _answered(frame: pd.DataFrame) -> list[int]:
    """Positions of the rows of `behaviours score` output that were not scored `empty`."""
    return [i for i, status in enumerate(frame["status"]) if _cell(status) != "empty"]


def _polarity_from_columns(behaviours: str, strengths: str, gaps: str) -> str:
    """`+`/`-` per behaviour from the scorer's `strengths` and `gaps` cells; blank where it is in neither."""
    plus, minus = set(strengths.split(";")), set(gaps.split(";"))
    signs = ["+" if b in plus else "-" if b in minus else "" for b in behaviours.split(";") if b]
    return ";".join(signs)


def rows_from_scored(
    frame: pd.DataFrame,
    name: str,
    text_column: str,
    register: str,
    source: str,
    ids: list[str],
    taxonomy: Taxonomy,
) -> tuple[list[LabelledRow], list[Problem]]:
    """Labelled rows from `behaviours score` output: text from `text_column`, labels from `behaviours`.

    Polarity comes from a `polarity` column when there is one, else from the
    `strengths` and `gaps` columns the scorer writes (a behaviour a reviewer adds
    must go in one of them too). Rows scored `empty` are left out; the others take
    `ids` in order. A row's line is its number as a spreadsheet shows it (the first
    data row is 2).
    """
    rows: list[LabelledRow] = []
    problems: list[Problem] = []
    columns = set(frame.columns)
    for row_id, i in zip(ids, _answered(frame)):
        behaviours = _cell(frame["behaviours"].iloc[i])
        if "polarity" in columns:
            polarity = _cell(frame["polarity"].iloc[i])
        elif {"strengths", "gaps"} <= columns:
            polarity = _polarity_from_columns(
                behaviours, _cell(frame["strengths"].iloc[i]), _cell(frame["gaps"].iloc[i])
            )
        else:
            polarity = ""
        record = [row_id, _cell(frame[text_column].iloc[i]), behaviours, polarity, register, source]
        row, row_problems = parse_record(record, name, i + 2, taxonomy)
        problems += row_problems
        if row is not None:
            rows.append(row)
    return rows, problems


def _refuse_score_options(path: Path, kind: str, text_column: str | None, register: str | None, source: str | None):
    options = {"--text-column": text_column, "--register": register, "--source": source}
    given = [option for option, value in options.items() if value]
    if given:
        raise InputError(f"{path}: {', '.join(given)} only for `behaviours score` output, not {kind}")


def read_new_rows(
    path: Path,
    taxonomy: Taxonomy,
    used_ids: set[str],
    text_column: str | None = None,
    register: str | None = None,
    source: str | None = None,
    tool: ExportFormat | None = None,
) -> tuple[list[LabelledRow], list[Problem], int, int]:
    """The rows of a file to add, the problems of the others, how many scored rows were empty, and how many
    texts of a tool's export nobody has labelled yet (`tool`: its format, else detected)."""
    tool = tool or export_format(path, taxonomy)
    if tool is not None:
        _refuse_score_options(path, f"a {tool.value} export", text_column, register, source)
        exported = read_export(path, tool, taxonomy)
        return exported.rows, exported.problems, 0, exported.unlabelled
    frame = read_table(path)
    columns = [str(c) for c in frame.columns]
    if set(SCORE_OUTPUT_COLUMNS) <= set(columns):
        if text_column is None or text_column not in columns:
            given = "give --text-column" if text_column is None else f"no column {text_column!r}"
            raise InputError(f"{path}: {given} (the column holding the text); columns are: {', '.join(columns)}")
        if register not in REGISTERS:
            given = "give --register" if register is None else f"unknown register {register!r}"
            raise InputError(f"{path}: {given} for rows from `behaviours score`; one of {', '.join(REGISTERS)}")
        answered = len(_answered(frame))
        ids = fresh_ids(id_prefix(path), answered, used_ids)
        rows, problems = rows_from_scored(
            frame, display_path(path), text_column, register, source or f"added:{Path(path).stem}", ids, taxonomy
        )
        return rows, problems, len(frame) - answered, 0
    if set(COLUMNS) <= set(columns) and Path(path).suffix.lower() == ".csv":
        _refuse_score_options(path, "labelled rows", text_column, register, source)
        rows, problems = read_labelled_file(path, taxonomy)
        return rows, problems, 0, 0
    raise InputError(
        f"{path}: neither labelled rows (a CSV with columns {','.join(COLUMNS)}) nor `behaviours score` output "
        f"(columns {', '.join(SCORE_OUTPUT_COLUMNS)}); columns are: {', '.join(columns)}"
    )


def write_files(contents: dict[Path, str]) -> None:
    """Write every file to a temporary file first, then rename them all into place: none is left half-written."""
    with ExitStack() as stack:
        temporary = {path: stack.enter_context(atomic_path(path)) for path in contents}
        for path, text in contents.items():
            temporary[path].write_text(text, encoding="utf-8", newline="")


def current_text(path: Path) -> str:
    """A labelled CSV's content as stored (line endings kept); empty for a file not yet created."""
    if not Path(path).exists():
        return ""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


class AdditionRefused(InputError):
    """`add_labelled` wrote nothing: the message, and the problems or matches that explain it."""

    def __init__(self, message: str, problems: list[Problem] = (), matches: list[Match] = (), how: str = "") -> None:
        super().__init__(message)
        self.problems, self.matches, self.how = list(problems), list(matches), how


@dataclass(frozen=True)
class Addition:
    """What `add_labelled` did."""

    plan: Plan
    prefer: Prefer | None
    changed: list[LabelledRow]  # existing rows given the new labels (`--prefer new`)
    empty: int  # answers skipped as empty
    target: Path
    unlabelled: int = 0  # texts of a tool's export nobody has labelled yet (skipped)


def add_labelled(
    new_file: Path,
    labelled: Path,
    taxonomy: Taxonomy,
    target: Path,
    prefer: Prefer | None = None,
    text_column: str | None = None,
    register: str | None = None,
    source: str | None = None,
    tool: ExportFormat | None = None,
) -> Addition:
    """Check new rows against the labelled folder and write them (and any relabelling), or raise `AdditionRefused`.

    Nothing is written unless every new row is valid, no text is repeated with other
    labels, conflicts are settled by `prefer`, and the whole folder would still validate.
    """
    files = [path.resolve() for path in labelled_files(labelled)]
    target = target.resolve()
    if target.suffix.lower() != ".csv" or target.parent != Path(labelled).resolve():
        raise InputError(f"{target}: --to must name a .csv file in {labelled}")
    existing = load_labelled(files, taxonomy)
    used = {r.id for r in existing}
    new_rows, problems, empty, unlabelled = read_new_rows(new_file, taxonomy, used, text_column, register, source, tool)
    if problems:
        raise AdditionRefused(f"{new_file}: {len(problems)} problem(s) in the new rows; nothing written", problems)
    plan = plan_addition(existing, new_rows)
    if plan.clashes:
        message = f"{new_file}: {len(plan.clashes)} text(s) repeated with different labels; nothing written"
        raise AdditionRefused(message, matches=plan.clashes, how="labelled differently in the same file as")
    if plan.conflicts and prefer is None:
        message = (
            f"{len(plan.conflicts)} text(s) already labelled differently; nothing written "
            "(say which labels win with --prefer new or --prefer existing)"
        )
        raise AdditionRefused(message, matches=plan.conflicts, how="labelled differently from")
    changed = relabelled(plan.conflicts, prefer) if prefer else []
    by_name = {display_path(path): path for path in files}
    contents = {
        by_name[name]: with_labels_replaced(current_text(by_name[name]), [r for r in changed if r.file == name])
        for name in dict.fromkeys(r.file for r in changed)
    }
    if plan.added:
        contents[target] = with_rows_appended(contents.get(target, current_text(target)), plan.added)
    after = {display_path(p): contents[p] if p in contents else current_text(p) for p in sorted({*files, *contents})}
    problems = corpus_problems(after, taxonomy)
    if problems:
        raise AdditionRefused(f"the labelled data would have {len(problems)} problem(s) after adding; nothing written", problems)
    write_files(contents)
    return Addition(plan, prefer, changed, empty, target, unlabelled)
