import numpy as np
from helpers import tiny_rows, write_labelled_csv

from pipeline.data.rows import label_matrix, load_labelled, read_labelled_file, text_key, validate_files
from pipeline.errors import InputError

HEADER = "id,text,labels,polarity,register,source\n"


def _file(tmp_path, body, name="x.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _messages(problems):
    return [f"{p.line}: {p.message}" for p in problems]


def test_valid_rows_are_read(tmp_path, taxonomy):
    path = _file(tmp_path, 'a1,"Explains why, always",trust;delivery,+;-,exit_survey,authored:t\na2,n/a,,,exit_survey,authored:t\n')
    rows, problems = read_labelled_file(path, taxonomy)
    assert problems == []
    assert rows[0].labels == ("trust", "delivery") and rows[0].polarity == ("+", "-")
    assert rows[1].labels == () and rows[1].line == 3


def test_each_rejection_names_file_and_line(tmp_path, taxonomy):
    body = (
        "b1,fine text,trust,+,exit_survey,authored:t\n"
        "b2,some text,leadership,+,exit_survey,authored:t\n"  # unknown id
        "b3,some other text,trust;delivery,+,exit_survey,authored:t\n"  # polarity count
        "b4,   ,trust,+,exit_survey,authored:t\n"  # empty text
        "b5,yet another,trust,?,exit_survey,authored:t\n"  # bad polarity
        "b6,and another,trust,+,tweet,authored:t\n"  # unknown register
        "b7,\"multi\nline text\",trust;trust,+;+,exit_survey,authored:t\n"  # repeated label, spans 2 lines
        "b8,after the multi-line row,trust,+,exit_survey,\n"  # empty source
    )
    _, problems = read_labelled_file(_file(tmp_path, body), taxonomy)
    messages = _messages(problems)
    assert any(m.startswith("3: b2: unknown behaviour id(s) leadership") for m in messages)
    assert any(m.startswith("4: b3: 2 label(s) but 1 polarity") for m in messages)
    assert any(m.startswith("5: b4: empty text") for m in messages)
    assert any(m.startswith("6: b5: polarity must be") for m in messages)
    assert any(m.startswith("7: b6: unknown register 'tweet'") for m in messages)
    assert any(m.startswith("8: b7: a behaviour is repeated") for m in messages)
    assert any(m.startswith("10: b8: empty source") for m in messages)
    assert all(p.file.endswith("x.csv") for p in problems)


def test_wrong_header_and_bad_encoding(tmp_path, taxonomy):
    bad_header = tmp_path / "h.csv"
    bad_header.write_text("id,text,labels\n1,a,trust\n")
    assert "header must be" in read_labelled_file(bad_header, taxonomy)[1][0].message
    latin = tmp_path / "l.csv"
    latin.write_bytes((HEADER + "c1,caf\xe9 staff,,,exit_survey,authored:t\n").encode("latin-1"))
    assert read_labelled_file(latin, taxonomy)[1][0].message == "not UTF-8 text"


def test_duplicates_and_conflicts_across_files(tmp_path, taxonomy):
    one = _file(tmp_path, "d1,Explains why decisions are made,trust,+,exit_survey,authored:t\n", "one.csv")
    two = _file(
        tmp_path,
        "d1,another text,,,exit_survey,authored:t\n"
        "d2,explains why  decisions are made,trust,+,exit_survey,authored:t\n"
        "d3,EXPLAINS WHY DECISIONS ARE MADE,delivery,+,exit_survey,authored:t\n",
        "two.csv",
    )
    _, problems = validate_files([one, two], taxonomy)
    messages = [p.message for p in problems]
    assert any("d1: duplicate id" in m for m in messages)
    assert any("d2: duplicate text of d1" in m for m in messages)
    assert any("d3: conflicting labels for text of d1" in m for m in messages)


def test_load_labelled_raises_with_count(tmp_path, taxonomy):
    path = _file(tmp_path, "e1,,trust,+,exit_survey,authored:t\n")
    try:
        load_labelled([path], taxonomy)
    except InputError as exc:
        assert "1 problem(s)" in str(exc) and "empty text" in str(exc)
    else:
        raise AssertionError("expected InputError")


def test_round_trip_and_label_matrix(tmp_path, taxonomy):
    rows = tiny_rows()
    path = write_labelled_csv(tmp_path / "tiny.csv", rows)
    loaded = load_labelled([path], taxonomy)
    assert [r.text for r in loaded] == [r.text for r in rows]
    Y = label_matrix(loaded, taxonomy)
    assert Y.shape == (len(rows), 13)
    assert Y[0, taxonomy.ids.index("authenticity")] == 1
    assert np.all(Y.sum(axis=1) <= 1)


def test_text_key_ignores_case_and_spacing():
    assert text_key("  Explains  WHY\n") == text_key("explains why")
