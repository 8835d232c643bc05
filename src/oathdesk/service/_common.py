"""Small rules shared by the lifecycle and sync use cases: state checks, audit, Entra lookups.

Why: every action checks the token's state *before* Entra is touched, records one audit entry
in the same transaction as the change, and finds the Entra device the same way; keeping those
three steps in one place keeps each use case a short list of business rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from oathdesk.graph import Device, GraphNotFound, device_body
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.store import StateConflict, Token, TokenFilter, TokenState, UnitOfWork, can_move


@dataclass
class ActionResult:
    """What one lifecycle action did (no secrets): the token as it is now, and the steps."""

    action: str
    serial: str
    before: str
    token: dict[str, Any]
    steps: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # a Temporary Access Pass issued with a replace (service.tap.IssuedPass): only its facts are
    # in to_dict; the pass itself is shown once by the caller that asked for it
    tap: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "serial": self.serial,
            "before": self.before,
            "state": self.token["state"],
            "steps": list(self.steps),
            "token": self.token,
            **self.extra,
            **({"temporary_access_pass": self.tap.facts()} if self.tap is not None else {}),
        }


def require(token: Token, target: TokenState, allowed: Iterable[TokenState], action: str) -> None:
    """Refuse now, before any call to Entra, what ``move`` would refuse afterwards."""
    states = set(allowed)
    if token.state not in states or (
        token.state is not target and not can_move(token.state, target)
    ):
        wanted = ", ".join(sorted(s.value for s in states))
        raise StateConflict(
            f"Token {token.serial} is {token.state.value}; {action} needs a token that is "
            f"{wanted}.",
            details={"serial": token.serial, "state": token.state.value, "target": target.value},
        )


def need_reason(reason: str) -> str:
    if not reason.strip():
        raise ServiceError(
            "Every lifecycle action needs a reason (e.g. a ticket number).",
            code="service.reason_required",
        )
    if len(reason) > 2000 or any(ord(c) < 32 and c not in "\t\n\r" for c in reason):
        # PostgreSQL text refuses NUL; other control characters only corrupt the audit's display
        raise ServiceError(
            "The reason must be plain text of at most 2,000 characters, without control "
            "characters.",
            code="service.reason_invalid",
        )
    return reason.strip()


def audit(
    uow: UnitOfWork,
    inv: Inventory,
    action: str,
    token: Token,
    *,
    actor: str,
    reason: str,
    **details: Any,
) -> None:
    uow.audit.append(
        action,
        actor=actor,
        subject=token.serial,
        reason=reason,
        details={"state": token.state.value, "user": token.user_upn, **details},
        tenant=inv.tenant,
    )


def ensure_device(
    inv: Inventory, uow: UnitOfWork, token: Token, *, actor: str, reason: str
) -> Device:
    """The token's Entra device; a token still in stock is created in Entra first (by serial, so
    a copy created earlier is found rather than duplicated)."""
    entra = inv.entra()
    if token.entra_id:
        try:
            return entra.get_device(token.entra_id)
        except GraphNotFound:
            raise ServiceError(
                f"Token {token.serial} is no longer in Entra (deleted behind oathdesk's back); "
                "run: oathdesk sync reconcile --fix.",
                code="service.missing_in_entra",
                details={"serial": token.serial},
            ) from None
    found = entra.find_serial(token.serial)
    if found:
        device = found[0]
    else:
        record = uow.tokens.seed_record(token, inv.sealer)
        device = entra.create_device(device_body(record))
    token.entra_id = device.id
    token.entra_synced_at = inv.now()
    if token.state is TokenState.IN_STOCK:
        uow.tokens.move(token, TokenState.AVAILABLE, expect=[TokenState.IN_STOCK])
        audit(uow, inv, "token.sync", token, actor=actor, reason=reason, entra_id=device.id)
    return device


def method_of(inv: Inventory, device: Device) -> tuple[str, str]:
    """(user id, method id) of an assigned device."""
    if not device.assigned_to_id:
        raise ServiceError(
            f"Entra says token {device.serial_number} is not assigned to anyone; "
            "run: oathdesk sync reconcile.",
            code="service.not_assigned_in_entra",
            details={"serial": device.serial_number},
        )
    user = device.assigned_to_id
    return user, inv.entra().method_id_for(user, device)


def all_tokens(uow: UnitOfWork, flt: TokenFilter | None = None) -> Iterator[Token]:
    """Every token matching ``flt``, a thousand at a time (keyset paging)."""
    cursor: str | None = None
    while True:
        page = uow.tokens.list(flt, limit=1000, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def path_to(current: TokenState, target: TokenState) -> list[TokenState] | None:
    """The moves that bring a token to ``target``: direct, or through ``available``."""
    if current is target:
        return []
    if can_move(current, target):
        return [target]
    via = TokenState.AVAILABLE
    if can_move(current, via) and can_move(via, target):
        return [via, target]
    return None
