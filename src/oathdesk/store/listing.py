"""Listing and counting tokens: filters, sorted keyset paging and grouped counts.

Why: the console, the CLI and the reports all page through the inventory. Keyset paging (a cursor
holding the last row's sort key, see ``store.sorting``) costs the same on page 1 and page 2,000.
The default orders (serial, created) and the exact filters have an index behind them in the
migrations; the other header sorts and the substring filters (user, display name) scan the
tenant's rows: about 0.1 s a page at 100,000 tokens on SQLite (measured on a loaded 2-core
machine), the sort done on (key, id) pairs only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from oathdesk.domain import OtpKind
from oathdesk.store.models import Token
from oathdesk.store.sorting import Order, SortKey
from oathdesk.store.states import TokenState

CountDimension = Literal["state", "batch", "manufacturer", "model"]
EntraStatus = Literal["absent", "present", "available", "assigned", "activated", "failedActivation"]
# Entra's status for a token we pushed, by our state (reconcile.EXPECTED read backwards): a
# deactivated token is still assigned in Entra.
ENTRA_STATUS_STATES: dict[str, tuple[TokenState, ...]] = {
    "available": (TokenState.AVAILABLE,),
    "assigned": (TokenState.ASSIGNED, TokenState.DEACTIVATED),
    "activated": (TokenState.ACTIVATED,),
    "failedActivation": (TokenState.FAILED_ACTIVATION,),
}

__all__ = [
    "ENTRA_STATUS_STATES",
    "CountDimension",
    "EntraStatus",
    "Page",
    "SortKey",
    "TokenFilter",
    "TokenListing",
]


@dataclass(frozen=True, slots=True)
class TokenFilter:
    """What to list; every field narrows (None means any)."""

    states: Sequence[TokenState] | None = None
    batch_id: int | None = None
    manufacturer: str | None = None
    model: str | None = None
    user_upn: str | None = None
    serial_prefix: str | None = None
    created_before: datetime | None = None  # stock age
    last_used_before: datetime | None = None  # Entra's lastUsedDateTime, never-used excluded
    never_used: bool | None = None
    kind: OtpKind | None = None
    has_seed: bool | None = None
    assigned: bool | None = None
    user_contains: str | None = None  # any part of the UPN, any case
    name_contains: str | None = None  # any part of the display name, any case
    entra: EntraStatus | None = None  # in Entra or not, or Entra's status as our record has it

    def to_dict(self) -> dict[str, object]:
        """The fields set, as plain JSON values (for an audit entry)."""
        out: dict[str, object] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value is None:
                continue
            if name == "states":
                value = [s.value for s in value]
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, OtpKind):
                value = value.value
            out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Token]
    next_cursor: str | None


def _entra_clause(status: str) -> ColumnElement[bool]:
    pushed = and_(Token.entra_id.is_not(None), Token.state != TokenState.RETIRED)
    if status == "absent":
        return or_(Token.entra_id.is_(None), Token.state == TokenState.RETIRED)
    if status == "present":
        return pushed
    return and_(pushed, Token.state.in_(ENTRA_STATUS_STATES[status]))


class TokenListing:
    """Read-only queries over one tenant's tokens."""

    session: Session
    tenant: str

    def _where(self, flt: TokenFilter) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [Token.tenant == self.tenant]
        if flt.states:
            clauses.append(Token.state.in_(list(flt.states)))
        if flt.batch_id is not None:
            clauses.append(Token.batch_id == flt.batch_id)
        if flt.manufacturer is not None:
            clauses.append(Token.manufacturer == flt.manufacturer)
        if flt.model is not None:
            clauses.append(Token.model == flt.model)
        if flt.user_upn is not None:
            clauses.append(Token.user_upn == flt.user_upn)
        if flt.serial_prefix:
            clauses.append(Token.serial.startswith(flt.serial_prefix, autoescape=True))
        if flt.created_before is not None:
            clauses.append(Token.created_at < flt.created_before)
        if flt.last_used_before is not None:
            clauses.append(Token.entra_last_used_at < flt.last_used_before)
        if flt.never_used is not None:
            never = Token.entra_last_used_at.is_(None)
            clauses.append(never if flt.never_used else Token.entra_last_used_at.is_not(None))
        if flt.kind is not None:
            clauses.append(Token.kind == flt.kind)
        if flt.has_seed is not None:
            seed = Token.sealed_secret.is_not(None)
            clauses.append(seed if flt.has_seed else Token.sealed_secret.is_(None))
        if flt.assigned is not None:
            upn = Token.user_upn.is_not(None)
            clauses.append(upn if flt.assigned else Token.user_upn.is_(None))
        if flt.user_contains:
            clauses.append(Token.user_upn.icontains(flt.user_contains, autoescape=True))
        if flt.name_contains:
            clauses.append(Token.display_name.icontains(flt.name_contains, autoescape=True))
        if flt.entra is not None:
            clauses.append(_entra_clause(flt.entra))
        return clauses

    def list(
        self,
        flt: TokenFilter | None = None,
        *,
        sort: SortKey = "serial",
        limit: int = 50,
        cursor: str | None = None,
        offset: int = 0,
    ) -> Page:
        """One page in ``sort`` order, keyset-paged by ``cursor`` (fast at any depth) or by
        ``offset``; ``next_cursor`` is None on the last page."""
        flt = flt or TokenFilter()
        limit = max(1, min(limit, 1000))
        order = Order.of(sort)
        clauses = self._where(flt) + ([order.after(cursor)] if cursor else [])
        if order.indexed:
            query = select(Token).where(*clauses).order_by(*order.order_by())
            rows = list(self.session.scalars(query.offset(offset).limit(limit + 1)))
        else:
            # sort narrow rows (the key and the id), then read the page's tokens: the database
            # then sorts a few bytes per token instead of whole rows (2-4 times faster at 100k)
            ids = select(Token.id).where(*clauses).order_by(*order.order_by())
            page_ids = list(self.session.scalars(ids.offset(offset).limit(limit + 1)))
            found = {
                t.id: t for t in self.session.scalars(select(Token).where(Token.id.in_(page_ids)))
            }
            rows = [found[i] for i in page_ids]
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, order.encode(rows[-1]) if more and rows else None)

    def count(self, flt: TokenFilter | None = None) -> int:
        query = select(func.count()).select_from(Token).where(*self._where(flt or TokenFilter()))
        return int(self.session.execute(query).scalar_one())

    def makers_and_models(self) -> tuple[tuple[str, str], ...]:
        """Every (manufacturer, model) pair on record, in one scan of their index."""
        query = (
            select(Token.manufacturer, Token.model)
            .where(Token.tenant == self.tenant)
            .distinct()
            .order_by(Token.manufacturer, Token.model)
        )
        return tuple((str(m), str(n)) for m, n in self.session.execute(query))

    def counts_by(self, dimension: CountDimension) -> dict[str, int]:
        """Token counts grouped by state, batch id, manufacturer or model (for reports)."""
        column = {
            "state": Token.state,
            "batch": Token.batch_id,
            "manufacturer": Token.manufacturer,
            "model": Token.model,
        }[dimension]
        query = (
            select(column, func.count())
            .where(Token.tenant == self.tenant)
            .group_by(column)
            .order_by(column)
        )
        out: dict[str, int] = {}
        for key, n in self.session.execute(query):
            name = key.value if isinstance(key, TokenState) else ("" if key is None else str(key))
            out[name] = int(n)
        return out
