"""One way to show a moment on a page: ``2026-12-03 19:45 UTC`` in a ``<time>`` element whose
``datetime`` is the exact UTC instant and whose ``title`` is the UTC time.

Why: pages used to cut ISO strings in three different ways (date only, seconds, a ``T``);
people read one format, and ``static/local-time.js`` rewrites the text to the viewer's own time
zone while the title keeps UTC for hovering, so a page without JavaScript still shows UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape

SHOWN = "%Y-%m-%d %H:%M"


def as_utc(value: datetime | str | None) -> datetime | None:
    """``value`` (a datetime, or an ISO 8601 text as the views give them) as an aware UTC
    datetime; naive values are UTC (the store keeps UTC); None, empty or unreadable: None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_text(value: datetime | str | None) -> str:
    """``2026-12-03 19:45 UTC``, or an empty text when there is no moment."""
    moment = as_utc(value)
    return f"{moment.strftime(SHOWN)} UTC" if moment else ""


def when(value: datetime | str | None, empty: str = "—") -> Markup:
    """The Jinja filter ``when``: ``<time datetime="…Z" title="… UTC">… UTC</time>``, or
    ``empty`` (escaped) when there is no moment; a text that is no moment is shown as it is."""
    moment = as_utc(value)
    if moment is None:
        return escape(value if isinstance(value, str) and value.strip() else empty)
    exact = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    shown = utc_text(moment)
    return Markup('<time class="when" datetime="{}" title="{}">{}</time>').format(
        exact, shown, shown
    )
