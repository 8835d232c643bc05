"""The single-token actions that take no code: assign, deactivate, unassign, delete (retire),
push to Entra, mark lost.

Why: each is one audited change with an actor and a reason, checked against the lifecycle
before Entra is touched, with the token row locked for the whole action so two agents acting on
one token cannot both win.
"""

from __future__ import annotations

from oathdesk.graph import GraphNotFound
from oathdesk.service._common import (
    ActionResult,
    audit,
    ensure_device,
    method_of,
    need_reason,
    require,
)
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.lifecycle.steps import HOLDING, check_holder, give_to, unassign_in_entra
from oathdesk.service.notify.events import notify_event
from oathdesk.store import TokenState

S = TokenState


def assign(inv: Inventory, serial: str, user: str, *, actor: str, reason: str) -> ActionResult:
    """Give a token in stock to a user in Entra (created in Entra first if it is not there)."""
    reason = need_reason(reason)
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        require(token, S.ASSIGNED, (S.IN_STOCK, S.AVAILABLE), "assign")
        give_to(inv, uow, token, user, actor=actor, reason=reason)
        notify_event(inv, uow, "assign", token)
        return ActionResult("assign", serial, before, token.describe(), ["assigned in Entra"])


def deactivate(inv: Inventory, serial: str, *, actor: str, reason: str) -> ActionResult:
    """Stop an activated token signing in; it stays with its user."""
    reason = need_reason(reason)
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        require(token, S.DEACTIVATED, (S.ACTIVATED,), "deactivate")
        user, method = method_of(inv, ensure_device(inv, uow, token, actor=actor, reason=reason))
        inv.entra().deactivate(user, method)
        uow.tokens.move(token, S.DEACTIVATED)
        audit(uow, inv, "token.deactivate", token, actor=actor, reason=reason)
        return ActionResult("deactivate", serial, before, token.describe(), ["deactivated"])


def unassign(inv: Inventory, serial: str, *, actor: str, reason: str) -> ActionResult:
    """Take a token back from its user; it returns to stock as ``available``."""
    reason = need_reason(reason)
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before, holder = token.state.value, token.user_upn
        require(token, S.AVAILABLE, HOLDING, "unassign")
        unassign_in_entra(inv, uow, token, actor=actor, reason=reason)
        uow.tokens.move(token, S.AVAILABLE)
        token.user_id = token.user_upn = None
        audit(uow, inv, "token.unassign", token, actor=actor, reason=reason, previous_user=holder)
        return ActionResult("unassign", serial, before, token.describe(), ["unassigned"])


def delete(
    inv: Inventory, serial: str, *, actor: str, reason: str, keep_seed: bool = False
) -> ActionResult:
    """Retire a token: unassigned and deleted in Entra, its seed destroyed (unless kept)."""
    reason = need_reason(reason)
    steps: list[str] = []
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before, holder = token.state.value, token.user_upn
        require(token, S.RETIRED, [s for s in S if s is not S.RETIRED], "delete")
        if token.entra_id:
            try:
                if unassign_in_entra(inv, uow, token, actor=actor, reason=reason):
                    steps.append("unassigned in Entra")
                inv.entra().delete_device(token.entra_id)
                steps.append("deleted from Entra")
            except (GraphNotFound, ServiceError) as exc:
                if isinstance(exc, ServiceError) and exc.code != "service.missing_in_entra":
                    raise
                steps.append("already gone from Entra")
        uow.tokens.move(token, S.RETIRED)
        token.user_id = token.user_upn = None
        audit(uow, inv, "token.delete", token, actor=actor, reason=reason, previous_user=holder)
        if not keep_seed:
            uow.tokens.destroy_seed(token, actor=actor, reason=f"retired: {reason}")
            steps.append("seed destroyed")
        return ActionResult("delete", serial, before, token.describe(), steps)


def push_one(inv: Inventory, serial: str, *, actor: str, reason: str) -> ActionResult:
    """Put one token from stock into Entra's inventory (found by serial rather than created
    twice); its seed is destroyed afterwards when the inventory is set to do so. ``sync.push``
    is the resumable job that does this for all the stock."""
    reason = need_reason(reason)
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        require(token, S.AVAILABLE, (S.IN_STOCK,), "push to Entra")
        if not token.has_seed:
            raise ServiceError(
                f"Token {serial} has no seed left to send to Entra.", code="service.no_seed"
            )
        ensure_device(inv, uow, token, actor=actor, reason=reason)
        steps = ["in Entra's inventory"]
        if inv.destroy_seeds_after_sync:
            uow.tokens.destroy_seed(token, actor=actor, reason="Entra holds the token")
            steps.append("seed destroyed")
        return ActionResult("push", serial, before, token.describe(), steps)


def mark_lost(
    inv: Inventory, serial: str, *, actor: str, reason: str, reported_by: str | None = None
) -> ActionResult:
    """Mark a token lost; one still signing someone in is deactivated in Entra first.

    The help desk may mark any token in stock or held. ``reported_by`` is the holder reporting
    their own token (self-service, by UPN): the token must then be theirs and held, both checked
    on the locked row; the deactivation is recorded as its own ``token.deactivate`` entry before
    ``token.lost``, which names the reporter. The help desk's report is one ``token.lost``."""
    reason = need_reason(reason)
    steps: list[str] = []
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        if reported_by is not None:
            check_holder(token, reported_by, free_ok=False, by_id=False)
        allowed = HOLDING if reported_by is not None else (S.IN_STOCK, S.AVAILABLE, *HOLDING)
        require(token, S.LOST, allowed, "mark lost")
        if token.entra_id and token.state is S.ACTIVATED:
            device = ensure_device(inv, uow, token, actor=actor, reason=reason)
            if device.assigned_to_id and device.status == "activated":
                inv.entra().deactivate(*method_of(inv, device))
                steps.append("deactivated in Entra")
        extra: dict[str, str] = {}
        if reported_by is not None:
            if token.state is S.ACTIVATED:
                uow.tokens.move(token, S.DEACTIVATED)
                audit(uow, inv, "token.deactivate", token, actor=actor, reason=reason)
            extra["reported_by"] = reported_by
        uow.tokens.move(token, S.LOST)
        audit(uow, inv, "token.lost", token, actor=actor, reason=reason, **extra)
        steps.append("marked lost")
        notify_event(inv, uow, "lost", token)
        return ActionResult("lost", serial, before, token.describe(), steps)
