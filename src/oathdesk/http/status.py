"""Which HTTP status answers which error code, and the heading of its error page.

Why one place: the error handlers of both apps, and every route that shows a form again with
its error, ask the same question and must get the same answer: the status of the code's kind in
the domain's error registry (the CLI's exit status comes from the same table).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from oathdesk.domain.error_codes import http_status

__all__ = ["TITLES", "refusals_noted", "status_for", "title_for"]

# The codes a request was refused with 429, for the metrics of throttles by limiter: a list
# shared by reference, so a route run in the thread pool (a copy of the context) adds to it.
_refused: ContextVar[list[str] | None] = ContextVar("oathdesk_refused", default=None)

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


def status_for(code: str) -> int:
    """The status of ``code``'s kind; a 429 is noted for the request's throttle metrics."""
    status = http_status(code)
    if status == 429:
        noted = _refused.get()
        if noted is not None:
            noted.append(code)
    return status


@contextmanager
def refusals_noted() -> Iterator[list[str]]:
    """Inside the block, every code answered with 429 is added to the list yielded."""
    noted: list[str] = []
    token = _refused.set(noted)
    try:
        yield noted
    finally:
        _refused.reset(token)


def title_for(status: int) -> str:
    """The heading of the HTML error page for ``status``."""
    return TITLES.get(status, "Error")
