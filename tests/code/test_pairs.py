"""Contrast pairs: reading and checking them, their halves, and how a tagger is judged on them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.data.pairs import PAIR_COLUMNS, ContrastPair, pair_part, read_pairs
from pipeline.tagger import Tagger, TagResult
from pipeline.training.evaluate import pair_figures, ranked_right

GOOD = [
    ("c-001", "presence", "staff_survey", "trust", "+", "", "", "She explained why the ward moved.", "The ward moved in May."),
    ("c-002", "polarity", "exit_survey", "trust", "+", "", "-", "He always told us why.", "He never told us why."),
    ("c-003", "confusable", "feedback_360", "trust", "-", "authenticity", "-", "Nobody said why.", "She spun the bad news."),
]


def write_pairs(folder: Path, records) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "c.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PAIR_COLUMNS)
        writer.writerows(records)
    return folder


def test_valid_pairs_are_read(tmp_path, taxonomy):
    pairs, problems = read_pairs(write_pairs(tmp_path, GOOD), taxonomy)
    assert problems == []
    assert [p.kind for p in pairs] == ["presence", "polarity", "confusable"]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (("c-9", "polarity", "exit_survey", "trust", "+", "", "+", "a", "b"), "opposite sign"),
        (("c-9", "confusable", "exit_survey", "trust", "+", "trust", "+", "a", "b"), "names another behaviour"),
        (("c-9", "presence", "exit_survey", "trust", "+", "delivery", "", "a", "b"), "no other behaviour"),
        (("c-9", "swap", "exit_survey", "trust", "+", "", "", "a", "b"), "kind must be"),
        (("c-9", "presence", "exit_survey", "teamwork", "+", "", "", "a", "b"), "unknown behaviour"),
        (("c-9", "presence", "exit_survey", "trust", "+", "", "", "same", "same"), "must both be given and differ"),
    ],
)
def test_bad_pairs_are_refused_with_file_and_line(tmp_path, taxonomy, record, message):
    pairs, problems = read_pairs(write_pairs(tmp_path, [GOOD[0], record]), taxonomy)
    assert len(pairs) == 1 and len(problems) >= 1
    assert ":3: c-9:" in str(problems[0])  # file and line of the bad row
    assert any(message in str(p) for p in problems)


def test_halves_are_fixed_by_id():
    parts = [pair_part(f"c001-{i:03d}") for i in range(400)]
    assert parts == [pair_part(f"c001-{i:03d}") for i in range(400)]
    assert 150 < parts.count("test") < 250


def test_a_pair_trains_as_two_labelled_rows():
    presence, polarity, confusable = (ContrastPair(*record) for record in GOOD)
    assert [(r.labels, r.polarity) for r in presence.rows("f")] == [(("trust",), ("+",)), ((), ())]
    assert [(r.labels, r.polarity) for r in polarity.rows("f")] == [(("trust",), ("+",)), (("trust",), ("-",))]
    assert [r.labels for r in confusable.rows("f")] == [("trust",), ("authenticity",)]


def result(scores: dict, polarity: dict | None = None) -> TagResult:
    return TagResult(status="ok", scores={"trust": 0.0, "authenticity": 0.0, **scores}, polarity=polarity or {})


def test_ranked_right_by_kind():
    presence, polarity, confusable = (ContrastPair(*record) for record in GOOD)
    assert ranked_right(presence, result({"trust": 0.7}), result({"trust": 0.2}))
    assert not ranked_right(presence, result({"trust": 0.2}), result({"trust": 0.7}))
    assert ranked_right(confusable, result({"trust": 0.6, "authenticity": 0.5}), result({"trust": 0.6, "authenticity": 0.7}))
    strong, weak = result({"trust": 0.8}, {"trust": 0.9}), result({"trust": 0.8}, {"trust": 0.2})
    assert ranked_right(polarity, strong, weak) and not ranked_right(polarity, weak, strong)
    assert not ranked_right(polarity, strong, result({"trust": 0.1}))  # not tagged in Z: no reading, wrong


def test_pair_figures_on_a_trained_tagger(trained, encoder, splitter):
    pairs = [ContrastPair(*record) for record in GOOD]
    figures = pair_figures(Tagger(trained[0], encoder=encoder, splitter=splitter), pairs, chunk_size=8)
    assert figures["pairs"] == 3 and set(figures["per_kind"]) == {"presence", "polarity", "confusable"}
    assert 0.0 <= figures["share"] <= 1.0
    low, high = figures["interval_90"]
    assert low <= figures["share"] <= high
