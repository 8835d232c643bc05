"""Which HTTP status answers which error code in the delivery app (as the console, plus 410)."""

from __future__ import annotations

STATUS = {
    "auth.required": 401,
    "auth.invalid_credentials": 401,
    "auth.forbidden": 403,
    "auth.csrf": 403,
    "auth.throttled": 429,
    "store.busy": 503,
    "request.invalid": 422,
    "delivery.link_gone": 410,
    "delivery.order_not_found": 404,
}
TITLES = {401: "Sign-in needed", 403: "Not allowed", 404: "Not found", 410: "Link no longer valid"}


def status_for(code: str) -> int:
    if code in STATUS:
        return STATUS[code]
    suffixes: list[tuple[tuple[str, ...], int]] = [
        ((".not_found",), 404),
        ((".gone",), 410),
        ((".forbidden", ".not_yours"), 403),
        ((".throttled", ".rate_limited"), 429),
        ((".state_conflict", ".concurrent_change", ".exists", ".serial_conflict"), 409),
    ]
    for ends, status in suffixes:
        if code.endswith(ends):
            return status
    return 400
