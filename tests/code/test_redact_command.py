"""`behaviours redact` reads exports as `score` does, streams and writes atomically; the `report:` params section."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
import yaml

from pipeline.config import PROJECT_ROOT, ReportParams, load_params
from pipeline.errors import InputError
from pipeline.io.exports import open_export

EXAMPLES = PROJECT_ROOT / "examples"
PLANTED = ("jo.bloggs@nhs.net", "07700 900461", "943 476 5919")


@pytest.fixture()
def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"score": {"chunk_size": 2}}))  # many chunks even for a small file
    return path


def read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_redact_reads_the_cp1252_example_as_score_does(run_cli, params_file, tmp_path):
    output = tmp_path / "redacted.csv"
    source = EXAMPLES / "exit_survey_export_cp1252.csv"
    code, out, err = run_cli("redact", source, "-o", output, "-c", "leaving_reason", "-c", "could_do_better",
                             "--params", params_file)
    assert code == 0, err
    assert "read as cp1252, ';'-delimited" in err
    assert "150 rows, 2 column(s) redacted" in out and "[EMAIL] " in out
    redacted = read(output)
    original = next(open_export(source).chunks(1000))
    assert list(redacted.columns) == list(original.columns) and len(redacted) == 150
    assert redacted["response_id"].tolist() == original["response_id"].tolist()  # order kept across chunks
    assert redacted["directorate"].tolist() == original["directorate"].tolist()
    assert any("’" in answer for answer in redacted["leaving_reason"])  # decoded, written as UTF-8
    assert [p.name for p in tmp_path.iterdir()] == ["params.yaml", "redacted.csv"]  # no temporary file left


def test_redact_replaces_identifiers_in_the_named_columns_only(run_cli, params_file, tmp_path):
    source = tmp_path / "in.csv"
    with open(source, "w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id", "answer", "contact"])
        for i in range(5):
            answer = f"Ask Dr Okonkwo – jo.bloggs@nhs.net, 07700 900461, NHS 943 476 5919 (row {i})."
            writer.writerow([f"r{i}", answer, "jo.bloggs@nhs.net"])
    output = tmp_path / "out.jsonl"
    code, out, err = run_cli("redact", source, "-o", output, "-c", "answer", "--params", params_file)
    assert code == 0, err
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(5)]
    assert rows[0]["answer"] == "Ask Dr [NAME] – [EMAIL], [PHONE], NHS [NHS_NUMBER] (row 0)."
    assert rows[0]["contact"] == "jo.bloggs@nhs.net"  # not a --text-column
    assert "[EMAIL] 5" in out and "[NAME] 5" in out
    assert not any(p in out + err for p in PLANTED)  # counts only, never the text


def test_redact_an_excel_sheet_with_title_rows(run_cli, params_file, tmp_path):
    output = tmp_path / "out.parquet"
    code, _, err = run_cli("redact", EXAMPLES / "exit_survey_export.xlsx", "-o", output, "-c", "leaving_reason",
                           "--sheet", "Responses", "--params", params_file)
    assert code == 0, err
    frame = pd.read_parquet(output)
    assert len(frame) == 150 and frame["response_id"].iloc[0] == "EX-2025015"


def test_redact_an_input_with_no_rows_keeps_the_header(run_cli, params_file, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,answer\n", encoding="utf-8")
    output = tmp_path / "out.csv"
    code, _, err = run_cli("redact", source, "-o", output, "-c", "answer", "--params", params_file)
    assert code == 0, err
    assert output.read_text(encoding="utf-8").strip() == "id,answer"


def test_redact_errors_are_one_line_and_write_nothing(run_cli, params_file, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id;answer\n1;text\n", encoding="utf-8")
    output = tmp_path / "out.csv"
    for args, message in [
        (["-c", "answr"], "no column 'answr'; columns are: id, answer"),
        (["-c", "answer", "--sheet", "S"], "--sheet applies to Excel workbooks (.xlsx) only"),
        (["-c", "answer", "--encoding", "nonsense"], "unknown encoding 'nonsense'"),
    ]:
        code, out, err = run_cli("redact", source, "-o", output, *args, "--params", params_file)
        assert code == 2 and message in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
        assert not output.exists()


# ---------------------------------------------------------------- report.min_group_size


def test_report_section_of_params(tmp_path):
    assert load_params().report == ReportParams(min_group_size=10)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"report": {"min_group_size": 4}}))
    assert load_params(path).report.min_group_size == 4
    path.write_text(yaml.safe_dump({"report": {"min_group_sise": 4}}))
    with pytest.raises(InputError, match="report: unknown key"):
        load_params(path)
