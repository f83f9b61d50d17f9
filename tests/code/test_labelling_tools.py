"""Round trips with labelling tools (issue 15): suggestions → `to-tool` → the tool's export → `labelled add`.

The exports under tests/fixtures/labelling_tools/ are what each tool writes after a
person has labelled the files `to-tool` makes from `suggestions.csv` (where each shape
comes from: tests/fixtures/README.md). Every format must give the same rows; a bad
row in any of them is refused with its place and reason, exit 2, nothing written; a
text nobody has labelled is counted, never added with the model's labels.
"""

import csv
import json
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from helpers import tiny_rows, write_labelled_csv

from pipeline.data.tools.annotations import Annotation, combined
from pipeline.io.files import escape_cell, unescape_cell
from pipeline.taxonomy import load_taxonomy

FIXTURES = Path(__file__).parents[1] / "fixtures" / "labelling_tools"
SUGGESTIONS = FIXTURES / "suggestions.csv"
LINK_TEXT = '=HYPERLINK("http://evil.example","click") she tried new rota ideas'  # an answer that starts like a formula
EXPECTED = [  # the rows every export gives: sug-0003 and sug-0005 were not labelled
    ["sug-0001", "My manager listened to the whole team before deciding, and then explained why.",
     "relationships_advocacy;vision_shared_direction", "+;+", "exit_survey", "suggested:exit-2026"],
    ["sug-0002", "Nobody owned the mistakes on the ward; blame went round in circles.",
     "ownership_accountability;delivery", "-;-", "staff_survey", "suggested:staff-2026"],
    ["sug-0004", LINK_TEXT, "", "", "appraisal_note", "suggested:appr-2026"],
]
EXPORTS = {  # to-tool format → (its output name, the committed export of it after labelling)
    "argilla": ("to_label", "argilla_export"),
    "label-studio": ("to_label.json", "label_studio_export.json"),
    "xlsx": ("to_label.xlsx", "sheet_filled.xlsx"),
    "csv": ("to_label.csv", "sheet_filled.csv"),
}
EXPORT_FORMAT = {"argilla": "argilla", "label-studio": "label-studio", "xlsx": "sheet", "csv": "sheet"}


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _to_tool(run_cli, tool, output, *extra, suggestions=SUGGESTIONS):
    return run_cli("labelled", "to-tool", suggestions, "--format", tool, "-o", output, *extra)


def _add(run_cli, labelled, new, *extra):
    return run_cli("labelled", "add", new, "--labelled", labelled, *extra)


