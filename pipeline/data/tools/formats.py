"""Which tool a file is for or from: writing suggestions for a tool, and detecting and reading a tool's export.

`write_for_tool` sends `behaviours labelled suggest` output to a tool (never
overwriting without `force`, every file written whole or not at all);
`export_format` recognises an export from its content and `read_export` turns it
into labelled rows for `labelled add` (pipeline/data/additions.py), which then checks
them exactly as it checks a labelled CSV.
"""

from __future__ import annotations

import json
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pandas as pd

from pipeline.data.rows import Problem, by_position, cross_file_problems, display_path
from pipeline.data.tools import argilla, label_studio, sheets
from pipeline.data.tools.annotations import ToolRows
from pipeline.data.tools.suggestions import is_suggestions_header, read_suggestions
from pipeline.errors import InputError
from pipeline.io.files import atomic_folder, atomic_path, refuse_overwriting_inputs, refuse_zip_bomb
from pipeline.taxonomy import Taxonomy


class ToolFormat(str, Enum):
    """What `labelled to-tool` writes."""

    argilla = "argilla"  # a folder in `Dataset.to_disk`'s layout
    label_studio = "label-studio"  # tasks (.json) and the labelling config beside them (.xml)
    xlsx = "xlsx"
    csv = "csv"


class ExportFormat(str, Enum):
    """What `labelled add` reads besides labelled CSVs and `behaviours score` output."""

    argilla = "argilla"  # a `to_disk` folder, or its records.json
    label_studio = "label-studio"  # Export → JSON
    sheet = "sheet"  # the xlsx or CSV of `to-tool`, filled in
    suggestions = "suggestions"  # `labelled suggest` output, corrected in place


class SuggestionsRefused(InputError):
    """Nothing was written: the suggestions file has bad rows (listed in `problems`)."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class Sent:
    """What `write_for_tool` wrote."""

    texts: int
    files: list[Path]


def output_files(form: ToolFormat, output: Path) -> list[Path]:
    """The files (or folder) a format writes for `output`, refusing an output of the wrong kind."""
    suffix = {ToolFormat.label_studio: ".json", ToolFormat.xlsx: ".xlsx", ToolFormat.csv: ".csv"}.get(form)
    if form is ToolFormat.argilla:
        if output.suffix:
            raise InputError(f"{output}: Argilla's dataset is a folder; give a folder name without an extension")
        return [output]
    if output.suffix.lower() != suffix:
        raise InputError(f"{output}: {form.value} output must end in {suffix}")
    return [output, output.with_suffix(".xml")] if form is ToolFormat.label_studio else [output]


def write_for_tool(suggestions_file: Path, form: ToolFormat, output: Path, taxonomy: Taxonomy, force: bool) -> Sent:
    """Write the suggestions for a tool; refuse bad rows (`SuggestionsRefused`) and existing files unless `force`."""
    files = output_files(form, output)
    if not output.parent.is_dir():
        raise InputError(f"{output}: folder {output.parent} does not exist")
    refuse_overwriting_inputs(files, [suggestions_file])
    if form is ToolFormat.argilla and output.resolve() in Path(suggestions_file).resolve().parents:
        raise InputError(f"{output}: holds the input file; write the dataset to another folder")
    existing = [path for path in files if path.exists()]
    if existing and not force:
        raise InputError(f"{existing[0]}: already exists; give --force to replace it")
    if form is ToolFormat.argilla and output.is_file():
        raise InputError(f"{output}: is a file; Argilla's dataset is a folder")
    if form is not ToolFormat.argilla and output.is_dir():
        raise InputError(f"{output}: is a folder; give a file name")
    if form is ToolFormat.argilla and output.is_dir() and any(output.iterdir()) and not (output / ".argilla").is_dir():
        raise InputError(f"{output}: a folder that is not an Argilla dataset; not replaced, give another name")
    suggestions, problems = read_suggestions(suggestions_file, taxonomy)
    problems = by_position(problems + cross_file_problems([s.row for s in suggestions]))
    if problems:
        raise SuggestionsRefused(f"{suggestions_file}: {len(problems)} problem(s); nothing written", problems)
    if not suggestions:
        raise InputError(f"{suggestions_file}: no suggestions to send")
    if form is ToolFormat.argilla:
        with atomic_folder(output) as staging:
            argilla.write_dataset(suggestions, staging, taxonomy, output.name)
    elif form is ToolFormat.label_studio:
        tasks = json.dumps([label_studio.task(s) for s in suggestions], indent=1, ensure_ascii=False)
        with ExitStack() as stack:
            tasks_tmp, config_tmp = (stack.enter_context(atomic_path(path)) for path in files)
            tasks_tmp.write_text(tasks, encoding="utf-8")
            config_tmp.write_text(label_studio.labelling_config(taxonomy), encoding="utf-8")
    else:
        with atomic_path(output) as tmp:
            if form is ToolFormat.xlsx:
                sheets.write_xlsx(suggestions, tmp, taxonomy, output)
            else:
                sheets.write_csv(suggestions, tmp, taxonomy)
    return Sent(len(suggestions), files)


def _json_items(path: Path) -> list:
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(items, list):
        raise InputError(f"{path}: expected a JSON list of records or tasks, found a {type(items).__name__}")
    return items


def _header(path: Path) -> list[str]:
    """A CSV's or workbook's column names, read without its rows (empty when unreadable: `labelled add` reports it
    as it always has)."""
    try:
        if path.suffix.lower() == ".csv":
            return list(pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig").columns)
        refuse_zip_bomb(path)
        return [str(c) for c in pd.read_excel(path, nrows=0, engine="openpyxl").columns]
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, zipfile.BadZipFile,
            KeyError, OSError):
        return []


def export_format(path: Path, taxonomy: Taxonomy) -> ExportFormat | None:
    """The tool format of a file to add, from its content; None for a labelled CSV or `behaviours score` output."""
    path = Path(path)
    if path.is_dir():
        if not (path / argilla.RECORDS_FILE).is_file():
            raise InputError(f"{path}: a folder, but not an Argilla dataset (no {argilla.RECORDS_FILE})")
        return ExportFormat.argilla
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".json":
        items = _json_items(path)
        first = items[0] if items else None
        if isinstance(first, dict) and "fields" in first:
            return ExportFormat.argilla
        if isinstance(first, dict) and "data" in first:
            return ExportFormat.label_studio
        raise InputError(f"{path}: neither Argilla records (with fields) nor Label Studio tasks (with data)")
    if suffix in (".csv", ".xlsx"):
        columns = _header(path)
        if is_suggestions_header(columns):
            return ExportFormat.suggestions
        if sheets.is_sheet(columns, taxonomy):
            return ExportFormat.sheet
    return None


def read_export(path: Path, form: ExportFormat, taxonomy: Taxonomy) -> ToolRows:
    """The labelled rows of a tool's export, the problems of its bad rows, and how many texts await labelling."""
    path = Path(path)
    name = display_path(path)
    if form is ExportFormat.argilla:
        records = argilla.records_file(path)
        return argilla.read_records(_json_items(records), display_path(records), taxonomy)
    if form is ExportFormat.label_studio:
        return label_studio.read_tasks(_json_items(path), name, taxonomy)
    if form is ExportFormat.sheet:
        return sheets.read_sheet(path, taxonomy)
    suggestions, problems = read_suggestions(path, taxonomy)
    return ToolRows([s.row for s in suggestions], problems)
