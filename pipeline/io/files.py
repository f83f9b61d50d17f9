"""Tables in and out by file extension, and writes that never leave half a file.

Inputs are read as text (CSV cells stay exactly as exported: "n/a" is the answer
"n/a", not a missing value). Every output goes to a temporary file in the target
folder and is renamed into place only when complete, with the permissions the
user's umask gives a new file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.errors import InputError, WriteError

FORMATS = (".csv", ".xlsx", ".jsonl", ".parquet")
EXCEL_MAX_ROWS = 1_048_575  # rows of one sheet below its header
MAX_XLSX_EXPANDED_BYTES = 4 << 30  # all parts of a workbook, uncompressed
MAX_XLSX_RATIO = 200  # a part of over 16 MB expanding more than this is a zip bomb, not a survey export
_XLSX_RATIO_FROM_BYTES = 16 << 20
EXCEL_MAX_CELL_CHARS = 32_767  # characters one Excel cell holds (openpyxl would cut the rest silently)
CSV_LINE_END = "\r\n"  # RFC 4180 and Excel's own; it also makes the csv writer quote a cell holding a bare CR


def table_format(path: Path) -> str:
    """The format of a table file, from its extension (an `InputError` if unknown)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{path}: unknown file type {suffix or '(none)'!r}; use one of {', '.join(FORMATS)}")
    return suffix


def read_table(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV, Excel, JSON Lines or Parquet file into a DataFrame."""
    path = Path(path)
    kind = table_format(path)
    if not path.is_file():
        raise InputError(f"{path}: " + ("is a folder" if path.is_dir() else "file not found"))
    try:
        if kind == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=_csv_encoding(encoding))
        if kind == ".xlsx":
            refuse_zip_bomb(path)
            return pd.read_excel(path, engine="openpyxl", keep_default_na=False)
        if kind == ".jsonl":
            return pd.read_json(path, lines=True, dtype=False, encoding=encoding)
        return pd.read_parquet(path)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not {encoding} text; re-save it as UTF-8 or pass --encoding (e.g. cp1252)") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, ValueError, zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise InputError(f"{path}: cannot read as {kind[1:]} ({reason})") from None


def refuse_zip_bomb(path: Path) -> None:
    """An `InputError` for a workbook that would expand too far, judged from its zip directory alone.

    Reading a part never yields more than the size the directory declares for it, so
    checking the declared sizes bounds what reading can expand.
    """
    with zipfile.ZipFile(path) as archive:
        parts = archive.infolist()
    expanded = sum(part.file_size for part in parts)
    if expanded > MAX_XLSX_EXPANDED_BYTES:
        raise InputError(f"{path}: expands to {expanded / (1 << 30):,.1f} GB, more than the "
                         f"{MAX_XLSX_EXPANDED_BYTES >> 30} GB read; export it as CSV")
    for part in parts:
        if part.file_size > _XLSX_RATIO_FROM_BYTES and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1):
            raise InputError(f"{path}: part {part.filename!r} expands {part.file_size // max(part.compress_size, 1):,} "
                             "times (a zip bomb?); not read")


def _csv_encoding(encoding: str) -> str:
    # Excel writes a byte-order mark in front of UTF-8 CSVs; read past it.
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _umask() -> int:
    mask = os.umask(0o077)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path next to `path`; rename it onto `path` only if the block succeeds.

    The file gets the mode a plain new file would (0o666 less the umask), not the
    0o600 of a temporary file. A write the system refuses (no space, no permission)
    is a `WriteError` and leaves nothing behind.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    try:
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write in {path.parent} ({exc.strerror})") from None
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write it ({exc.strerror or exc.__class__.__name__})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_folder(folder: Path):
    """Yield an empty sibling folder to fill; it replaces `folder` only if the block succeeds."""
    folder = Path(folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())
        if folder.exists():
            retired = folder.with_name(f".{folder.name}-old")
            shutil.rmtree(retired, ignore_errors=True)
            folder.rename(retired)
            staging.rename(folder)
            shutil.rmtree(retired)
        else:
            staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# Text a spreadsheet would read as a formula (OWASP, "CSV injection"), full-width forms included.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_formula(value: object) -> object:
    """Text that starts like a formula, made inert with a leading apostrophe; anything else unchanged.

    A cell that is only one such character ("-", the commonest filler answer) computes
    nothing and is left as it is.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and len(value.strip()) > 1:
        return "'" + value
    return value


def escape_cell(value: str) -> str:
    """`neutralise_formula` made reversible, for files the project reads back (suggestions, labelling sheets): an
    apostrophe also goes before text that starts with one, so `unescape_cell` knows which apostrophes it added."""
    return "'" + value if value.startswith((*FORMULA_STARTS, "'")) and len(value.strip()) > 1 else value


def unescape_cell(value: str) -> str:
    """The text `escape_cell` was given."""
    rest = value[1:]
    return rest if value.startswith("'") and rest.startswith((*FORMULA_STARTS, "'")) and len(rest.strip()) > 1 else value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell and column name that starts like a formula neutralised (numbers left alone)."""
    cells = frame.copy()
    for name, column in frame.items():
        if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            cells[name] = column.map(neutralise_formula)
    return cells.rename(columns=neutralise_formula)


def check_excel_cells(frame: pd.DataFrame, path: Path, first_row: int = 1) -> None:
    """Refuse a frame with a text cell longer than one Excel cell holds (`first_row`: the frame's first row in the
    output), naming the row and column, never the text."""
    for name, column in frame.items():
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        lengths = column.map(lambda v: len(v) if isinstance(v, str) else 0)
        if len(lengths) and lengths.max() > EXCEL_MAX_CELL_CHARS:
            row = first_row + int(lengths.to_numpy().argmax())
            raise InputError(
                f"{path}: row {row:,}, column {str(name)[:60]!r} holds {lengths.max():,} characters, more than an "
                f"Excel cell's {EXCEL_MAX_CELL_CHARS:,}; write .csv or .parquet instead (nothing is cut)"
            )


def _excel_sheet(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    cells = neutralised(frame)
    check_excel_cells(cells, path)
    return cells


def _csv_line_end(frame: pd.DataFrame) -> str:
    """CRLF when a text cell holds a CR (so the cell is quoted and read back whole), else a plain newline."""
    for _, column in frame.items():
        if column.map(lambda v: isinstance(v, str) and "\r" in v).any():
            return CSV_LINE_END
    return "\n"


_WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    ".csv": lambda df, p: neutralised(df).to_csv(p, index=False, encoding="utf-8", lineterminator=_csv_line_end(df)),
    ".xlsx": lambda df, p: _excel_sheet(df, p).to_excel(p, index=False, engine="openpyxl"),
    ".jsonl": lambda df, p: df.to_json(p, orient="records", lines=True, force_ascii=False),
    ".parquet": lambda df, p: df.to_parquet(p, index=False),
}


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame in the format its extension names, atomically (formulas neutralised in CSV and xlsx)."""
    kind = table_format(path)
    with atomic_path(path) as tmp:
        _WRITERS[kind](frame, tmp)


def write_chunks(tables: Iterable[pa.Table], schema: pa.Schema, path: Path, allow_formulas: bool = False) -> None:
    """Write tables of one schema one after another into one file (format by extension), atomically.

    Only one table is in memory at a time: CSV and JSON Lines are appended,
    Parquet goes through a `ParquetWriter`, xlsx through openpyxl's write-only
    workbook (which spools rows to disk). Characters a workbook cannot hold
    (control characters other than tab and line breaks) are dropped from xlsx cells;
    a cell longer than Excel's 32,767 characters is an `InputError` and no xlsx is
    written (never a cut cell). CSV lines end in CRLF, so a cell holding a bare CR
    is quoted and reads back whole.

    People open CSV and xlsx output in Excel, and free text can be crafted to run there
    (`=HYPERLINK(...)` in a survey answer). So in those two formats every text cell that
    starts like a formula gets a leading apostrophe unless `allow_formulas`, and xlsx
    cells are always written as text, never as formulas.
    """
    kind = table_format(path)
    with atomic_path(path) as tmp:
        if kind == ".parquet":
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp, schema) as writer:
                for table in tables:
                    writer.write_table(table)
        elif kind == ".xlsx":
            _write_xlsx_rows(tables, schema, tmp, allow_formulas, path)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                first = True
                for table in tables:
                    frame = table.to_pandas()
                    if kind == ".csv":
                        cells = frame if allow_formulas else neutralised(frame)
                        cells.to_csv(handle, header=first, index=False, lineterminator=CSV_LINE_END)
                    else:
                        lines = frame.to_json(orient="records", lines=True, force_ascii=False)
                        handle.write(lines if lines.endswith("\n") or not lines else lines + "\n")
                    first = False


