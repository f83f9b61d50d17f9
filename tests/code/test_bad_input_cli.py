"""A corpus of bad and awkward inputs through `score`, `redact`, `report` and `tag` (issue 14).

Every case checks what a person sees and what is left on disk: the exit code; on failure
one line starting `error:` that never quotes an answer (each answer holds the marker
`Zyxwv`) nor a NUL; no traceback (`run_cli` runs in-process, so any other exception
fails the test with its traceback); no partial folder, temporary or stray file (only
the asked-for output appears, and only on success); every input byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.io.exports import MAX_CELL_CHARS
from pipeline.io.files import EXCEL_MAX_CELL_CHARS

MARK = "Zyxwv"  # in every answer: it must never reach a message
ANSWER = f"She explains why decisions are made {MARK}."
LONG_SENTENCES = " ".join(f"She explains why decision {i} was made {MARK}." for i in range(30_000))  # ~1.4M chars


def _csv(tmp: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_bytes(text.encode(encoding))
    return path


def _rows_csv(tmp: Path, answers: list[str], name: str = "in.csv") -> Path:
    path = tmp / name
    pd.DataFrame({"id": [str(i) for i in range(len(answers))], "answer": answers}).to_csv(path, index=False)
    return path


def _xlsx(tmp: Path, rows: list[list], name: str = "in.xlsx") -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    path = tmp / name
    workbook.save(path)
    return path


def _zip_bomb(tmp: Path) -> Path:
    """A workbook whose sheet expands ~1000 times to 40 MB of spaces (written a megabyte at a time)."""
    source = zipfile.ZipFile(_xlsx(tmp, [["answer"], [ANSWER]], "small.xlsx"))
    path = tmp / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for part in source.infolist():
            if part.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(part, source.read(part.filename))
                continue
            with bomb.open(part.filename, "w") as sheet:
                sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                for _ in range(40):
                    sheet.write(b" " * (1 << 20))
                sheet.write(b"</sheetData></worksheet>")
    source.close()
    (tmp / "small.xlsx").unlink()
    return path


def _corrupt_middle_xlsx(tmp: Path) -> Path:
    """A workbook whose sheet's compressed bytes are garbage half way through (a zlib error), directory intact."""
    path = _xlsx(tmp, [["id", "answer"]] + [[i, f"{ANSWER} {i} {hashlib.md5(str(i).encode()).hexdigest()}"] for i in range(3000)])
    data = bytearray(path.read_bytes())
    part = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    name_length, extra_length = int.from_bytes(data[part.header_offset + 26 : part.header_offset + 28], "little"), int.from_bytes(
        data[part.header_offset + 28 : part.header_offset + 30], "little"
    )
    start = part.header_offset + 30 + name_length + extra_length
    middle = start + part.compress_size // 2
    data[middle : middle + 64] = bytes(range(64))
    path.write_bytes(bytes(data))
    return path


def _parquet(tmp: Path, table: pa.Table, name: str = "in.parquet") -> Path:
    path = tmp / name
    pq.write_table(table, path)
    return path


def _duplicate_columns_parquet(tmp: Path) -> Path:
    table = pa.Table.from_arrays([pa.array([ANSWER]), pa.array(["x"]), pa.array(["y"])], names=["answer", "dup", "dup"])
    return _parquet(tmp, table)


def _fifo(tmp: Path, name: str) -> Path:
    path = tmp / name
    os.mkfifo(path)
    return path


def _device(tmp: Path) -> Path:
    path = tmp / "device.csv"
    path.symlink_to("/dev/zero")
    return path


