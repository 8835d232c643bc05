"""The console's side of a Temporary Access Pass issued with a replace: read the form's choice,
and show the pass on a page of its own, once.

Why: the pass is a password. The result page is the only place it ever appears: it is rendered
straight from the replace's answer (never stored, never in a redirect's URL), sent with
``Cache-Control: no-store`` so no browser or proxy keeps a copy, and a reload cannot show it
again (the reload is a new request; the pass is gone).
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from oathdesk.domain import UsageError
from oathdesk.service._common import ActionResult
from oathdesk.service.tap import DEFAULT_MINUTES, TapRequest
from oathdesk.web.routes_pages import render
from oathdesk.web.security import Principal


def tap_request(tap: str, minutes: str, once: str) -> TapRequest | None:
    """The replace form's "issue a Temporary Access Pass" choice (None when not ticked)."""
    if tap != "yes":
        return None
    text = minutes.strip()
    if text and not text.isdigit():
        raise UsageError(
            "The pass's lifetime is a whole number of minutes (10 to 43,200).",
            code="usage.tap_lifetime",
        )
    return TapRequest(int(text) if text else DEFAULT_MINUTES, once == "yes").check()


def replace_done(request: Request, principal: Principal, result: ActionResult) -> Response:
    """The replace's result with the pass, shown this once."""
    issued = result.tap
    response = render(
        request,
        "replace_done.html",
        principal,
        title=f"Token {result.serial} replaced",
        result=result.to_dict(),
        tap=issued.facts() if issued is not None else None,
        tap_value=issued.reveal() if issued is not None else "",
        tap_error=result.extra.get("tap_error"),
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