def _added(labelled):
    with open(labelled / "added.csv", newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def _sheet_rows(path):
    if path.suffix == ".xlsx":
        return [[c or "" for c in row] for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def _what_was_sent(tool, path):
    """What a tool holds before labelling: the same in `to-tool`'s output and in the committed export."""
    if tool == "argilla":
        records = json.loads((path / "records.json").read_text(encoding="utf-8"))
        settings = json.loads((path / ".argilla" / "settings.json").read_text(encoding="utf-8"))
        return settings, [(r["id"], r["fields"], r["metadata"], r["suggestions"]) for r in records]
    if tool == "label-studio":
        return [(t["data"], t["predictions"][0]["result"]) for t in json.loads(path.read_text(encoding="utf-8"))]
    return [row[:5] for row in _sheet_rows(path)]


# ---------------------------------------------------------------- the round trips


@pytest.mark.parametrize("tool", list(EXPORTS))
def test_round_trip_through_each_tool_adds_what_the_people_labelled(run_cli, labelled, tmp_path, tool):
    name, export = EXPORTS[tool]
    code, out, err = _to_tool(run_cli, tool, tmp_path / name)
    assert code == 0, err
    assert "5 texts" in out
    assert _what_was_sent(tool, tmp_path / name) == _what_was_sent(tool, FIXTURES / export)
    code, out, err = _add(run_cli, labelled, FIXTURES / export)
    assert code == 0, err + out
    assert "added 3" in out and "skipped not yet labelled 2" in out
    assert _added(labelled) == EXPECTED


@pytest.mark.parametrize("tool", list(EXPORTS))
def test_the_format_can_be_named_instead_of_detected(run_cli, labelled, tool):
    code, out, err = _add(run_cli, labelled, FIXTURES / EXPORTS[tool][1], "--format", EXPORT_FORMAT[tool])
    assert code == 0, err + out
    assert _added(labelled) == EXPECTED


def test_argilla_records_file_alone_is_read_too(run_cli, labelled):
    code, out, err = _add(run_cli, labelled, FIXTURES / "argilla_export" / "records.json")
    assert code == 0, err + out
    assert _added(labelled) == EXPECTED


def test_suggest_output_corrected_in_place_is_added_without_its_reason(run_cli, labelled):
    code, out, err = _add(run_cli, labelled, SUGGESTIONS)
    assert code == 0, err + out
    with open(SUGGESTIONS, newline="", encoding="utf-8") as handle:
        written = [row[:6] for row in list(csv.reader(handle))[1:]]
    assert _added(labelled) == [[unescape_cell(cell) for cell in row] for row in written]
    assert any(row[1] == LINK_TEXT for row in _added(labelled))  # the apostrophe suggest wrote before it is gone


def test_a_tool_export_goes_through_the_same_conflict_checks_and_test_split_note(run_cli, labelled, tmp_path):
    rows = tiny_rows()
    rows[0] = replace(rows[0], text=EXPECTED[1][1])  # t-001 (in the test split) holds sug-0002's text
    write_labelled_csv(labelled / "tiny.csv", rows)
    before = _snapshot(labelled)
    code, out, err = _add(run_cli, labelled, FIXTURES / "label_studio_export.json")
    assert code == 2 and "already labelled differently" in err
    assert "sug-0002 (ownership_accountability;delivery) labelled differently from t-001" in out
    assert _snapshot(labelled) == before
    code, out, err = _add(run_cli, labelled, FIXTURES / "label_studio_export.json", "--prefer", "new")
    assert code == 0, err
    assert "relabelled row(s) are in the fixed test split" in out


# ---------------------------------------------------------------- bad rows, in every format


def _argilla_export(tmp_path, change):
    folder = tmp_path / "argilla_export"
    shutil.copytree(FIXTURES / "argilla_export", folder)
    records = json.loads((folder / "records.json").read_text(encoding="utf-8"))
    change(records)
    (folder / "records.json").write_text(json.dumps(records), encoding="utf-8")
    return folder


def _ls_export(tmp_path, change):
    tasks = json.loads((FIXTURES / "label_studio_export.json").read_text(encoding="utf-8"))
    change(tasks)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, indent=2), encoding="utf-8")
    return path


def _drop_annotator(record, user_id):
    responses = record["responses"]
    record["responses"] = {q: [a for a in answers if a["user_id"] != user_id] for q, answers in responses.items()}


def _set(mapping, keys, value):
    for key in keys[:-1]:
        mapping = mapping[key]
    mapping[keys[-1]] = value


ARGILLA_BAD = {
    "unknown behaviour": (
        lambda r: _set(r[1], ["responses", "behaviours", 0, "value"], ["ownership_accountability", "kindness"]),
        "records.json:2: record 2: sug-0002: unknown behaviour id(s) kindness",
    ),
    "tie": (
        # the second annotator gone: one chose vision_shared_direction, one did not
        lambda r: _drop_annotator(r[0], r[0]["responses"]["behaviours"][1]["user_id"]),
        "records.json:1: record 1: sug-0001: annotators tie on vision_shared_direction (1 of 2)",
    ),
    "sign missing": (
        lambda r: r[1]["responses"].pop("delivery_polarity"),
        "records.json:2: record 2: sug-0002: no strength or gap for delivery",
    ),
    "none with a behaviour": (
        lambda r: _set(r[3], ["responses", "behaviours", 0, "value"], ["none", "trust"]),
        "records.json:4: record 4: sug-0004: 'none' chosen together with behaviours",
    ),
    "bad register": (
        lambda r: _set(r[0], ["metadata", "register"], "tweets"),
        "records.json:1: record 1: sug-0001: unknown register 'tweets'",
    ),
    "not a record": (lambda r: r[0].pop("fields"), "records.json:1: record 1: not an Argilla record"),
}


@pytest.mark.parametrize("case", list(ARGILLA_BAD))
def test_argilla_bad_records_are_refused_with_their_place(run_cli, labelled, tmp_path, case):
    change, message = ARGILLA_BAD[case]
    before = _snapshot(labelled)
    code, out, err = _add(run_cli, labelled, _argilla_export(tmp_path, change))
    assert code == 2
    assert "nothing written" in err and len(err.strip().splitlines()) == 1
    assert message in out
    assert _snapshot(labelled) == before


