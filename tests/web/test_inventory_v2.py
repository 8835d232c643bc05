"""The inventory list over HTTP: each filter, header sorting (links, aria-sort, paging a sorted
filtered view), the last-used column, the bulk bar above the table, and the CSV/JSON export of
exactly the filtered view (streamed, attachment, no seed, formulas neutralised, audited when it
names users)."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from oathdesk.domain import SeedRecord
from oathdesk.service import Inventory
from oathdesk.service.admin import audit_filter, search_audit
from oathdesk.store import NewBatch, TokenState
from tests.web.conftest import signed_in

A = [f"INV{i:03d}" for i in range(30)]
B = [f"INV{i:03d}" for i in range(100, 112)]
FORMULA = '=HYPERLINK("http://evil.example","x")'
USED = datetime(2026, 11, 1, tzinfo=UTC)


def seed_of(serial: str) -> bytes:
    return hashlib.sha256(serial.encode()).digest()[:20]


def _batch(inv: Inventory, serials: list[str], maker: str, model: str, name: str) -> None:
    from oathdesk.domain import Secret

    records = [
        SeedRecord(
            serial=s,
            secret=Secret(seed_of(s)),
            manufacturer=maker,
            model=model,
            display_name=("Front desk", FORMULA, "")[i % 3],
        )
        for i, s in enumerate(serials)
    ]
    with inv.uow() as uow:
        uow.tokens.add_batch(
            NewBatch(name, "entra-csv", hashlib.sha256(name.encode()).hexdigest()),
            records,
            inv.sealer,
            actor="test",
        )


@pytest.fixture
def varied(inv: Inventory, accounts: dict[str, list[str]]) -> Inventory:
    """Batch 1: 30 Token2 C302; batch 2: 12 Feitian c100. Of every four tokens, one stays in
    stock, one is available in Entra, one is assigned, one activated and used."""
    _batch(inv, A, "Token2", "C302", "a.csv")
    _batch(inv, B, "Feitian", "c100", "b.csv")
    users = ("Ann.Lee@Contoso.com", "bob@contoso.com", "ann.b@fabrikam.com")
    with inv.uow() as uow:
        for i, serial in enumerate(A + B):
            if i % 4 == 0:
                continue
            token = uow.tokens.get_for_update(serial)
            uow.tokens.move(token, TokenState.AVAILABLE)
            token.entra_id = f"dev-{serial}"
            if i % 4 == 1:
                continue
            uow.tokens.move(token, TokenState.ASSIGNED)
            token.user_upn = users[i % 3]
            if i % 4 == 3:
                uow.tokens.move(token, TokenState.ACTIVATED)
                token.entra_last_used_at = USED + timedelta(hours=i)
    return inv


def listed(client: httpx.Client, **params: str | list[str]) -> list[str]:
    answer = client.get("/api/v1/tokens", params={"limit": "100", **params})
    assert answer.status_code == 200, answer.text
    return [t["serial"] for t in answer.json()["items"]]


def where(pred: object) -> list[str]:
    return [s for i, s in enumerate(A + B) if pred(i)]  # type: ignore[operator]


def test_each_filter_narrows_the_api_and_the_page(client: httpx.Client, varied: Inventory) -> None:
    signed_in(client, "hal")
    held = {i for i in range(42) if i % 4 in (2, 3)}
    ann = where(lambda i: i in held and i % 3 in (0, 2))
    assert listed(client, user="ANN") == ann  # any part, any case
    assert listed(client, user="@contoso") == where(lambda i: i in held and i % 3 in (0, 1))
    assert listed(client, name="front DESK") == where(lambda i: i % 3 == 0)
    assert listed(client, model="c100") == B
    assert listed(client, manufacturer="Token2") == A
    assert listed(client, manufacturer="Token") == []  # exact, not a substring
    batches = {t["batch_id"] for t in client.get("/api/v1/tokens").json()["items"]}
    second = str(max(batches))
    assert listed(client, batch=second) == B
    assert listed(client, entra="absent") == where(lambda i: i % 4 == 0)
    assert listed(client, entra="present") == where(lambda i: i % 4 != 0)
    assert listed(client, entra="available") == where(lambda i: i % 4 == 1)
    assert listed(client, entra="activated", user="fabrikam") == where(
        lambda i: i % 4 == 3 and i % 3 == 2
    )
    assert listed(client, entra="", batch="", model="", user="") == A + B  # the form's "any"

    page = client.get(
        "/inventory", params={"user": "ann", "entra": "activated", "batch": second}
    ).text
    expected = [s for s in ann if s in B and (A + B).index(s) % 4 == 3]
    assert f"{len(expected)} token(s) match." in page
    assert re.findall(r"<code>(INV\d+)</code>", page) == expected
    assert 'value="ann"' in page and '<option value="activated" selected>' in page
    assert f'<option value="{second}" selected>#{second} b.csv</option>' in page
    makers = re.findall(r'<option value="([^"]+)"', page.split('id="manufacturer"')[1])[:2]
    models = page.split('id="model"')[1].split("</select>")[0]
    assert makers == ["Feitian", "Token2"] and models.count("<option") == 3  # Any, C302, c100

    for bad in ({"entra": "stolen"}, {"batch": "two"}, {"sort": "colour"}, {"dir": "up"}):
        refused = client.get("/api/v1/tokens", params=bad)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["code"] == "request.invalid"


def test_header_links_sort_with_aria_sort_and_page_without_gaps(
    client: httpx.Client, varied: Inventory
) -> None:
    signed_in(client, "hal")
    page = client.get("/inventory", params={"manufacturer": "Token2", "sort": "user"}).text
    head = page.split("<thead>")[1].split("</thead>")[0]
    assert head.count("aria-sort=") == 1
    sorted_th = re.search(r'<th scope="col" aria-sort="ascending"><a href="([^"]+)"', head)
    assert sorted_th is not None
    flip = html.unescape(sorted_th.group(1))  # the sorted column's link flips the direction
    assert "sort=user" in flip and "dir=desc" in flip and "manufacturer=Token2" in flip
    last_used = re.search(r'<a href="([^"]+)" class="sort">Last used</a>', head)
    assert last_used is not None
    assert "dir=asc" in last_used.group(1) and "sort=last_used" in last_used.group(1)

    # walk "user, descending" within a filter, 25 a page, through the page's own links
    url: str | None = "/inventory?" + "manufacturer=Token2&sort=user&dir=desc&limit=25"
    seen: list[str] = []
    while url:
        text = client.get(url).text
        assert 'aria-sort="descending"><a href="' in text
        seen += re.findall(r"<code>(INV\d+)</code>", text)
        more = re.search(r'<a href="([^"]+)" rel="next">', text)
        url = html.unescape(more.group(1)) if more else None
    expected = listed(client, manufacturer="Token2", sort="-user")
    assert seen == expected and len(seen) == len(set(seen)) == 30
    users = [u for u in (client.get("/api/v1/tokens", params={"sort": "-user"}).json()["items"])]
    upns = [t["user_upn"] or "" for t in users]
    assert upns == sorted(upns, reverse=True)
    # dir wins over the sort's own '-'; the API's "-name" form still works
    assert listed(client, sort="-serial", dir="asc") == sorted(A + B)
    assert listed(client, sort="-serial") == sorted(A + B, reverse=True)


def test_last_used_column_and_bulk_bar_above_the_table(
    client: httpx.Client, varied: Inventory
) -> None:
    signed_in(client, "ada")
    page = client.get("/inventory", params={"sort": "last_used", "dir": "desc"}).text
    assert page.index('id="bulk-action"') < page.index('<table class="data inv-table"')
    first = page.split("<tbody>")[1].split("</tr>")[0]
    newest = max(i for i in range(42) if i % 4 == 3)
    assert f"<code>{(A + B)[newest]}</code>" in first
    used = USED + timedelta(hours=newest)
    shown = used.strftime("%Y-%m-%d %H:%M UTC")  # one format, UTC until local-time.js runs
    exact = used.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time class="when" datetime="{exact}" title="{shown}">{shown}</time></td>' in first
    stock = client.get("/inventory", params={"entra": "available"}).text.split("<tbody>")[1]
    assert "<td>never</td>" in stock  # in Entra, never used


def test_csv_export_is_exactly_the_filtered_view(client: httpx.Client, varied: Inventory) -> None:
    signed_in(client, "hal")
    params = {"user": "CONTOSO", "sort": "last_used", "dir": "desc", "limit": "5"}
    page = client.get("/inventory", params=params).text
    link = re.search(r'<a href="(/inventory/export\?[^"]+)" download>CSV</a>', page)
    assert link is not None
    with client.stream("GET", html.unescape(link.group(1))) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/csv; charset=utf-8"
        disposition = answer.headers["content-disposition"]
        assert re.fullmatch(
            r'attachment; filename="oathdesk-tokens-\d{8}T\d{6}Z\.csv"', disposition
        )
        assert answer.headers["cache-control"] == "no-store"
        body = answer.read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    # every matching token (not just the 5 of the page), in the page's order
    assert [r["serial"] for r in rows] == listed(client, user="contoso", sort="-last_used")
    assert len(rows) > 5
    assert {r["user_upn"] for r in rows} == {"Ann.Lee@Contoso.com", "bob@contoso.com"}
    assert {r["entra_status"] for r in rows} == {"assigned", "activated"}
    formulas = [r["display_name"] for r in rows if "HYPERLINK" in r["display_name"]]
    assert formulas and all(v == "'" + FORMULA for v in formulas)  # neutralised
    for serial in A + B:  # no seed in any encoding, no key id
        seed = seed_of(serial)
        for text in (base64.b32encode(seed).decode(), seed.hex(), base64.b64encode(seed).decode()):
            assert text.rstrip("=") not in body
    assert "key_id" not in body and "sealed" not in body

    entries = search_audit(varied, audit_filter(varied, action="inventory.export")).items
    assert len(entries) == 1
    entry = entries[0]
    assert entry["actor"] == "local:hal"
    assert entry["details"]["filter"] == {"user_contains": "CONTOSO"}
    assert entry["details"]["tokens"] == len(rows) == entry["details"]["with_user"]
    assert entry["details"]["format"] == "csv" and entry["details"]["sort"] == "-last_used"


def test_json_export_and_who_may_export(client: httpx.Client, varied: Inventory) -> None:
    signed_in(client, "aud")  # the auditor reads, so may export
    answer = client.get("/api/v1/exports/tokens", params={"format": "json", "model": "c100"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"].endswith('.json"')
    data = answer.json()
    assert data["count"] == 12 and data["filter"] == {"model": "c100"} and data["sort"] == "serial"
    assert [t["serial"] for t in data["items"]] == B
    assert all("key_id" not in t and "sealed_secret" not in t for t in data["items"])
    status = ("absent", "available", "assigned", "activated")
    assert [t["entra_status"] for t in data["items"]] == [status[i % 4] for i in range(30, 42)]
    stock_only = client.get("/inventory/export", params={"entra": "absent", "format": "json"})
    assert stock_only.status_code == 200
    assert all(t["user_upn"] is None for t in stock_only.json()["items"])
    actions = [
        e["details"]["with_user"]
        for e in search_audit(varied, audit_filter(varied, action="inventory.export")).items
    ]
    assert actions == [6]  # the c100 export names users; the stock-only one names nobody
    client.cookies.clear()
    signed_in(client, "joe")  # self-service only
    assert client.get("/inventory/export").status_code == 403
    assert client.get("/api/v1/exports/tokens").status_code == 403
