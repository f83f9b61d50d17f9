"""The `behaviours` command end to end with the stand-in encoder, including every bad input."""

import dataclasses
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from helpers import tiny_rows, write_labelled_csv

SCORE_COLUMNS = 3 + 13 + 2  # behaviours, strengths, gaps, score_<id> × 13, evidence, status


@pytest.fixture()
def survey(tmp_path):
    path = tmp_path / "survey.csv"
    pd.DataFrame(
        {
            "respondent": ["r1", "r2", "r3", "r4"],
            "answer": ["He explains the reasons behind every rota decision.", "", "n/a", "Pay is too low."],
            "site": ["A", "B", "A", "C"],
        }
    ).to_csv(path, index=False)
    return path


@pytest.fixture()
def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "encoder": {"backend": "hashing", "model": "", "dim": 512},
                "text": {"sentences": "sentencizer"},
                "split": {"test_fraction": 0.25, "seed": 1},
                "train": {"C": 10.0, "class_weight": "balanced", "cv_folds": 3},
                "score": {"chunk_size": 2, "empty_values": []},  # "n/a" stays an answer here (filler: test_safe_outputs)
            }
        )
    )
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl", ".parquet"])
def test_score_keeps_every_column_and_adds_the_contract(run_cli, model_dir, params_file, survey, tmp_path, suffix):
    output = tmp_path / f"scored{suffix}"
    code, out, err = run_cli("score", survey, "-o", output, "--text-column", "answer", "--model", model_dir, "--params", params_file)
    assert code == 0, err
    scored = pd.read_csv(output, keep_default_na=False) if suffix == ".csv" else None
    if scored is None:
        from pipeline.io.files import read_table

        scored = read_table(output)
    assert list(scored.columns[:3]) == ["respondent", "answer", "site"]
    assert len(scored.columns) == 3 + SCORE_COLUMNS
    assert list(scored.columns[3:7]) == ["behaviours", "strengths", "gaps", "score_authenticity"]
    assert scored["status"].tolist() == ["ok", "empty", "ok", "ok"]
    assert "trust" in scored["behaviours"][0].split(";")
    evidence = json.loads(scored["evidence"][0])
    assert any(e["behaviour"] == "trust" and e["sentence"].startswith("He explains") for e in evidence)
    assert json.loads(scored["evidence"][1]) == []
    assert "4 rows scored" in out


def test_score_reads_excel_input(run_cli, model_dir, params_file, survey, tmp_path):
    xlsx = tmp_path / "survey.xlsx"
    pd.read_csv(survey, keep_default_na=False).to_excel(xlsx, index=False)
    code, _, err = run_cli("score", xlsx, "-o", tmp_path / "o.csv", "-c", "answer", "--model", model_dir, "--params", params_file)
    assert code == 0, err
    assert pd.read_csv(tmp_path / "o.csv")["status"].tolist() == ["ok", "empty", "ok", "ok"]


def _assert_one_line_error(code, out, err, message, output):
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out
    assert not output.exists()


