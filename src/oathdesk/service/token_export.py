"""Export a filtered, sorted view of the inventory as CSV or JSON, streamed.

Why: administrators take the list they are looking at into a spreadsheet or a script, whatever
its size, so the export walks the exact filter and order of the page with the keyset cursor,
a thousand rows per short read, and never holds the whole inventory in memory. It writes no
seed (only ``Token.describe()`` fields, without the key id), neutralises CSV cells a spreadsheet
would run as a formula, and, when the view names users (personal data), records who took it
before the first byte leaves.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Literal

from oathdesk.formats.csv_safety import neutralise
from oathdesk.service.context import Inventory
from oathdesk.store import TokenFilter, TokenState
from oathdesk.store.listing import ENTRA_STATUS_STATES, EntraStatus
from oathdesk.store.sorting import SortKey, SortName

__all__ = ["FIELDS", "EntraStatus", "ExportFormat", "SortKey", "SortName", "export_tokens"]

ExportFormat = Literal["csv", "json"]
FIELDS = (
    "serial",
    "state",
    "entra_status",
    "kind",
    "digits",
    "period",
    "algorithm",
    "manufacturer",
    "model",
    "display_name",
    "user_upn",
    "user_id",
    "batch_id",
    "entra_id",
    "has_seed",
    "created_at",
    "state_changed_at",
    "activated_at",
    "entra_last_used_at",
)
_CELL_FIELD = {"user_upn": "user"}  # csv_safety's field names, where they differ
_CHUNK = 1000
_STATUS_OF = {s: status for status, states in ENTRA_STATUS_STATES.items() for s in states}


def entra_status(token: dict[str, Any]) -> str:
    """Entra's status as our record expects it (``absent`` when the token is not in Entra)."""
    if not token.get("entra_id") or token["state"] == TokenState.RETIRED.value:
        return "absent"
    return _STATUS_OF.get(TokenState(token["state"]), "present")


def _row(token: dict[str, Any]) -> dict[str, Any]:
    return {name: entra_status(token) if name == "entra_status" else token[name] for name in FIELDS}


def _rows(inv: Inventory, flt: TokenFilter, sort: SortKey) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        with inv.uow(write=False) as uow:
            page = uow.tokens.list(flt, sort=sort, limit=_CHUNK, cursor=cursor)
            chunk = [_row(t.describe()) for t in page.items]
        yield from chunk
        cursor = page.next_cursor
        if cursor is None:
            return


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value, _CELL_FIELD.get(name, name))
    return str(value)


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for i, row in enumerate(rows, 1):
        writer.writerow([_csv_cell(k, row[k]) for k in FIELDS])
        if i % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(head: dict[str, Any], rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    opening = json.dumps(head, ensure_ascii=False)[:-1]  # the object, left open for "items"
    yield opening + ', "items": [\n'
    for i, row in enumerate(rows):
        yield ("" if i == 0 else ",\n") + json.dumps(row, ensure_ascii=False)
    yield "\n]}\n"


def export_tokens(
    inv: Inventory, flt: TokenFilter, *, sort: SortKey, fmt: ExportFormat, actor: str
) -> Iterator[str]:
    """The matching tokens in ``sort`` order as CSV (a header row) or one JSON object
    ``{generated_at, filter, sort, count, items}``, in text chunks.

    The counts, and the audit entry when any row names a user, are written now, in their own
    transaction, so the export is on record even if the download is cut off."""
    named = replace(flt, assigned=True) if flt.assigned is not False else None
    with inv.uow() as uow:
        count = uow.tokens.count(flt)
        with_users = uow.tokens.count(named) if named is not None else 0
        if with_users:
            uow.audit.append(
                "inventory.export",
                actor=actor,
                details={
                    "format": fmt,
                    "sort": sort,
                    "filter": flt.to_dict(),
                    "tokens": count,
                    "with_user": with_users,
                },
                tenant=inv.tenant,
            )
    rows = _rows(inv, flt, sort)
    if fmt == "csv":
        return _csv(rows)
    head = {
        "generated_at": inv.now().isoformat(),
        "tenant": inv.tenant,
        "filter": flt.to_dict(),
        "sort": sort,
        "count": count,
    }
    return _json(head, rows)
