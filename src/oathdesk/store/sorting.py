"""The inventory's sort orders and their keyset cursors.

Why: the console sorts by any column header while paging with a cursor (the last row's sort key),
which stays fast at any depth and never repeats or skips a row while paging. That only holds
when every order is total, so each one ends with a unique column (the serial, or the row id for
``created``), and when a nullable column sorts through the same ``coalesce`` in ``ORDER BY`` and
in the cursor's ``WHERE``: never-used tokens sort as the oldest use, unassigned ones as the
empty user, tokens without a batch as batch 0. A cursor names the order it was made for; one
from another order is refused rather than read as something it is not.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, func, literal, tuple_

from oathdesk.store.errors import StateConflict
from oathdesk.store.models import Token, UTCDateTime

SortName = Literal[
    "serial", "created", "state", "manufacturer", "name", "user", "batch", "last_used"
]
SortKey = Literal[
    "serial",
    "-serial",
    "created",
    "-created",
    "state",
    "-state",
    "manufacturer",
    "-manufacturer",
    "name",
    "-name",
    "user",
    "-user",
    "batch",
    "-batch",
    "last_used",
    "-last_used",
]
SORT_NAMES: tuple[str, ...] = get_args(SortName)
SORT_KEYS: tuple[str, ...] = get_args(SortKey)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # where a never-used token sorts by last use

Kind = Literal["str", "int", "datetime"]


@dataclass(frozen=True, slots=True)
class Column:
    """One part of a sort key: the SQL expression, how to read it off a row, its JSON kind."""

    expr: ColumnElement[Any]
    value: Callable[[Token], Any]
    kind: Kind


_SERIAL = Column(Token.serial.expression, lambda t: t.serial, "str")


def _spec(name: str) -> list[Column]:
    """The columns of order ``name``, the last one unique within a tenant."""
    match name:
        case "created":
            return [
                Column(Token.created_at.expression, lambda t: t.created_at, "datetime"),
                Column(Token.id.expression, lambda t: t.id, "int"),
            ]
        case "state":
            return [Column(Token.state.expression, lambda t: t.state.value, "str"), _SERIAL]
        case "manufacturer":
            return [
                Column(Token.manufacturer.expression, lambda t: t.manufacturer, "str"),
                Column(Token.model.expression, lambda t: t.model, "str"),
                _SERIAL,
            ]
        case "name":
            return [Column(Token.display_name.expression, lambda t: t.display_name, "str"), _SERIAL]
        case "user":
            upn = func.coalesce(Token.user_upn, "")
            return [Column(upn, lambda t: t.user_upn or "", "str"), _SERIAL]
        case "batch":
            batch = func.coalesce(Token.batch_id, 0)
            return [Column(batch, lambda t: t.batch_id or 0, "int"), _SERIAL]
        case "last_used":
            used = func.coalesce(Token.entra_last_used_at, literal(EPOCH, UTCDateTime()))
            return [Column(used, lambda t: t.entra_last_used_at or EPOCH, "datetime"), _SERIAL]
        case _:
            return [_SERIAL]


@dataclass(frozen=True, slots=True)
class Order:
    """A parsed sort key: ``-name`` is ``name`` descending."""

    key: str
    columns: list[Column]
    desc: bool

    @classmethod
    def of(cls, key: str) -> Order:
        name = key.removeprefix("-")
        if name not in SORT_NAMES:
            raise StateConflict(
                f"The sort order {key!r} is not one of {', '.join(SORT_NAMES)}.",
                code="inventory.bad_sort",
            )
        return cls(key, _spec(name), key.startswith("-"))

    @property
    def indexed(self) -> bool:
        """Whether an index serves this order (the migrations index serial and created)."""
        return self.key.removeprefix("-") in ("serial", "created")

    def order_by(self) -> list[Any]:
        return [c.expr.desc() if self.desc else c.expr.asc() for c in self.columns]

    def after(self, cursor: str) -> ColumnElement[bool]:
        """Rows strictly after the cursor's row in this order."""
        values = self.decode(cursor)
        left = [c.expr for c in self.columns]
        right = [literal(v, type_=c.expr.type) for c, v in zip(self.columns, values, strict=True)]
        if len(left) == 1:
            return left[0] < right[0] if self.desc else left[0] > right[0]
        return tuple_(*left) < tuple_(*right) if self.desc else tuple_(*left) > tuple_(*right)

    def encode(self, row: Token) -> str:
        values = [c.value(row) for c in self.columns]
        raw = [v.isoformat() if isinstance(v, datetime) else v for v in values]
        text = json.dumps({"k": self.key, "v": raw}, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode()

    def decode(self, cursor: str) -> list[Any]:
        try:
            raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            if raw["k"] != self.key or len(raw["v"]) != len(self.columns):
                raise ValueError("another order's cursor")
            return [_read(c.kind, v) for c, v in zip(self.columns, raw["v"], strict=True)]
        except (ValueError, TypeError, KeyError, binascii.Error):
            raise StateConflict(
                "The page cursor is not valid; start the listing again.",
                code="inventory.bad_cursor",
            ) from None


def _read(kind: Kind, value: Any) -> Any:
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "datetime" and isinstance(value, str):
        at = datetime.fromisoformat(value)
        if at.tzinfo is not None:
            return at
    raise ValueError("not the order's value type")
