"""The suite's browser: Debian's chromium through Playwright (``chromium``, one per test module)
and the folders the screenshots go to (``artifacts``).

A pytest plugin (the root conftest lists it). The browser lives for one module, never for the
session: Playwright's sync API keeps an event loop on the main thread while it runs, and the
other modules must not inherit it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def artifacts_folder(area: str) -> Path:
    """Where browser tests of ``area`` (``web``, ``delivery``) put their screenshots:
    ``$OATHDESK_TEST_ARTIFACTS/<area>``, by default ``artifacts/<area>`` in the checkout."""
    root = Path(os.environ.get("OATHDESK_TEST_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))
    folder = root / area
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """The screenshot folder of the test's area: its folder under tests/ (``web``, ...)."""
    return artifacts_folder(request.path.parent.name)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """A launched chromium for this test module; each test opens its own context in it."""
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()