def _write_xlsx_rows(
    tables: Iterable[pa.Table], schema: pa.Schema, path: Path, allow_formulas: bool, output: Path
) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()

    def cell(value: object, row: int, column: str) -> object:
        if not isinstance(value, str):
            return value
        value = ILLEGAL_CHARACTERS_RE.sub("", value if allow_formulas else neutralise_formula(value))
        if len(value) > EXCEL_MAX_CELL_CHARS:
            check_excel_cells(pd.DataFrame({column: [value]}), output, row)
        if not value.startswith("="):
            return value
        text = WriteOnlyCell(sheet, value=value)  # openpyxl would store it as a formula
        text.data_type = "s"
        return text

    sheet.append([cell(name, 0, name) for name in schema.names])
    number = 0
    try:
        for table in tables:
            columns = [column.to_pylist() for column in table.columns]
            for row in zip(*columns):
                number += 1
                sheet.append([cell(v, number, name) for v, name in zip(row, schema.names)])
    except BaseException:
        sheet.close()  # end the half-written sheet in order (its writer is a generator that would complain later)
        raise
    workbook.save(path)


def check_output(path: Path, *inputs: Path) -> None:
    """Refuse, before any work, an output file of unknown type, in a folder that does not exist, or that is
    one of the `inputs` (writing it would destroy the input: for `redact`, the only un-redacted copy)."""
    table_format(path)
    check_folder(path)
    refuse_overwriting_inputs([path], inputs)


def check_folder(path: Path) -> None:
    """Refuse an output whose folder does not exist or cannot be written in, or that names a folder itself.

    Writing is tried (a temporary file, removed at once) rather than judged from the
    permission bits, which say nothing for root, read-only mounts or immutable folders.
    """
    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name")
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot write in {path.parent} ({exc.strerror or exc.__class__.__name__})") from None


def refuse_overwriting_inputs(outputs: Iterable[Path], inputs: Iterable[Path]) -> None:
    """Refuse any output that is an input: the same path, or another name (a link) for the same file."""
    inputs = list(inputs)
    for output in outputs:
        for source in inputs:
            same = output.resolve() == source.resolve() or (
                output.exists() and source.exists() and os.path.samefile(output, source)
            )
            if same:
                raise InputError(f"{output}: that is the input file; write the output to another file")


def check_fits(path: Path, rows: int | None, source: Path) -> None:
    """Refuse an Excel output that one sheet cannot hold (`rows` of `source`; None: not known yet)."""
    if path.suffix.lower() == ".xlsx" and (rows or 0) > EXCEL_MAX_ROWS:
        raise InputError(f"{source}: {rows:,} rows do not fit in one Excel sheet; write .csv or .parquet")
