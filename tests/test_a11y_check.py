"""The accessibility helper itself: it must fail on a page with known serious violations and pass
a plain, labelled page — otherwise every 'no violations' in the walks proves nothing."""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.a11y import violations

BAD = """<!doctype html><html><head><title>bad</title></head><body>
<main><form><input type="text" name="serial"></form>
<p style="color:#bbb;background:#fff">faint text</p></main></body></html>"""

GOOD = """<!doctype html><html lang="en"><head><title>good</title></head><body>
<main><h1>Tokens</h1><form><label for="s">Serial</label><input id="s" name="serial">
<button>Find</button></form><p>Plain text.</p></main></body></html>"""


def test_axe_reports_serious_violations(chromium: Browser) -> None:
    page = chromium.new_page()
    try:
        page.set_content(BAD)
        found = violations(page)
        rules = {line.split(" ")[0] for line in found}
        assert "label" in rules
        assert "color-contrast" in rules
        assert "html-has-lang" in rules
        page.set_content(GOOD)
        assert violations(page) == []
    finally:
        page.close()
