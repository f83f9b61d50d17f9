"""Real survey exports in, a chunk of rows at a time: CSV, Excel workbooks, JSON Lines, Parquet.

HR systems export what they export: CSVs delimited by commas, semicolons, tabs or
pipes, in UTF-8 (with or without a byte-order mark), cp1252 or Latin-1; workbooks
with several sheets, a title or blank rows above the header and merged header
cells. `open_export` looks at the file once (encoding, delimiter, header row,
columns, number of rows for progress) and `Export.chunks` then reads it in pieces
of a fixed number of rows, so memory does not grow with the file (an xlsx file's
shared-strings table is the one exception: the format keeps every distinct text
in one table that openpyxl loads whole).

Every cell comes back as text, as exported ("n/a" is an answer, "007" keeps its
zeros): numbers, dates and booleans from Excel, JSON or Parquet are written as
text, and a missing value is None (an empty CSV field is "").

Limits, each refused with one line before any scoring: a CSV cell of more than
`MAX_CELL_CHARS` characters (the longest answer read); an xlsx file that would
expand too far (`io.files.refuse_zip_bomb`); a file that is not text (binary, or UTF-16 without a byte-order
mark that does not decode as such) given as CSV or JSON Lines.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import InputError
from pipeline.io.files import refuse_zip_bomb, table_format

DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 64 * 1024  # enough for the header and a few dozen answers
SNIFF_ROWS = 30  # rows looked at to find the header row
_BLOCK = 1 << 20
_CELL_REF = re.compile(r"([A-Z]+)")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
MAX_CELL_CHARS = 5_000_000  # the longest answer (CSV cell) read: ~800,000 words
_COLUMNS_SHOWN = 20  # column names listed in a message
# Errors a malformed workbook raises from zipfile, zlib, the XML parser or openpyxl.
_XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, ET.ParseError, EOFError, KeyError, IndexError, TypeError)
# Bytes no text file holds (C0 controls other than tab, line breaks, form feed; and DEL).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c") + b"\x7f"
_BINARY_SHARE = 0.05  # more control bytes than this in the first block: not text (random bytes have 11%)
_BINARY_MIN_CONTROLS = 32  # ... and at least this many, so a short file with one odd byte is still read
_MAGIC = (
    (b"PK\x03\x04", "a zip file (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls or Word file"),
    (b"%PDF", "a PDF"),
    (b"\x1f\x8b", "a gzip file"),
    (b"PAR1", "a Parquet file"),
    (b"\x89PNG", "a PNG image"),
)


@dataclass(frozen=True)
class Export:
    """One table in a file, as found by `open_export`; `chunks` reads its rows."""

    path: Path
    kind: str  # ".csv", ".xlsx", ".jsonl" or ".parquet"
    columns: tuple[str, ...]
    rows: int | None  # data rows, for progress (None when unknown)
    encoding: str | None = None  # csv: as detected or given
    delimiter: str | None = None  # csv
    header_index: int = 0  # csv: non-blank records above the header; xlsx: 1-based row of the header
    sheet: str | None = None  # xlsx: the sheet read
    sheets: tuple[str, ...] = ()  # xlsx: every sheet in the workbook
    notes: tuple[str, ...] = ()  # what a person should know about how the file was read

    def require(self, columns: list[str], option: str) -> None:
        """An `InputError` naming the first of `columns` that is not in the table, and the columns there are."""
        for column in columns:
            if column not in self.columns:
                given = "" if option == "--text-column" else f" ({option})"
                where = ""
                if self.kind == ".xlsx":
                    where = f" (sheet {self.sheet!r}; sheets: {', '.join(self.sheets)}; choose one with --sheet)"
                raise InputError(
                    f"{self.path}: no column {column!r}{given}; columns are: {shown_columns(self.columns)}{where}"
                )

    def chunks(self, size: int) -> Iterator[pd.DataFrame]:
        """The rows in order, `size` at a time, as DataFrames of text (object dtype) with `columns`."""
        readers = {".csv": self._csv_chunks, ".xlsx": self._xlsx_chunks, ".jsonl": self._jsonl_chunks}
        try:
            yield from readers.get(self.kind, self._parquet_chunks)(size)
        except UnicodeDecodeError:
            raise InputError(f"{self.path}: not {self.encoding} text; pass the right --encoding (e.g. cp1252)") from None
        except (pd.errors.ParserError, ValueError, OSError, RecursionError, *_XLSX_ERRORS) as exc:
            raise InputError(f"{self.path}: cannot read as {self.kind[1:]} ({_first_line(exc)})") from None

    def _frame(self, rows: list, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=list(columns or self.columns), dtype=object)

    def _csv_chunks(self, size: int) -> Iterator[pd.DataFrame]:
        reader = pd.read_csv(
            self.path, sep=self.delimiter, encoding=self.encoding, header=self.header_index, dtype=str, keep_default_na=False, chunksize=size, engine="c",
        )
        with reader:
            for chunk in reader:
                chunk = chunk.astype(object).where(chunk.notna(), None)
                chunk.columns = list(self.columns)
                yield chunk.reset_index(drop=True)

    def _xlsx_chunks(self, size: int) -> Iterator[pd.DataFrame]:
        workbook = _open_workbook(self.path)
        try:
            rows = []
            width = len(self.columns)
            for values in workbook[self.sheet].iter_rows(min_row=self.header_index + 1, values_only=True):
                cells = [_as_text(v) for v in values[:width]]
                if all(_is_empty(c) for c in cells):
                    continue  # formatting-only rows Excel keeps below the data
                rows.append(cells + [None] * (width - len(cells)))
                if len(rows) == size:
                    yield self._frame(rows)
                    rows = []
            if rows:
                yield self._frame(rows)
        finally:
            workbook.close()

    def _jsonl_chunks(self, size: int) -> Iterator[pd.DataFrame]:
        rows = []
        with open(self.path, encoding=self.encoding) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                cells = [_as_text(record.get(c)) for c in self.columns]
                if len(line) > MAX_CELL_CHARS:
                    _refuse_long_cells(self.path, f"line {number}", cells)
                rows.append(cells)
                if len(rows) == size:
                    yield self._frame(rows)
                    rows = []
        if rows:
            yield self._frame(rows)

    def _parquet_chunks(self, size: int) -> Iterator[pd.DataFrame]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            with pq.ParquetFile(self.path) as parquet:
                for batch in parquet.iter_batches(batch_size=size):
                    yield self._frame(arrow_text_rows(batch, self.path))
        except pa.ArrowException as exc:
            raise InputError(f"{self.path}: cannot read as parquet ({_first_line(exc)})") from None


def arrow_text_rows(batch, path: Path) -> list[list[str | None]]:
    """The rows of an Arrow record batch with every cell as text (`_as_text`), columns by position (names may
    repeat); a cell longer than `MAX_CELL_CHARS` is an `InputError` naming `path`. Parquet exports are read
    through this, here and on Spark's executors (`pipeline.batch.spark`)."""
    columns = [column.to_pylist() for column in batch.columns]
    rows = [[_as_text(v) for v in row] for row in zip(*columns)]
    for cells in rows:
        _refuse_long_cells(path, "a row", cells)
    return rows


