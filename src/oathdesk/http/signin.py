"""Pages and steps around a session: forms shown before sign-in, the sign-in form's POST
(throttled by the service), opening a session after any kind of sign-in, and sign-out.

Why shared: the sign-in form is the most attacked page, so both apps must treat it the same
way: CSRF-protected before a session exists, wrong names and wrong passwords answered alike,
a new session replacing the browser's old one, and only ever a redirect to a path on this site.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from oathdesk.domain import OathdeskError, Secret
from oathdesk.http.auth import SESSION, MaybeSignedIn, SignedIn, client_address
from oathdesk.http.cookies import clear_cookie, set_cookie
from oathdesk.http.csrf import NONCE, NONCE_SECONDS, FormCsrf, form_token, keep_nonce
from oathdesk.http.errors import retry_headers
from oathdesk.http.principal import Principal
from oathdesk.http.site import site_of
from oathdesk.http.status import status_for
from oathdesk.service.accounts import (
    AccountView,
    AuthError,
    close_session,
    open_session,
    sign_in,
)


def safe_next(target: str | None, default: str) -> str:
    """Only a local path: never another site (``//evil``, ``https://…``, ``/\\evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


def render_form(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    nonce_age: int = NONCE_SECONDS,
) -> Response:
    """A page whose forms are posted before sign-in: ``csrf_token`` bound to the nonce cookie
    (set, for ``nonce_age`` seconds, when the browser has none); with an ``error`` in
    ``context``, the status of its code and ``Retry-After`` when it says when to retry."""
    token, fresh = form_token(request)
    error = context.get("error")
    status, headers = 200, {}
    if isinstance(error, OathdeskError):
        status, headers = status_for(error.code), retry_headers(error.details)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        template,
        {"principal": None, "csrf_token": token, **context},
        status_code=status,
        headers=headers,
    )
    if fresh is not None:
        keep_nonce(response, site_of(request).cookies, fresh, nonce_age)
    return response


def start_session(
    request: Request,
    account: str,
    previous: Principal | None,
    target: str,
    *,
    clear: Iterable[str] = (NONCE,),
) -> Response:
    """After a sign-in of any kind: a new session for ``account`` (replacing the browser's old
    one, never adding one), its cookie, the ``clear`` cookies gone, and off to ``target``."""
    site = site_of(request)
    if previous is not None:
        close_session(site.inventory, previous.session_id, actor=previous.actor)
    token, _session = open_session(
        site.inventory, account, address=client_address(request), lifetime=site.cookies.lifetime
    )
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, site.cookies, SESSION, token)
    for purpose in clear:
        clear_cookie(response, site.cookies, purpose)
    return response


def password_sign_in(
    request: Request,
    name: str,
    password: str,
    previous: Principal | None,
    *,
    landing: Callable[[AccountView], str],
    refused: Callable[[AuthError], Response],
) -> Response:
    """The sign-in form's POST with a local account: ``refused`` shows the form again with the
    error (throttled, or a wrong name or password alike); else a session and ``landing``."""
    site = site_of(request)
    try:
        account = sign_in(
            site.inventory,
            name.strip(),
            Secret(password.encode()),
            address=client_address(request),
            policy=site.throttle,
        )
    except AuthError as exc:
        return refused(exc)
    return start_session(request, account.name, previous, landing(account))


def sign_out(request: Request, principal: Principal, target: str = "/signin") -> Response:
    """End the session on the server (a copied cookie is then worthless) and drop its cookie."""
    site = site_of(request)
    close_session(site.inventory, principal.session_id, actor=principal.actor)
    response = RedirectResponse(target, status_code=303)
    clear_cookie(response, site.cookies, SESSION)
    return response


class SigninForm(Protocol):
    """Shows an app's sign-in page (with ``error`` when one is given)."""

    def __call__(
        self,
        request: Request,
        *,
        name: str = "",
        next_path: str,
        error: OathdeskError | None = None,
    ) -> Response: ...


def signin_routes(
    router: APIRouter,
    form: SigninForm,
    *,
    home: str,
    landing: Callable[[AccountView, str], str] = lambda _account, target: target,
    signed_out: str = "/signin",
) -> None:
    """Add ``GET /signin``, ``POST /signin`` and ``POST /signout`` to ``router``: ``form``
    shows the app's page, ``home`` is where a sign-in without a (safe) next page leads,
    ``landing(account, next page)`` may send an account elsewhere (e.g. one without roles),
    and a sign-out leads to ``signed_out`` (a local path: a page that may say so)."""

    @router.get("/signin")
    def signin_page(
        request: Request, principal: MaybeSignedIn, next: str | None = None
    ) -> Response:
        if principal is not None:
            return RedirectResponse(safe_next(next, home), status_code=303)
        return form(request, next_path=safe_next(next, home))

    @router.post("/signin", dependencies=[FormCsrf])
    def signin_submit(
        request: Request,
        previous: MaybeSignedIn,
        name: Annotated[str, Form(max_length=200)],
        password: Annotated[str, Form(max_length=1024)],
        next: Annotated[str, Form()] = home,
    ) -> Response:
        target = safe_next(next, home)
        return password_sign_in(
            request,
            name,
            password,
            previous,
            landing=lambda account: landing(account, target),
            refused=lambda exc: form(request, name=name, next_path=target, error=exc),
        )

    @router.post("/signout")
    def signout(request: Request, principal: SignedIn) -> Response:
        return sign_out(request, principal, signed_out)
