"""Self-service at ``/me``: my tokens; enroll one by serial, name and code (or two consecutive
codes); rename; report lost (after a confirmation saying what stops working); found it again.

Why: any signed-in person (``SignedIn``) manages their own tokens here, acting only as
themselves: the UPN is always ``principal.name``, never a form field, so nobody can see or touch
another person's tokens. The pages post plain forms (they work without JavaScript) and answer
with a redirect after a change; the API twins under ``/api/v1/me/tokens`` run the same use cases.
Like Microsoft's own ``/me``, a person signed in with Microsoft more than 10 minutes ago signs in
again (with the claims of Graph's challenge) before anything here is shown or changed, and a
change they posted is then completed (``web.reauth``; an enrollment asks for a fresh code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, RedirectResponse, Response

from oathdesk.domain import OathdeskError
from oathdesk.service import selfservice
from oathdesk.web.errors import error_response, status_for
from oathdesk.web.reauth import (
    CLAIMS,
    api_refusal,
    drop_pending,
    needs_reauth,
    pending_of,
    reprompt,
    signin_url,
)
from oathdesk.web.routes_api import ERRORS, ErrorEnvelope
from oathdesk.web.routes_pages import render
from oathdesk.web.security import InventoryDep, Principal, SignedIn

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["self-service"], responses=ERRORS)

SerialPath = Annotated[str, Path(min_length=1, max_length=128, description="Serial number.")]
Done = Literal["enrolled", "renamed", "lost", "found"]
DONE_TEXT = {
    "enrolled": "Token {serial} is enrolled: you can sign in with it now.",
    "renamed": "Token {serial} is renamed.",
    "lost": "Token {serial} is reported lost: it no longer signs you in. Ask the help desk "
    "for a new one, or add one you were given below.",
    "found": "Token {serial} is back with you. It does not sign you in yet: ask the help desk "
    "to switch it on again with the code it shows.",
}
RESUME = "/me/resume"
# states in which a token is in use, so renamed (a lost, broken or retired one is not)
RENAMABLE = ("assigned", "activated", "failed_activation", "deactivated")
LOSABLE = RENAMABLE  # the states a holder may report lost (``lifecycle.HOLDING``)
CHALLENGE = "graph.auth.claims_challenge"  # Graph's /me re-prompt, GraphClaimsChallenge's code


def _refused(request: Request, exc: OathdeskError) -> Response:
    """The error envelope (``web.errors``: 404 for an unclaimable serial like an unknown one,
    ``Retry-After`` on a rate limit)."""
    templates = request.app.state.templates
    return error_response(
        request, templates, status_for(exc.code), exc.code, exc.message, exc.details
    )


# -- pages -----------------------------------------------------------------------------------
def _me_page(
    request: Request,
    inv: InventoryDep,
    principal: Principal,
    *,
    status: int = 200,
    error: OathdeskError | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    success: bool = False,
) -> Response:
    """The page; ``notice`` is shown as a success (green) when ``success``, else as a note."""
    response = render(
        request,
        "me.html",
        principal,
        title="My tokens",
        tokens=selfservice.my_tokens(inv, principal.name),
        error=error,
        form=form or {},
        notice=notice,
        success=success,
        renamable=RENAMABLE,
    )
    response.status_code = status
    return response


@pages.get("/me")
def me_page(
    request: Request,
    inv: InventoryDep,
    principal: SignedIn,
    done: Annotated[Done | None, Query()] = None,
    serial: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    if needs_reauth(request, principal, inv.now()):
        return reprompt(request, str(request.url.path) + _query(request), inv.now())
    notice = None
    if done and serial:
        mine = {t["serial"] for t in selfservice.my_tokens(inv, principal.name)}
        notice = DONE_TEXT[done].format(serial=serial) if serial in mine else None
    return _me_page(request, inv, principal, notice=notice, success=notice is not None)


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


@pages.get("/me/reauth")
def reauth_page(
    request: Request,
    inv: InventoryDep,
    principal: SignedIn,
    next: Annotated[str, Query(max_length=200)] = RESUME,
    claims: Annotated[str, Query(max_length=2000)] = CLAIMS,
) -> Response:
    """Why the person must sign in again, and the link that does it (then back to ``next``)."""
    back = next if next in (RESUME, "/me") else RESUME
    kept = pending_of(request, inv.now()) or {}
    return render(
        request,
        "reauth.html",
        principal,
        title="Sign in again",
        link=signin_url(back, claims),
        enrolling=kept.get("do") == "enroll",
    )


@pages.get("/me/resume")
def resume_page(request: Request, inv: InventoryDep, principal: SignedIn) -> Response:
    """Back from signing in again: complete the change posted before (kept without any code;
    an enrollment shows its form filled in, asking for the code the token shows now)."""
    now = inv.now()
    if needs_reauth(request, principal, now):
        return reprompt(request, RESUME, now)
    settings = request.app.state.settings
    kept = pending_of(request, now)
    if kept is None or kept.get("who") != principal.name:
        return drop_pending(RedirectResponse("/me", status_code=303), settings)
    serial, text = str(kept.get("serial", "")), str(kept.get("text", ""))
    if kept.get("do") == "rename":
        response = rename_form(request, inv, principal, serial, text)
    elif kept.get("do") == "lost":
        response = lost_form(request, inv, principal, serial, text)
    elif kept.get("do") == "found":
        response = found_form(request, inv, principal, serial)
    else:
        form = {"serial": serial, "display_name": text, "action": "enroll"}
        notice = f"You signed in again. Type the code token {serial} shows now to finish adding it."
        response = _me_page(request, inv, principal, form=form, notice=notice)
    return drop_pending(response, settings)


def _after(
    request: Request,
    inv: InventoryDep,
    principal: Principal,
    done: Done,
    act: Callable[[], dict[str, Any]],
    form: dict[str, str],
    kept: dict[str, str],
) -> Response:
    """Run ``act``; a change redirects (303) to the page, a refusal shows the page again with the
    reason and what was typed (never the code). A stale Microsoft sign-in (ours, or Graph's
    claims challenge) first signs the person in again, keeping ``kept`` to complete after."""
    pending = {**kept, "who": principal.name}
    if needs_reauth(request, principal, inv.now()):
        return reprompt(request, RESUME, inv.now(), pending=pending)
    try:
        token = act()
    except OathdeskError as exc:
        claims = exc.details.get("claims") if exc.code == CHALLENGE else None
        if isinstance(claims, str):
            return reprompt(request, RESUME, inv.now(), claims=claims, pending=pending)
        response = _me_page(
            request, inv, principal, status=status_for(exc.code), error=exc, form=form
        )
        if "retry_after" in exc.details:
            response.headers["Retry-After"] = str(exc.details["retry_after"])
        return response
    return RedirectResponse(f"/me?done={done}&serial={quote(token['serial'])}", status_code=303)


@pages.post("/me/tokens")
def enroll_form(
    request: Request,
    inv: InventoryDep,
    principal: SignedIn,
    serial: Annotated[str, Form(max_length=128)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
    next_code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    return _after(
        request,
        inv,
        principal,
        "enrolled",
        lambda: selfservice.enroll(
            inv,
            principal.name,
            serial,
            display_name,
            code,
            actor=principal.actor,
            next_code=next_code or None,
        ),
        {"serial": serial.strip(), "display_name": display_name.strip(), "action": "enroll"},
        {"do": "enroll", "serial": serial.strip(), "text": display_name.strip()},
    )


@pages.post("/me/tokens/{serial}/rename")
def rename_form(
    request: Request,
    inv: InventoryDep,
    principal: SignedIn,
    serial: SerialPath,
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return _after(
        request,
        inv,
        principal,
        "renamed",
        lambda: selfservice.rename(
            inv, principal.name, serial, display_name, actor=principal.actor
        ),
        {"failed": serial, "action": "rename"},
        {"do": "rename", "serial": serial, "text": display_name},
    )


@pages.post("/me/tokens/{serial}/lost")
def lost_form(
    request: Request,
    inv: InventoryDep,
    principal: SignedIn,
    serial: SerialPath,
    reason: Annotated[str, Form(max_length=500)] = "",
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """First a confirmation saying what the person loses (like the console's destructive
    actions); the report itself once confirmed. A request the service would refuse anyway
    (not mine, not held, no reason) skips the confirmation and shows the refusal."""
    if confirmed != "yes" and reason.strip() and not needs_reauth(request, principal, inv.now()):
        mine = {t["serial"]: t for t in selfservice.my_tokens(inv, principal.name)}
        token = mine.get(serial)
        if token is not None and token["state"] in LOSABLE:
            return render(
                request,
                "me_confirm.html",
                principal,
                title="Report lost?",
                token=token,
                reason=reason,
            )
    return _after(
        request,
        inv,
        principal,
        "lost",
        lambda: selfservice.report_lost(inv, principal.name, serial, reason, actor=principal.actor),
        {"failed": serial, "action": "lost"},
        {"do": "lost", "serial": serial, "text": reason},
    )


@pages.post("/me/tokens/{serial}/found")
def found_form(
    request: Request, inv: InventoryDep, principal: SignedIn, serial: SerialPath
) -> Response:
    return _after(
        request,
        inv,
        principal,
        "found",
        lambda: selfservice.report_found(inv, principal.name, serial, actor=principal.actor),
        {"failed": serial, "action": "found"},
        {"do": "found", "serial": serial},
    )


# -- API -------------------------------------------------------------------------------------
def _fresh(request: Request, inv: InventoryDep, principal: Principal) -> None:
    """The API twins answer a stale Microsoft sign-in with 401 ``auth.reauth_required`` (its
    details: the claims, and where to sign in again)."""
    if needs_reauth(request, principal, inv.now()):
        raise api_refusal()


class MyToken(BaseModel):
    serial: str
    display_name: str
    state: str
    kind: str
    period: int
    digits: int
    manufacturer: str
    model: str


class MyTokens(BaseModel):
    items: list[MyToken]


class EnrollBody(BaseModel):
    serial: str = Field(min_length=1, max_length=128, description="As printed on the token.")
    display_name: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=16, description="The code the token shows now.")
    next_code: str | None = Field(
        default=None,
        max_length=16,
        description="The code it shows next: with it, the two consecutive codes may be from "
        "any time in Entra's ±1 day (a token whose clock is off); without it, `code` must be "
        "within ±2 steps of the token's known clock.",
    )


class RenameBody(BaseModel):
    display_name: str = Field(min_length=1, max_length=200)


class LostBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.get("/me/tokens", summary="My tokens")
def my_tokens(request: Request, inv: InventoryDep, principal: SignedIn) -> MyTokens:
    _fresh(request, inv, principal)
    items = selfservice.my_tokens(inv, principal.name)
    return MyTokens(items=[MyToken(**t) for t in items])


@router.post(
    "/me/tokens",
    status_code=201,
    response_model=MyToken,
    summary="Enroll a token: serial, a name and the code it shows (checked before Entra)",
    responses={
        400: {"model": ErrorEnvelope, "description": "Wrong, replayed or malformed code."},
        404: {"model": ErrorEnvelope, "description": "Not claimable by you, or unknown."},
        409: {"model": ErrorEnvelope, "description": "Already yours and enrolled."},
        429: {"model": ErrorEnvelope, "description": "Too many wrong codes (retry_after)."},
    },
)
def enroll(request: Request, inv: InventoryDep, principal: SignedIn, body: EnrollBody) -> Response:
    try:
        _fresh(request, inv, principal)
        token = selfservice.enroll(
            inv,
            principal.name,
            body.serial,
            body.display_name,
            body.code,
            actor=principal.actor,
            next_code=body.next_code,
        )
    except OathdeskError as exc:
        return _refused(request, exc)
    return JSONResponse(MyToken(**token).model_dump(), status_code=201)


@router.patch(
    "/me/tokens/{serial}",
    summary="Rename one of my tokens",
    responses={
        400: {"model": ErrorEnvelope, "description": "The name is empty or too long."},
        404: {"model": ErrorEnvelope, "description": "You have no token with this serial."},
    },
)
def rename(
    request: Request, inv: InventoryDep, principal: SignedIn, serial: SerialPath, body: RenameBody
) -> MyToken:
    _fresh(request, inv, principal)
    token = selfservice.rename(
        inv, principal.name, serial, body.display_name, actor=principal.actor
    )
    return MyToken(**token)


@router.post(
    "/me/tokens/{serial}/lost",
    summary="Report one of my tokens lost (deactivated)",
    responses={
        400: {"model": ErrorEnvelope, "description": "No reason given."},
        404: {"model": ErrorEnvelope, "description": "You have no token with this serial."},
        409: {"model": ErrorEnvelope, "description": "Not a token you hold (e.g. already lost)."},
    },
)
def lost(
    request: Request, inv: InventoryDep, principal: SignedIn, serial: SerialPath, body: LostBody
) -> MyToken:
    _fresh(request, inv, principal)
    token = selfservice.report_lost(inv, principal.name, serial, body.reason, actor=principal.actor)
    return MyToken(**token)


@router.post(
    "/me/tokens/{serial}/found",
    summary="I found one of my tokens I reported lost (back with me, not yet switched on)",
    responses={
        404: {"model": ErrorEnvelope, "description": "You have no token with this serial."},
        409: {"model": ErrorEnvelope, "description": "Not a token you reported lost."},
    },
)
def found(request: Request, inv: InventoryDep, principal: SignedIn, serial: SerialPath) -> MyToken:
    _fresh(request, inv, principal)
    token = selfservice.report_found(inv, principal.name, serial, actor=principal.actor)
    return MyToken(**token)
