"""The README's example end to end: `make demo`'s command on the bundled messy export, its report in Chromium.

The shipped model scores both free-text questions of the cp1252 export and writes
the board report in the same run (`behaviours score … --report`), as `make demo`
does; the page must open offline, draw every chart and show every section the
report promises. With UPDATE_DOCS_SCREENSHOTS=1 its screenshot becomes
docs/report_example.png, so the picture in the README is this report.
"""

from __future__ import annotations

import os
import shutil

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import PROJECT_ROOT
from tests.browser import ARTIFACTS, open_page

EXAMPLE = PROJECT_ROOT / "examples" / "exit_survey_export_cp1252.csv"
SECTIONS = ("reading", "responses", "behaviours", "polarity", "groups", "trend", "examples", "accuracy", "protection")


def test_the_readme_example_report_shows_every_section(tmp_path):
    scored, report = tmp_path / "exit_survey_scored.csv", tmp_path / "exit_survey_report.html"
    result = CliRunner().invoke(app, [
        "score", str(EXAMPLE), "-o", str(scored), "--text-column", "leaving_reason", "--text-column", "could_do_better",
        "--combined", "--id-column", "response_id", "--group-by", "directorate", "--group-by", "staff_group",
        "--report", str(report), "--report-xlsx", str(tmp_path / "summary.xlsx"), "--date-column", "date_left", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    assert scored.is_file() and (tmp_path / "summary.xlsx").is_file()

    with open_page(report) as (page, log):
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
        for section in SECTIONS:
            assert page.locator(f"h2#{section}").is_visible(), section
        drawn = page.evaluate(
            """() => [...document.querySelectorAll('.plot .js-plotly-plot')].map(chart =>
                chart.querySelectorAll('.plot .trace path, .plot .trace .point, .plot .hm image').length > 0)"""
        )
        assert len(drawn) >= 5 and all(drawn)  # behaviours, themes, strengths and gaps, a heatmap per group, trend
        assert page.locator("section[aria-labelledby=examples] blockquote.strength, section[aria-labelledby=examples] blockquote.gap").count() >= 13  # quotes, each marked
        assert log.errors == []
        assert log.external_requests() == []
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "demo_report.png"
        page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(shot, PROJECT_ROOT / "docs" / "report_example.png")
