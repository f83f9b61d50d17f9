"""`behaviours labelled validate | stats | add` with the stand-in encoder, and the functions behind them."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import tiny_rows, write_labelled_csv

from pipeline.config import DataParams, params_from_dict
from pipeline.data.additions import (
    fresh_ids,
    id_prefix,
    plan_addition,
    same_labels,
    with_labels_replaced,
    with_rows_appended,
    write_files,
)
from pipeline.data.rows import LabelledRow, labelled_csv_text, near_duplicate_pairs, near_duplicate_problems
from pipeline.data.stats import corpus_stats, coverage_gaps
from pipeline.errors import InputError

HEADER = "id,text,labels,polarity,register,source\n"
MET = {  # targets the tiny set meets
    "min_per_behaviour": 4,
    "critical_share": 0.0,
    "critical_share_tolerance": 0.0,
    "min_no_behaviour": 12,
    "min_multi_label_share": 0.0,
    "min_registers_per_behaviour": 1,
}


def _params(tmp_path, data=None):
    path = tmp_path / "params.yaml"
    raw = {"encoder": {"backend": "hashing", "model": "", "dim": 512}, "text": {"sentences": "sentencizer"}}
    path.write_text(yaml.safe_dump({**raw, "data": data or {}}))
    return path


@pytest.fixture()
def params_file(tmp_path):
    return _params(tmp_path)


def _validate(run_cli, labelled, params, cache):
    return run_cli("labelled", "validate", "--labelled", labelled, "--params", params, "--embedding-cache", cache)


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _new_file(tmp_path, body, name="new.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _row(row_id, text, labels=(), polarity=(), register="exit_survey", file="f.csv", line=2):
    return LabelledRow(row_id, text, tuple(labels), tuple(polarity), register, "authored:t", file, line)


# ---------------------------------------------------------------- near duplicates


def test_near_duplicate_pairs_on_hand_made_vectors():
    vectors = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [0.0, 0.0], [2.0, 0.0]])
    pairs = near_duplicate_pairs(vectors, 0.95)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (0, 4), (1, 4)]  # ordered by the later row
    assert pairs[0][2] == pytest.approx(0.99 / np.hypot(0.99, 0.14))
    assert pairs[1][2] == pytest.approx(1.0)  # lengths do not matter; a zero vector matches nothing
    assert near_duplicate_pairs(vectors, 0.95, block=2) == pairs
    assert near_duplicate_pairs(vectors, 0.999) == [(0, 4, pytest.approx(1.0))]
    assert near_duplicate_pairs(np.zeros((0, 3)), 0.95) == []


def test_near_duplicate_problems_name_the_first_row_and_skip_exact_duplicates():
    rows = [
        _row("a", "Explains why.", ["trust"], ["+"], line=2),
        _row("b", "explains  WHY.", ["trust"], ["+"], line=3),  # exact duplicate: reported elsewhere
        _row("c", "Explains why!", ["trust"], ["+"], line=4),
        _row("d", "Explains why?", ["delivery"], ["+"], line=5),
    ]
    vectors = np.tile([[0.6, 0.8]], (4, 1))
    messages = [str(p) for p in near_duplicate_problems(rows, vectors, 0.95)]
    assert messages[0] == "f.csv:4: c: near duplicate of a (f.csv:2, cosine 1.00)"
    assert "f.csv:5: d: conflicting labels for near duplicate of a (f.csv:2, cosine 1.00)" in messages
    assert not any(m.startswith("f.csv:3") for m in messages)


def test_validate_finds_near_duplicates(run_cli, labelled, params_file, tmp_path):
    cache = tmp_path / "cache.sqlite3"
    code, out, err = _validate(run_cli, labelled, params_file, cache)
    assert code == 0, out + err
    assert f"{len(tiny_rows())} labelled rows, no problems" in out
    assert cache.is_file()
    _new_file(
        labelled, "n-1,Supported me to apply for training and develop my skills!,lead_enable_others,+,exit_survey,a\n"
        "n-2,The car parking is terrible!!,trust,-,exit_survey,a\n", "z_more.csv",
    )  # fmt: skip
    code, out, err = _validate(run_cli, labelled, params_file, cache)
    assert code == 2 and "2 problem(s)" in err
    assert "z_more.csv:2: n-1: near duplicate of t-" in out and "cosine 1.00" in out
    assert "z_more.csv:3: n-2: conflicting labels for near duplicate of t-" in out


def test_validate_threshold_comes_from_params(run_cli, labelled, tmp_path):
    _new_file(labelled, "n-1,The car parking is really terrible.,,,exit_survey,a\n", "z_more.csv")
    strict = _params(tmp_path, {"near_duplicate_cosine": 0.999})
    code, out, _ = _validate(run_cli, labelled, strict, tmp_path / "c")
    assert code == 0 and "cosine ≥ 0.999" in out
    loose = _params(tmp_path, {"near_duplicate_cosine": 0.5})
    code, out, _ = _validate(run_cli, labelled, loose, tmp_path / "c")
    assert code == 2 and "n-1: near duplicate of t-" in out


def test_data_params_reject_unknown_keys():
    assert params_from_dict({}).data == DataParams()
    with pytest.raises(InputError, match="data: unknown key.*min_rows"):
        params_from_dict({"data": {"min_rows": 3}})


# ---------------------------------------------------------------- stats


def test_corpus_stats_counts_by_behaviour_register_and_polarity(taxonomy):
    rows = [
        _row("1", "a", ["trust", "delivery"], ["+", "-"]),
        _row("2", "b", ["trust"], ["-"], register="staff_survey"),
        _row("3", "c", ["trust"], []),  # no polarity given
        _row("4", "d", ["trust"], ["+"], register="brainstorm"),  # counted, not targeted
        _row("5", "e"),
        _row("6", "f", register="framework"),
    ]
    stats = corpus_stats(rows, taxonomy)
    trust = stats["behaviours"]["trust"]
    assert trust["by_register"]["exit_survey"] == {"+": 1, "-": 0, "?": 1}
    assert trust["by_register"]["brainstorm"] == {"+": 1, "-": 0, "?": 0}
    assert (trust["rows"], trust["user_rows"], trust["user_registers"]) == (4, 3, 2)
    assert trust["critical_share"] == 0.5
    assert stats["behaviours"]["mindset"]["critical_share"] is None
    assert stats["no_behaviour"]["by_register"]["framework"] == 1
    assert (stats["no_behaviour"]["rows"], stats["no_behaviour"]["user_rows"]) == (2, 1)
    assert stats["multi_label_share"] == 0.3333  # rounded to 4 places, as the other shares
    json.dumps(stats)  # JSON-ready


def test_coverage_gaps_name_each_target(taxonomy):
    rows = [_row(str(i), f"text {i}", ["trust"], ["+"]) for i in range(3)] + [_row("n", "none")]
    gaps = coverage_gaps(corpus_stats(rows, taxonomy), DataParams())
    by_target = {(g.target, g.subject) for g in gaps}
    assert ("min_per_behaviour", "trust") in by_target and ("min_per_behaviour", "mindset") in by_target
    assert ("critical_share", "trust") in by_target
    assert ("min_registers_per_behaviour", "trust") in by_target
    assert ("min_no_behaviour", "corpus") in by_target and ("min_multi_label_share", "corpus") in by_target
    trust_share = next(g for g in gaps if g.target == "critical_share" and g.subject == "trust")
    assert str(trust_share) == "gap: trust: 0% critical (-) (target 33%, a gap below 25%)"
    mindset_share = next(g for g in gaps if g.target == "critical_share" and g.subject == "mindset")
    assert mindset_share.message == "mindset: no polarity given (target 33%, a gap below 25%)"
    met = DataParams(**{**MET, "min_per_behaviour": 0, "min_no_behaviour": 1, "min_registers_per_behaviour": 0})
    assert coverage_gaps(corpus_stats(rows, taxonomy), met) == []


def test_critical_share_within_tolerance_is_no_gap(taxonomy):
    def trust_share_gaps(rows):
        gaps = coverage_gaps(corpus_stats(rows, taxonomy), DataParams())
        return [g for g in gaps if g.target == "critical_share" and g.subject == "trust"]

    rows = [_row(str(i), f"text {i}", ["trust"], ["-" if i < 26 else "+"]) for i in range(100)]
    assert trust_share_gaps(rows) == []  # 26%: within 33% less the 8% tolerance
    rows = [replace(r, polarity=("+",)) if r.id == "0" else r for r in rows]
    assert trust_share_gaps(rows) == []  # 25% is not below 25%
    rows = [replace(r, polarity=("+",)) if r.id == "1" else r for r in rows]
    assert [g.value for g in trust_share_gaps(rows)] == [0.24]


def test_stats_marks_gaps_and_exits_0(run_cli, labelled, params_file):
    code, out, err = run_cli("labelled", "stats", "--labelled", labelled, "--params", params_file)
    assert code == 0, err
    assert "authenticity" in out and "no behaviour" in out
    assert "gap: authenticity: 4 rows in the user registers (target 60)" in out
    assert "gap: 12 rows with no behaviour in the user registers (target 400)" in out
    assert "all targets met" not in out


def test_stats_all_targets_met_and_json(run_cli, labelled, tmp_path):
    met = _params(tmp_path, MET)
    code, out, _ = run_cli("labelled", "stats", "--labelled", labelled, "--params", met)
    assert code == 0 and "all targets met" in out and "gap:" not in out
    code, out, _ = run_cli("labelled", "stats", "--labelled", labelled, "--params", met, "--json")
    report = json.loads(out)
    assert report["gaps"] == [] and report["params"]["min_per_behaviour"] == 4
    assert report["stats"]["behaviours"]["trust"]["by_register"]["appraisal_note"] == {"+": 2, "-": 2, "?": 0}
    code, out, _ = run_cli("labelled", "stats", "--labelled", labelled, "--json")  # the committed targets
    assert {g["target"] for g in json.loads(out)["gaps"]} >= {"min_per_behaviour", "min_no_behaviour"}


# ---------------------------------------------------------------- add: the pieces


def test_plan_sorts_new_rows(taxonomy):
    existing = [_row("e1", "Explains why.", ["trust"], ["+"]), _row("e2", "n/a")]
    new = [
        _row("n1", "A new text.", ["delivery"], ["+"]),
        _row("n2", "EXPLAINS  why.", ["trust"], []),  # same labels (no polarity given): duplicate
        _row("n3", "N/A", ["delivery"], ["-"]),  # conflict with e2
        _row("n4", "a new text.", ["delivery"], ["+"]),  # repeats n1 with the same labels: duplicate
        _row("n5", "A NEW TEXT.", ["trust"], ["+"]),  # repeats n1 with other labels: clash
    ]
    plan = plan_addition(existing, new)
    assert [r.id for r in plan.added] == ["n1"]
    assert [(m.new.id, m.existing.id) for m in plan.duplicates] == [("n2", "e1"), ("n4", "n1")]
    assert [(m.new.id, m.existing.id) for m in plan.conflicts] == [("n3", "e2")]
    assert [(m.new.id, m.existing.id) for m in plan.clashes] == [("n5", "n1")]


def test_same_labels_compares_polarity_only_where_both_give_it():
    a = _row("a", "x", ["trust", "delivery"], ["+", "-"])
    assert same_labels(a, _row("b", "x", ["delivery", "trust"], ["-", "+"]))
    assert same_labels(a, _row("b", "x", ["delivery", "trust"], []))
    assert not same_labels(a, _row("b", "x", ["delivery", "trust"], ["+", "+"]))
    assert not same_labels(a, _row("b", "x", ["trust"], ["+"]))


def test_file_content_changes_keep_everything_else(tmp_path):
    rows = tiny_rows()[:3]
    original = labelled_csv_text(rows, header=True) + "\r\n"  # a trailing blank line survives too
    changed = with_labels_replaced(original, [replace(rows[1], labels=("trust", "delivery"), polarity=("-", "+"))])
    before, after = original.split("\r\n"), changed.split("\r\n")
    assert [i for i, (b, a) in enumerate(zip(before, after)) if b != a] == [2] and len(before) == len(after)
    assert after[2] == f"{rows[1].id},{rows[1].text},trust;delivery,-;+,appraisal_note,authored:tiny"
    unix = "id,text,labels,polarity,register,source\nx1,a,,,exit_survey,s"  # no final line break
    assert with_rows_appended(unix, rows[:1]).split("\n")[2].startswith(rows[0].id)
    assert with_rows_appended("", rows[:1]) == labelled_csv_text(rows[:1], header=True)


def test_fresh_ids_skip_used_ones_and_prefix_is_a_slug():
    assert fresh_ids("add-x", 3, {"add-x-0002"}) == ["add-x-0001", "add-x-0003", "add-x-0004"]
    assert id_prefix(Path("in/Exit Survey_2025 (scored).xlsx")) == "add-exit-survey-2025-scored"
    assert id_prefix(Path("___.csv")) == "add-rows"


def test_write_files_writes_all_or_nothing(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("old", encoding="utf-8")
    with pytest.raises(InputError, match="does not exist"):
        write_files({good: "new", tmp_path / "missing" / "x.csv": "new"})
    assert good.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["good.csv"]
    write_files({good: "new\r\n", tmp_path / "other.csv": "x"})
    assert good.read_bytes() == b"new\r\n" and (tmp_path / "other.csv").read_text() == "x"


# ---------------------------------------------------------------- add: the command


def _add(run_cli, labelled, *args):
    return run_cli("labelled", "add", *args, "--labelled", labelled)


def test_add_appends_new_rows_and_skips_duplicates(run_cli, labelled, tmp_path):
    before = _snapshot(labelled)
    new = _new_file(
        tmp_path,
        "x-1,She explains every change to the rota before it happens.,trust,+,staff_survey,new:batch1\n"
        "x-2,THE CAR PARKING IS TERRIBLE.,,,exit_survey,new:batch1\n",  # an existing text, same labels
    )
    code, out, err = _add(run_cli, labelled, new)
    assert code == 0, out + err
    assert "added 1 → " in out and "labelled/added.csv" in out
    assert "skipped duplicates 1" in out and "conflicts resolved 0" in out
    assert "new.csv:3: x-2 (no behaviour) skipped: same text and labels as t-053" in out
    added = (labelled / "added.csv").read_text(encoding="utf-8")
    assert added.startswith(HEADER.strip()) and "x-1,She explains every change" in added and "x-2" not in added
    assert {k: v for k, v in _snapshot(labelled).items() if k != "added.csv"} == before  # test_ids.txt untouched
    code, out, _ = _add(run_cli, labelled, new)  # adding again changes nothing
    assert code == 0 and "added 0" in out and "skipped duplicates 2" in out
    code, out, _ = _validate(run_cli, labelled, _params(tmp_path), tmp_path / "c")
    assert code == 0, out


def test_add_to_a_named_file_keeps_its_content(run_cli, labelled, tmp_path):
    tiny = labelled / "tiny.csv"
    before = tiny.read_bytes()
    new = _new_file(tmp_path, "x-1,Asks the ward what is in the way.,lead_enable_others,+,exit_survey,new:b\n")
    code, out, err = _add(run_cli, labelled, new, "--to", tiny)
    assert code == 0, err
    after = tiny.read_bytes()
    assert after.startswith(before) and after[len(before):].startswith(b"x-1,Asks the ward")
    assert not (labelled / "added.csv").exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ("x-1,Some text,leadership,+,exit_survey,new:b\n", "new.csv:2: x-1: unknown behaviour id(s) leadership"),
        ("x-1,Some text,trust;delivery,+,exit_survey,new:b\n", "new.csv:2: x-1: 2 label(s) but 1 polarity value(s)"),
        ("x-1,Some text,trust,+,tweet,new:b\n", "new.csv:2: x-1: unknown register 'tweet'"),
    ],
)
def test_add_refuses_bad_rows_and_writes_nothing(run_cli, labelled, tmp_path, body, message):
    before = _snapshot(labelled)
    code, out, err = _add(run_cli, labelled, _new_file(tmp_path, body))
    assert code == 2 and message in out
    assert "problem(s) in the new rows; nothing written" in err and len(err.strip().splitlines()) == 1
    assert _snapshot(labelled) == before


def test_add_refuses_what_the_corpus_would_not_accept(run_cli, labelled, tmp_path):
    before = _snapshot(labelled)
    code, out, err = _add(run_cli, labelled, _new_file(tmp_path, "t-001,A brand new text.,trust,+,exit_survey,new:b\n"))
    assert code == 2 and "t-001: duplicate id" in out and "nothing written" in err
    assert _snapshot(labelled) == before


def test_add_refuses_conflicts_unless_told(run_cli, labelled, tmp_path):
    before = _snapshot(labelled)
    new = _new_file(tmp_path, "x-1,the car parking is terrible.,trust,-,exit_survey,new:b\n")
    code, out, err = _add(run_cli, labelled, new)
    assert code == 2 and "--prefer new or --prefer existing" in err
    assert "new.csv:2: x-1 (trust) labelled differently from t-053 (no behaviour" in out
    assert _snapshot(labelled) == before

    code, out, err = _add(run_cli, labelled, new, "--prefer", "existing")
    assert code == 0, err
    assert "existing labels kept" in out and "conflicts resolved 1" in out and "added 0" in out
    assert _snapshot(labelled) == before

    code, out, err = _add(run_cli, labelled, new, "--prefer", "new")
    assert code == 0, err
    assert "conflicts resolved 1 → " in out and "tiny.csv" in out
    lines = (labelled / "tiny.csv").read_text(encoding="utf-8").splitlines()
    old_lines = before["tiny.csv"].decode().splitlines()
    assert lines[53] == "t-053,The car parking is terrible.,trust,-,exit_survey,authored:tiny"  # id and text kept
    assert [i for i, (a, b) in enumerate(zip(lines, old_lines)) if a != b] == [53] and len(lines) == len(old_lines)
    assert not (labelled / "added.csv").exists()
    assert "note: 1 relabelled row(s) are in the fixed test split" in out
    assert (labelled / "test_ids.txt").read_bytes() == before["test_ids.txt"]


def test_add_refuses_a_text_repeated_with_other_labels(run_cli, labelled, tmp_path):
    body = "x-1,A brand new text.,trust,+,exit_survey,new:b\nx-2,a  BRAND new text.,delivery,+,exit_survey,new:b\n"
    code, out, err = _add(run_cli, labelled, _new_file(tmp_path, body), "--prefer", "new")
    assert code == 2 and "repeated with different labels" in err
    assert "new.csv:3: x-2 (delivery) labelled differently in the same file as x-1" in out


def _scored(tmp_path, name="exit_scored.xlsx", polarity=None):
    frame = pd.DataFrame(
        {
            "respondent": ["r1", "r2", "r3", "r4"],
            "answer": ["She explains each rota change in advance.", "", "Pay is too low for band 5.", "Lockers"],
            "behaviours": ["trust", "", "", "delivery;trust"],
            "score_trust": [0.9, None, 0.1, 0.6],
            "evidence": ["[]", "[]", "[]", "[]"],
            "status": ["ok", "empty", "ok", "ok"],
        }
    )
    if polarity is not None:
        frame["polarity"] = polarity
    path = tmp_path / name
    if path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def test_add_takes_corrected_score_output(run_cli, labelled, tmp_path):
    scored = _scored(tmp_path)
    code, out, err = _add(run_cli, labelled, scored, "--text-column", "answer", "--register", "exit_survey")
    assert code == 0, err
    assert "added 2" in out and "skipped duplicates 1" in out and "skipped empty answers 1" in out
    added = pd.read_csv(labelled / "added.csv", keep_default_na=False)
    assert added["id"].tolist() == ["add-exit-scored-0001", "add-exit-scored-0003"]  # ids follow the answered rows
    assert added["labels"].tolist() == ["trust", "delivery;trust"] and added["polarity"].tolist() == ["", ""]
    assert set(added["register"]) == {"exit_survey"} and set(added["source"]) == {"added:exit_scored"}


def test_add_score_output_with_polarity_and_source(run_cli, labelled, tmp_path):
    scored = _scored(tmp_path, "batch.csv", polarity=["+", "", "", "-;+"])
    options = ["-c", "answer", "--register", "staff_survey", "--source", "added:q"]
    code, out, err = _add(run_cli, labelled, scored, *options)
    assert code == 0, err
    added = pd.read_csv(labelled / "added.csv", keep_default_na=False)
    assert added["polarity"].tolist() == ["+", "-;+"] and set(added["source"]) == {"added:q"}
    assert added["id"].tolist() == ["add-batch-0001", "add-batch-0003"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--text-column", "answer"], "give --register for rows from `behaviours score`"),
        (["--text-column", "answer", "--register", "tweet"], "unknown register 'tweet'"),
        (["--register", "exit_survey"], "give --text-column (the column holding the text); columns are: respondent"),
        (["-c", "comment", "--register", "exit_survey"], "no column 'comment'"),
    ],
)
def test_add_score_output_needs_text_column_and_register(run_cli, labelled, tmp_path, args, message):
    before = _snapshot(labelled)
    code, _, err = _add(run_cli, labelled, _scored(tmp_path), *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert _snapshot(labelled) == before


def test_add_rejects_bad_files_and_targets(run_cli, labelled, tmp_path):
    before = _snapshot(labelled)
    new = _new_file(tmp_path, "x-1,A brand new text.,trust,+,exit_survey,new:b\n")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    (tmp_path / "notes.txt").write_text("hello")
    cases = [
        ([tmp_path / "missing.csv"], "file not found"),
        ([tmp_path / "notes.txt"], "unknown file type '.txt'"),
        ([tmp_path / "other.csv"], "neither labelled rows"),
        ([new, "--to", tmp_path / "elsewhere.csv"], "--to must name a .csv file in"),
        ([new, "--to", labelled / "test_ids.txt"], "--to must name a .csv file in"),
        ([new, "--register", "exit_survey"], "--register only for `behaviours score` output"),
        ([new, "--prefer", "mine"], "Invalid value for '--prefer'"),
    ]
    for args, message in cases:
        code, out, err = _add(run_cli, labelled, *args)
        assert code == 2 and message in err + out, (args, err)
    assert _snapshot(labelled) == before


def test_add_refuses_when_the_labelled_data_has_problems(run_cli, labelled, tmp_path):
    (labelled / "broken.csv").write_text(HEADER + "b-1,text,leadership,+,exit_survey,a\n")
    before = _snapshot(labelled)
    code, _, err = _add(run_cli, labelled, _new_file(tmp_path, "x-1,A brand new text.,trust,+,exit_survey,new:b\n"))
    assert code == 2 and "labelled data has 1 problem(s)" in err
    assert _snapshot(labelled) == before


def test_check_lists_a_planted_label_error(run_cli, tmp_path, params_file):
    rows = tiny_rows()
    wrong = rows[-1]  # "Lockers are broken.", labelled as delivery
    rows[-1] = wrong.__class__(**{**wrong.__dict__, "labels": ("delivery",), "polarity": ("+",)})
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    write_labelled_csv(labelled / "tiny.csv", rows)
    code, out, err = run_cli(
        "labelled", "check", "--labelled", labelled, "--params", params_file,
        "--embedding-cache", tmp_path / "c.sqlite3", "--confidence", "0.5",
    )
    assert code == 0, err
    listed = [line for line in out.splitlines() if wrong.id in line]
    assert listed and "delivery" in listed[0].split("│")[4]  # the "model says not" column
    code, out, err = run_cli(
        "labelled", "check", "--labelled", labelled, "--params", params_file,
        "--embedding-cache", tmp_path / "c.sqlite3", "--confidence", "0.5", "--json",
    )
    assert code == 0, err
    found = [json.loads(line) for line in out.splitlines()]
    planted = next(s for s in found if s["id"] == wrong.id)
    assert planted["missing"] == ["delivery"] and planted["file"].endswith("tiny.csv")
    assert wrong.text not in out  # ids and labels only: the text stays in its file


def test_suspects_rank_confident_disagreements():
    import numpy as np
    from helpers import tiny_rows

    from pipeline.data.label_check import suspects

    rows = tiny_rows()[:3]
    Y = np.array([[1, 0], [1, 0], [0, 0]])
    oof = np.array([[0.9, 0.1], [0.05, 0.2], [0.3, 0.97]])
    found = suspects(rows, Y, oof, ("a", "b"), confidence=0.9)
    assert [s.row.id for s in found] == [rows[2].id, rows[1].id]
    assert found[0].extra == ("b",) and found[1].missing == ("a",)
