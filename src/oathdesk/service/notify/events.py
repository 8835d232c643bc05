"""The one hook lifecycle actions call: ``notify_event`` writes the outbox rows for an event.

Why a row and not a mail: the row is written in the action's own unit of work, so it exists
exactly when the action committed, and no mail server outage can block or undo the action; the
sender (``notify.sender``) delivers it afterwards. The hook costs one insert per channel and
never calls Entra (a bulk hand-out of thousands of tokens stays as fast as without it): the
display name, when the caller does not know it, is looked up by the sender.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from oathdesk.service.context import Inventory
from oathdesk.store import Token, TokenState, UnitOfWork
from oathdesk.store.outbox import MAIL, WEBHOOK

EVENTS = ("assign", "handout", "replace", "lost", "found", "reminder")


def event_time(at: datetime) -> str:
    """How a message shows a time: minutes, UTC, spelled out (mail readers are everywhere)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def notify_event(
    inv: Inventory,
    uow: UnitOfWork,
    event: str,
    token: Token,
    *,
    when: bool = True,
    display_name: str | None = None,
    old_serial: str | None = None,
    days: int = 0,
) -> int:
    """Queue ``event`` about ``token`` (as it is now, in ``uow``) when notifications are on and
    ``when`` holds: a mail to the token's user (when it has one and mail is set up) and a
    webhook call (when one is configured). Returns the number of rows written (0 when off).

    Call it inside the action's unit of work, after the change: the rows commit or roll back
    with it. ``event`` is one of ``EVENTS``; the bulk hand-out passes ``"handout"`` per row."""
    settings = inv.notify
    if not when or settings is None or not settings.enabled:
        return 0
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")  # a programming mistake
    at = inv.now()
    fields: dict[str, Any] = {
        "display_name": display_name or "",
        "upn": token.user_upn or "",
        "serial": token.serial,
        "model": token.model,
        "event_time": event_time(at),
        "active": token.state is TokenState.ACTIVATED,
        "old_serial": old_serial or "",
        "days": days,
        # for the webhook only (templates see FIELDS alone)
        "at": at.astimezone(UTC).isoformat(),
        "state": token.state.value,
        "user_id": token.user_id or "",
        "manufacturer": token.manufacturer,
    }
    written = 0
    if token.user_upn and settings.mail:
        uow.outbox.add(event, MAIL, token.serial, token.user_upn, fields)
        written += 1
    if settings.webhook:
        uow.outbox.add(event, WEBHOOK, token.serial, "", fields)
        written += 1
    return written