def open_export(path: Path, encoding: str | None = None, sheet: str | None = None) -> Export:
    """Look at a file once: its format, encoding and delimiter (CSV), sheet and header row (CSV, xlsx), columns."""
    path = Path(path)
    kind = table_format(path)
    if not path.is_file():
        missing = "is a folder" if path.is_dir() else "not a regular file" if path.exists() else "file not found"
        raise InputError(f"{path}: {missing}")
    if sheet is not None and kind != ".xlsx":
        raise InputError(f"{path}: --sheet applies to Excel workbooks (.xlsx) only")
    if encoding is not None and kind not in (".csv", ".jsonl"):
        raise InputError(f"{path}: --encoding applies to CSV and JSON Lines files only")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    try:
        if kind == ".csv":
            return _open_csv(path, encoding)
        if kind == ".xlsx":
            return _open_xlsx(path, sheet)
        if kind == ".jsonl":
            return _open_jsonl(path, encoding)
        return _open_parquet(path)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not {encoding} text; pass the right --encoding (e.g. cp1252)") from None
    except (csv.Error, OSError, ValueError, *_XLSX_ERRORS) as exc:
        raise InputError(f"{path}: cannot read as {kind[1:]} ({_first_line(exc)})") from None


def _refuse_long_cells(path: Path, where: str, cells: list[str | None]) -> None:
    if any(cell is not None and len(cell) > MAX_CELL_CHARS for cell in cells):
        raise InputError(
            f"{path}: {where} has a value longer than {MAX_CELL_CHARS:,} characters, the longest answer read"
        )


