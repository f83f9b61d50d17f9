"""Headless Chromium for tests that open a page: the system browser, never a downloaded one.

Plain functions, imported by the tests that need them (`from tests.browser import ...`).
A test skips when /usr/bin/chromium is absent, unless the environment sets
REQUIRE_BROWSER (CI does), in which case it fails: a missing browser must not turn
a browser test green.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots for people to look at (gitignored)


def require_browser() -> None:
    """Skip the calling test when Chromium is missing, or fail when REQUIRE_BROWSER is set."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"REQUIRE_BROWSER is set but {message}")
    pytest.skip(message)


@dataclass
class PageLog:
    """What a page did while open: console errors, uncaught exceptions and every URL it requested."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        """Requests that left the machine (anything but file: and data: URLs)."""
        return [url for url in self.requests if not url.startswith(("file:", "data:", "blob:", "about:"))]


@contextmanager
def chromium():
    """A launched headless Chromium (the system one, with the CI-safe flags); closed afterwards."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(path: Path, width: int = 1280, height: int = 900) -> Iterator[tuple[object, PageLog]]:
    """Open a local file offline in a fresh context; yields (page, log) once the page has loaded."""
    with chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
        page = context.new_page()
        log = PageLog()
        page.on("console", lambda message: log.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: log.errors.append(str(error)))
        page.on("request", lambda request: log.requests.append(request.url))
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        try:
            yield page, log
        finally:
            context.close()
