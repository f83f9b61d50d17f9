"""`behaviours score` on real exports: formats, encodings, sheets, several questions, resume, dedupe, progress."""

import csv
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import openpyxl
import pandas as pd
import pytest
import yaml

from pipeline.batch.chunks import ResultCache, ScoreOptions, combine_results, output_columns, score_chunk
from pipeline.batch.partial import PartialRun, ProgressLines, partial_folder
from pipeline.config import PROJECT_ROOT
from pipeline.errors import InputError
from pipeline.io.exports import detect_encoding, open_export
from pipeline.io.files import neutralise_formula
from pipeline.tagger import Tagger, result_columns

EXPLAINS = "He explains the reasons behind every rota decision."
ANSWERS = [
    EXPLAINS,
    "Le café était fermé; parking costs £50 a month – it’s “too much”.",
    'She said "try it"\nand we piloted a new way of running the clinic.',
    "",
    "n/a",
    "Pay is too low.",
]
EXAMPLES = PROJECT_ROOT / "examples"


@pytest.fixture()
def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "encoder": {"backend": "hashing", "model": "", "dim": 512},
                "text": {"sentences": "sentencizer"},
                "score": {"chunk_size": 2, "empty_values": []},  # "n/a" stays an answer here (filler: test_safe_outputs)
            }
        )
    )
    return path


@pytest.fixture()
def score(run_cli, model_dir, params_file):
    def run(*args):
        return run_cli("score", *args, "--model", model_dir, "--params", params_file)

    return run


def write_csv(path, rows, encoding="utf-8", delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return path


def read_output(path):
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = next(open_export(path).chunks(10**6))
    return frame.fillna("")


def assert_one_line_error(code, out, err, message, output=None):
    assert code == 2, err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out
    if output is not None:
        assert not output.exists() and not partial_folder(output).exists()


# ---------------------------------------------------------------- reading exports


@pytest.mark.parametrize(
    "encoding, delimiter",
    [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";"), ("cp1252", ","), ("latin-1", "\t"), ("utf-8", "|")],
)
def test_csv_encodings_and_delimiters_are_detected(score, tmp_path, encoding, delimiter):
    answers = ANSWERS if encoding != "latin-1" else [a.replace("’", "'").replace("“", '"').replace("”", '"').replace("–", "-") for a in ANSWERS]
    rows = [["id", "answer", "site"]] + [[f"r{i}", a, "A;B|C"] for i, a in enumerate(answers)]
    source = write_csv(tmp_path / "in.csv", rows, encoding, delimiter)
    output = tmp_path / "out.csv"
    code, out, err = score(source, "-o", output, "-c", "answer")
    assert code == 0, err
    scored = read_output(output)
    assert scored["answer"].tolist() == answers  # multi-line and quoted answers intact, "n/a" kept as written
    assert scored["site"].tolist() == ["A;B|C"] * len(answers)
    assert scored["status"].tolist() == ["ok", "ok", "ok", "empty", "ok", "ok"]
    assert "trust" in scored["behaviours"][0].split(";")
    assert f"{len(answers)} rows scored" in out


def test_encoding_detection():
    assert detect_encoding(EXAMPLES / "exit_survey_export_cp1252.csv") == "cp1252"
    assert detect_encoding(EXAMPLES / "exit_survey.csv") == "utf-8"


@pytest.mark.parametrize(
    "content, expected",
    [
        ("\ufeffa\ncafé\n".encode("utf-8"), "utf-8-sig"),
        ("a\ncafé\n".encode(), "utf-8"),
        ("a\ncafé “quoted”\n".encode("cp1252"), "cp1252"),
        (b"a\ncaf\xe9 \x81\n", "latin-1"),  # 0x81 is undefined in cp1252
        ("a\ncafé\n".encode("utf-16"), "utf-16"),
    ],
)
def test_detected_encoding(tmp_path, content, expected):
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    assert detect_encoding(path) == expected
    assert next(open_export(path).chunks(10))["a"][0].startswith("caf")