def shown_columns(columns: tuple[str, ...]) -> str:
    """Column names for a message: the first few, each cut short and without control characters."""
    names = [_printable(name)[:60] for name in columns[:_COLUMNS_SHOWN]]
    more = len(columns) - _COLUMNS_SHOWN
    return ", ".join(names) + (f" … ({more:,} more)" if more > 0 else "")


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text)


# ---------------------------------------------------------------- CSV


def detect_encoding(path: Path) -> str:
    """UTF-8 (`utf-8-sig` with a byte-order mark), UTF-16 with a mark or without one, else cp1252, else Latin-1.

    The whole file is decoded once, a block at a time: a cp1252 "é" on row 90,000
    decides as surely as one on row 2. Latin-1 is chosen only for bytes cp1252
    leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D); otherwise the two agree on
    every letter and cp1252 also has the curly quotes, dashes and "€" Excel writes.
    UTF-16 without a mark shows as a NUL in every other byte. A file that is none of
    these (a binary file, a workbook saved under .csv) is an `InputError`.
    """
    with open(path, "rb") as handle:
        start = handle.read(SNIFF_BYTES)
    for bom, name in _BOMS:
        if start.startswith(bom):
            return name
    unmarked = _utf16_without_mark(start)
    if unmarked is not None:
        if not _decodes(path, unmarked):
            raise InputError(f"{_not_text(path)}: it looks like {unmarked.upper()} text but does not decode as it")
        return unmarked
    _refuse_binary(path, start)
    for name in ("utf-8", "cp1252"):
        if _decodes(path, name):
            return name
    return "latin-1"


def _utf16_without_mark(start: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when nearly every other byte of `start` is a NUL (text in the first 256 characters
    of Unicode, as survey exports are), else None."""
    even, odd = start[0::2], start[1::2]
    if len(odd) < 2:
        return None
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _refuse_binary(path: Path, start: bytes) -> None:
    for magic, what in _MAGIC:
        if start.startswith(magic):
            raise InputError(f"{_not_text(path)}: it is {what}")
    controls = sum(start.count(b) for b in _CONTROL_BYTES)
    if controls > max(_BINARY_SHARE * len(start), _BINARY_MIN_CONTROLS):
        raise InputError(f"{_not_text(path)}: {controls / len(start):.0%} of its first bytes are control bytes "
                         "(a binary file?)")


def _not_text(path: Path) -> str:
    return f"{path} is not a text " + ("CSV" if path.suffix.lower() == ".csv" else "JSON Lines file")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as handle:
            while block := handle.read(_BLOCK):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _checked_encoding(path: Path, encoding: str | None) -> str:
    if encoding is None:
        return detect_encoding(path)
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r} (try utf-8, cp1252 or latin-1)") from None
    name = "utf-8-sig" if name == "utf-8" else name  # read past the byte-order mark Excel writes
    if not _decodes(path, name):
        raise InputError(f"{path}: not {encoding} text; leave out --encoding to detect it, or name another")
    return name


def _sample_records(path: Path, encoding: str, delimiter: str) -> list[list[str]]:
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(SNIFF_BYTES)
        # a header wider than one block (10^5 columns) is read on to its end and one more line
        while len(sample) < MAX_CELL_CHARS and sample.count("\n") + sample.count("\r") < 2:
            more = handle.read(SNIFF_BYTES)
            if not more:
                break
            sample += more
        complete = not handle.read(1)
    end = max(sample.rfind("\n"), sample.rfind("\r"))
    if not complete and end > 0:
        sample = sample[:end]
    records = [r for r in _records(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), path) if r]
    return records[: SNIFF_ROWS * 2]


def sniff_delimiter(path: Path, encoding: str) -> str:
    """The delimiter (, ; tab |) that splits the sample into the most consistent rows, then the widest header."""

    def fit(delimiter: str) -> tuple[bool, float, int]:
        records = _sample_records(path, encoding, delimiter)
        if not records:
            return False, 0.0, 0
        header = records[_header_position(records)]
        same = sum(len(r) == len(header) for r in records) / len(records)
        return len(header) > 1, same, len(header)

    return max(DELIMITERS, key=fit)  # ties keep the earlier delimiter (a comma)


def _open_csv(path: Path, encoding: str | None) -> Export:
    csv.field_size_limit(MAX_CELL_CHARS)  # the csv module's default (131,072) would refuse a long note
    encoding = _checked_encoding(path, encoding)
    delimiter = sniff_delimiter(path, encoding)
    records = _sample_records(path, encoding, delimiter)
    if not any(not _is_empty(cell) for record in records for cell in record):
        raise InputError(f"{path}: the file is empty (no text in its first rows)")
    position = _header_position(records)
    columns, notes = _name_columns(records[position], {}, lambda j: f"column_{j}")
    rows = _count_csv_rows(path, encoding, delimiter, position, len(columns))
    shown = {"\t": "tab"}.get(delimiter, repr(delimiter))
    if encoding not in ("utf-8", "utf-8-sig") or delimiter != ",":
        notes.insert(0, f"read as {encoding}, {shown}-delimited")
    if position:
        notes.append(f"header found below {position} row(s) of title text; those rows are skipped")
    return Export(
        path, ".csv", tuple(columns), rows, encoding=encoding, delimiter=delimiter,
        header_index=position, notes=tuple(notes),
    )


def _count_csv_rows(path: Path, encoding: str, delimiter: str, position: int, width: int) -> int:
    """Rows below the header; an `InputError` for a row with more fields than the header (before any scoring)."""
    rows = 0
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        seen = 0
        for record in _records(reader, path):
            if not record:
                continue  # blank lines, skipped as pandas skips them
            seen += 1
            if seen <= position + 1:
                continue
            if len(record) > width:
                raise InputError(
                    f"{path}: line {reader.line_num} has {len(record)} fields where the header has {width} "
                    "(an unquoted delimiter in an answer?)"
                )
            rows += 1
    return rows


def _records(reader, path: Path) -> Iterator[list[str]]:
    """The reader's records; a cell over the limit is an `InputError` naming its line."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise InputError(
                    f"{path}: line {reader.line_num} has a cell longer than {MAX_CELL_CHARS:,} characters, the longest "
                    "answer read (an unclosed quote?)"
                ) from None
            raise
        yield record


