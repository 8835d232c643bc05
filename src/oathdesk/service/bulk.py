"""One lifecycle action over a selection of tokens, each serial on its own, with its outcome.

Each serial goes through the lifecycle's ``perform``, as one action on one token would.

Why: the help desk selects tokens on the inventory page and acts on all of them at once; one
refused token (wrong state, gone from Entra) must not undo or block the others, so each serial
is its own audited transaction and the answer says, per serial, what was done or why not. When
Entra stops answering, the rest of the selection is not tried (it would only wait for timeouts).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, get_args

from oathdesk.domain import OathdeskError
from oathdesk.domain.wording import clause
from oathdesk.graph import GraphAuthError, GraphThrottled, GraphUnavailable
from oathdesk.service._common import need_reason
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.lifecycle import Action, ActionRequest, perform

BulkAction = Literal["push", "deactivate", "unassign", "delete", "lost"]
BULK_ACTIONS: tuple[str, ...] = get_args(BulkAction)
MAX_SELECTION = 500
# actions that take a token away from the person holding it: asked to confirm in the console
TAKES_FROM_HOLDER: dict[str, str] = {
    "delete": "deleted from Entra and retired: the holder can no longer sign in with it, and "
    "its seed is destroyed",
    "lost": "marked lost and deactivated: the holder can no longer sign in with it",
    "unassign": "taken from the holder and put back in stock",
    "deactivate": "deactivated: the holder can no longer sign in with it until it is activated",
}
STOPPERS = (GraphUnavailable, GraphThrottled, GraphAuthError)
UNCONFIGURED = ("config.", "service.entra_not_configured")


def _selection(serials: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(s.strip() for s in serials if s.strip()))
    if not chosen:
        raise ServiceError("Select at least one token.", code="service.empty_selection")
    if len(chosen) > MAX_SELECTION:
        raise ServiceError(
            f"Select at most {MAX_SELECTION} tokens at once (got {len(chosen)}).",
            code="service.selection_too_large",
            details={"max": MAX_SELECTION, "got": len(chosen)},
        )
    return chosen


def held_in_selection(
    inv: Inventory, serials: Iterable[str], action: str, *, reason: str
) -> list[dict[str, Any]]:
    """The selected tokens ``action`` would take from a person (a user holds them), each with its
    holder and state: what a confirmation must show before a destructive bulk action. The
    reason and the selection are checked first, so nothing is confirmed that would be refused."""
    need_reason(reason)
    chosen = _selection(serials)
    if action not in TAKES_FROM_HOLDER:
        return []
    held: list[dict[str, Any]] = []
    with inv.uow(write=False) as uow:
        for serial in chosen:
            token = uow.tokens.find(serial)
            if token is not None and token.user_upn:
                held.append(
                    {"serial": token.serial, "user": token.user_upn, "state": token.state.value}
                )
    return held


def run_bulk(
    inv: Inventory, serials: Iterable[str], action: str, *, actor: str, reason: str
) -> dict[str, Any]:
    """``action`` on every serial in the selection; per serial ``done`` or ``refused`` with the
    error's code and message. Nothing is tried without a reason or with an unknown action."""
    if action not in BULK_ACTIONS:
        raise ServiceError(
            f"Unknown bulk action {action!r}; choose one of {', '.join(BULK_ACTIONS)}.",
            code="service.unknown_action",
        )
    reason = need_reason(reason)
    chosen = _selection(serials)
    results: list[dict[str, Any]] = []
    stopped: OathdeskError | None = None
    for serial in chosen:
        if stopped is not None:
            results.append(
                {
                    "serial": serial,
                    "outcome": "refused",
                    "code": "service.not_tried",
                    "message": f"Not tried: Entra stopped answering ({clause(stopped.message)}).",
                }
            )
            continue
        try:
            done = perform(inv, serial, Action(action), ActionRequest(reason), actor=actor)
        except OathdeskError as exc:
            results.append(
                {"serial": serial, "outcome": "refused", "code": exc.code, "message": exc.message}
            )
            if isinstance(exc, STOPPERS) or exc.code.startswith(UNCONFIGURED):
                stopped = exc
            continue
        results.append(
            {
                "serial": serial,
                "outcome": "done",
                "state": done.token["state"],
                "steps": done.steps,
            }
        )
    ok = sum(1 for r in results if r["outcome"] == "done")
    return {
        "action": action,
        "reason": reason,
        "results": results,
        "done": ok,
        "refused": len(results) - ok,
    }
