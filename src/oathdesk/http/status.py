"""Which HTTP status answers which error code, and the heading of its error page.

Why one place: the error handlers of both apps, and every route that shows a form again with
its error, ask the same question and must get the same answer: the status of the code's kind in
the domain's error registry (the CLI's exit status comes from the same table).
"""

from __future__ import annotations

from oathdesk.domain.error_codes import http_status as status_for

__all__ = ["TITLES", "status_for", "title_for"]

TITLES = {
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Changed meanwhile",
    410: "Link no longer valid",
    422: "Check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Try again shortly",
}


def title_for(status: int) -> str:
    """The heading of the HTML error page for ``status``."""
    return TITLES.get(status, "Error")
