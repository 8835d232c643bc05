"""Help-desk reads that join the inventory with Entra's view of users and tokens.

Why: an agent looks up a person or a serial and must see both sides at once (our record, what
Entra says), and still see our side when Entra cannot be reached. (Handing a token over to a
user, or replacing theirs, is a lifecycle action: ``lifecycle.perform`` with ``user``.)
"""

from __future__ import annotations

from typing import Any

from oathdesk.domain import OathdeskError
from oathdesk.graph import GraphNotFound
from oathdesk.service.context import Inventory
from oathdesk.service.queries import list_tokens, show_token
from oathdesk.service.reconcile import EXPECTED
from oathdesk.store import TokenFilter, TokenState

MAX_RESULTS = 50
MAX_TOKENS = 100


def _unreachable(exc: OathdeskError) -> dict[str, str]:
    return {"code": exc.code, "message": exc.message}


def search_users(inv: Inventory, query: str, *, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Entra users whose UPN or id is ``query``, or whose name or UPN starts with it."""
    text = query.strip()
    if not text:
        return []
    return [u.to_dict() for u in inv.entra().find_users(text)[:limit]]


def user_detail(inv: Inventory, user: str) -> dict[str, Any]:
    """The Entra user, their tokens in our inventory and their hardware OATH methods in Entra.
    An unknown user is ``graph.not_found``; when Entra cannot be reached the answer holds our
    tokens for ``user`` taken as a UPN, ``user`` None and the reason in ``entra_error``."""
    entra_error: dict[str, str] | None = None
    person: dict[str, Any] | None = None
    methods: list[dict[str, Any]] | None = None
    try:
        found = inv.entra().get_user(user)
        person = found.to_dict()
        methods = [d.to_dict() for d in inv.entra().user_methods(found.id)]
        upn = found.user_principal_name
    except GraphNotFound:
        raise
    except OathdeskError as exc:
        entra_error, upn = _unreachable(exc), user.strip()
    tokens = list_tokens(inv, TokenFilter(user_upn=upn), limit=MAX_TOKENS).items
    return {
        "user": person,
        "upn": upn,
        "tokens": tokens,
        "entra_methods": methods,
        "entra_error": entra_error,
    }


def token_detail(inv: Inventory, serial: str, *, history: int = 50) -> dict[str, Any]:
    """Our record of ``serial`` with its audited history, beside Entra's devices with that
    serial (``entra`` None and ``entra_error`` set when Entra cannot be asked)."""
    token = show_token(inv, serial, history=history)
    out: dict[str, Any] = {"token": token, "entra": None, "entra_error": None, "agrees": None}
    try:
        devices = [d.to_dict() for d in inv.entra().find_serial(serial)]
    except OathdeskError as exc:
        out["entra_error"] = _unreachable(exc)
        return out
    out["entra"] = devices
    state = TokenState(token["state"])
    expected = EXPECTED.get(state)
    if state in (TokenState.IN_STOCK, TokenState.RETIRED):  # Entra should not hold it
        out["agrees"] = not devices
    elif expected is not None:
        out["agrees"] = len(devices) == 1 and devices[0]["status"] == expected
        ours = token.get("display_name") or ""
        if out["agrees"] and ours and devices[0].get("display_name") != ours:
            out["agrees"] = False  # a name given in Entra but not here (or the reverse) differs
            out["differences"] = [
                f"display name: ours {ours!r}, Entra {devices[0].get('display_name') or ''!r}"
            ]
    return out
