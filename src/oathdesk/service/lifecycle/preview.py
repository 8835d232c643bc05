"""What a destructive action would take away, and which token a replacement would use, read
before anything changes: what a console shows on its confirmation step.

Why: deleting, marking lost or unassigning a token someone signs in with cannot be taken back
with one click (a retired token's seed is gone; a lost one needs a code to sign in again), so the
console asks first and says, in words, what the holder and the inventory lose. A replacement
names the token it will hand over (typed, scanned or the next from stock) before the help desk
reads that token's code, so the code is read from the right token. Nothing here writes; the
action itself checks everything again under its lock.
"""

from __future__ import annotations

from typing import Any, Literal

from oathdesk.service._common import need_reason, require
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.lifecycle.steps import FREE, HOLDING, check_holder
from oathdesk.store import Token, TokenFilter, TokenState, UnitOfWork

S = TokenState
# the single-token actions a console confirms first (the bulk page has its own list)
CONFIRMED = ("delete", "lost", "unassign")


def next_in_stock(uow: UnitOfWork) -> str | None:
    """The serial "the next from stock" means: the oldest token in Entra's inventory with a
    seed, else the oldest not yet pushed."""
    for state in (S.AVAILABLE, S.IN_STOCK):
        page = uow.tokens.list(TokenFilter(states=[state], has_seed=True), sort="created", limit=1)
        if page.items:
            return page.items[0].serial
    return None


def _losses(token: Token, action: str) -> list[str]:
    holder = token.user_upn or token.user_id
    signs_in = token.state is S.ACTIVATED
    out: list[str] = []
    if action == "delete":
        if holder:
            out.append(f"{holder} loses this token: it is taken from them in Entra.")
        if signs_in:
            out.append(f"{holder} can no longer sign in with it.")
        if token.entra_id:
            out.append("It is deleted from Entra's list of hardware tokens.")
        if token.has_seed:
            out.append("Its seed is destroyed: the token can never be activated again.")
        out.append("The token is retired for good: this cannot be undone.")
    elif action == "lost":
        if signs_in:
            out.append(f"{holder} can no longer sign in with it: it is deactivated in Entra.")
        if holder:
            out.append(
                f"It stays with {holder} until it is found or retired; to give them another "
                "token, use Replace instead."
            )
        else:
            out.append("It leaves the stock: nobody can be given it until it is found.")
    elif action == "unassign":
        if holder:
            out.append(f"{holder} loses this token: it is taken from them in Entra.")
        if signs_in:
            out.append(f"{holder} can no longer sign in with it.")
        out.append("It goes back to stock, to be handed to someone else.")
    return out


def consequences(inv: Inventory, serial: str, action: str, *, reason: str) -> dict[str, Any]:
    """What ``action`` on ``serial`` takes away, in sentences, with the token's holder and
    state. The reason is checked first, so nothing is confirmed that would then be refused."""
    need_reason(reason)
    with inv.uow(write=False) as uow:
        token = uow.tokens.get(serial)
        return {
            "serial": token.serial,
            "state": token.state.value,
            "has_seed": token.has_seed,
            "holder": token.user_upn or token.user_id,
            "losses": _losses(token, action),
            "undoable": action != "delete",
        }


def _describe(token: Token) -> dict[str, Any]:
    return {
        "serial": token.serial,
        "state": token.state.value,
        "manufacturer": token.manufacturer,
        "model": token.model,
        "digits": token.digits,
        "kind": token.kind.value,
    }


def plan_replacement(
    inv: Inventory,
    serial: str,
    *,
    why: Literal["lost", "broken"],
    reason: str,
    new_serial: str | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """The replacement ``replace`` would make: the old token (whose it is, what they lose) and
    the new one (the serial typed or scanned, or the next from stock, ``picked``), refused now
    for what ``replace`` would refuse (reason, holder, states). Read only: the next from stock
    is only named here, and ``replace`` is then asked for exactly that serial."""
    need_reason(reason)
    target = S.LOST if why == "lost" else S.BROKEN
    with inv.uow(write=False) as uow:
        old = uow.tokens.get(serial)
        if user and user.strip():
            check_holder(old, user, free_ok=False)
        require(old, target, HOLDING, f"replace (as {why})")
        if not old.user_id:
            raise ServiceError(
                f"Token {serial} has no user to give a replacement to.", code="service.no_user"
            )
        chosen = (new_serial or "").strip() or None
        picked = chosen is None
        chosen = chosen or next_in_stock(uow)
        if chosen is None:
            raise ServiceError(
                "No token in stock to replace it with; import or name one.",
                code="service.no_stock",
            )
        new = uow.tokens.get(chosen)
        require(new, S.ASSIGNED, FREE, "a replacement")
        holder = old.user_upn or old.user_id
        losses = [f"{old.serial} is marked {why}."]
        if old.state is S.ACTIVATED:
            losses.append(f"{holder} can no longer sign in with {old.serial}.")
        return {
            "old": {**_describe(old), "holder": holder},
            "new": _describe(new),
            "picked": picked,
            "why": why,
            "losses": losses,
        }
