"""Property-based tests of the readers (issue 14): whatever text our writers write reads back identical, and whatever
bytes are given to the CSV reader come back as rows or as one `InputError`, never another exception."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError
from pipeline.io.exports import open_export
from pipeline.io.files import write_chunks

# Text as answers hold it: any character but lone surrogates and the C0 controls other than tab, CR and LF (a file
# made mostly of those is refused as binary, and an xlsx cell cannot hold them; a NUL in a cell is in the corpus).
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r"), max_size=60)
SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _read_back(path, columns):
    export = open_export(path)
    frames = list(export.chunks(1_000))
    return export, [row for frame in frames for row in frame[list(columns)].itertuples(index=False, name=None)]


def _write(tmp_path, suffix, answers):
    schema = pa.schema([("id", pa.string()), ("answer", pa.string())])
    table = pa.table({"id": [f"r{i}" for i in range(len(answers))], "answer": answers}, schema=schema)
    path = tmp_path / f"out{suffix}"
    write_chunks([table], schema, path, allow_formulas=True)
    return path


@SETTINGS
@given(answers=st.lists(TEXT, min_size=1, max_size=8))
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_text_written_as_csv_or_jsonl_reads_back_identical(tmp_path, suffix, answers):
    path = _write(tmp_path, suffix, answers)
    _, rows = _read_back(path, ("id", "answer"))
    assert [answer for _, answer in rows] == answers


@SETTINGS
@given(answers=st.lists(TEXT, min_size=1, max_size=8))
def test_text_written_as_xlsx_reads_back_identical(tmp_path, answers):
    path = _write(tmp_path, ".xlsx", answers)
    _, rows = _read_back(path, ("id", "answer"))
    # a cell Excel would show empty reads back as missing (None); anything else exactly as written
    assert [answer or "" for _, answer in rows] == answers


@SETTINGS
@given(content=st.binary(max_size=400) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_as_csv_are_rows_or_one_input_error(tmp_path, content):
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    try:
        export = open_export(path)
        rows = sum(len(frame) for frame in export.chunks(50))
    except InputError as exc:
        assert "\n" not in str(exc) and "\x00" not in str(exc)
    else:
        assert rows == export.rows or export.rows is None
