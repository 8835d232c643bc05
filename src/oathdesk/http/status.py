"""Which HTTP status answers which error code, and the heading of its error page.

Why one place: the error handlers of both apps, and every route that shows a form again with
its error, ask the same question and must get the same answer. ``status_for`` is the only name
callers use, so the table below can give way to the domain's error-code registry by changing
the one line that binds it.
"""

from __future__ import annotations

from collections.abc import Callable

STATUS = {
    "auth.required": 401,
    "auth.invalid_credentials": 401,
    "auth.forbidden": 403,
    "auth.csrf": 403,
    "auth.throttled": 429,
    "store.busy": 503,
    "store.unreachable": 503,
    "service.not_migrated": 503,
    "request.invalid": 422,
    "selfservice.not_claimable": 404,  # unknown and not-yours alike: serials cannot be probed
    "graph.conflict": 409,
    "graph.unavailable": 503,
    "graph.outcome_unknown": 503,
    "delivery.link_gone": 410,  # a spent, expired or unknown download link
    "delivery.order_not_found": 404,  # unknown order and wrong e-mail alike
}
SUFFIXES: tuple[tuple[tuple[str, ...], int], ...] = (
    ((".not_found",), 404),
    ((".forbidden", ".not_yours"), 403),
    ((".throttled", ".rate_limited"), 429),
    ((".state_conflict", ".concurrent_change", ".exists", ".serial_conflict"), 409),
)
TITLES = {
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    410: "Link no longer valid",
    422: "Check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Try again shortly",
}


def table_status(code: str) -> int:
    """The status of ``code`` by the table, then by its suffix; 400 for anything else."""
    if code in STATUS:
        return STATUS[code]
    for ends, status in SUFFIXES:
        if code.endswith(ends):
            return status
    return 400


# The one binding every caller goes through.
status_for: Callable[[str], int] = table_status


def title_for(status: int) -> str:
    """The heading of the HTML error page for ``status``."""
    return TITLES.get(status, "Error")
