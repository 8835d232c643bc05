"""Token detail and lifecycle actions, and bulk actions on an inventory selection: pages and
their ``/api/v1`` twins.

Why: the help desk works on one token at a time (our record beside Entra's, the audited
history, an action with a reason) or on a selection from the inventory list; both paths call
the same service use cases as the CLI, so the state and code checks happen before Entra is
touched, and a refusal comes back as a readable message on the page it was asked from.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from oathdesk.domain import OathdeskError
from oathdesk.service.bulk import TAKES_FROM_HOLDER, BulkAction, held_in_selection, run_bulk
from oathdesk.service.lifecycle import Action, ActionRequest, perform
from oathdesk.service.lifecycle.preview import CONFIRMED, consequences, plan_replacement
from oathdesk.service.users import token_detail
from oathdesk.web.errors import status_for
from oathdesk.web.routes_api import ERRORS, ErrorEnvelope
from oathdesk.web.routes_pages import render
from oathdesk.web.security import Helpdesk, InventoryDep, Principal, Staff
from oathdesk.web.tap_views import replace_done, tap_request
from oathdesk.web.views import ACTION_LABELS, ActionBody

pages = APIRouter(include_in_schema=False)
router = APIRouter(
    prefix="/api/v1",
    tags=["tokens"],
    responses={
        **ERRORS,
        400: {"model": ErrorEnvelope, "description": "Refused: wrong or replayed code, no reason"},
        404: {"model": ErrorEnvelope, "description": "No such token or user."},
        409: {"model": ErrorEnvelope, "description": "The token is not in a state for this."},
        429: {"model": ErrorEnvelope, "description": "Entra is throttling (graph.throttled)."},
    },
)

SerialPath = Annotated[str, Path(min_length=1, max_length=128, description="The token's serial.")]
DoneQ = Annotated[str | None, Query(max_length=20, description="The action just done.")]
HOLDING = {"assigned", "activated", "failed_activation", "deactivated"}


def actions_for(state: str, has_seed: bool) -> list[str]:
    """The lifecycle forms the token page offers for a token in ``state``."""
    offer = []
    if state in ("in_stock", "available"):
        offer.append("handover")
    if state == "in_stock" and has_seed:
        offer.append("push")
    if state in ("assigned", "failed_activation", "deactivated"):
        offer.append("activate")
    if state == "activated":
        offer.append("deactivate")
    if state in HOLDING:
        offer += ["resync", "replace", "unassign"] if has_seed else ["replace", "unassign"]
    if state in HOLDING | {"in_stock", "available"}:
        offer.append("lost")
    if state == "lost":
        offer.append("found")
    if state != "retired":
        offer.append("delete")
    return offer


def render_token(
    request: Request,
    inv: InventoryDep,
    principal: Principal,
    serial: str,
    *,
    done: str | None = None,
    error: OathdeskError | None = None,
    failed: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    detail = token_detail(inv, serial)
    token = detail["token"]
    response = render(
        request,
        "token.html",
        principal,
        title=f"Token {serial}",
        detail=detail,
        token=token,
        done=ACTION_LABELS.get(done or ""),
        done_action=done,
        error=error,
        failed=failed,
        form=form or {},
        can_act=principal.has("admin", "helpdesk"),
        actions=actions_for(token["state"], token["has_seed"]),
    )
    if error is not None:
        response.status_code = status_for(error.code)
    return response


@pages.get("/tokens/{serial}")
def token_page(
    request: Request, inv: InventoryDep, principal: Staff, serial: SerialPath, done: DoneQ = None
) -> Response:
    return render_token(request, inv, principal, serial, done=done)


Text = Annotated[str, Form(max_length=500)]
Short = Annotated[str, Form(max_length=128)]
Code = Annotated[str, Form(max_length=16)]


def _replace_step(
    request: Request,
    inv: InventoryDep,
    principal: Principal,
    serial: str,
    form: dict[str, str],
    error: OathdeskError | None = None,
) -> Response:
    """The replacement's second step: which token goes to the holder (the serial typed, or the
    one picked from stock), what the old one's holder loses, then the new token's code."""
    why: Any = "broken" if form["why"] == "broken" else "lost"
    plan = plan_replacement(
        inv, serial, why=why, reason=form["reason"], new_serial=form["new_serial"] or None
    )
    response = render(
        request,
        "replace_confirm.html",
        principal,
        title=f"Replace token {serial}",
        plan=plan,
        post_to=f"/tokens/{quote(serial, safe='')}/replace",
        back=f"/tokens/{quote(serial, safe='')}",
        hidden={"why": plan["why"]},
        form=form,
        error=error,
    )
    if error is not None:
        response.status_code = status_for(error.code)
    return response


@pages.post("/tokens/{serial}/{action}")
def token_action_page(
    request: Request,
    inv: InventoryDep,
    principal: Helpdesk,
    serial: SerialPath,
    action: Action,
    reason: Text = "",
    user: Annotated[str, Form(max_length=320)] = "",
    code: Code = "",
    second_code: Code = "",
    why: Annotated[str, Form(pattern="^(lost|broken)?$")] = "",
    new_serial: Short = "",
    display_name: Short = "",
    confirmed: Annotated[str, Form(max_length=3)] = "",
    step: Annotated[str, Form(max_length=8)] = "",
    tap: Annotated[str, Form(max_length=3)] = "",
    tap_minutes: Annotated[str, Form(max_length=8)] = "",
    tap_once: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    done = "handover" if action is Action.ACTIVATE and user else action.value
    kept = {"reason": reason, "user": user, "new_serial": new_serial, "why": why}
    kept["display_name"] = display_name
    kept |= {
        "tap": tap,
        "tap_minutes": tap_minutes,
        "tap_once": tap_once or ("" if step else "yes"),
    }
    try:
        asked = ActionRequest(
            reason=reason,
            user=user or None,
            code=code or None,
            second_code=second_code or None,
            why="broken" if why == "broken" else "lost" if why == "lost" else None,
            new_serial=new_serial or None,
            display_name=display_name or None,
            tap=tap_request(tap, tap_minutes, tap_once) if step == "code" else None,
        )
        if action is Action.REPLACE and step != "code":  # first the new token, then its code
            return _replace_step(request, inv, principal, serial, kept)
        if action.value in CONFIRMED and confirmed != "yes":
            answer = _confirm(request, inv, principal, serial, action, reason)
            if answer is not None:
                return answer
        result = perform(inv, serial, action, asked, actor=principal.actor)
        if result.tap is not None or "tap_error" in result.extra:
            return replace_done(request, principal, result)
    except OathdeskError as exc:
        if action is Action.REPLACE and step == "code":
            try:  # the code was refused: ask again on the same step, the same new token
                return _replace_step(request, inv, principal, serial, kept, exc)
            except OathdeskError:
                pass
        return render_token(request, inv, principal, serial, error=exc, failed=done, form=kept)
    return RedirectResponse(f"/tokens/{quote(serial, safe='')}?done={done}", status_code=303)


def _confirm(
    request: Request,
    inv: InventoryDep,
    principal: Principal,
    serial: str,
    action: Action,
    reason: str,
) -> Response | None:
    """The confirmation page of a destructive action: what the token's holder and the
    inventory lose. None when the token's state does not offer the action (``perform`` then
    refuses it with the reason why)."""
    info = consequences(inv, serial, action.value, reason=reason)
    if action.value not in actions_for(info["state"], info["has_seed"]):
        return None
    return render(
        request,
        "action_confirm.html",
        principal,
        title=f"Confirm: {CONFIRM_TITLES[action.value]} token {serial}",
        info=info,
        action=action.value,
        heading=CONFIRM_TITLES[action.value],
        reason=reason,
    )


CONFIRM_TITLES = {
    "delete": "delete and retire",
    "lost": "mark lost",
    "unassign": "unassign",
}


@pages.post("/inventory/bulk")
def bulk_page(
    request: Request,
    inv: InventoryDep,
    principal: Helpdesk,
    action: Annotated[BulkAction, Form()],
    reason: Text = "",
    serial: Annotated[list[str] | None, Form()] = None,
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    try:
        held = (
            []
            if confirmed == "yes"
            else held_in_selection(inv, serial or [], action, reason=reason)
        )
        if held:  # people would lose tokens they hold: say who and what, then ask
            return render(
                request,
                "bulk_confirm.html",
                principal,
                title="Confirm the bulk action",
                action=action,
                label=ACTION_LABELS.get(action, action),
                consequence=TAKES_FROM_HOLDER[action],
                held=held,
                serials=serial or [],
                reason=reason,
            )
        outcome = run_bulk(inv, serial or [], action, actor=principal.actor, reason=reason)
    except OathdeskError as exc:
        response = render(
            request, "bulk.html", principal, title="Bulk action", error=exc, outcome=None
        )
        response.status_code = status_for(exc.code)
        return response
    return render(
        request,
        "bulk.html",
        principal,
        title="Bulk action",
        error=None,
        outcome=outcome,
        label=ACTION_LABELS.get(action, action),
    )


# -- API ----------------------------------------------------------------------------------------
class BulkBody(BaseModel):
    serials: list[Annotated[str, Field(max_length=128)]] = Field(max_length=500)
    action: BulkAction
    reason: str = Field(max_length=500)


@router.post("/tokens/bulk", summary="One action on a selection; per-serial done or refused")
def bulk(inv: InventoryDep, principal: Helpdesk, body: BulkBody) -> dict[str, Any]:
    return run_bulk(inv, body.serials, body.action, actor=principal.actor, reason=body.reason)


@router.get("/tokens/{serial}", summary="One token: our record, Entra's view and its history")
def token(inv: InventoryDep, principal: Staff, serial: SerialPath) -> dict[str, Any]:
    return token_detail(inv, serial)


@router.post(
    "/tokens/{serial}/{action}",
    summary="A lifecycle action (assign, activate, deactivate, unassign, delete, replace, "
    "resync, push, lost, found) with a reason",
)
def token_action(
    inv: InventoryDep,
    principal: Helpdesk,
    serial: SerialPath,
    action: Action,
    body: ActionBody,
) -> dict[str, Any]:
    return perform(inv, serial, action, body.request(), actor=principal.actor).to_dict()
