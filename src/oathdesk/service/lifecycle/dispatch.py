"""One entry point for every single-token action: ``perform(inv, serial, action, request)``.

Why: the token page, the user page, the REST API, the bulk selection and the CLI all ask for
"this action on this token, with these fields"; deciding here which use case that is and which
fields it needs keeps one meaning for every field and one wording for every missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from oathdesk.domain import UsageError
from oathdesk.service._common import ActionResult
from oathdesk.service.context import Inventory
from oathdesk.service.lifecycle.actions import (
    assign,
    deactivate,
    delete,
    mark_lost,
    push_one,
    unassign,
)
from oathdesk.service.lifecycle.activation import activate, replace, resync
from oathdesk.service.lifecycle.found import found
from oathdesk.service.tap import TapRequest


class Action(StrEnum):
    """The lifecycle actions one token can be asked for (their values are the API's)."""

    ASSIGN = "assign"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    UNASSIGN = "unassign"
    DELETE = "delete"
    REPLACE = "replace"
    RESYNC = "resync"
    PUSH = "push"
    LOST = "lost"
    FOUND = "found"


@dataclass(frozen=True)
class ActionRequest:
    """The fields an action may take; each action says which ones it needs.

    ``user`` is the person the action is for: whom to ``assign`` to; for ``activate``, whom to
    hand the token over to (a token held by anyone else is refused); for ``replace``, whose token
    it must be. ``keep_seed`` keeps the sealed seed of a deleted token."""

    reason: str
    user: str | None = None
    code: str | None = None
    second_code: str | None = None
    why: Literal["lost", "broken"] | None = None
    new_serial: str | None = None
    display_name: str | None = None
    keep_seed: bool = False
    tap: TapRequest | None = None  # replace: also issue a Temporary Access Pass to the holder


def _need(value: str | None, what: str, action: Action) -> str:
    if not value or not value.strip():
        raise UsageError(f"{action.value} needs {what}.", code="usage.field_required")
    return value.strip()


def perform(
    inv: Inventory, serial: str, action: Action, request: ActionRequest, *, actor: str
) -> ActionResult:
    """Run one lifecycle action on ``serial`` as ``actor`` (the use case checks the state, the
    holder and the code, under the token's lock). A field the action needs and did not get is
    ``usage.field_required``."""
    reason, name = request.reason, request.display_name or None
    match action:
        case Action.ASSIGN:
            user = _need(request.user, "a user", action)
            return assign(inv, serial, user, actor=actor, reason=reason)
        case Action.ACTIVATE:
            code = _need(request.code, "the code the token shows", action)
            return activate(
                inv, serial, code, actor=actor, reason=reason, user=request.user, display_name=name
            )
        case Action.REPLACE:
            if request.why is None:
                raise UsageError("Replace needs why: lost or broken.", code="usage.field_required")
            return replace(
                inv,
                serial,
                _need(request.code, "the code the new token shows", action),
                why=request.why,
                actor=actor,
                reason=reason,
                new_serial=request.new_serial,
                display_name=name,
                user=request.user,
                tap=request.tap,
            )
        case Action.RESYNC:
            first = _need(request.code, "the code the token shows", action)
            second = _need(request.second_code, "the next code the token shows", action)
            return resync(inv, serial, first, second, actor=actor, reason=reason)
        case Action.DELETE:
            return delete(inv, serial, actor=actor, reason=reason, keep_seed=request.keep_seed)
        case Action.DEACTIVATE:
            return deactivate(inv, serial, actor=actor, reason=reason)
        case Action.UNASSIGN:
            return unassign(inv, serial, actor=actor, reason=reason)
        case Action.PUSH:
            return push_one(inv, serial, actor=actor, reason=reason)
        case Action.LOST:
            return mark_lost(inv, serial, actor=actor, reason=reason)
        case Action.FOUND:
            return found(inv, serial, actor=actor, reason=reason)
