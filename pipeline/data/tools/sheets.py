"""Labelling in Excel or a plain CSV editor: one row per text, a column per behaviour holding `+`, `-`, `?` or blank.

Columns: `id, text, register, source, reason`, then the thirteen behaviour ids, then
`done`. A behaviour cell is `+` (a strength), `-` (a gap), `?` (shown, sign not
given: then no behaviour of the row takes a sign) or blank; they come pre-filled with
the model's labels. A row counts only when its `done` cell says `yes`: a row nobody
has looked at is not added with the model's labels, only counted.

The xlsx has drop-down lists (data validation) on the behaviour and `done` cells and
protects the other columns (no password: it stops slips, not people). Text that
starts like a formula gets a leading apostrophe (as every CSV and xlsx output here);
reading takes exactly that apostrophe off again, so the text comes back as it went.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from pipeline.data.rows import LabelledRow, Problem, display_path
from pipeline.data.tools.annotations import NO_BEHAVIOUR, Annotation, ToolRows, annotated_row
from pipeline.data.tools.suggestions import Suggestion
from pipeline.errors import InputError
from pipeline.io.files import CSV_LINE_END, check_excel_cells, escape_cell, read_table, unescape_cell
from pipeline.taxonomy import Taxonomy

FIXED_COLUMNS = ("id", "text", "register", "source", "reason")
DONE_COLUMN = "done"
DONE = "yes"
UNSIGNED = "?"
CELL_VALUES = ("+", "-", UNSIGNED)


def sheet_columns(taxonomy: Taxonomy) -> list[str]:
    return [*FIXED_COLUMNS, *taxonomy.ids, DONE_COLUMN]


def sheet_rows(suggestions: list[Suggestion], taxonomy: Taxonomy) -> list[list[str]]:
    """One row per suggestion, behaviour cells pre-filled with its signs (`?` where it has none), `done` blank."""
    rows = []
    for suggestion in suggestions:
        row = suggestion.row
        signs = dict(zip(row.labels, row.polarity or (UNSIGNED,) * len(row.labels)))
        fixed = [row.id, row.text, row.register, row.source, suggestion.reason]
        rows.append([escape_cell(v) for v in fixed] + [signs.get(b, "") for b in taxonomy.ids] + [""])
    return rows


def write_csv(suggestions: list[Suggestion], path: Path, taxonomy: Taxonomy) -> None:
    """The sheet as CSV (UTF-8 with a byte-order mark so Excel reads it as UTF-8; CRLF line ends)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator=CSV_LINE_END)
        writer.writerow(sheet_columns(taxonomy))
        writer.writerows(sheet_rows(suggestions, taxonomy))


def write_xlsx(suggestions: list[Suggestion], path: Path, taxonomy: Taxonomy, output: Path) -> None:
    """The sheet as a workbook: drop-down lists, wrapped text, fixed columns grey and protected."""
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns, rows = sheet_columns(taxonomy), sheet_rows(suggestions, taxonomy)
    rows = [[ILLEGAL_CHARACTERS_RE.sub("", v) for v in row] for row in rows]
    check_excel_cells(pd.DataFrame(rows, columns=columns), output, first_row=2)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "to label"
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    last = len(rows) + 1
    fixed_fill, editable = PatternFill("solid", fgColor="DDDDDD"), Protection(locked=False)
    for number, name in enumerate(columns, start=1):
        letter = get_column_letter(number)
        header = sheet.cell(row=1, column=number)
        header.font = Font(bold=True)
        if name in FIXED_COLUMNS:
            header.fill = fixed_fill
            sheet.column_dimensions[letter].width = 60 if name == "text" else 18
        else:
            sheet.column_dimensions[letter].width = 7 if name != DONE_COLUMN else 8
            header.alignment = Alignment(text_rotation=90)
            for (cell,) in sheet[f"{letter}2:{letter}{last}"] if rows else ():
                cell.protection = editable
                cell.alignment = Alignment(horizontal="center")
    for (cell,) in sheet[f"B2:B{last}"] if rows else ():
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    first_behaviour, last_behaviour = get_column_letter(len(FIXED_COLUMNS) + 1), get_column_letter(len(columns) - 1)
    signs = DataValidation(
        type="list", formula1=f'"{",".join(CELL_VALUES)}"', allow_blank=True, showErrorMessage=True,
        showInputMessage=True,
    )
    signs.error = "+ strength, - gap, ? sign not given, or blank"
    signs.prompt = "+ strength, - gap, ? unsure, blank: not shown"
    done = DataValidation(type="list", formula1=f'"{DONE}"', allow_blank=True, showErrorMessage=True)
    done.error = f"'{DONE}' once the row is labelled"
    if rows:
        signs.add(f"{first_behaviour}2:{last_behaviour}{last}")
        done.add(f"{get_column_letter(len(columns))}2:{get_column_letter(len(columns))}{last}")
    sheet.add_data_validation(signs)
    sheet.add_data_validation(done)
    sheet.freeze_panes = "C2"
    sheet.protection.sheet = True
    sheet.protection.formatColumns = sheet.protection.formatRows = False  # widths and heights may change
    sheet.protection.sort = sheet.protection.autoFilter = False
    workbook.save(path)


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


def _shown(value: str) -> str:
    """A cell quoted in a problem when short; a longer one may be a comment pasted in the wrong place: never shown."""
    return repr(value) if len(value) <= 5 else f"{len(value)} characters"


def is_sheet(columns: list[str], taxonomy: Taxonomy) -> bool:
    return {"id", "text", "register", "source", DONE_COLUMN, *taxonomy.ids} <= {c.strip() for c in columns}


def read_sheet(path: Path, taxonomy: Taxonomy) -> ToolRows:
    """Labelled rows from a filled-in sheet (xlsx or CSV); a row's place is its row number as a spreadsheet shows it."""
    frame = read_table(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    if not is_sheet(list(frame.columns), taxonomy):
        missing = [c for c in sheet_columns(taxonomy) if c not in frame.columns and c != "reason"]
        raise InputError(f"{path}: not a labelling sheet; missing column(s) {', '.join(missing)}")
    name = display_path(path)
    rows: list[LabelledRow] = []
    problems: list[Problem] = []
    unlabelled = 0
    for i, record in enumerate(frame.to_dict("records")):
        line = i + 2
        done = _text(record[DONE_COLUMN]).lower()
        if done != DONE:
            if done:
                problems.append(Problem(name, line, f"{DONE_COLUMN} must be '{DONE}' or blank, found {_shown(done)}"))
            else:
                unlabelled += 1
            continue
        cells = {b: _text(record[b]) for b in taxonomy.ids}
        wrong = [f"{b} {_shown(v)}" for b, v in cells.items() if v and v not in CELL_VALUES]
        if wrong:
            problems.append(Problem(name, line, f"{_text(record['id']) or '?'}: not +, - or ?: {', '.join(wrong)}"))
            continue
        chosen = tuple(b for b, v in cells.items() if v)
        signs = {b: v for b, v in cells.items() if v in ("+", "-")}
        fixed = {c: unescape_cell(_text(record[c])) for c in ("id", "text", "register", "source")}
        annotation = Annotation(chosen or (NO_BEHAVIOUR,), signs)
        row, row_problems = annotated_row(
            fixed["id"], fixed["text"], fixed["register"], fixed["source"], [annotation], name, line, taxonomy
        )
        problems += row_problems
        if row is not None:
            rows.append(row)
    return ToolRows(rows, problems, unlabelled)
