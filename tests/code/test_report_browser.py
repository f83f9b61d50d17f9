"""The report in a real browser: it opens offline, without errors, and every chart draws.

Skipped without /usr/bin/chromium unless REQUIRE_BROWSER is set (then it fails).
Keeps a screenshot in tests/artifacts/. The stand-in model tags here, so the run
stays fast; the README's example report, tagged by the shipped model, is checked
the same way in tests/model/test_demo_report_browser.py.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import spacy

from pipeline.config import PROJECT_ROOT
from pipeline.io.files import atomic_write_text, read_table
from pipeline.redact.redactor import Redactor
from pipeline.report.html import render_html
from pipeline.report.summary import report_summary
from pipeline.tagger import Tagger, result_columns
from tests.browser import ARTIFACTS, open_page
from tests.code.test_report import CARD, marked, scored_frame

EXAMPLE = PROJECT_ROOT / "examples" / "exit_survey.csv"


@pytest.fixture(scope="module")
def example_summary(trained, encoder, splitter, taxonomy):
    """The bundled exit survey (60 invented answers, with directorate, staff group and date) scored
    as `behaviours score` would, by the tiny stand-in model, then summarised by directorate, staff group and date."""
    tagger = Tagger(trained[0], encoder=encoder, splitter=splitter)
    frame = read_table(EXAMPLE)
    results = tagger.tag(frame["what_could_have_been_better"].tolist())
    scored = pd.concat([frame, pd.DataFrame(result_columns(results, taxonomy.ids), index=frame.index)], axis=1)
    return report_summary(
        scored, taxonomy, CARD, Redactor(nlp=spacy.blank("en")).redact, group_by=["directorate", "staff_group"],
        date_column="submitted", source="exit_survey_scored.csv",
    )


def test_report_renders_offline_with_every_chart_drawn(taxonomy, tmp_path, example_summary):
    summary = example_summary
    page_file = tmp_path / "report.html"
    atomic_write_text(page_file, render_html(summary, taxonomy, today=date(2026, 1, 1)))
    with open_page(page_file) as (page, log):
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
        charts = page.locator(".plot .js-plotly-plot")
        assert charts.count() == 6  # behaviours, themes, strengths and gaps, two heatmaps, trend
        drawn = page.evaluate(
            """() => [...document.querySelectorAll('.plot .js-plotly-plot')].map(chart =>
                chart.querySelectorAll('.main-svg').length > 0 &&
                chart.querySelectorAll('.plot .trace path, .plot .trace .point, .plot .hm image').length > 0)"""
        )
        assert drawn == [True] * 6
        assert page.locator("figure.chart details table").count() == 6  # the numbers under every chart
        assert log.errors == []
        assert log.external_requests() == []
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "report_example.png"
        page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_report_is_readable_at_200_percent_zoom(taxonomy, tmp_path):
    """A 640-px-wide window is a 1280-px screen at 200%: nothing may force sideways scrolling."""
    summary = report_summary(scored_frame(), taxonomy, CARD, marked, group_by=["team"], date_column="submitted")
    page_file = tmp_path / "report.html"
    atomic_write_text(page_file, render_html(summary, taxonomy))
    with open_page(page_file, width=640, height=800) as (page, log):
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        assert log.errors == []