def _folder(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.mkdir()
    return path


def _wide(tmp: Path) -> Path:
    header = ",".join(f"q{j}" for j in range(100_000))
    return _csv(tmp, header + "\n" + ",".join("x" for _ in range(100_000)) + "\n")


def _only_output_folder(tmp: Path) -> Path:
    (tmp / "out.csv").mkdir()
    return _rows_csv(tmp, [ANSWER])


SCORE, REDACT, REPORT, TAG = "score", "redact", "report", "tag"

# (case, command, make the input in tmp, output name or None, expected exit code, text the message must hold)
CASES = [
    # finding 3: failed reads leave no partial folder
    ("unterminated quote", SCORE, lambda t: _csv(t, f'id,answer\n1,"{ANSWER}\n2,ok\n'), "out.csv", 2, "cannot read as csv"),
    ("duplicate parquet columns are renamed", SCORE, _duplicate_columns_parquet, "out.csv", 0, None),
    ("cell over the longest answer", SCORE, lambda t: _csv(t, 'answer\n"' + "a " * (MAX_CELL_CHARS // 2 + 1) + '"\n'),
     "out.csv", 2, "longer than 5,000,000 characters"),
    ("output is a folder", SCORE, _only_output_folder, "out.csv", 2, "is a folder"),
    # finding 4: tracebacks before
    ("corrupt-in-the-middle xlsx", SCORE, _corrupt_middle_xlsx, "out.csv", 2, "cannot read as xlsx"),
    ("output folder missing", SCORE, lambda t: _rows_csv(t, [ANSWER]), "nodir/out.csv", 2, "does not exist"),
    ("jsonl text over spaCy's limit", SCORE, lambda t: _csv(t, json.dumps({"answer": LONG_SENTENCES}) + "\n", "in.jsonl"),
     "out.csv", 0, None),
    ("parquet text over spaCy's limit", SCORE, lambda t: _parquet(t, pa.table({"answer": [LONG_SENTENCES]})), "out.parquet", 0,
     None),
    # finding 5: valid inputs that were refused, outputs that were cut
    ("bare CR line ends", SCORE, lambda t: _csv(t, f'id,answer\r1,{ANSWER}\r2,"two\rlines {MARK}"\r'), "out.csv", 0, None),
    ("CR in a quoted cell", SCORE, lambda t: _csv(t, f'id,answer\n1,"a\rb {MARK}"\n'), "out.csv", 0, None),
    ("cell over the csv module's 131,072", SCORE, lambda t: _rows_csv(t, ["word " * 40_000 + MARK]), "out.csv", 0, None),
    ("xlsx output cell over Excel's limit", SCORE, lambda t: _rows_csv(t, ["w " * (EXCEL_MAX_CELL_CHARS // 2 + 10) + MARK]),
     "out.xlsx", 2, "more than an Excel cell's 32,767"),
    # finding 10: unhelpful messages
    ("binary bytes as csv", SCORE, lambda t: _csv(t, "").write_bytes(os.urandom(20_000)) and t / "in.csv", "out.csv", 2,
     "is not a text CSV"),
    ("workbook saved as .csv", SCORE, lambda t: (t / "in.csv").write_bytes(_xlsx(t, [["answer"]], "w.xlsx").read_bytes())
     and (t / "w.xlsx").unlink() or t / "in.csv", "out.csv", 2, "is not a text CSV: it is a zip file"),
    ("utf-16 without a byte-order mark", SCORE, lambda t: _csv(t, f"id,answer\n1,{ANSWER}\n", encoding="utf-16-le"),
     "out.csv", 0, None),
    ("utf-16 with a byte-order mark", SCORE, lambda t: _csv(t, f"id,answer\n1,{ANSWER}\n", encoding="utf-16"), "out.csv", 0,
     None),
    # more of our own
    ("100,000 columns, none the text column", SCORE, _wide, "out.csv", 2, "(99,980 more)"),
    ("right-to-left and emoji", SCORE, lambda t: _rows_csv(t, [f"هي تشرح سبب القرارات {MARK} 🙂👍", f"שלום {MARK} \u202e"]),
     "out.csv", 0, None),
    ("zip bomb xlsx", SCORE, _zip_bomb, "out.csv", 2, "a zip bomb?"),
    ("empty sheet", SCORE, lambda t: _xlsx(t, []), "out.csv", 2, "is empty"),
    ("only a header", SCORE, lambda t: _csv(t, "id,answer\n"), "out.csv", 0, None),
    ("mixed utf-8 and cp1252 bytes", SCORE, lambda t: _csv(t, f"id,answer\n1,café {MARK}\n").write_bytes(
        (t / "in.csv").read_bytes() + f"2,caf\xe9 {MARK}\n".encode("cp1252")) and t / "in.csv", "out.csv", 0, None),
    ("a NUL in a cell", SCORE, lambda t: _csv(t, f"id,answer\n1,a\x00b {MARK}\n2,{ANSWER}\n"), "out.csv", 0, None),
    ("a huge single line", SCORE, lambda t: _csv(t, "answer\n" + "x" * (MAX_CELL_CHARS + 1)), "out.csv", 2,
     "longer than 5,000,000"),
    ("a folder as input", SCORE, lambda t: _folder(t, "in.csv"), "out.csv", 2, "is a folder"),
    ("a FIFO as input", SCORE, lambda t: _fifo(t, "in.csv"), "out.csv", 2, "not a regular file"),
    ("a device as input", SCORE, _device, "out.csv", 2, "not a regular file"),
    ("an empty file", SCORE, lambda t: _csv(t, ""), "out.csv", 2, "the file is empty"),
    ("only blank cells (found by Hypothesis)", SCORE, lambda t: _csv(t, "\t\n \t\n"), "out.csv", 2, "the file is empty"),
    ("unknown extension", SCORE, lambda t: _csv(t, f"answer\n{ANSWER}\n", "in.txt"), "out.csv", 2, "unknown file type"),
    ("no text column", SCORE, lambda t: _csv(t, f"id,reply\n1,{ANSWER}\n"), "out.csv", 2, "no column 'answer'"),
    ("truncated xlsx", SCORE, lambda t: _xlsx(t, [["answer"], [ANSWER]]).write_bytes((t / "in.xlsx").read_bytes()[:1500])
     and t / "in.xlsx", "out.csv", 2, "cannot read as xlsx"),
    ("random bytes as parquet", SCORE, lambda t: _csv(t, "").write_bytes(b"PAR1" + os.urandom(500)) and _rename(t, "in.parquet"),
     "out.csv", 2, "cannot read as parquet"),
    ("jsonl nested too deeply", SCORE, lambda t: _csv(t, '{"answer": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "in.jsonl"),
     "out.csv", 2, "nested too deeply"),
    ("jsonl lone surrogate", SCORE, lambda t: _csv(t, '{"answer": "a \\ud800 ' + MARK + '"}\n', "in.jsonl"), "out.csv", 2,
     "lone surrogate"),
    ("jsonl line not an object", SCORE, lambda t: _csv(t, f'["{ANSWER}"]\n', "in.jsonl"), "out.csv", 2, "not a JSON object"),
    ("jsonl as utf-16 without mark", SCORE, lambda t: _csv(t, json.dumps({"answer": ANSWER}) + "\n", "in.jsonl", "utf-16-le"),
     "out.csv", 0, None),
    ("redact a binary file", REDACT, lambda t: _csv(t, "").write_bytes(b"\x00\x01\x02\x03" * 5000) and t / "in.csv", "out.csv",
     2, "is not a text CSV"),
    ("redact bare CR line ends", REDACT, lambda t: _csv(t, f"id,answer\r1,{ANSWER}\r"), "out.csv", 0, None),
    ("redact a zip bomb", REDACT, _zip_bomb, "out.csv", 2, "a zip bomb?"),
    ("redact to xlsx with a cell over Excel's limit", REDACT, lambda t: _rows_csv(t, ["w " * 20_000 + MARK]), "out.xlsx", 2,
     "more than an Excel cell's"),
    ("redact a FIFO", REDACT, lambda t: _fifo(t, "in.csv"), "out.csv", 2, "not a regular file"),
    ("report of a folder", REPORT, lambda t: _folder(t, "in.csv"), "r.html", 2, "is a folder"),
    ("report of a binary csv", REPORT, lambda t: _csv(t, "").write_bytes(os.urandom(5000)) and t / "in.csv", "r.html", 2,
     "in.csv"),
    ("report into a missing folder", REPORT, lambda t: _rows_csv(t, [ANSWER]), "nodir/r.html", 2, "does not exist"),
    ("report of a zip bomb", REPORT, _zip_bomb, "r.html", 2, "a zip bomb?"),
    ("tag a folder", TAG, lambda t: _folder(t, "note.txt"), None, 2, "is a folder"),
    ("tag a FIFO", TAG, lambda t: _fifo(t, "note.txt"), None, 2, "not a regular file"),
    ("tag a binary file", TAG, lambda t: _csv(t, "", "note.txt").write_bytes(b"\xff\xfe\xfa" * 100) and t / "note.txt", None, 2,
     "not UTF-8 text"),
    ("tag a text over spaCy's limit", TAG, lambda t: _csv(t, LONG_SENTENCES, "note.txt"), None, 0, None),
    ("tag a text over the longest answer", TAG, lambda t: _csv(t, "a " * (MAX_CELL_CHARS // 2 + 1), "note.txt"), None, 2,
     "the longest tagged is 5,000,000"),
    ("tag a missing file", TAG, lambda t: t / "missing.txt", None, 2, "file not found"),
]


def _rename(tmp: Path, name: str) -> Path:
    (tmp / "in.csv").rename(tmp / name)
    return tmp / name


def _snapshot(folder: Path) -> dict[str, str | None]:
    """Every path under `folder` (hidden ones too) and, for regular files, a digest of the bytes."""
    found = {}
    for path in folder.rglob("*"):
        mode = path.lstat().st_mode
        found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(mode) else None
    return found


@pytest.fixture()
def params_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("params") / "params.yaml"
    encoder = {"backend": "hashing", "model": "", "dim": 512}
    path.write_text(yaml.safe_dump({"encoder": encoder, "text": {"sentences": "sentencizer"}}))
    return path


@pytest.mark.parametrize("case, command, make, output, code, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input(run_cli, model_dir, params_file, tmp_path, case, command, make, output, code, message):
    given = make(tmp_path)
    before = _snapshot(tmp_path)
    common = ("--params", params_file)
    if command == TAG:
        args = (TAG, "--file", given, "--model", model_dir, *common)
    elif command == REPORT:
        args = (REPORT, given, "-o", tmp_path / output, "--model", model_dir, *common)
    else:
        model = ("--model", model_dir) if command == SCORE else ()
        args = (command, given, "-o", tmp_path / output, "-c", "answer", *model, *common)
    got, out, err = run_cli(*args)
    assert got == code, err
    assert "Traceback" not in err and "\x00" not in err and MARK not in err
    after = _snapshot(tmp_path)
    if code == 0:
        added = set(after) - set(before)
        assert added == (set() if output is None else {output}), added
    else:
        assert err.startswith("error: ") and err.count("\n") == 1 and len(err) < 1_000, err
        assert message in err, err
        assert MARK not in out
        assert set(after) == set(before), set(after) ^ set(before)  # no partial folder, temporary or stray file
    assert {p: d for p, d in after.items() if p in before} == before  # every input unchanged
