"""Sign-in with a local account, sign-out, and the front door that sends people to one or the other.

Why: the sign-in form is the most attacked page; the HTTP kit's routes make it CSRF-protected
before a session exists, throttled by the service, answering wrong names and wrong passwords
the same way, and only ever redirecting to a path on this site afterwards.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from oathdesk.domain import OathdeskError
from oathdesk.http import render_form, signin_routes
from oathdesk.http import safe_next as _safe_next
from oathdesk.service.accounts import AccountView
from oathdesk.web.security import MaybeSignedIn

router = APIRouter(include_in_schema=False)
HOME = "/dashboard"
ROLELESS_HOME = "/me"  # self-service is all an account without a role may use
SIGNED_OUT = "/signin?signed_out=1"  # where a sign-out leads: the sign-in page, saying so


def safe_next(target: str | None) -> str:
    """Only a local path (else the dashboard): never another site."""
    return _safe_next(target, HOME)


def landing(account: AccountView, target: str) -> str:
    return target if account.roles else ROLELESS_HOME


def home_for(principal: MaybeSignedIn) -> str:
    if principal is None:
        return "/signin"
    return HOME if principal.roles else ROLELESS_HOME


@router.get("/")
def front_door(principal: MaybeSignedIn) -> RedirectResponse:
    return RedirectResponse(home_for(principal), status_code=303)


def signin_form(
    request: Request,
    *,
    name: str = "",
    next_path: str = HOME,
    error: OathdeskError | None = None,
) -> Response:
    """The sign-in page: the local-account form, and "Sign in with Microsoft" when Entra
    sign-in is configured; ``error`` (local or Entra) is shown in an alert box, and "You are
    signed out." right after a sign-out (``SIGNED_OUT``)."""
    context = {
        "title": "Sign in",
        "name": name,
        "next": next_path,
        "error": error,
        "entra": request.app.state.settings.entra is not None,
        "signed_out": error is None and request.query_params.get("signed_out") == "1",
    }
    return render_form(request, "signin.html", context)


signin_routes(router, signin_form, home=HOME, landing=landing, signed_out=SIGNED_OUT)
