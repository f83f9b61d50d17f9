"""The tagging page end to end: the shipped model behind a real uvicorn server, driven in headless Chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from pipeline.config import ServeParams
from pipeline.serve import create_app
from tests.browser import ARTIFACTS, chromium

DOCS = Path(__file__).resolve().parents[2] / "docs"
NOTE = (
    "Priya has grown a lot this year. She coaches the newer nurses every week and gave two of them the chance "
    "to lead the audit.\n"
    "Nobody on the ward was ever told why the day unit was closing, and staff found out from a rota."
)


@pytest.fixture(scope="module")
def server_url(shipped, taxonomy):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(shipped, taxonomy, ServeParams()), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_paste_a_note_and_see_highlighted_strengths_and_gaps(server_url):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1200, "height": 1400})
        page = context.new_page()
        errors, requests = [], []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(server_url + "/")
        page.wait_for_selector("#legend li", state="attached")  # the taxonomy arrived

        page.fill("#note", NOTE)
        page.focus("#tag")
        page.keyboard.press("Enter")  # the button works from the keyboard
        page.wait_for_selector("mark.evidence", timeout=30_000)

        assert "found" in page.inner_text("#message")
        marks = page.locator("mark.evidence")
        highlighted = " ".join(marks.all_inner_texts())
        assert "coaches the newer nurses" in highlighted and "day unit was closing" in highlighted
        assert page.locator(".marker.strength").count() >= 1
        assert page.locator(".marker.gap").count() >= 1
        colours = {mark.evaluate("m => getComputedStyle(m).borderBottomColor") for mark in marks.all()}
        assert all(colour.startswith("rgb(") for colour in colours)
        assert page.locator("#ranked tbody tr").count() == 13
        assert page.locator("#ranked tbody tr.found").count() == page.locator(
            "#ranked tbody tr.found"
        ).filter(has_text="strength").count() + page.locator("#ranked tbody tr.found").filter(has_text="gap").count()

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "serve_page.png"), full_page=True)
        if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
            page.screenshot(path=str(DOCS / "serve_page.png"), full_page=True)

        with page.expect_download() as download:
            page.click("#download-csv")
        assert download.value.suggested_filename == "behaviours.csv"

        page.set_viewport_size({"width": 600, "height": 900})  # 1200 px at 200% zoom
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

        assert errors == []
        assert all(url.startswith((server_url, "blob:", "data:")) for url in requests), requests
        context.close()


def test_an_answer_with_no_behaviour_says_so(server_url):
    with chromium() as browser:
        page = browser.new_page()
        page.goto(server_url + "/")
        page.wait_for_selector("#legend li", state="attached")
        page.fill("#note", "The car park is too far from the main entrance and the lifts are often broken.")
        page.press("#note", "Control+Enter")  # tags from the text box
        page.wait_for_selector("#results:not([hidden])")
        assert page.inner_text("#message") == "No behaviour from the framework found in this text."
        assert page.locator("mark.evidence").count() == 0
