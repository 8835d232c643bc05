"""Entra users for the help desk: search, one user with their tokens, hand over a token (assign
and activate in one form), replace a lost or broken one; pages and their ``/api/v1`` twins.

Why: the help desk starts from the person in front of them; the hand-over form checks the code
locally before Entra is called (a typo never leaves the token in ``failedActivation``) and a
refusal (wrong or replayed code, unknown serial, a token held by someone else) is shown on the
user's page, next to the form, in words.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from oathdesk.domain import OathdeskError, UsageError
from oathdesk.service.lifecycle import Action, ActionRequest, perform
from oathdesk.service.lifecycle.preview import plan_replacement
from oathdesk.service.users import list_users, search_users, user_detail
from oathdesk.web.errors import status_for
from oathdesk.web.routes_api import ERRORS, ErrorEnvelope
from oathdesk.web.routes_pages import render
from oathdesk.web.security import Helpdesk, InventoryDep, Principal
from oathdesk.web.tap_views import replace_done, tap_request
from oathdesk.web.views import ACTION_LABELS

pages = APIRouter(include_in_schema=False)
router = APIRouter(
    prefix="/api/v1",
    tags=["users"],
    responses={
        **ERRORS,
        400: {"model": ErrorEnvelope, "description": "Entra refused or could not be reached."},
        404: {"model": ErrorEnvelope, "description": "No such user in Entra (graph.not_found)."},
        429: {"model": ErrorEnvelope, "description": "Entra is throttling (graph.throttled)."},
    },
)

SearchQ = Annotated[str, Query(max_length=256, description="Name or UPN prefix, or a UPN.")]
UpnPath = Annotated[str, Path(min_length=1, max_length=320, description="UPN or object id.")]
DoneQ = Annotated[str | None, Query(max_length=20)]
DoneSerialQ = Annotated[str | None, Query(max_length=128)]
Text = Annotated[str, Form(max_length=500)]
Short = Annotated[str, Form(max_length=128)]
Code = Annotated[str, Form(max_length=16)]

HOLDING = ("assigned", "activated", "failed_activation", "deactivated")


def search(inv: InventoryDep, q: str) -> tuple[list[dict[str, Any]], OathdeskError | None]:
    try:
        return search_users(inv, q), None
    except OathdeskError as exc:
        return [], exc


AfterQ = Annotated[
    str | None,
    Query(
        max_length=2048,
        pattern=r"^[!-~]+$",  # Entra's skiptokens are printable ASCII; nothing else is sent on
        description="The page's skiptoken (from `next`).",
    ),
]
PageQ = Annotated[int, Query(ge=1, le=100_000, description="The page's number (shown only).")]


def directory_page(
    inv: InventoryDep, after: str | None
) -> tuple[dict[str, Any], OathdeskError | None]:
    try:
        return list_users(inv, after=after), None
    except OathdeskError as exc:
        return {"items": [], "next": None}, exc


@pages.get("/users")
def users_page(
    request: Request,
    inv: InventoryDep,
    principal: Helpdesk,
    q: SearchQ = "",
    after: AfterQ = None,
    n: PageQ = 1,
) -> Response:
    """A search when ``q`` is given; else the directory, a page at a time ("Next page" carries
    Entra's skiptoken, as the inventory's carries its cursor), each user with our token count."""
    searched = bool(q.strip())
    listing: dict[str, Any] = {"items": [], "next": None}
    if searched:
        found, problem = search(inv, q)
    else:
        listing, problem = directory_page(inv, after)
        found = listing["items"]
    following = listing["next"]
    return render(
        request,
        "users.html",
        principal,
        title="Users",
        q=q,
        users=found,
        searched=searched,
        problem=problem,
        page_number=n if after else 1,
        next_url=f"/users?{urlencode({'after': following, 'n': min(n + 1, 100_000)})}"
        if following
        else None,
        first_url="/users" if after else None,
    )


def render_user(
    request: Request,
    inv: InventoryDep,
    principal: Principal,
    upn: str,
    *,
    done: str | None = None,
    done_serial: str | None = None,
    replaced: str | None = None,
    error: OathdeskError | None = None,
    failed: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    detail = user_detail(inv, upn)
    person = detail["user"]
    response = render(
        request,
        "user.html",
        principal,
        title=(person or {}).get("display_name") or upn,
        detail=detail,
        upn=upn,
        done=ACTION_LABELS.get(done or ""),
        done_serial=done_serial,
        replaced=replaced,
        error=error,
        failed=failed,
        form=form or {},
        holding=[t for t in detail["tokens"] if t["state"] in HOLDING],
    )
    if error is not None:
        response.status_code = status_for(error.code)
    return response


@pages.get("/users/{upn}")
def user_page(
    request: Request,
    inv: InventoryDep,
    principal: Helpdesk,
    upn: UpnPath,
    done: DoneQ = None,
    serial: DoneSerialQ = None,
    old: DoneSerialQ = None,
) -> Response:
    return render_user(request, inv, principal, upn, done=done, done_serial=serial, replaced=old)


def _back(upn: str, done: str, serial: str, old: str | None = None) -> RedirectResponse:
    target = f"/users/{quote(upn, safe='@')}?done={done}&serial={quote(serial, safe='')}"
    if old is not None:  # replace: the token given up, beside the new one (``serial``)
        target += f"&old={quote(old, safe='')}"
    return RedirectResponse(target, status_code=303)


@pages.post("/users/{upn}/handover")
def handover_page(
    request: Request,
    inv: InventoryDep,
    principal: Helpdesk,
    upn: UpnPath,
    serial: Short = "",
    code: Code = "",
    reason: Text = "",
    display_name: Short = "",
) -> Response:
    kept = {"serial": serial, "reason": reason, "display_name": display_name}
    try:
        if not serial.strip():
            raise UsageError("Type the serial printed on the token.", code="usage.field_required")
        asked = ActionRequest(reason, user=upn, code=code, display_name=display_name or None)
        result = perform(inv, serial.strip(), Action.ACTIVATE, asked, actor=principal.actor)
    except OathdeskError as exc:
        return render_user(request, inv, principal, upn, error=exc, failed="handover", form=kept)
    return _back(upn, "handover", result.serial)


def _replace_step(
    request: Request,
    inv: InventoryDep,
    principal: Principal,
    upn: str,
    form: dict[str, str],
    error: OathdeskError | None = None,
) -> Response:
    """The replacement's second step: the new token (typed or scanned, or picked from stock)
    and what the old one's holder loses, before the new token's code is asked for."""
    why: Literal["lost", "broken"] = "broken" if form["why"] == "broken" else "lost"
    plan = plan_replacement(
        inv,
        form["old_serial"],
        why=why,
        reason=form["reason"],
        new_serial=form["new_serial"] or None,
        user=upn,
    )
    response = render(
        request,
        "replace_confirm.html",
        principal,
        title=f"Replace token {form['old_serial']}",
        plan=plan,
        post_to=f"/users/{quote(upn, safe='@')}/replace",
        back=f"/users/{quote(upn, safe='@')}",
        hidden={"why": plan["why"], "old_serial": plan["old"]["serial"]},
        form=form,
        error=error,
    )
    if error is not None:
        response.status_code = status_for(error.code)
    return response


@pages.post("/users/{upn}/replace")
def replace_page(
    request: Request,
    inv: InventoryDep,
    principal: Helpdesk,
    upn: UpnPath,
    old_serial: Short = "",
    why: Annotated[Literal["lost", "broken"], Form()] = "lost",
    new_serial: Short = "",
    code: Code = "",
    reason: Text = "",
    display_name: Short = "",
    step: Annotated[str, Form(max_length=8)] = "",
    tap: Annotated[str, Form(max_length=3)] = "",
    tap_minutes: Annotated[str, Form(max_length=8)] = "",
    tap_once: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Step 1 (no ``step``) names the new token and what the holder gives up; step 2
    (``step=code``) takes the new token's code (and, if ticked, a Temporary Access Pass's
    lifetime) and replaces; a pass is shown once on the result page."""
    kept = {
        "old_serial": old_serial.strip(),
        "why": why,
        "new_serial": new_serial.strip(),
        "reason": reason,
        "display_name": display_name,
        "tap": tap,
        "tap_minutes": tap_minutes,
        "tap_once": tap_once or ("" if step else "yes"),
    }
    try:
        if not old_serial.strip():
            raise UsageError("Choose the token to replace.", code="usage.field_required")
        if step != "code":
            return _replace_step(request, inv, principal, upn, kept)
        asked = ActionRequest(
            reason,
            user=upn,
            code=code,
            why=why,
            new_serial=new_serial.strip() or None,
            display_name=display_name or None,
            tap=tap_request(tap, tap_minutes, tap_once),
        )
        result = perform(inv, old_serial.strip(), Action.REPLACE, asked, actor=principal.actor)
        if result.tap is not None or "tap_error" in result.extra:
            return replace_done(request, principal, result)
    except OathdeskError as exc:
        if step == "code":
            try:  # the code was refused: ask again for the same new token
                return _replace_step(request, inv, principal, upn, kept, exc)
            except OathdeskError:
                pass
        return render_user(request, inv, principal, upn, error=exc, failed="replace", form=kept)
    new = str(result.extra["replacement"]["serial"])
    return _back(upn, "replace", new, old=result.serial)


# -- API ----------------------------------------------------------------------------------------
@router.get(
    "/users",
    summary="Search Entra users by name or UPN prefix (or a whole UPN), or list them a page at "
    "a time",
)
def users(
    inv: InventoryDep, principal: Helpdesk, q: SearchQ = "", after: AfterQ = None
) -> dict[str, Any]:
    """With ``q``: the matching users (at most 50). Without: one page of the directory and
    ``next``, the ``after`` of the following page (null on the last). Each user has ``tokens``,
    the count of tokens our inventory records for them."""
    if q.strip():
        return {"items": search_users(inv, q)}
    return list_users(inv, after=after)


@router.get(
    "/users/{upn}",
    summary="An Entra user, their tokens in the inventory and their hardware OATH methods",
)
def user(inv: InventoryDep, principal: Helpdesk, upn: UpnPath) -> dict[str, Any]:
    return user_detail(inv, upn)
