"""The token export walks a view larger than one read (1,000 rows) in its order, once each, on
SQLite and PostgreSQL, and is audited only when its rows name users."""

from __future__ import annotations

import csv
import io
import json

from oathdesk.service import Inventory
from oathdesk.service.admin import audit_filter, search_audit
from oathdesk.service.token_export import export_tokens
from oathdesk.store import NewBatch, TokenFilter, TokenState
from tests.store.support import make_records

N = 2345


def stock(inv: Inventory) -> None:
    with inv.uow() as uow:
        uow.tokens.add_batch(
            NewBatch("big.csv", "entra-csv", "c" * 64), make_records(N), inv.sealer, actor="t"
        )
    with inv.uow() as uow:
        for i in range(0, N, 7):
            token = uow.tokens.get_for_update(f"SN{i:06d}")
            uow.tokens.move(token, TokenState.AVAILABLE)
            uow.tokens.move(token, TokenState.ASSIGNED)
            token.user_upn = f"u{i % 5}@contoso.com"


def test_export_pages_through_a_large_sorted_view_once(inv: Inventory) -> None:
    stock(inv)
    text = "".join(export_tokens(inv, TokenFilter(), sort="-user", fmt="csv", actor="local:test"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == N == len({r["serial"] for r in rows})
    keys = [(r["user_upn"], r["serial"]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    assert rows[0]["user_upn"] == "u4@contoso.com" and rows[-1]["user_upn"] == ""

    flt = TokenFilter(manufacturer="Feitian", user_contains="U1")
    data = json.loads(
        "".join(export_tokens(inv, flt, sort="serial", fmt="json", actor="local:test"))
    )
    expected = [f"SN{i:06d}" for i in range(0, N, 7) if i % 2 and i % 5 == 1]
    assert [t["serial"] for t in data["items"]] == expected and data["count"] == len(expected)

    nobody = TokenFilter(states=[TokenState.IN_STOCK])
    stock_rows = "".join(export_tokens(inv, nobody, sort="name", fmt="csv", actor="local:test"))
    assert stock_rows.count("\r\n") == 1 + N - len(range(0, N, 7))
    entries = search_audit(inv, audit_filter(inv, action="inventory.export")).items
    assert [(e["details"]["format"], e["details"]["with_user"]) for e in entries] == [
        ("json", len(expected)),
        ("csv", len(range(0, N, 7))),
    ]  # newest first; the in-stock export named nobody and is not on record
