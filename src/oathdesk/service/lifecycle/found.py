"""A lost token found again: back to the person who held it, or back to stock.

Why: a token reported lost is often found in a coat pocket a day later. Retiring it and handing
out another wastes a token and a visit; the help desk instead records that it was found and the
token returns to its holder. Entra re-activates a token only with a code the token shows, so
"found" never switches a token back on: it returns to ``deactivated`` (it was activated before
it was lost) or ``assigned`` (it never was), as Entra holds it, and the answer says what to do
next. A lost token nobody held goes back to stock.
"""

from __future__ import annotations

from oathdesk.service._common import ActionResult, audit, ensure_device, need_reason, require
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.lifecycle.steps import check_holder
from oathdesk.service.notify.events import notify_event
from oathdesk.store import Token, TokenState

S = TokenState
# Entra's status of a held device -> our state once found (``assigned`` is ambiguous: Entra
# shows a deactivated token as assigned; see ``_held_state``)
_FROM_ENTRA = {
    "activated": S.ACTIVATED,
    "failedActivation": S.FAILED_ACTIVATION,
}
NEXT_STEP = {
    S.ASSIGNED: "activate it with the code it shows to let {user} sign in with it",
    S.DEACTIVATED: "activate it with the code it shows to let {user} sign in with it again",
    S.FAILED_ACTIVATION: "activate it with the code it shows to let {user} sign in with it",
    S.ACTIVATED: "Entra already lets {user} sign in with it: nothing else to do",
    S.AVAILABLE: "it is back in stock, ready to be handed over",
    S.IN_STOCK: "it is back in stock, ready to be handed over",
}


def _held_state(token: Token, status: str) -> TokenState:
    """The state a found token held by a user returns to, from Entra's status: Entra shows a
    deactivated token as ``assigned``, so one activated since it was last assigned comes back
    ``deactivated`` and one never activated comes back ``assigned``."""
    if status in _FROM_ENTRA:
        return _FROM_ENTRA[status]
    activated, assigned = token.activated_at, token.assigned_at
    if activated is not None and (assigned is None or activated >= assigned):
        return S.DEACTIVATED
    return S.ASSIGNED


def found(
    inv: Inventory, serial: str, *, actor: str, reason: str, found_by: str | None = None
) -> ActionResult:
    """A lost token was found: it returns to its holder (assigned again in Entra if someone
    unassigned it there meanwhile) in the state Entra holds it in, or to stock when nobody
    held it. Audited ``token.found``; the steps end with what to do next. ``found_by`` is the
    holder saying so themselves (self-service, by UPN): the token must then be theirs, checked
    on the locked row, and the entry names them."""
    reason = need_reason(reason)
    steps: list[str] = []
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        if found_by is not None:
            check_holder(token, found_by, free_ok=False, by_id=False)
        require(token, S.AVAILABLE, (S.LOST,), "found")
        holder = token.user_upn or token.user_id
        if not token.entra_id:
            target = S.IN_STOCK
            token.user_id = token.user_upn = None  # a token outside Entra is nobody's
            steps.append("back in stock (not in Entra)")
        elif not token.user_id:
            ensure_device(inv, uow, token, actor=actor, reason=reason)  # still in Entra?
            target = S.AVAILABLE
            steps.append("back in stock")
        else:
            device = ensure_device(inv, uow, token, actor=actor, reason=reason)
            if device.assigned_to_id and device.assigned_to_id.lower() != token.user_id.lower():
                raise ServiceError(
                    f"Entra now gives token {serial} to {device.assigned_to_name or 'another user'}"
                    f", not {holder}; reconcile it or retire it instead.",
                    code="service.found_held_elsewhere",
                    details={"serial": serial},
                )
            if not device.assigned_to_id:
                inv.entra().assign(token.user_id, device.id)
                steps.append(f"assigned to {holder} again in Entra")
                target = S.ASSIGNED
            else:
                target = _held_state(token, device.status)
            steps.append(f"back with {holder} ({target.value})")
        uow.tokens.move(token, target, expect=[S.LOST])
        extra = {"previous_user": holder} if holder and not token.user_id else {}
        if found_by is not None:
            extra["found_by"] = found_by
        audit(uow, inv, "token.found", token, actor=actor, reason=reason, **extra)
        next_step = NEXT_STEP[target].format(user=holder or "the user")
        steps.append(f"next: {next_step}")
        notify_event(inv, uow, "found", token)
        return ActionResult("found", serial, before, token.describe(), steps, {"next": next_step})