def test_missing_column_lists_the_columns(run_cli, model_dir, survey, tmp_path):
    output = tmp_path / "o.csv"
    code, out, err = run_cli("score", survey, "-o", output, "-c", "comment", "--model", model_dir)
    _assert_one_line_error(code, out, err, "no column 'comment'; columns are: respondent, answer, site", output)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("bad.txt", b"hello", "unknown file type '.txt'"),
        ("bad.xlsx", b"not a workbook", "cannot read as xlsx"),
        ("empty.csv", b"", "the file is empty"),
        ("missing.csv", None, "file not found"),
    ],
)
def test_unreadable_input_writes_nothing(run_cli, model_dir, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    output = tmp_path / "o.csv"
    code, out, err = run_cli("score", path, "-o", output, "-c", "answer", "--model", model_dir)
    _assert_one_line_error(code, out, err, message, output)


def test_unknown_output_type_fails_before_work(run_cli, model_dir, survey, tmp_path):
    output = tmp_path / "o.docx"
    code, out, err = run_cli("score", survey, "-o", output, "-c", "answer", "--model", model_dir)
    _assert_one_line_error(code, out, err, "unknown file type '.docx'", output)


def test_already_scored_file_is_refused(run_cli, model_dir, params_file, survey, tmp_path):
    first = tmp_path / "first.csv"
    assert run_cli("score", survey, "-o", first, "-c", "answer", "--model", model_dir, "--params", params_file)[0] == 0
    output = tmp_path / "again.csv"
    code, out, err = run_cli("score", first, "-o", output, "-c", "answer", "--model", model_dir)
    _assert_one_line_error(code, out, err, "already has output column(s) behaviours", output)


def test_missing_model(run_cli, survey, tmp_path):
    output = tmp_path / "o.csv"
    code, out, err = run_cli("score", survey, "-o", output, "-c", "answer", "--model", tmp_path / "none")
    _assert_one_line_error(code, out, err, "no model at", output)


def test_tag_prints_behaviour_and_evidence(run_cli, model_dir):
    code, out, _ = run_cli("tag", "Pay is low. He explains the reasons behind every rota decision.", "--model", model_dir)
    assert code == 0
    assert "Trust" in out and "He explains the reasons behind every rota decision." in out
    assert "▲ strength" in out or "▼ gap" in out


def test_tag_says_plainly_when_none_applies(run_cli, model_dir):
    code, out, _ = run_cli("tag", "The canteen closes too early.", "--model", model_dir)
    assert code == 0 and "No behaviour from the framework found" in out
    code, out, _ = run_cli("tag", "   ", "--model", model_dir)
    assert code == 0 and "empty" in out


def test_tag_file_and_json(run_cli, model_dir, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Coaching note.\nShe delegates real decisions and coaches her staff to develop.\n", encoding="utf-8")
    code, out, _ = run_cli("tag", "--file", note, "--json", "--model", model_dir)
    assert code == 0
    result = json.loads(out)
    assert result["status"] == "ok" and "lead_enable_others" in result["behaviours"]
    assert len(result["scores"]) == 13
    assert sorted(result["strengths"] + result["gaps"]) == sorted(result["behaviours"])
    assert all(item["polarity"] in ("+", "-") for item in result["evidence"])


def test_tag_bad_arguments(run_cli, model_dir, tmp_path):
    code, _, err = run_cli("tag", "--model", model_dir)
    assert code == 2 and "either a text or --file" in err
    code, _, err = run_cli("tag", "--file", tmp_path / "missing.txt", "--model", model_dir)
    assert code == 2 and "file not found" in err


def test_split_train_evaluate_cycle(run_cli, params_file, tmp_path):
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    write_labelled_csv(labelled / "tiny.csv", tiny_rows())
    model = tmp_path / "model"
    cache = tmp_path / "cache.sqlite3"
    code, out, err = run_cli("split", "--labelled", labelled, "--params", params_file, "--embedding-cache", cache)
    assert code == 0, err
    test_ids = (labelled / "test_ids.txt").read_text().split()
    assert 10 <= len(test_ids) <= 20
    code, _, err = run_cli("split", "--labelled", labelled, "--params", params_file, "--embedding-cache", cache)
    assert code == 2 and "fixed" in err  # the split is not replaced by accident
    code, out, err = run_cli(
        "train", "--labelled", labelled, "--params", params_file, "--model-dir", model, "--embedding-cache", cache,
        "--no-track",
    )
    assert code == 0, err
    assert cache.is_file()
    assert "Held-out test split" in out and (model / "card.json").is_file()
    card = json.loads((model / "card.json").read_text())
    assert card["training_data"]["rows"] == len(tiny_rows()) - len(test_ids)
    assert card["evaluation"]["test"]["texts"] == len(test_ids)
    code, out, err = run_cli("evaluate", "--labelled", labelled, "--model", model, "--params", params_file, "--json", "--no-track")
    assert code == 0, err
    report = json.loads(out)
    assert report["texts"] == len(test_ids)
    assert set(report["per_behaviour"]) == set(card["thresholds"])
    assert {"macro_f1", "micro_f1", "exact_match", "none_untagged", "none_precision", "per_register"} <= set(report)
    code, out, err = run_cli("evaluate", labelled / "tiny.csv", "--model", model, "--params", params_file, "--no-track")
    assert code == 0 and f"texts {len(tiny_rows())}" in out


def test_a_model_whose_encoder_is_not_fetched_is_a_one_line_error(run_cli, model_dir, params_file, tmp_path):
    """models/mpnet before `make mpnet`: the model names an encoder folder that is not there."""
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["encoder"] |= {"backend": "sentence_transformers", "model": ".cache/no-such-encoder"}
    (copy / "config.json").write_text(json.dumps(config))
    code, out, err = run_cli("tag", "She explains every decision.", "--model", copy, "--params", params_file)
    assert code == 2 and out == ""
    assert err.startswith("error: encoder model '.cache/no-such-encoder' not found") and "make mpnet" in err
    assert err.count("\n") == 1


def test_train_an_experiments_recipe(run_cli, params_file, tmp_path):
    """`train --experiment NAME` trains what docs/experiments.md measured: its settings over --params."""
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    write_labelled_csv(labelled / "tiny.csv", tiny_rows())
    cache = tmp_path / "cache.sqlite3"
    assert run_cli("split", "--labelled", labelled, "--params", params_file, "--embedding-cache", cache)[0] == 0
    common = ("--labelled", labelled, "--params", params_file, "--embedding-cache", cache, "--no-track")
    code, _, err = run_cli("train", *common, "--model-dir", tmp_path / "plain")
    assert code == 0, err
    code, _, err = run_cli("train", *common, "--model-dir", tmp_path / "recipe", "--experiment", "words_gold")
    assert code == 0, err
    plain, recipe = (json.loads((tmp_path / name / "config.json").read_text()) for name in ("plain", "recipe"))
    assert (plain["aggregation"], plain["words"]) == ("max", None)
    assert recipe["aggregation"] == "text" and recipe["words"]["file"] == "words.npz"
    assert recipe["encoder"] == plain["encoder"]  # what the recipe does not name comes from --params
    code, _, err = run_cli("train", *common, "--model-dir", tmp_path / "none", "--experiment", "no_such_recipe")
    assert code == 2 and "no_such_recipe.yaml: no such experiment" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "none").exists()


def test_evaluate_long_notes_of_the_answers_in_a_file(run_cli, tmp_path, params_file, model_dir):
    from helpers import TINY_NONE

    rows = [dataclasses.replace(r, register="exit_survey") for r in tiny_rows() if r.labels]
    rows += [dataclasses.replace(tiny_rows()[0], id=f"n{i}", text=f"{TINY_NONE[i % len(TINY_NONE)]} ({i})", labels=(), polarity=())
             for i in range(60)]
    answers = write_labelled_csv(tmp_path / "answers.csv", rows)
    code, out, err = run_cli("evaluate", "--long-notes", answers, "--model", model_dir, "--params", params_file, "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert list(figures) == ["5", "20", "60"] and figures["60"]["words"] > figures["5"]["words"]
    assert all(1.0 <= figures[n]["labels_per_note"] <= 2.0 for n in figures)  # two answers showing one behaviour each
    fewer = write_labelled_csv(tmp_path / "fewer.csv", rows[:-10])  # 50 behaviour-free answers: notes of 52 at most
    code, out, err = run_cli("evaluate", "--long-notes", fewer, "--model", model_dir, "--params", params_file, "--json")
    assert code == 0, err
    assert list(json.loads(out)) == ["5", "20", "52"]
    few = write_labelled_csv(tmp_path / "few.csv", rows[:-58])
    code, _, err = run_cli("evaluate", "--long-notes", few, "--model", model_dir, "--params", params_file)
    assert code == 2 and "too few answers for notes of 5 answers" in err
    code, out, err = run_cli("evaluate", "--long-notes", answers, "--model", model_dir, "--params", params_file)
    assert code == 0, err
    assert "60 answers (max, the model's):" in out and "of them carried by one of its answers read alone" in out


def test_labelled_validate(run_cli, tmp_path, params_file):
    good = write_labelled_csv(tmp_path / "good.csv", tiny_rows())
    options = ("--params", params_file, "--embedding-cache", tmp_path / "cache.sqlite3")
    code, out, _ = run_cli("labelled", "validate", good, *options)
    assert code == 0 and f"{len(tiny_rows())} labelled rows, no problems" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text,labels,polarity,register,source\nx1,hello,leadership,+,exit_survey,a\n")
    code, out, err = run_cli("labelled", "validate", bad, *options)
    assert code == 2 and "bad.csv:2: x1: unknown behaviour id(s) leadership" in out


def test_bad_config_is_one_line(run_cli, model_dir, survey, tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("score: {chunk: 3}\n")
    code, _, err = run_cli("score", survey, "-o", tmp_path / "o.csv", "-c", "answer", "--model", model_dir, "--params", params)
    assert code == 2 and "unknown key(s) chunk" in err


def test_console_script_exit_code(tmp_path):
    """The installed entry point itself: a bad input gives exit 2 and one line, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "score", str(tmp_path / "x.csv"), "-o", str(tmp_path / "o.csv"), "-c", "a"],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'x.csv'}: file not found"