def _ls_choices(task, annotation, control, choices):
    for region in task["annotations"][annotation]["result"]:
        if region["from_name"] == control:
            region["value"]["choices"] = choices


LS_BAD = {
    "unknown behaviour": (
        lambda t: _ls_choices(t[1], 0, "behaviours", ["ownership_accountability", "kindness"]),
        "export.json:2: record 2: sug-0002: unknown behaviour id(s) kindness",
    ),
    "sign tie": (
        lambda t: _ls_choices(t[0], 1, "vision_shared_direction_polarity", ["gap"]),
        "export.json:1: record 1: sug-0001: annotators tie on strength or gap for vision_shared_direction",
    ),
    "unknown sign": (
        lambda t: _ls_choices(t[1], 0, "delivery_polarity", ["maybe"]),
        "export.json:2: record 2: sug-0002: polarity must be '+' or '-'",
    ),
    "nothing chosen": (
        lambda t: _set(t[3]["annotations"][0], ["result"], []),
        "export.json:4: record 4: sug-0004: an annotator chose nothing",
    ),
    "not a task": (lambda t: t[1].pop("data"), "export.json:2: record 2: not a Label Studio task"),
}


@pytest.mark.parametrize("case", list(LS_BAD))
def test_label_studio_bad_tasks_are_refused_with_their_place(run_cli, labelled, tmp_path, case):
    change, message = LS_BAD[case]
    before = _snapshot(labelled)
    code, out, err = _add(run_cli, labelled, _ls_export(tmp_path, change))
    assert code == 2
    assert "nothing written" in err and len(err.strip().splitlines()) == 1
    assert message in out
    assert _snapshot(labelled) == before


def _edit_sheet(tmp_path, suffix, row_id, column, value):
    rows = _sheet_rows(FIXTURES / f"sheet_filled{suffix}")
    header = rows[0]
    for row in rows[1:]:
        if row[0] == row_id:
            row[header.index(column)] = value
    path = tmp_path / f"sheet{suffix}"
    if suffix == ".xlsx":
        workbook = openpyxl.Workbook()
        for row in rows:
            workbook.active.append(row)
        workbook.save(path)
    else:
        with open(path, "w", newline="", encoding="utf-8-sig") as handle:
            csv.writer(handle).writerows(rows)
    return path


SHEET_BAD = {
    "not a sign": (("sug-0002", "delivery", "x"), ":3: sug-0002: not +, - or ?: delivery 'x'"),
    "done neither yes nor blank": (("sug-0001", "done", "maybe"), ":2: done must be 'yes' or blank, found 'maybe'"),
    "? beside a sign": (("sug-0002", "delivery", "?"), ":3: sug-0002: no strength or gap for delivery"),
    "bad register": (("sug-0004", "register", "tweets"), ":5: sug-0004: unknown register 'tweets'"),
    "empty id": (("sug-0001", "id", ""), ":2: ?: empty id"),
}


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("case", list(SHEET_BAD))
def test_sheet_bad_rows_are_refused_with_their_line(run_cli, labelled, tmp_path, case, suffix):
    edit, message = SHEET_BAD[case]
    before = _snapshot(labelled)
    code, out, err = _add(run_cli, labelled, _edit_sheet(tmp_path, suffix, *edit))
    assert code == 2
    assert "nothing written" in err and len(err.strip().splitlines()) == 1
    assert f"sheet{suffix}{message}" in out
    assert _snapshot(labelled) == before


def test_suggestions_bad_row_is_refused_with_its_line_by_add_and_by_to_tool(run_cli, labelled, tmp_path):
    text = SUGGESTIONS.read_text(encoding="utf-8").replace("accountability,-,", "accountability,-;+,")
    bad = tmp_path / "suggestions.csv"
    bad.write_text(text, encoding="utf-8")
    before = _snapshot(labelled)
    code, out, err = _add(run_cli, labelled, bad)
    assert code == 2 and "suggestions.csv:3: sug-0002: 1 label(s) but 2 polarity value(s)" in out
    assert _snapshot(labelled) == before
    code, out, err = _to_tool(run_cli, "xlsx", tmp_path / "out.xlsx", suggestions=bad)
    assert code == 2 and "nothing written" in err
    assert "suggestions.csv:3: sug-0002: 1 label(s) but 2 polarity value(s)" in out
    assert not (tmp_path / "out.xlsx").exists()


