"""The board report: its numbers on a hand-built scored table, protection of small groups, redaction, files."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pytest
import yaml

from pipeline.errors import InputError
from pipeline.report.excel import summary_tables, write_workbook
from pipeline.report.html import render_html
from pipeline.report.scored import membership, resolve_prefix
from pipeline.report.summary import parse_dates, protect_groups, read_card, report_summary

CARD = {
    "name": "test model",
    "created_at": "2026-01-02T03:04:05+00:00",
    "evaluation": {
        "test": {
            "texts": 100,
            "macro_f1": 0.5,
            "micro_f1": 0.55,
            "f1_per_behaviour": {"trust": 0.6, "delivery": 0.4},
            "per_register": {
                "exit_survey": {"macro_f1": 0.47, "texts": 30},
                "appraisal_note": {"macro_f1": 0.61, "texts": 20},
            },
        }
    },
}
ANSWERED = 30
EMAIL = ", ask jo.bloggs@nhs.net"  # in one evidence sentence: the real redactor must take it out


def _tags(i: int) -> tuple[list[str], list[str], list[str]]:
    """(behaviours, strengths, gaps) of answered row i."""
    if i < 5:
        return ["trust", "delivery"], ["trust", "delivery"], []
    if i < 10:
        return ["trust", "delivery"], ["delivery"], ["trust"]
    if i < 15:
        return ["trust"], [], []  # polarity not known
    if i in (15, 16, 17, 25):
        return ["authenticity"], [], []
    return [], [], []


def _date(i: int) -> str:
    if i < 20:  # 2025 Q1, in ISO and in UK day-first form
        return f"2025-0{1 + i % 3}-1{i % 10}" if i % 2 else f"1{i % 10}/0{1 + i % 3}/2025"
    if i < 27:  # 2025 Q2: 7 answered, too few to show
        return f"2025-05-{i - 10}"
    return {27: "soon", 28: "31/31/2025", 29: ""}[i]


def _sentence(i: int, behaviour: str) -> str:
    if i == 13:
        return "Not once."  # too short to quote
    return f"Sentence {i} about {behaviour}{EMAIL if i == 14 else ''}."


def scored_frame(polarity: bool = True) -> pd.DataFrame:
    """30 answered rows and 2 empty ones, shaped like `behaviours score` output, with groups and dates.

    site: X has 21 answered, Y 9 (merged into other, which is then too small: left out).
    team: T1 has 12, T2 and T3 9 each (merged into an "other" of 18).
    """
    rows = []
    for i in range(ANSWERED):
        behaviours, strengths, gaps = _tags(i)
        evidence = [
            {"behaviour": b, "sentence": _sentence(i, b), "score": 0.5 + i / 100}
            | ({"polarity": "+"} if b in strengths else {"polarity": "-"} if b in gaps else {})
            for b in behaviours
        ]
        rows.append(
            {
                "text": f"Answer {i}",
                "site": "X" if i <= 20 else "Y",
                "team": "T1" if i < 12 else "T2" if i <= 20 else "T3",
                "submitted": _date(i),
                "behaviours": ";".join(behaviours),
                "strengths": ";".join(strengths),
                "gaps": ";".join(gaps),
                "evidence": json.dumps(evidence),
                "status": "ok",
            }
        )
    for i in range(2):
        rows.append({"text": "", "site": "X", "team": "T1", "submitted": "2025-01-01", "behaviours": "",
                     "strengths": "", "gaps": "", "evidence": "[]", "status": "empty"})
    frame = pd.DataFrame(rows)
    from pipeline.taxonomy import load_taxonomy

    for behaviour in load_taxonomy().ids:
        frame[f"score_{behaviour}"] = [
            0.5 + i / 100 if behaviour in r["behaviours"].split(";") else 0.1 for i, r in enumerate(rows)
        ]
    if not polarity:
        frame = frame.drop(columns=["strengths", "gaps"])
    return frame


def marked(texts: list[str]) -> list[str]:
    """A stand-in redactor: marks every text so the test can tell it went through."""
    marked.calls.append(list(texts))
    return [f"[redacted] {t}" for t in texts]


marked.calls = []


def _summary(taxonomy, frame=None, redact=marked, **options):
    options = {"group_by": ["site", "team"], "date_column": "submitted", **options}
    return report_summary(scored_frame() if frame is None else frame, taxonomy, CARD, redact, **options)


def test_headline_and_shares_per_behaviour_and_theme(taxonomy):
    s = _summary(taxonomy)
    assert (s.headline.responses, s.headline.answered, s.headline.empty, s.headline.no_behaviour) == (32, 30, 2, 11)
    b = s.behaviours
    assert b.at["trust", "responses"] == 15 and b.at["trust", "share"] == pytest.approx(0.5)
    assert b.at["delivery", "share"] == pytest.approx(10 / 30)
    assert b.at["authenticity", "share"] == pytest.approx(4 / 30)
    assert b.at["mindset", "responses"] == 0
    assert b.at["trust", "test_f1"] == 0.6
    t = s.themes
    assert t.at["relating_communicating", "share"] == pytest.approx(0.5)
    assert t.at["delivering", "share"] == pytest.approx(10 / 30)
    assert t.at["being", "share"] == pytest.approx(4 / 30)
    assert t.at["leading_visioning", "responses"] == 0
    assert list(t["colour"]) == [theme.colour for theme in taxonomy.themes]


def test_strengths_gaps_and_unknown_polarity(taxonomy):
    b = _summary(taxonomy).behaviours
    assert b.loc["trust", ["strengths", "gaps", "unknown"]].tolist() == [5, 5, 5]
    assert b.loc["delivery", ["strengths", "gaps", "unknown"]].tolist() == [10, 0, 0]
    assert b.at["trust", "gaps_share"] == pytest.approx(5 / 30)


def test_without_polarity_columns_every_tag_is_unknown(taxonomy):
    s = _summary(taxonomy, frame=scored_frame(polarity=False))
    assert not s.polarity_known
    assert s.behaviours.loc["trust", ["strengths", "gaps", "unknown"]].tolist() == [0, 0, 15]
    assert "scored without strengths and gaps" in render_html(s, taxonomy)


def test_small_groups_merged_into_other_or_left_out(taxonomy):
    site, team = _summary(taxonomy).groups
    # Y (9) merged into other, which is 9 < 10: left out entirely
    assert list(site.table.index) == ["X"] and (site.groups, site.merged, site.suppressed) == (2, 1, 1)
    assert site.table.at["X", "answered"] == 21
    # T2 and T3 (9 each) merged into an "other" of 18, which is shown, last
    assert list(team.table.index) == ["T1", "other"] and (team.merged, team.suppressed) == (2, 0)
    assert team.table.at["T1", "trust"] == pytest.approx(1.0)
    assert team.table.at["other", "trust"] == pytest.approx(3 / 18)


def test_protect_groups_treats_blank_as_its_own_group():
    values = pd.Series(["A"] * 10 + [""] * 10 + [None] * 2 + ["B"] * 3)
    labels, groups, merged, suppressed = protect_groups(values, 10)
    assert (groups, merged, suppressed) == (3, 1, 1)
    assert labels.value_counts().to_dict() == {"A": 10, "(not given)": 12}


def test_trend_by_quarter_counts_unreadable_and_missing_dates(taxonomy):
    trend = _summary(taxonomy).trend
    assert trend.unit == "quarter"
    assert [str(p) for p in trend.table.index] == ["2025Q1"]
    assert trend.table.iloc[0]["answered"] == 20
    assert trend.table.iloc[0]["trust"] == pytest.approx(15 / 20)
    assert (trend.periods, trend.suppressed, trend.unparseable, trend.missing) == (2, 1, 2, 1)


def test_trend_by_month_when_every_month_is_large_enough(taxonomy):
    frame = scored_frame().iloc[:20].copy()
    frame["submitted"] = ["2025-03-01"] * 10 + ["2025-04-30"] * 10
    trend = _summary(taxonomy, frame=frame, group_by=[]).trend
    assert trend.unit == "month" and [str(p) for p in trend.table.index] == ["2025-03", "2025-04"]


def test_parse_dates_reads_iso_then_day_first():
    parsed = parse_dates(pd.Series(["2025-01-02", "02/01/2025", "3 March 2025", "soon", "", None, "1066-10-14"]))
    assert [d.strftime("%Y-%m-%d") if not pd.isna(d) else None for d in parsed] == [
        "2025-01-02", "2025-01-02", "2025-03-03", None, None, None, None,
    ]


def test_quotes_are_redacted_and_never_from_a_left_out_group(taxonomy):
    marked.calls.clear()
    s = _summary(taxonomy)
    assert len(marked.calls) == 1  # one call with every chosen sentence
    quotes = s.quotes
    assert all(q.text.startswith("[redacted] ") for qs in quotes.values() for q in qs)
    expected = [f"[redacted] Sentence {i} about authenticity." for i in (17, 16, 15)]
    assert [q.text for q in quotes["authenticity"]] == expected
    assert 3 <= len(quotes["trust"]) <= 5
    # the best gap is kept beside the best strengths, with its polarity
    assert {"+", "-"} <= {q.polarity for q in quotes["trust"]}
    html = render_html(s, taxonomy)
    assert "[redacted] Sentence 17 about authenticity." in html
    assert "Sentence 25" not in html  # site Y is left out, so its answers are never quoted
    assert "Not once" not in html
    assert s.quote_pool == 21


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [value or "" for name, value in attrs if name in ("src", "href", "action", "data", "poster")]


def test_the_page_fetches_nothing_from_outside(taxonomy):
    html = render_html(_summary(taxonomy), taxonomy)
    links = _Links()
    links.feed(html)
    external = [u for u in links.urls if re.match(r"\s*(https?:)?//", u, re.IGNORECASE)]
    assert external == []
    assert "link" not in links.tags and "iframe" not in links.tags
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html) and "@import" not in html
    assert html.count("* plotly.js v") == 1  # the Plotly bundle, inlined once
    assert html.count("Plotly.newPlot(") == 6  # behaviours, themes, strengths and gaps, site, team, trend


def test_report_shows_accuracy_per_register_and_the_caveat(taxonomy):
    html = render_html(_summary(taxonomy), taxonomy)
    assert "exit survey" in html and "0.47" in html and "0.61" in html
    assert "machine suggestions" in html and "patterns across many responses" in html
    assert "its macro-F1 is 0.50" in " ".join(html.split())


def test_membership_matches_whole_ids_only():
    tagged = membership(pd.Series(["trust;delivery", "trusty", "", None]), ["trust", "delivery"])
    assert tagged.to_dict("list") == {"trust": [True, False, False, False], "delivery": [True, False, False, False]}


def test_prefix_choice():
    assert resolve_prefix(["behaviours", "q1__behaviours"], None) == ""
    assert resolve_prefix(["q1__behaviours", "combined__behaviours"], None) == "combined__"
    assert resolve_prefix(["q1__behaviours", "combined__behaviours"], "q1") == "q1__"
    with pytest.raises(InputError, match="choose one with --prefix: q1, q2"):
        resolve_prefix(["q1__behaviours", "q2__behaviours"], None)
    with pytest.raises(InputError, match="no scored question 'q3'; choices: q1, combined"):
        resolve_prefix(["q1__behaviours", "combined__behaviours"], "q3")


def test_prefixed_columns_are_reported(taxonomy):
    frame = scored_frame()
    outputs = ("behaviours", "strengths", "gaps", "evidence", "status")
    scored = [c for c in frame.columns if c in outputs or c.startswith("score_")]
    frame = frame.rename(columns={c: f"q1__{c}" for c in scored})
    frame["combined__behaviours"] = ""
    s = _summary(taxonomy, frame=frame, prefix="q1")
    assert s.question == "q1" and s.behaviours.at["trust", "responses"] == 15


def test_workbook_has_every_summary_sheet(taxonomy, tmp_path):
    s = _summary(taxonomy)
    write_workbook(s, taxonomy, tmp_path / "summary.xlsx")
    book = openpyxl.load_workbook(tmp_path / "summary.xlsx")
    assert book.sheetnames == [
        "Responses", "Behaviours", "Themes", "Strengths and gaps", "By site", "By team", "Trend", "Small groups",
        "Model accuracy",
    ]
    behaviours = book["Behaviours"]
    assert [c.value for c in behaviours[1]] == ["theme", "behaviour", "responses", "share of answered", "model test F1"]
    assert behaviours["D7"].value == pytest.approx(0.5) and behaviours["D7"].number_format == "0%"  # trust
    assert set(summary_tables(s, taxonomy)["By site"]["site"]) == {"X"}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.xlsx"]  # no temporary file left behind


# ---------------------------------------------------------------- the command


@pytest.fixture()
def model_folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "card.json").write_text(json.dumps(CARD), encoding="utf-8")
    return folder


def test_cli_writes_report_and_workbook(run_cli, tmp_path, model_folder):
    scored = tmp_path / "scored.csv"
    scored_frame().to_csv(scored, index=False)
    code, out, err = run_cli(
        "report", scored, "-o", tmp_path / "report.html", "--xlsx", tmp_path / "summary.xlsx",
        "--group-by", "site", "--group-by", "team", "--date-column", "submitted", "--model", model_folder,
    )
    assert code == 0, err
    assert "30 answered of 32 responses" in out
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Behaviours by team" in html and "Themes over time" in html
    assert "Sentence 14 about trust, ask [EMAIL]." in html  # quotes go through pipeline.redact
    assert "jo.bloggs" not in html
    assert "By team" in openpyxl.load_workbook(tmp_path / "summary.xlsx").sheetnames


@pytest.mark.parametrize(
    ("change", "args", "message"),
    [
        (lambda f: f.drop(columns=["evidence", "score_trust"]), [], "missing column(s) evidence, score_trust"),
        (lambda f: f, ["--group-by", "ward"], "missing column(s) ward"),
        (lambda f: f, ["--prefix", "q9"], "no scored question 'q9'; choices: (unprefixed)"),
        (lambda f: f.drop(columns=["behaviours"]), [], "no `behaviours` column"),
        (lambda f: f, ["--min-group-size", "1"], "--min-group-size must be at least 2"),
    ],
)
def test_cli_errors_are_one_line(run_cli, tmp_path, model_folder, change, args, message):
    scored = tmp_path / "scored.csv"
    change(scored_frame()).to_csv(scored, index=False)
    code, _, err = run_cli("report", scored, "-o", tmp_path / "report.html", "--model", model_folder, *args)
    assert code == 2
    assert err.strip().count("\n") == 0 and message in err
    assert not (tmp_path / "report.html").exists()


def test_cli_takes_min_group_size_from_params_and_the_option_overrides_it(run_cli, tmp_path, model_folder):
    model = model_folder
    scored = tmp_path / "scored.csv"
    scored_frame().to_csv(scored, index=False)
    params = tmp_path / "params.yaml"
    report = tmp_path / "report.html"

    def groups_shown(*args):
        code, _, err = run_cli("report", scored, "-o", report, "--group-by", "team", "--model", model, "--params", params, *args)
        assert code == 0, err
        return report.read_text(encoding="utf-8")

    params.write_text(yaml.safe_dump({"report": {"min_group_size": 5}}))
    html = groups_shown()
    assert "fewer than 5 answered responses" in html and ">T2<" in html  # teams of 9 are shown
    params.write_text(yaml.safe_dump({"report": {"min_group_size": 10}}))
    html = groups_shown()
    assert "fewer than 10 answered responses" in html and ">T2<" not in html  # merged into "other"
    html = groups_shown("--min-group-size", "5")
    assert "fewer than 5 answered responses" in html
    params.write_text(yaml.safe_dump({"report": {"min_group_size": 1}}))
    code, _, err = run_cli("report", scored, "-o", report, "--model", model, "--params", params)
    assert code == 2 and "report.min_group_size (params) must be at least 2" in err


def test_cli_refuses_a_wrong_output_type_and_a_missing_model(run_cli, tmp_path, model_folder):
    scored = tmp_path / "scored.csv"
    scored_frame().to_csv(scored, index=False)
    code, _, err = run_cli("report", scored, "-o", tmp_path / "report.pdf", "--model", model_folder)
    assert code == 2 and "give a .html file" in err
    code, _, err = run_cli("report", scored, "-o", tmp_path / "report.html", "--model", tmp_path)
    assert code == 2 and "no model card" in err


def test_read_card_rejects_a_card_without_test_figures(tmp_path, taxonomy):
    (tmp_path / "card.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="no test-split evaluation"):
        report_summary(scored_frame(), taxonomy, read_card(tmp_path), marked)


# --- the drift section (`--drift`, issue 16) ----------------------------------------------------------------

DRIFT = {
    "against": "training data", "verdict": "review", "reason": "12% of texts are far from every training text",
    "novelty": {"share": 0.123, "interval_90": [0.101, 0.149], "expected_share": 0.05, "far": 12, "threshold_cosine": 0.5},
    "tag_rates": [{"behaviour": "trust", "batch": 0.3, "reference": 0.1, "change": 0.2, "interval_90": [0.12, 0.27]}],
    "phrases": [{"phrase": "rostering portal", "z": 5.1, "documents": 7}],
}


def test_cli_report_shows_the_drift_section_only_when_given(run_cli, tmp_path, model_folder):
    scored, drift = tmp_path / "scored.csv", tmp_path / "drift.json"
    scored_frame().to_csv(scored, index=False)
    drift.write_text(json.dumps(DRIFT), encoding="utf-8")
    assert run_cli("report", scored, "-o", tmp_path / "with.html", "--model", model_folder, "--drift", drift)[0] == 0
    html = (tmp_path / "with.html").read_text(encoding="utf-8")
    assert "Verdict: review</strong> — 12% of texts are far from every training text." in html
    assert "12.3% of the answers are far" in html and "(90% interval 10.1–14.9%)" in html
    assert "<th scope=\"row\">Trust</th><td>30.0%</td><td>10.0%</td>" in html and "+12.0 to +27.0" in html
    assert "rostering portal" in html
    assert run_cli("report", scored, "-o", tmp_path / "without.html", "--model", model_folder)[0] == 0
    assert 'id="drift"' not in (tmp_path / "without.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON file"),
        (json.dumps({**DRIFT, "novelty": {}}), "not a `behaviours drift --json` result"),
        (json.dumps({**DRIFT, "tag_rates": [{**DRIFT["tag_rates"][0], "behaviour": "nope"}]}), "not a `behaviours drift"),
        (json.dumps({**DRIFT, "verdict": "fine"}), "verdict 'fine' is not one of ok, review, relabel"),
    ],
)
def test_cli_refuses_a_bad_drift_file_in_one_line(run_cli, tmp_path, model_folder, content, message):
    scored, drift = tmp_path / "scored.csv", tmp_path / "drift.json"
    scored_frame().to_csv(scored, index=False)
    drift.write_text(content, encoding="utf-8")
    code, _, err = run_cli("report", scored, "-o", tmp_path / "report.html", "--model", model_folder, "--drift", drift)
    assert code == 2 and err.strip().count("\n") == 0 and message in err
    assert not (tmp_path / "report.html").exists()


def test_score_drift_needs_report(run_cli, tmp_path):
    survey = tmp_path / "s.csv"
    survey.write_text("text\nPay is low.\n", encoding="utf-8")
    code, _, err = run_cli("score", survey, "-o", tmp_path / "o.csv", "-c", "text", "--drift", tmp_path / "d.json")
    assert code == 2 and "--drift needs --report" in err and not (tmp_path / "o.csv").exists()