def test_a_wrong_encoding_given_is_one_line_and_writes_nothing(score, tmp_path):
    source = write_csv(tmp_path / "in.csv", [["answer"], ["Le café était fermé"]], "cp1252")
    output = tmp_path / "o.csv"
    code, out, err = score(source, "-o", output, "-c", "answer", "--encoding", "utf-8")
    assert_one_line_error(code, out, err, "not utf-8 text", output)
    code, out, err = score(source, "-o", output, "-c", "answer", "--encoding", "klingon")
    assert_one_line_error(code, out, err, "unknown encoding 'klingon'", output)
    code, _, err = score(source, "-o", output, "-c", "answer", "--encoding", "cp1252")
    assert code == 0, err


def test_csv_with_more_fields_than_its_header_fails_before_scoring(score, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,answer\n1,fine\n2,one, two\n")
    output = tmp_path / "o.csv"
    code, out, err = score(source, "-o", output, "-c", "answer")
    assert_one_line_error(code, out, err, "line 3 has 3 fields where the header has 2", output)


def test_csv_title_rows_above_the_header_are_skipped(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("Exit survey export;;\n;;\n\nid;answer;site\n1;n/a;A\n2;\"two\nlines\";B\n")
    export = open_export(source)
    assert export.columns == ("id", "answer", "site")
    assert next(export.chunks(10))["answer"].tolist() == ["n/a", "two\nlines"]
    assert any("header found below 2 row(s)" in note for note in export.notes)


def test_jsonl_and_parquet_inputs_come_back_as_text(score, tmp_path):
    records = [
        {"id": 1, "answer": EXPLAINS, "score": 4.5, "ok": True},
        {"id": 2, "answer": None, "extra": {"a": 1}},
        {"id": 3, "answer": "n/a", "score": 3.0},
    ]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    parquet = tmp_path / "in.parquet"
    pd.DataFrame({"id": [1, 2, 3], "answer": [EXPLAINS, None, "n/a"], "when": pd.to_datetime(["2025-01-02"] * 3)}).to_parquet(parquet)
    for source in (jsonl, parquet):
        output = tmp_path / f"out-{source.suffix[1:]}.jsonl"
        code, _, err = score(source, "-o", output, "-c", "answer")
        assert code == 0, err
        scored = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
        assert [r["id"] for r in scored] == ["1", "2", "3"]
        assert [r["status"] for r in scored] == ["ok", "empty", "ok"]
        assert scored[2]["answer"] == "n/a"
    assert open_export(jsonl).columns == ("id", "answer", "score", "ok", "extra")
    first = next(open_export(jsonl).chunks(10))
    assert first.iloc[0].tolist() == ["1", EXPLAINS, "4.5", "TRUE", None]
    assert first["extra"][1] == '{"a": 1}'
    assert next(open_export(parquet).chunks(10))["when"][0] == "2025-01-02"


def test_bad_jsonl_line_is_named(score, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"answer": "fine"}\n{broken\n')
    output = tmp_path / "o.csv"
    code, out, err = score(source, "-o", output, "-c", "answer")
    assert_one_line_error(code, out, err, "line 2 is not JSON", output)


@pytest.fixture()
def workbook(tmp_path):
    """A cover sheet first; the data sheet has a merged title, two blank rows and a header merged over two columns."""
    path = tmp_path / "survey.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.active["A1"] = "Confidential: exit survey"
    data = book.create_sheet("Data")
    data["A1"] = "Exit survey Q3"
    data.merge_cells("A1:E1")
    data.append([])
    data.append([])
    data.append(["id", "left", "Comments", None, "staff_group"])
    data.merge_cells("C4:D4")
    data.append([101, dt.datetime(2025, 7, 1), EXPLAINS, "Pay is too low.", "Nursing"])
    data.append([])
    data.append([102, dt.datetime(2025, 7, 9, 14, 30), "n/a", None, "Estates"])
    data.append([103.0, dt.datetime(2025, 8, 1), None, "", "Admin"])
    book.save(path)
    return path


def test_xlsx_without_sheet_reads_the_first_and_lists_the_sheets_when_a_column_is_missing(score, workbook, tmp_path):
    output = tmp_path / "o.csv"
    code, out, err = score(workbook, "-o", output, "-c", "Comments")
    assert_one_line_error(code, out, err, "no column 'Comments'; columns are: Confidential: exit survey (sheet 'Cover'; sheets: Cover, Data", output)


def test_xlsx_sheet_with_title_blank_rows_and_merged_header(score, workbook, tmp_path):
    output = tmp_path / "o.xlsx"
    code, _, err = score(workbook, "--sheet", "Data", "-o", output, "-c", "Comments", "-c", "Comments (2)")
    assert code == 0, err
    assert "header found on row 4" in err and "merged header 'Comments' spans 2 columns" in err
    scored = read_output(output)
    assert list(scored.columns[:5]) == ["id", "left", "Comments", "Comments (2)", "staff_group"]
    assert scored["id"].tolist() == ["101", "102", "103"]  # the blank row between is not a respondent
    assert scored["left"].tolist() == ["2025-07-01", "2025-07-09 14:30:00", "2025-08-01"]
    assert scored["Comments__status"].tolist() == ["ok", "ok", "empty"]
    assert scored["Comments (2)__status"].tolist() == ["ok", "empty", "empty"]


def test_unknown_sheet_and_sheet_for_csv(score, workbook, tmp_path):
    output = tmp_path / "o.csv"
    code, out, err = score(workbook, "--sheet", "Responses", "-o", output, "-c", "Comments")
    assert_one_line_error(code, out, err, "no sheet 'Responses'; sheets are: Cover, Data", output)
    source = write_csv(tmp_path / "in.csv", [["answer"], ["x"]])
    code, out, err = score(source, "--sheet", "Data", "-o", output, "-c", "answer")
    assert_one_line_error(code, out, err, "--sheet applies to Excel workbooks (.xlsx) only", output)


# ---------------------------------------------------------------- several questions


@pytest.fixture()
def two_questions(tmp_path):
    rows = [
        ["id", "why", "better", "directorate"],
        ["a1", EXPLAINS, "Pay is too low.", "Medicine"],
        ["a2", "", "", "Surgery"],
        ["a3", "n/a", "Piloted a new way of running the clinic and tried new ideas.", "Medicine"],
        ["a1", "Retiring.", EXPLAINS, "Community"],
    ]
    return write_csv(tmp_path / "two.csv", rows)


def test_one_question_keeps_the_contract_columns(score, two_questions, tmp_path, taxonomy):
    output = tmp_path / "o.csv"
    assert score(two_questions, "-o", output, "-c", "why")[0] == 0
    scored = read_output(output)
    assert list(scored.columns) == ["id", "why", "better", "directorate", *result_columns([], taxonomy.ids)]


def test_several_questions_are_prefixed_and_combined(score, two_questions, tmp_path, taxonomy):
    output = tmp_path / "o.parquet"
    code, out, err = score(two_questions, "-o", output, "-c", "why", "-c", "better", "--combined",
                           "--id-column", "id", "--group-by", "directorate")
    assert code == 0, err
    scored = pd.read_parquet(output)
    contract = list(result_columns([], taxonomy.ids))
    assert list(scored.columns) == (
        ["id", "why", "better", "directorate"]
        + [f"why__{c}" for c in contract] + [f"better__{c}" for c in contract] + [f"combined__{c}" for c in contract]
    )
    assert scored["combined__status"].tolist() == ["ok", "empty", "ok", "ok"]
    for behaviour in taxonomy.ids:
        best = scored[[f"why__score_{behaviour}", f"better__score_{behaviour}"]].max(axis=1)
        assert scored[f"combined__score_{behaviour}"].fillna(-1).tolist() == best.fillna(-1).tolist()
    assert "trust" in scored["combined__behaviours"][0].split(";") and "trust" in scored["combined__behaviours"][3].split(";")
    evidence = json.loads(scored["combined__evidence"][3])
    assert {"question": "better", "behaviour": "trust", "sentence": EXPLAINS}.items() <= next(
        e for e in evidence if e["behaviour"] == "trust"
    ).items()
    assert "warning: 1 id(s) in --id-column 'id' appear on more than one row" in err
    assert "why: answered: 3" in out and "combined: answered: 3" in out


def test_combine_takes_the_best_score_and_its_polarity(tagger, taxonomy):
    first, second, empty = tagger.tag([EXPLAINS, "Piloted a new way of running the clinic and tried new ideas.", ""])
    combined = combine_results([first, second, empty], ("q1", "q2", "q3"), taxonomy.ids)
    assert combined.scores == {b: max(first.scores[b], second.scores[b]) for b in taxonomy.ids}
    assert set(combined.behaviours) == set(first.behaviours) | set(second.behaviours)
    assert set(combined.strengths) | set(combined.gaps) == set(combined.behaviours)
    assert [e["question"] for e in combined.evidence] == ["q1"] * len(first.evidence) + ["q2"] * len(second.evidence)
    assert combine_results([empty, empty], ("q1", "q2"), taxonomy.ids).status == "empty"


@pytest.mark.parametrize(
    "args, message",
    [
        (["-c", "why", "--id-column", "respondent"], "no column 'respondent' (--id-column); columns are: id, why, better, directorate"),
        (["-c", "why", "--group-by", "directorate", "--group-by", "site"], "no column 'site' (--group-by)"),
        (["-c", "why", "--combined"], "--combined needs two or more --text-column"),
        (["-c", "why", "-c", "why"], "--text-column 'why' is given twice"),
        (["-c", "comment"], "no column 'comment'; columns are: id, why, better, directorate"),
    ],
)
def test_column_options_are_validated(score, two_questions, tmp_path, args, message):
    output = tmp_path / "o.csv"
    code, out, err = score(two_questions, "-o", output, *args)
    assert_one_line_error(code, out, err, message, output)


def test_prefixed_output_columns_already_in_the_input_are_refused(score, tmp_path):
    source = write_csv(tmp_path / "in.csv", [["a", "b", "a__status"], ["x", "y", "z"]])
    output = tmp_path / "o.csv"
    code, out, err = score(source, "-o", output, "-c", "a", "-c", "b")
    assert_one_line_error(code, out, err, "already has output column(s) a__status", output)


# ---------------------------------------------------------------- streaming, interruption and resume


@pytest.fixture()
def many(tmp_path):
    """40 rows, 20 chunks of 2; some answers repeated and some blank."""
    pool = [EXPLAINS, "Pay is too low.", "n/a", "", "Piloted a new way of running the clinic and tried new ideas.",
            "She admits her own mistakes openly in the huddle.", "Lockers are broken."]
    rows = [["id", "answer"]] + [[f"r{i:03d}", f"{pool[i % len(pool)]} {'' if i % 3 else f'Note {i}.'}".strip()] for i in range(40)]
    return write_csv(tmp_path / "many.csv", rows)


def interrupt_at_chunk(monkeypatch, index: int):
    """Make the next run stop with Ctrl-C when chunk `index` is about to be saved; returns the real `save`."""
    save = PartialRun.save

    def interrupted_save(self, at, frame):
        if at == index:
            raise KeyboardInterrupt
        save(self, at, frame)

    monkeypatch.setattr(PartialRun, "save", interrupted_save)
    return save


def test_interrupted_run_leaves_no_output_and_resume_finishes_without_rescoring(score, many, tmp_path, monkeypatch):
    reference = tmp_path / "reference.csv"
    assert score(many, "-o", reference, "-c", "answer")[0] == 0
    output = tmp_path / "o.csv"
    save = PartialRun.save
    saved = []

    def interrupted_save(self, index, frame):
        if len(saved) == 3:
            raise KeyboardInterrupt  # Ctrl-C while the fourth chunk is being written
        saved.append(index)
        save(self, index, frame)

    monkeypatch.setattr(PartialRun, "save", interrupted_save)
    code, _, err = score(many, "-o", output, "-c", "answer")
    assert code == 130 and "rerun with --resume" in err
    assert not output.exists()
    folder = partial_folder(output)
    assert sorted(p.name for p in folder.iterdir()) == ["chunk-000000.parquet", "chunk-000001.parquet", "chunk-000002.parquet", "manifest.json"]

    code, out, err = score(many, "-o", output, "-c", "answer")
    assert_one_line_error(code, out, err, "holds an interrupted run: pass --resume to continue it, or delete the folder")

    saved.clear()
    monkeypatch.setattr(PartialRun, "save", lambda self, index, frame: (saved.append(index), save(self, index, frame)))
    code, out, err = score(many, "-o", output, "-c", "answer", "--resume")
    assert code == 0, err
    assert saved == list(range(3, 20))  # the three finished chunks are not scored again
    assert "resuming: 3 chunk(s) already scored" in err
    assert output.read_bytes() == reference.read_bytes()
    assert not folder.exists()


def test_resume_after_sigkill_gives_the_same_rows_as_an_uninterrupted_run(score, model_dir, params_file, tmp_path):
    params_file.write_text(params_file.read_text().replace("chunk_size: 2", "chunk_size: 20"))
    pool = [EXPLAINS, "Pay is too low.", "n/a", "", "She admits her own mistakes openly in the huddle."]
    rows = [["id", "answer"]] + [[f"r{i:05d}", f"{pool[i % len(pool)]} Row {i}."] for i in range(3000)]
    source = write_csv(tmp_path / "big.csv", rows)
    output = tmp_path / "o.jsonl"
    folder = partial_folder(output)
    command = [sys.executable, "-m", "pipeline.cli", "score", str(source), "-o", str(output), "-c", "answer",
               "--model", str(model_dir), "--params", str(params_file), "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (folder.is_dir() and len(list(folder.glob("chunk-*.parquet"))) >= 3):
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = len(list(folder.glob("chunk-*.parquet")))
    assert not output.exists() and 3 <= finished < 150

    code, _, err = score(source, "-o", output, "-c", "answer", "--resume")
    assert code == 0, err
    reference = tmp_path / "reference.jsonl"
    assert score(source, "-o", reference, "-c", "answer")[0] == 0
    resumed = output.read_text(encoding="utf-8").splitlines()
    assert len(resumed) == 3000 and [json.loads(line)["id"] for line in resumed] == [f"r{i:05d}" for i in range(3000)]
    assert resumed == reference.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    "change, message",
    [
        ("input", "cannot resume: the input file changed since the interrupted run"),
        ("options", "cannot resume: the options changed since the interrupted run"),
    ],
)
def test_resume_refuses_when_input_or_options_changed(score, many, tmp_path, monkeypatch, change, message):
    output = tmp_path / "o.csv"
    save = interrupt_at_chunk(monkeypatch, 1)
    assert score(many, "-o", output, "-c", "answer")[0] == 130
    monkeypatch.setattr(PartialRun, "save", save)
    extra = []
    if change == "input":
        many.write_text(many.read_text() + "r999,One more answer.\n")
    else:
        extra = ["--id-column", "id"]
    code, out, err = score(many, "-o", output, "-c", "answer", "--resume", *extra)
    assert_one_line_error(code, out, err, message)
    assert partial_folder(output).is_dir() and not output.exists()


def test_resume_refuses_a_changed_model(tmp_path, trained, model_dir):
    run = PartialRun(tmp_path / "o.csv")
    run.open({"input file": "a", "options": "b", "model": "c"}, resume=False)
    with pytest.raises(InputError, match="the model changed"):
        run.open({"input file": "a", "options": "b", "model": "d"}, resume=True)


def test_every_output_format_streams_chunks_with_an_all_empty_chunk(score, tmp_path):
    rows = [["id", "answer"], ["1", EXPLAINS], ["2", "Pay is too low."], ["3", ""], ["4", ""], ["5", "n/a"]]
    source = write_csv(tmp_path / "in.csv", rows)
    for suffix in (".csv", ".xlsx", ".jsonl", ".parquet"):
        output = tmp_path / f"o{suffix}"
        code, _, err = score(source, "-o", output, "-c", "answer")
        assert code == 0, err
        scored = read_output(output)
        assert scored["id"].tolist() == ["1", "2", "3", "4", "5"]
        assert scored["status"].tolist() == ["ok", "ok", "empty", "empty", "ok"]
        assert "trust" in scored["behaviours"][0]


def test_input_with_no_rows_gives_a_header_only_output(score, tmp_path, taxonomy):
    source = write_csv(tmp_path / "in.csv", [["id", "answer"]])
    output = tmp_path / "o.csv"
    code, _, err = score(source, "-o", output, "-c", "answer")
    assert code == 0, err
    assert output.read_text().splitlines() == [",".join(["id", "answer", *result_columns([], taxonomy.ids)])]


# ---------------------------------------------------------------- each distinct text tagged once


class CountingEncoder:
    """The stand-in encoder, recording every piece it is asked to encode."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.max_tokens, self.dim, self.fingerprint = encoder.max_tokens, encoder.dim, encoder.fingerprint
        self.seen = []

    def encode(self, texts):
        self.seen += texts
        return self.encoder.encode(texts)

    def within_limit(self, sentence):
        return self.encoder.within_limit(sentence)


@pytest.fixture()
def tagger(trained, encoder, splitter):
    return Tagger(trained[0], encoder=CountingEncoder(encoder), splitter=splitter, empty_values=())


def test_identical_answers_are_encoded_once_across_chunks_and_questions(tagger, taxonomy):
    texts = [EXPLAINS, f"  {EXPLAINS}", "Pay is too low.", "n/a", "Pay  is too\tlow.", "", None, "N/A"]
    frames = [pd.DataFrame({"q1": texts[i : i + 3], "q2": texts[::-1][i : i + 3]}, dtype=object) for i in range(0, 8, 3)]
    cache = ResultCache(tagger, size=100)
    options = ScoreOptions(text_columns=("q1", "q2"), combined=True)
    scored = [score_chunk(frame, options, cache, taxonomy.ids) for frame in frames]
    assert sorted(tagger.encoder.seen) == sorted([EXPLAINS, "Pay is too low.", "n/a", "N/A"])
    assert cache.tagged == 4
    assert [list(s.columns) for s in scored] == [["q1", "q2", *output_columns(options, taxonomy.ids)]] * 3
    assert scored[0]["q1__score_trust"][0] == scored[0]["q1__score_trust"][1]


def test_the_cache_is_bounded(tagger, taxonomy):
    cache = ResultCache(tagger, size=2)
    for text in ["one answer", "two answers", "three answers", "one answer"]:
        cache.tag([text, text])
    assert cache.tagged == 4  # "one answer" had been dropped, so it is tagged again
    assert len(cache._results) == 2


# ---------------------------------------------------------------- progress


def test_plain_progress_lines_every_interval():
    now = [0.0]
    lines = []
    progress = ProgressLines(total=1000, write=lines.append, interval=10.0, clock=lambda: now[0])
    for _ in range(10):
        now[0] += 4.0
        progress.add(100)
    progress.finish()
    assert lines == [
        "scored 300 of 1,000 rows (30%), 25.0 rows/s, about 28 s left",
        "scored 600 of 1,000 rows (60%), 25.0 rows/s, about 16 s left",
        "scored 900 of 1,000 rows (90%), 25.0 rows/s, about 4 s left",
        "scored 1,000 rows in 40.0 s (25.0 rows/s)",
    ]


def test_progress_on_stderr_when_not_a_terminal_and_quiet_silences_it(score, many, tmp_path):
    code, out, err = score(many, "-o", tmp_path / "o.csv", "-c", "answer")
    assert code == 0 and err.startswith("scored 40 rows in ") and "rows/s" in err
    assert "40 rows scored" in out and "distinct answers tagged in this run: 20 " in out
    code, out, err = score(many, "-o", tmp_path / "q.csv", "-c", "answer", "--quiet")
    assert code == 0 and err == "" and "40 rows scored" in out


# ---------------------------------------------------------------- the bundled messy examples


def test_bundled_csv_example(score, tmp_path):
    output = tmp_path / "scored.csv"
    code, _, err = score(EXAMPLES / "exit_survey_export_cp1252.csv", "-o", output, "-c", "leaving_reason",
                           "-c", "could_do_better", "--combined", "--id-column", "response_id",
                           "--group-by", "directorate", "--group-by", "staff_group")
    assert code == 0, err
    assert "read as cp1252, ';'-delimited" in err and "warning" not in err
    scored = read_output(output)
    assert len(scored) == 150 and scored["response_id"].is_unique
    assert any("’" in answer for answer in scored["leaving_reason"])
    assert any("\n" in answer for answer in scored["could_do_better"])
    assert set(scored["could_do_better__status"]) == {"ok", "empty"}
    assert (scored["combined__status"] == "ok").sum() >= (scored["leaving_reason__status"] == "ok").sum()


def test_bundled_xlsx_example_matches_the_csv(score, tmp_path):
    output = tmp_path / "scored.csv"
    code, _, err = score(EXAMPLES / "exit_survey_export.xlsx", "-o", output, "-c", "leaving_reason", "--quiet")
    assert code == 0, err
    from_xlsx = read_output(output)
    from_csv = next(open_export(EXAMPLES / "exit_survey_export_cp1252.csv").chunks(1000))
    assert from_xlsx["response_id"].tolist() == from_csv["response_id"].tolist()
    answers = from_csv["leaving_reason"].map(neutralise_formula)  # as every CSV output writes them
    assert from_xlsx["leaving_reason"].str.strip().tolist() == answers.str.strip().tolist()
    day, month, year = from_csv["date_left"][0].split("/")
    assert from_xlsx["date_left"][0] == f"{year}-{month}-{day}"
    export = open_export(EXAMPLES / "exit_survey_export.xlsx")
    assert export.sheets == ("Responses", "Questions") and export.header_index == 4


# ---------------------------------------------------------------- --redact and --report

NHS = "943 476 5919"  # passes the Modulus 11 check
PLANTED = ["jo.bloggs@nhs.net", "07700 900461", NHS, "Okonkwo"]
IDENTIFIED = f"He explains the reasons behind every rota decision,  Dr Okonkwo, jo.bloggs@nhs.net, 07700 900461, NHS {NHS}."


@pytest.fixture()
def identified(tmp_path):
    """Two questions; identifiers planted in answers (and so in their evidence), some across white space runs."""
    rows = [["id", "site", "submitted", "q1", "q2"]]
    for i in range(24):
        q1 = IDENTIFIED if i % 3 == 0 else ANSWERS[i % len(ANSWERS)]
        q2 = f"Call  Dr Okonkwo on\n07700 900461. {EXPLAINS}" if i % 4 == 0 else "Pay is too low."
        rows.append([f"r{i:02d}", "A" if i < 14 else "B", f"2025-0{1 + i % 3}-1{i % 10}", q1, q2])
    return write_csv(tmp_path / "identified.csv", rows)


def _score_columns(frame):
    return frame[[c for c in frame.columns if c.endswith(("behaviours", "strengths", "gaps", "status")) or "score_" in c]]


def test_redact_leaves_no_identifier_in_text_or_evidence_and_the_same_tags(score, identified, tmp_path):
    args = ["-c", "q1", "-c", "q2", "--combined"]
    plain, redacted = tmp_path / "plain.csv", tmp_path / "redacted.csv"
    assert score(identified, "-o", plain, *args)[0] == 0
    code, out, err = score(identified, "-o", redacted, *args, "--redact")
    assert code == 0, err
    before, after = read_output(plain), read_output(redacted)
    evidence = " ".join(before[c].str.cat() for c in before.columns if c.endswith("evidence"))
    assert all(p in evidence for p in PLANTED)  # the identifiers were in the evidence without --redact
    written = redacted.read_text(encoding="utf-8")
    assert not any(p in written for p in PLANTED)
    assert "[EMAIL]" in after["q1"][0] and "[NHS_NUMBER]" in after["q1"][0] and "[NAME]" in after["q2"][0]
    sentences = [item["sentence"] for c in ("q1__evidence", "combined__evidence") for cell in after[c] for item in json.loads(cell)]
    assert any("[PHONE]" in s and "[EMAIL]" in s for s in sentences)
    pd.testing.assert_frame_equal(_score_columns(before), _score_columns(after))  # tagged on the original text
    assert after[["id", "site", "submitted"]].equals(before[["id", "site", "submitted"]])
    assert "[EMAIL] 8, [STAFF_ID] 0, [NHS_NUMBER] 8, [PHONE] 14" in out  # counts per kind, never the text
    assert not any(p in out + err for p in PLANTED)


def test_resume_with_a_changed_redact_is_refused(score, identified, tmp_path, monkeypatch):
    output = tmp_path / "o.csv"
    save = interrupt_at_chunk(monkeypatch, 2)
    assert score(identified, "-o", output, "-c", "q1", "-c", "q2", "--redact")[0] == 130
    folder = partial_folder(output)
    assert not any(p in chunk.read_bytes().decode("utf-8", "replace") for chunk in folder.iterdir() for p in PLANTED)
    monkeypatch.setattr(PartialRun, "save", save)
    code, out, err = score(identified, "-o", output, "-c", "q1", "-c", "q2", "--resume")
    assert_one_line_error(code, out, err, "cannot resume: the options changed")
    code, out, err = score(identified, "-o", output, "-c", "q1", "-c", "q2", "--resume", "--redact")
    assert code == 0, err
    assert "[EMAIL] 8," in out  # the counts of the chunks scored before the interruption are kept
    assert not any(p in output.read_text(encoding="utf-8") for p in PLANTED)


@pytest.fixture()
def carded_model(model_dir, tmp_path):
    """The tiny model with test-split figures on its card, as `behaviours train` writes for a real model."""
    folder = tmp_path / "carded"
    shutil.copytree(model_dir, folder)
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    card["evaluation"]["test"] = {"texts": 40, "macro_f1": 0.5, "micro_f1": 0.55, "f1_per_behaviour": {"trust": 0.6}}
    (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


def test_score_report_writes_the_board_report_of_the_combined_result(run_cli, carded_model, params_file, identified, tmp_path):
    params_file.write_text(params_file.read_text() + "report:\n  min_group_size: 5\n")
    output, report, xlsx = tmp_path / "scored.parquet", tmp_path / "report.html", tmp_path / "summary.xlsx"
    code, out, err = run_cli(
        "score", identified, "-o", output, "-c", "q1", "-c", "q2", "--combined", "--group-by", "site",
        "--report", report, "--report-xlsx", xlsx, "--date-column", "submitted", "--redact",
        "--model", carded_model, "--params", params_file,
    )
    assert code == 0, err
    assert output.exists() and f"report → {report}, summary tables → {xlsx} (24 answered of 24 responses)" in out
    html = report.read_text(encoding="utf-8")
    for section in ("Behaviours by site", "Themes over time", "combined", "fewer than 5 answered responses"):
        assert section in html
    assert not any(p in html for p in PLANTED)
    assert "By site" in openpyxl.load_workbook(xlsx).sheetnames
    # the same function path as `behaviours report` on the scored file
    again = tmp_path / "again.html"
    code, _, err = run_cli("report", output, "-o", again, "--group-by", "site", "--date-column", "submitted",
                           "--model", carded_model, "--params", params_file)
    assert code == 0, err
    dated = re.compile(r"\d{1,2} \w+ \d{4}|\d{4}-\d{2}-\d{2}")
    assert dated.sub("", again.read_text(encoding="utf-8")) == dated.sub("", html)


@pytest.mark.parametrize(
    "args, message",
    [
        (["-c", "q1", "-c", "q2", "--report", "r.html"], "--report with several --text-column needs --combined"),
        (["-c", "q1", "--report", "r.pdf"], "the report is HTML; give a .html file"),
        (["-c", "q1", "--date-column", "submitted"], "--date-column needs --report"),
        (["-c", "q1", "--report", "r.html", "--date-column", "when"], "no column 'when' (--date-column)"),
        (["-c", "q1", "--report", "r.html"], "no test-split evaluation"),  # the tiny model's card: refused before scoring
    ],
)
def test_report_options_are_checked_before_scoring(score, identified, tmp_path, args, message):
    output = tmp_path / "o.csv"
    args = [str(tmp_path / a) if a.startswith("r.") else a for a in args]
    code, out, err = score(identified, "-o", output, *args)
    assert_one_line_error(code, out, err, message, output)


def test_evidence_gets_the_spans_found_in_its_whole_answer():
    from pipeline.batch.redaction import redact_scored
    from pipeline.redact.patterns import Found

    class Stub:  # "Sam" is a name only in the whole answer; a sentence alone is redacted by its own rule
        def find(self, texts):
            return [[Found("NAME", m.start(), m.end()) for m in re.finditer(r"Sam|Lone", t)] for t in texts]

    answer = "My manager  Sam\r\nexplains   why. Sam listens."
    evidence = [{"behaviour": "trust", "sentence": "My manager Sam"}, {"behaviour": "trust", "sentence": "Sam listens."},
                {"behaviour": "trust", "sentence": "Lone sentence."}]
    frame = pd.DataFrame({"a": [answer, None], "evidence": [json.dumps(evidence), "[]"]}, dtype=object)
    redacted, counts = redact_scored(frame, ScoreOptions(text_columns=("a",)), Stub())
    assert redacted["a"].tolist() == ["My manager  [NAME]\r\nexplains   why. [NAME] listens.", None]
    sentences = [item["sentence"] for item in json.loads(redacted["evidence"][0])]
    assert sentences == ["My manager [NAME]", "[NAME] listens.", "[NAME] sentence."]
    assert counts == {"NAME": 2} and frame["a"][0] == answer  # the input frame is left as it was