def test_score_options_are_refused_for_a_tool_export(run_cli, labelled):
    code, _, err = _add(run_cli, labelled, FIXTURES / "sheet_filled.csv", "--register", "exit_survey")
    assert code == 2 and "--register only for `behaviours score` output, not a sheet export" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON (line 1"),
        ('{"data": {}}', "expected a JSON list of records or tasks, found a dict"),
        ('[{"text": "hello"}]', "neither Argilla records (with fields) nor Label Studio tasks (with data)"),
    ],
)
def test_json_that_is_no_tool_export_is_one_line_error(run_cli, labelled, tmp_path, content, message):
    path = tmp_path / "export.json"
    path.write_text(content, encoding="utf-8")
    code, _, err = _add(run_cli, labelled, path)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- what to-tool writes


def test_xlsx_has_drop_down_lists_protection_and_no_live_formulas(run_cli, tmp_path):
    assert _to_tool(run_cli, "xlsx", tmp_path / "to_label.xlsx")[0] == 0
    sheet_xml = zipfile.ZipFile(tmp_path / "to_label.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    sheet = openpyxl.load_workbook(tmp_path / "to_label.xlsx").active
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists == {"F2:R6": '"+,-,?"', "S2:S6": '"yes"'}  # the 13 behaviour columns and `done`, every row
    assert sheet["B5"].value == "'" + LINK_TEXT and sheet["B5"].data_type == "s"
    assert sheet["B5"].alignment.wrap_text
    assert sheet.protection.sheet
    assert sheet["A2"].protection.locked and sheet["C2"].protection.locked  # id, register: protected
    assert not sheet["F2"].protection.locked and not sheet["S2"].protection.locked  # behaviours, done: editable
    assert [sheet.cell(2, c).value for c in (9, 13)] == ["+", "+"]  # sug-0001's pre-labels


def test_csv_sheet_neutralises_text_and_keeps_signs(run_cli, tmp_path):
    assert _to_tool(run_cli, "csv", tmp_path / "to_label.csv")[0] == 0
    rows = _sheet_rows(tmp_path / "to_label.csv")
    assert rows[4][1] == "'" + LINK_TEXT and rows[2][rows[0].index("ownership_accountability")] == "-"


@pytest.mark.parametrize(
    "value", ["=1+1", "+44 7700", "-1", "@SUM(A1)", "\t=1", "'=1", "''x", "'Tis", "'", "-", "+ ", "plain", "a = b", ""]
)
def test_the_sheet_apostrophe_comes_off_exactly(value):
    assert unescape_cell(escape_cell(value)) == value
    assert not escape_cell(value).startswith(("=", "+", "@")) or len(value.strip()) <= 1


def test_label_studio_config_is_written_beside_the_tasks(run_cli, tmp_path):
    assert _to_tool(run_cli, "label-studio", tmp_path / "to_label.json")[0] == 0
    config = (tmp_path / "to_label.xml").read_text(encoding="utf-8")
    assert config == (FIXTURES / "label_studio_config.xml").read_text(encoding="utf-8")
    tasks = json.loads((tmp_path / "to_label.json").read_text(encoding="utf-8"))
    assert tasks[2]["predictions"][0]["result"] == [
        {"from_name": "behaviours", "to_name": "text", "type": "choices", "value": {"choices": ["none"]}}
    ]


@pytest.mark.parametrize("tool", list(EXPORTS))
def test_to_tool_never_overwrites_without_force(run_cli, tmp_path, tool):
    output = tmp_path / EXPORTS[tool][0]
    assert _to_tool(run_cli, tool, output)[0] == 0
    first = output / "records.json" if tool == "argilla" else output
    first.write_bytes(b"kept")
    code, _, err = _to_tool(run_cli, tool, output)
    assert code == 2 and "already exists; give --force" in err
    assert first.read_bytes() == b"kept"
    assert _to_tool(run_cli, tool, output, "--force")[0] == 0
    assert first.read_bytes() != b"kept"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.parametrize(
    ("tool", "name", "message"),
    [
        ("xlsx", "out.csv", "xlsx output must end in .xlsx"),
        ("label-studio", "out.xml", "label-studio output must end in .json"),
        ("argilla", "out.json", "give a folder name without an extension"),
        ("csv", "missing/out.csv", "does not exist"),
    ],
)
def test_to_tool_refuses_an_output_of_the_wrong_kind(run_cli, tmp_path, tool, name, message):
    code, _, err = _to_tool(run_cli, tool, tmp_path / name)
    assert code == 2 and message in err


def test_to_tool_never_replaces_the_argilla_folder_that_holds_its_input(run_cli, tmp_path):
    folder = tmp_path / "to_label"
    assert _to_tool(run_cli, "argilla", folder)[0] == 0
    inside = folder / "suggestions.csv"
    shutil.copy(SUGGESTIONS, inside)
    code, _, err = _to_tool(run_cli, "argilla", folder, "--force", suggestions=inside)
    assert code == 2 and "holds the input file" in err
    assert inside.read_bytes() == SUGGESTIONS.read_bytes()


def test_to_tool_refuses_to_overwrite_its_input(run_cli, tmp_path):
    copy = tmp_path / "suggestions.csv"
    shutil.copy(SUGGESTIONS, copy)
    code, _, err = _to_tool(run_cli, "csv", copy, "--force", suggestions=copy)
    assert code == 2 and "that is the input file" in err
    assert copy.read_bytes() == SUGGESTIONS.read_bytes()


# ---------------------------------------------------------------- several annotators


def test_the_majority_decides_each_behaviour_and_its_sign():
    taxonomy = load_taxonomy()
    votes = [
        Annotation(("trust", "delivery"), {"trust": "+", "delivery": "-"}),
        Annotation(("trust", "delivery"), {"trust": "+", "delivery": "+"}),
        Annotation(("delivery",), {"delivery": "-", "trust": "+"}),  # a sign for an unchosen behaviour does not count
    ]
    assert combined(votes, taxonomy) == (("trust", "delivery"), ("+", "-"), None)
    assert combined(votes[:2], taxonomy)[2] == "annotators tie on strength or gap for delivery"
    assert combined([votes[0], Annotation(("none",))], taxonomy)[2] == "annotators tie on delivery, trust (1 of 2)"
    assert combined([Annotation(("none",)), Annotation(("none",))], taxonomy) == ((), (), None)
    assert combined([Annotation(("trust",))], taxonomy) == (("trust",), (), None)  # no sign at all: blank polarity


def test_to_tool_never_replaces_a_folder_that_is_not_an_argilla_dataset(run_cli, tmp_path):
    folder = tmp_path / "labelled"
    folder.mkdir()
    (folder / "keep.csv").write_text("precious")
    code, _, err = _to_tool(run_cli, "argilla", folder, "--force")
    assert code == 2 and "not an Argilla dataset; not replaced" in err
    assert (folder / "keep.csv").read_text() == "precious"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "no suggestions to send"),
        (
            "s-1,Same text.,trust,+,exit_survey,x,r\ns-1,Other text.,trust,+,exit_survey,x,r\n",
            "suggestions.csv:3: s-1: duplicate id",
        ),
    ],
)
def test_to_tool_refuses_empty_or_repeated_suggestions(run_cli, tmp_path, body, message):
    path = tmp_path / "suggestions.csv"
    path.write_text("id,text,labels,polarity,register,source,reason\n" + body, encoding="utf-8")
    code, out, err = _to_tool(run_cli, "csv", tmp_path / "out.csv", suggestions=path)
    assert code == 2 and message in out + err
    assert not (tmp_path / "out.csv").exists()


def test_a_sheet_cell_that_is_not_a_sign_is_not_quoted_when_long(run_cli, labelled, tmp_path):
    comment = "She said her manager never listened"
    code, out, _ = _add(run_cli, labelled, _edit_sheet(tmp_path, ".csv", "sug-0002", "trust", comment))
    assert code == 2 and "sheet.csv:3: sug-0002: not +, - or ?: trust 35 characters" in out
    assert comment not in out


def test_label_studio_older_skipped_annotations_are_not_labels(run_cli, labelled, tmp_path):
    def skip_the_second_task(tasks):
        tasks[1]["annotations"][0]["was_cancelled"] = None
        tasks[1]["annotations"][0]["skipped"] = True

    code, out, err = _add(run_cli, labelled, _ls_export(tmp_path, skip_the_second_task))
    assert code == 0, err
    assert "added 2" in out and "skipped not yet labelled 3" in out
