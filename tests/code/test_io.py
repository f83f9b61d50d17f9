import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.io.files import atomic_path, read_table, write_table

FRAME = pd.DataFrame({"id": ["1", "2"], "answer": ["n/a", "Explains why, always"]})


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl", ".parquet"])
def test_round_trip_every_format(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    write_table(FRAME, path)
    back = read_table(path)
    assert list(back.columns) == ["id", "answer"]
    assert back["answer"].tolist() == ["n/a", "Explains why, always"]  # "n/a" is an answer, not missing


def test_csv_with_byte_order_mark_and_other_encodings(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffanswer\ncafé\n".encode("utf-8"))
    assert list(read_table(path).columns) == ["answer"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("answer\ncafé\n".encode("cp1252"))
    with pytest.raises(InputError, match="not utf-8 text.*--encoding"):
        read_table(latin)
    assert read_table(latin, encoding="cp1252")["answer"].tolist() == ["café"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("a.txt", b"x", "unknown file type '.txt'"),
        ("a.xlsx", b"not a zip", "cannot read as xlsx"),
        ("a.parquet", b"nope", "cannot read as parquet"),
        ("a.jsonl", b"{broken", "cannot read as jsonl"),
        ("a.csv", b"", "empty"),
    ],
)
def test_unreadable_inputs_are_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "missing.csv")


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_output_folder_must_exist(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_table(FRAME, tmp_path / "no" / "out.csv")
