"""Listing and counting tokens: filters, keyset paging and grouped counts that stay fast at 100k.

Why: the console, the CLI and the reports all page through the inventory. Keyset paging (a cursor
holding the last row's sort key) costs the same on page 1 and page 2,000, and every filter and
sort here has an index behind it in the migration.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, UnaryExpression, func, select, tuple_
from sqlalchemy.orm import Session

from oathdesk.domain import OtpKind
from oathdesk.store.errors import StateConflict
from oathdesk.store.models import Token
from oathdesk.store.states import TokenState

SortKey = Literal["serial", "-serial", "created", "-created"]
CountDimension = Literal["state", "batch", "manufacturer", "model"]


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


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Token]
    next_cursor: str | None


def _encode_cursor(values: Sequence[Any]) -> str:
    raw = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def _decode_cursor(cursor: str, sort: SortKey) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if sort in ("created", "-created"):
            return [datetime.fromisoformat(raw[0]), int(raw[1])]
        return [str(raw[0])]
    except (ValueError, TypeError, IndexError, KeyError):
        raise StateConflict(
            "the page cursor is not valid; start the listing again", code="inventory.bad_cursor"
        ) from None


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
        """One page, keyset-paged by ``cursor`` (fast at any depth) or by ``offset``."""
        flt = flt or TokenFilter()
        limit = max(1, min(limit, 1000))
        query = select(Token).where(*self._where(flt))
        desc = sort.startswith("-")
        order: list[UnaryExpression[Any]]
        if sort in ("serial", "-serial"):
            order = [Token.serial.desc() if desc else Token.serial.asc()]
            if cursor:
                (after,) = _decode_cursor(cursor, sort)
                query = query.where(Token.serial < after if desc else Token.serial > after)
        else:
            key = tuple_(Token.created_at, Token.id)
            if desc:
                order = [Token.created_at.desc(), Token.id.desc()]
            else:
                order = [Token.created_at.asc(), Token.id.asc()]
            if cursor:
                at, ident = _decode_cursor(cursor, sort)
                query = query.where(key < tuple_(at, ident) if desc else key > tuple_(at, ident))
        rows = list(self.session.scalars(query.order_by(*order).offset(offset).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = None
        if more and rows:
            last = rows[-1]
            values = [last.serial] if "serial" in sort else [last.created_at, last.id]
            nxt = _encode_cursor(values)
        return Page(rows, nxt)

    def count(self, flt: TokenFilter | None = None) -> int:
        query = select(func.count()).select_from(Token).where(*self._where(flt or TokenFilter()))
        return int(self.session.execute(query).scalar_one())

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
