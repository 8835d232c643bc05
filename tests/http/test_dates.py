"""The ``when`` filter (http/dates.py) and the script that localises its output: one format,
the exact UTC instant in ``datetime``, UTC in the title; the same script in both apps.

Why: a page without JavaScript must still read right (UTC, said so), and the browser script
only finds ``time.when[datetime]`` elements, so the markup it relies on is pinned here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from oathdesk.http.dates import utc_text, when
from oathdesk.http.templating import KIT_TEMPLATES

SRC = Path(__file__).resolve().parents[2] / "src" / "oathdesk"
MARKUP = (
    '<time class="when" datetime="2026-12-03T19:45:07Z" title="2026-12-03 19:45 UTC">'
    "2026-12-03 19:45 UTC</time>"
)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 3, 19, 45, 7, tzinfo=UTC),
        datetime(2026, 12, 3, 19, 45, 7),  # naive: the store keeps UTC
        datetime(2026, 12, 3, 14, 45, 7, tzinfo=timezone(timedelta(hours=-5))),
        "2026-12-03T19:45:07+00:00",
        "2026-12-03T19:45:07Z",
        "2026-12-03T19:45:07.123456",
    ],
)
def test_every_moment_renders_the_same_way(value: datetime | str) -> None:
    assert str(when(value)) == MARKUP


def test_nothing_and_text_that_is_no_moment() -> None:
    assert str(when(None)) == "—"
    assert str(when("", "never")) == "never"
    assert str(when("<soon>")) == "&lt;soon&gt;"  # shown as it is, escaped
    assert utc_text("2026-12-03T19:45:00Z") == "2026-12-03 19:45 UTC" and utc_text(None) == ""


def test_both_apps_ship_the_same_script_and_every_page_loads_it() -> None:
    web = (SRC / "web" / "static" / "local-time.js").read_text()
    delivery = (SRC / "delivery" / "static" / "local-time.js").read_text()
    assert web == delivery and "time.when[datetime]" in web and "Intl.DateTimeFormat" in web
    layout = (KIT_TEMPLATES / "layout.html").read_text()
    assert "path='local-time.js'" in layout


def test_no_template_cuts_a_date_by_hand() -> None:
    cut = []
    for page in sorted(SRC.glob("*/templates/*.html")):
        text = page.read_text()
        if "strftime" in text or "|replace('T'" in text or "| replace('T'" in text:
            cut.append(page.name)
    assert cut == []