# ---------------------------------------------------------------- Excel


def _open_workbook(path: Path):
    import openpyxl

    refuse_zip_bomb(path)
    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def _open_xlsx(path: Path, sheet: str | None) -> Export:
    workbook = _open_workbook(path)
    try:
        sheets = tuple(workbook.sheetnames)
        if sheet is not None and sheet not in sheets:
            raise InputError(f"{path}: no sheet {sheet!r}; sheets are: {', '.join(sheets)}")
        name = sheet if sheet is not None else sheets[0]
        worksheet = workbook[name]
        top: list[tuple[int, list[str | None]]] = []
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [_as_text(v) for v in values]
            if any(not _is_empty(c) for c in cells):
                top.append((number, cells))
            if len(top) == SNIFF_ROWS:
                break
        if not top:
            raise InputError(f"{path}: sheet {name!r} is empty" + (f"; sheets are: {', '.join(sheets)}" if len(sheets) > 1 else ""))
        merges, last_column, data_rows = _scan_sheet(worksheet)
    finally:
        workbook.close()
    header_at = _header_position([cells for _, cells in top])
    header_row, header = top[header_at]
    width = max(last_column, _last_filled(header))
    header = (header + [None] * width)[:width]
    spans = {
        column: (first, header[first - 1])
        for first, first_row, last, last_row in merges
        if first_row <= header_row <= last_row and not _is_empty(header[first - 1])
        for column in range(first + 1, last + 1)
    }
    from openpyxl.utils import get_column_letter

    columns, notes = _name_columns(header, spans, lambda j: f"column_{get_column_letter(j)}")
    notes = [f"sheet {name!r}" + (f" of {', '.join(sheets)}" if len(sheets) > 1 else "")] + notes
    if header_row > 1:
        notes.append(f"header found on row {header_row}; the rows above it are skipped")
    return Export(
        path, ".xlsx", tuple(columns), max(data_rows - header_row, 0) if data_rows else None,
        header_index=header_row, sheet=name, sheets=sheets, notes=tuple(notes),
    )


