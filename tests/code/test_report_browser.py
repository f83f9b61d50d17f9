"""The report in a real browser: it opens offline, without errors, and every chart draws.

Skipped without /usr/bin/chromium unless REQUIRE_BROWSER is set (then it fails).
Keeps a screenshot in tests/artifacts/. With UPDATE_DOCS_SCREENSHOTS=1 the example
is tagged by the shipped model (real encoder, ~10 s more), its card is used and
quotes get the full redactor, and docs/report_example.png is refreshed: the
picture in the docs shows real tags, while the everyday run stays fast.
"""

from __future__ import annotations

import os
import shutil
from datetime import date

import pandas as pd
import pytest
import spacy

from pipeline.config import PROJECT_ROOT
from pipeline.io import atomic_write_text, read_table
from pipeline.redact import Redactor
from pipeline.report import read_card, render_html, summarise
from pipeline.tagger import Tagger, result_columns
from tests.browser import ARTIFACTS, open_page
from tests.code.test_report import CARD, marked, scored_frame

DOCS_SCREENSHOT = PROJECT_ROOT / "docs" / "report_example.png"
EXAMPLE = PROJECT_ROOT / "examples" / "exit_survey.csv"


UPDATE_DOCS = os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1"


@pytest.fixture(scope="module")
def example_summary(request, trained, encoder, splitter, taxonomy):
    """The bundled exit survey (60 invented answers, with directorate, staff group and date) scored
    as `behaviours score` would, then summarised with directorate and staff group and the date."""
    if UPDATE_DOCS:
        tagger, redactor = request.getfixturevalue("shipped"), Redactor()
        card = read_card(PROJECT_ROOT / "models" / "default")
    else:  # the tiny stand-in model, and the redactor's rules without the spaCy model
        tagger, redactor, card = Tagger(trained[0], encoder=encoder, splitter=splitter), Redactor(nlp=spacy.blank("en")), CARD
    frame = read_table(EXAMPLE)
    results = tagger.tag(frame["what_could_have_been_better"].tolist())
    scored = pd.concat([frame, pd.DataFrame(result_columns(results, taxonomy.ids), index=frame.index)], axis=1)
    return summarise(
        scored, taxonomy, card, redactor.redact, group_by=["directorate", "staff_group"], date_column="submitted",
        source="exit_survey_scored.csv",
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
    if UPDATE_DOCS:
        shutil.copyfile(shot, DOCS_SCREENSHOT)


def test_report_is_readable_at_200_percent_zoom(taxonomy, tmp_path):
    """A 640-px-wide window is a 1280-px screen at 200%: nothing may force sideways scrolling."""
    summary = summarise(scored_frame(), taxonomy, CARD, marked, group_by=["team"], date_column="submitted")
    page_file = tmp_path / "report.html"
    atomic_write_text(page_file, render_html(summary, taxonomy))
    with open_page(page_file, width=640, height=800) as (page, log):
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        assert log.errors == []
