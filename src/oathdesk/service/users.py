"""Help-desk reads that join the inventory with Entra's view of users and tokens.

Why: an agent looks up a person or a serial and must see both sides at once (our record, what
Entra says), and still see our side when Entra cannot be reached. (Handing a token over to a
user, or replacing theirs, is a lifecycle action: ``lifecycle.perform`` with ``user``.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from oathdesk.domain import OathdeskError
from oathdesk.graph import GraphNotFound, User
from oathdesk.service.context import Inventory
from oathdesk.service.queries import list_tokens, show_token
from oathdesk.service.reconcile import EXPECTED
from oathdesk.store import Token, TokenFilter, TokenState

MAX_RESULTS = 50
MAX_TOKENS = 100
USERS_PAGE = 25  # users a page of the directory lists
MAX_USERS_PAGE = 100


def _unreachable(exc: OathdeskError) -> dict[str, str]:
    return {"code": exc.code, "message": exc.message}


def search_users(inv: Inventory, query: str, *, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Entra users whose UPN or id is ``query``, or whose name or UPN starts with it, each with
    ``tokens``: how many tokens our inventory records for them."""
    text = query.strip()
    if not text:
        return []
    return with_token_counts(inv, inv.entra().find_users(text)[:limit])


def list_users(
    inv: Inventory, *, after: str | None = None, limit: int = USERS_PAGE
) -> dict[str, Any]:
    """One page of Entra's users (Graph's order; ``after`` is the page's skiptoken, None for
    the first), each with ``tokens`` as in ``search_users``, and ``next``: the skiptoken of the
    following page, None on the last. Entra pages the directory, so a tenant of 100,000 users
    costs one page, not the whole list."""
    size = max(1, min(limit, MAX_USERS_PAGE))
    users, following = inv.entra().users_page(top=size, skiptoken=after or None)
    return {"items": with_token_counts(inv, users[:size]), "next": following}


def with_token_counts(inv: Inventory, users: Sequence[User]) -> list[dict[str, Any]]:
    """``users`` as dicts, each with ``tokens``: our inventory's tokens recorded for the UPN
    (the tokens the user's page lists: held, lost or broken; a retired token is no one's).
    One grouped query for the whole page."""
    upns = sorted({u.user_principal_name for u in users if u.user_principal_name})
    counts: dict[str, int] = {}
    if upns:
        with inv.uow(write=False) as uow:
            query = (
                select(Token.user_upn, func.count())
                .where(Token.tenant == inv.tenant, Token.user_upn.in_(upns))
                .group_by(Token.user_upn)
            )
            counts = {str(upn): int(n) for upn, n in uow.session.execute(query)}
    return [{**u.to_dict(), "tokens": counts.get(u.user_principal_name, 0)} for u in users]


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