def _scan_sheet(worksheet) -> tuple[list[tuple[int, int, int, int]], int, int]:
    """(merged ranges, last column holding a value, last row number) from one streaming pass over the sheet's XML.

    openpyxl's read-only sheets do not report merged cells, and the `<mergeCells>`
    list comes after all the rows, so the XML is walked once with every finished row
    dropped at once (memory stays flat).
    """
    from openpyxl.utils import column_index_from_string, range_boundaries

    merges, last_column, last_row = [], 0, 0
    with worksheet._get_source() as source:  # read-only sheets expose their XML only through this
        rows_parent = None
        for event, element in ET.iterparse(source, events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "sheetData":
                    rows_parent = element
                continue
            if tag == "c" and len(element) and element.get("r"):
                last_column = max(last_column, column_index_from_string(_CELL_REF.match(element.get("r")).group(1)))
            elif tag == "row":
                last_row = int(element.get("r") or last_row + 1)
                if rows_parent is not None:
                    rows_parent.clear()
            elif tag == "mergeCell":
                merges.append(range_boundaries(element.get("ref")))
    return merges, last_column, last_row


# ---------------------------------------------------------------- JSON Lines and Parquet


def _open_jsonl(path: Path, encoding: str | None) -> Export:
    """Columns are every key in the file, in order of first appearance (one pass, also checking each line)."""
    encoding = _checked_encoding(path, encoding)
    keys: dict[str, None] = {}
    rows = 0
    with open(path, encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {number} is not JSON ({exc.msg})") from None
            except RecursionError:
                raise InputError(f"{path}: line {number} is nested too deeply") from None
            if "\\u" in line and not _encodable(record):
                raise InputError(f"{path}: line {number} holds a lone surrogate escape (\\ud800-\\udfff), not text")
            if not isinstance(record, dict):
                raise InputError(f"{path}: line {number} is not a JSON object")
            keys.update(dict.fromkeys(map(str, record)))
            rows += 1
    if not keys:
        raise InputError(f"{path}: the file is empty")
    return Export(path, ".jsonl", tuple(keys), rows, encoding=encoding)


def _encodable(record: dict) -> bool:
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _open_parquet(path: Path) -> Export:
    """Columns by position; a repeated name becomes "<name> (2)", as in CSV and Excel headers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as parquet:
            columns, notes = _name_columns(list(parquet.schema_arrow.names), {}, lambda j: f"column_{j}")
            return Export(path, ".parquet", tuple(columns), parquet.metadata.num_rows, notes=tuple(notes))
    except pa.ArrowException as exc:
        raise InputError(f"{path}: cannot read as parquet ({_first_line(exc)})") from None


# ---------------------------------------------------------------- shared


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _last_filled(cells: list) -> int:
    return max((j + 1 for j, c in enumerate(cells) if not _is_empty(c)), default=0)


def _header_position(rows: list[list]) -> int:
    """The first row with at least half as many filled cells as the fullest of `rows`: titles above it are skipped."""
    filled = [sum(not _is_empty(c) for c in row) for row in rows]
    needed = max(1, math.ceil(max(filled, default=0) / 2))
    return next((i for i, n in enumerate(filled) if n >= needed), 0)  # 0 when every cell is blank


def _name_columns(header: list, spans: dict[int, tuple[int, str]], unnamed) -> tuple[list[str], list[str]]:
    """Header cells as unique column names; a blank cell under a merged header becomes "<header> (k)", others `unnamed(j)`."""
    names, notes, seen = [], [], set()
    merged: dict[str, list[str]] = {}
    for j, cell in enumerate(header, start=1):
        if not _is_empty(cell):
            name = str(cell).strip()
        elif j in spans:
            first, title = spans[j]
            name = f"{str(title).strip()} ({j - first + 1})"
            merged.setdefault(str(title).strip(), []).append(name)
        else:
            name = unnamed(j)
            notes.append(f"column {j} has no header: named {name!r}")
        base, k = name, 2
        while name in seen:
            name, k = f"{base} ({k})", k + 1
        seen.add(name)
        names.append(name)
    for title, extra in merged.items():
        notes.insert(0, f"merged header {title!r} spans {len(extra) + 1} columns: the others are named {', '.join(map(repr, extra))}")
    return names, notes


def _as_text(value: object) -> str | None:
    """A cell as the text a person would see: numbers without a spurious ".0", dates as ISO, None for missing."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
