"""Sign-in with a local account, sign-out, and the front door that sends people to one or the other.

Why: the sign-in form is the most attacked page, so it is CSRF-protected before a session exists
(pre-session nonce), throttled by the service, answers wrong names and wrong passwords the same
way, and only ever redirects to a path on this site afterwards.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from oathdesk.domain import OathdeskError, Secret
from oathdesk.service.accounts import AuthError, close_session, open_session, sign_in
from oathdesk.web.errors import status_for
from oathdesk.web.security import (
    InventoryDep,
    MaybeSignedIn,
    SettingsDep,
    SignedIn,
    check_presession_csrf,
    clear_cookie,
    client_address,
    presession,
    set_presession,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a local path: never another site (``//evil``, ``https://…``, ``/\\evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/dashboard"
    return target


def home_for(principal: MaybeSignedIn) -> str:
    if principal is None:
        return "/signin"
    return "/dashboard" if principal.roles else "/me"


@router.get("/")
def front_door(principal: MaybeSignedIn) -> RedirectResponse:
    return RedirectResponse(home_for(principal), status_code=303)


def signin_form(
    request: Request,
    *,
    name: str = "",
    next_path: str = "/dashboard",
    error: OathdeskError | None = None,
) -> Response:
    """The sign-in page: the local-account form, and "Sign in with Microsoft" when Entra
    sign-in is configured; ``error`` (local or Entra) is shown in an alert box."""
    token, fresh = presession(request)
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request,
        "signin.html",
        {
            "principal": None,
            "title": "Sign in",
            "name": name,
            "next": next_path,
            "error": error,
            "csrf_token": token,
            "entra": request.app.state.settings.entra is not None,
        },
        status_code=status_for(error.code) if error else 200,
    )
    if fresh is not None:
        set_presession(response, request.app.state.settings, fresh)
    if error is not None and error.code == "auth.throttled":
        response.headers["Retry-After"] = str(error.details.get("retry_after", 60))
    return response


@router.get("/signin")
def signin_page(request: Request, principal: MaybeSignedIn, next: str | None = None) -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return signin_form(request, next_path=safe_next(next))


@router.post("/signin", dependencies=[Depends(check_presession_csrf)])
def signin_submit(
    request: Request,
    inv: InventoryDep,
    settings: SettingsDep,
    previous: MaybeSignedIn,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/dashboard",
) -> Response:
    address = client_address(request)
    try:
        account = sign_in(
            inv, name.strip(), Secret(password.encode()), address=address, policy=settings.throttle
        )
    except AuthError as exc:
        return signin_form(request, name=name, next_path=safe_next(next), error=exc)
    if previous is not None:  # a new sign-in replaces the browser's old session, never adds one
        close_session(inv, previous.session_id, actor=previous.actor)
    token, _session = open_session(
        inv, account.name, address=address, lifetime=settings.session_lifetime
    )
    target = safe_next(next) if account.roles else "/me"
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, settings, token)
    clear_cookie(response, settings, settings.presession_cookie)
    return response


@router.post("/signout")
def signout(inv: InventoryDep, settings: SettingsDep, principal: SignedIn) -> Response:
    close_session(inv, principal.session_id, actor=principal.actor)
    response = RedirectResponse("/signin", status_code=303)
    clear_cookie(response, settings, settings.session_cookie)
    return response
