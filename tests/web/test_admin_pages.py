"""Reconcile, audit and settings pages and their API twins over HTTP (real uvicorn over TLS, the
real HTTPS Entra emulator, real SQLite): differences made in Entra behind oathdesk's back and
their safe fixes, audit filters, paging, a chain edited in the database, the audited export, the
connection check for a full and a short-handed app, key rotation, local accounts, roles, CSRF."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import insert, select

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import FixedClock, Secret, SeedRecord
from oathdesk.graph import device_body
from oathdesk.service import Inventory, assign, import_seeds, push, show_token
from oathdesk.service.accounts import create_account, list_accounts
from oathdesk.store import AuditEntry, KeyRing, upgrade, verify_export
from oathdesk.store.audit import AuditFilter, page_query
from oathdesk.store.models import AuditHead
from oathdesk.web import WebSettings, create_app, routes_admin
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import PASSWORD, Server, new_client, sign_in, signed_in

__all__ = ["emu", "emu_session"]  # the emulator fixtures, used by ``inv`` below

ADMIN, AUDITORS, WHO = {"ada"}, {"ada", "aud"}, ("ada", "hal", "aud", "joe")
# (method, concrete path, who may, page or api): every GET route this area adds
ROLE_ROUTES: list[tuple[str, str, set[str], str]] = [
    ("GET", "/reconcile", ADMIN, "page"),
    ("GET", "/audit", AUDITORS, "page"),
    ("GET", "/audit/verify", AUDITORS, "page"),
    ("GET", "/audit/export", AUDITORS, "page"),
    ("GET", "/settings", ADMIN, "page"),
    ("GET", "/api/v1/reconcile", ADMIN, "api"),
    ("GET", "/api/v1/audit", AUDITORS, "api"),
    ("GET", "/api/v1/audit/verify", AUDITORS, "api"),
    ("GET", "/api/v1/audit/export", AUDITORS, "api"),
]
# every write this area adds, with a body an allowed role would send
WRITES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("POST", "/reconcile/fix", "page", {}),
    ("POST", "/settings/connection-check", "page", {"user": ""}),
    ("POST", "/settings/keys/rotate", "page", {"confirm": "yes"}),
    (
        "POST",
        "/settings/accounts",
        "page",
        {"name": "eve", "roles": "auditor", "password": PASSWORD, "password2": PASSWORD},
    ),
    ("POST", "/settings/accounts/hal/roles", "page", {"roles": "auditor"}),
    ("POST", "/settings/accounts/hal/disable", "page", {"reason": "left"}),
    ("POST", "/api/v1/reconcile/fix", "api", {}),
    ("POST", "/api/v1/settings/connection-check", "api", {}),
    ("POST", "/api/v1/keys/rotate", "api", {}),
    ("POST", "/api/v1/accounts", "api", {"name": "eve", "password": PASSWORD, "roles": []}),
    ("PATCH", "/api/v1/accounts/hal", "api", {"roles": ["auditor"]}),
]
COVERED: set[tuple[str, str]] = {
    ("GET", "/reconcile"),
    ("POST", "/reconcile/fix"),
    ("GET", "/audit"),
    ("GET", "/audit/verify"),
    ("GET", "/audit/export"),
    ("GET", "/settings"),
    ("POST", "/settings/connection-check"),
    ("POST", "/settings/keys/rotate"),
    ("POST", "/settings/accounts"),
    ("POST", "/settings/accounts/{name}/roles"),
    ("POST", "/settings/accounts/{name}/disable"),
    ("GET", "/api/v1/reconcile"),
    ("POST", "/api/v1/reconcile/fix"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"),
    ("GET", "/api/v1/audit/export"),
    ("POST", "/api/v1/settings/connection-check"),
    ("POST", "/api/v1/keys/rotate"),
    ("POST", "/api/v1/accounts"),
    ("PATCH", "/api/v1/accounts/{name}"),
}
FEW_ROLES_APP = "33333333-cccc-4ccc-8ccc-000000000002"
FEW_ROLES_SECRET = "inventory-app-with-few-roles"


@pytest.fixture
def inv(tmp_path: Path, sqlite_url: str, emu: Emu, clock: FixedClock) -> Iterator[Inventory]:
    """A migrated SQLite inventory whose Entra is the emulator (overrides the web one)."""
    upgrade(sqlite_url)
    inventory = build_inventory(support.config(sqlite_url, tmp_path, emu.url, emu.ca), clock=clock)
    yield inventory
    inventory.close()


@pytest.fixture
def admin(app_url: str, server: Server, accounts: dict[str, list[str]]) -> Iterator[httpx.Client]:
    with new_client(app_url, server) as client:
        yield signed_in(client, "ada")


def csrf(client: httpx.Client) -> str:
    token: str = client.get("/api/v1/me").json()["csrf_token"]
    return token


def api(client: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
    return client.request(method, path, headers={"X-CSRF-Token": csrf(client)}, **kw)


def post_form(client: httpx.Client, path: str, data: dict[str, Any]) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf(client)})


def stocked(inv: Inventory, prefix: str, count: int) -> list[str]:
    """``count`` tokens imported and pushed to the emulator (available there)."""
    import_seeds(inv, support.entra_csv(prefix, count), f"{prefix}.csv", actor="local:setup")
    report = push(inv, actor="local:setup")
    assert report.created == count
    return [support.serial(prefix, n) for n in range(count)]


def entra_id(inv: Inventory, serial: str) -> str:
    found: str = show_token(inv, serial)["entra_id"]
    assert found
    return found


def inventory_for(tmp_path: Path, emu: Emu, client_id: str, secret: str) -> Inventory:
    """A second inventory over its own database whose Graph app is ``client_id``."""
    url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(url)
    cfg = support.config(url, tmp_path / "other", emu.url, emu.ca)
    graph = {**cfg.sections["graph"], "client_id": client_id, "client_secret": secret}
    return build_inventory(Config(sections={**cfg.sections, "graph": graph}))


@pytest.fixture
def other_app(server: Server, settings: WebSettings, app_url: str) -> Iterator[list[Inventory]]:
    """Install an app over another inventory (e.g. another Graph app) for the rest of a test."""
    made: list[Inventory] = []
    yield made
    for inventory in made:
        inventory.close()


def install(server: Server, settings: WebSettings, inventory: Inventory) -> None:
    """Serve ``inventory`` (with its own admin, ada) instead of the test's app."""
    create_account(inventory, "ada", Secret(PASSWORD.encode()), ["admin"], actor="test")
    server.holder.app = create_app(inventory, settings)


# -- reconcile ------------------------------------------------------------------------------
def test_reconcile_shows_differences_made_behind_our_back_and_the_safe_fix_repairs_them(
    admin: httpx.Client, inv: Inventory, emu: Emu
) -> None:
    serials = stocked(inv, "RC", 3)
    graph = emu.client()
    try:
        graph.delete_device(entra_id(inv, serials[0]))  # deleted in Entra behind our back
        graph.assign(support.user_id("grace"), entra_id(inv, serials[1]))  # handed out there
        record = SeedRecord(
            serial="RCX99",
            secret=support.secret_for("RCX", 0),
            manufacturer="Token2",
            model="C202",
        )
        graph.create_device(device_body(record))  # a token oathdesk never imported
    finally:
        graph.close()

    page = admin.get("/reconcile")
    assert page.status_code == 200, page.text
    kinds = (("missing_in_entra", 1), ("unknown_to_us", 1), ("status", 1), ("assignee", 1))
    for kind, count in kinds:
        assert f'<td class="num" id="count-{kind}">{count}</td>' in page.text, kind
    assert '<td class="num" id="count-duplicate_serial">0</td>' in page.text
    assert "<code>RC00000</code>" in page.text and "<code>RCX99</code>" in page.text
    assert 'action="/reconcile/fix"' in page.text
    dry = admin.get("/api/v1/reconcile").json()
    assert dry["fix"] is False and dry["fixed"] == 0
    assert dry["counts"] == {
        "missing_in_entra": 1,
        "unknown_to_us": 1,
        "status": 1,
        "assignee": 1,
    }
    assert show_token(inv, serials[0])["state"] == "available", "looking changed something"

    fixed = post_form(admin, "/reconcile/fix", {})
    assert fixed.status_code == 200, fixed.text
    assert "Safe fixes applied: 2 fixed." in fixed.text and 'role="status"' in fixed.text
    assert "back to in_stock: the next sync push re-creates it" in fixed.text
    assert "no seed here; import its file to manage it" in fixed.text  # and why not
    assert show_token(inv, serials[0])["state"] == "in_stock"
    moved = show_token(inv, serials[1])
    assert moved["state"] == "assigned" and moved["user_upn"] == support.upn("grace")

    again = api(admin, "POST", "/api/v1/reconcile/fix")
    assert again.status_code == 200
    assert again.json()["counts"] == {"unknown_to_us": 1} and again.json()["fixed"] == 0
    log = admin.get("/api/v1/audit", params={"action": "reconcile.fix"}).json()["items"]
    assert {e["subject"] for e in log} == {serials[0], serials[1]}
    assert {e["actor"] for e in log} == {"local:ada"}


def test_a_duplicate_serial_is_shown_and_left_for_a_person(
    admin: httpx.Client, inv: Inventory, emu: Emu
) -> None:
    legacy = {  # ada holds an old CSV copy of DP00001 beside the Graph one
        "user": support.upn("ada"),
        "serialNumber": support.serial("DP", 1),
        "secretKey": support.b32(support.secret_for("DP", 1)),
        "manufacturer": "Token2",
        "model": "C301",
        "timeIntervalInSeconds": 30,
    }
    emu.seed({**support.SEED, "legacyTokens": [legacy]})
    stocked(inv, "DP", 2)
    assign(inv, support.serial("DP", 1), support.upn("ada"), actor="local:setup", reason="t")
    page = admin.get("/reconcile")
    assert '<td class="num" id="count-duplicate_serial">1</td>' in page.text
    assert "a legacy CSV copy beside the Graph one" in page.text
    fixed = post_form(admin, "/reconcile/fix", {})
    assert "Safe fixes applied: 0 fixed." in fixed.text
    assert "not touched</span> a legacy CSV copy" in fixed.text
    assert show_token(inv, support.serial("DP", 1))["state"] == "assigned"


def test_reconcile_with_entra_unreachable_gives_a_readable_error(
    tmp_path: Path, emu: Emu, server: Server, settings: WebSettings, other_app: list[Inventory]
) -> None:
    url = f"sqlite:///{tmp_path / 'away.db'}"
    upgrade(url)
    away = build_inventory(support.config(url, tmp_path, "https://127.0.0.1:9", emu.ca))
    other_app.append(away)
    install(server, settings, away)
    with new_client(server.url, server) as client:
        signed_in(client, "ada")
        page = client.get("/reconcile")
        assert page.status_code == 503  # Entra is away: try again later, not a wrong request
        assert 'role="alert"' in page.text and "Entra could not be compared." in page.text
        assert "Cannot reach the sign-in service" in page.text
        assert "<code>graph.unavailable</code>" in page.text and "Traceback" not in page.text
        answer = client.get("/api/v1/reconcile")
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "graph.unavailable"
        fix = api(client, "POST", "/api/v1/reconcile/fix")
        assert fix.json()["error"]["code"] == "graph.unavailable"
        check = api(client, "POST", "/api/v1/settings/connection-check").json()
        assert check["signed_in"] is False and check["error"]["code"] == "graph.unavailable"
        shown = post_form(client, "/settings/connection-check", {"user": ""})
        assert shown.status_code == 200 and "oathdesk could not sign in to Entra." in shown.text


# -- audit ----------------------------------------------------------------------------------
def test_audit_filters_paging_and_time_range_return_the_right_entries(
    admin: httpx.Client, inv: Inventory, clock: FixedClock
) -> None:
    start = inv.now()
    clock.advance(60)
    import_seeds(inv, support.entra_csv("AF", 2), "af.csv", actor="local:ann")
    clock.advance(60)
    middle = inv.now()
    for n in range(5):
        post_form(admin, f"/settings/accounts/{['hal', 'aud', 'joe'][n % 3]}/roles", {})
        clock.advance(1)
    clock.advance(60)
    end = inv.now()
    clock.advance(1)
    import_seeds(inv, support.entra_csv("AG", 1), "ag.csv", actor="local:ann")

    def items(**params: Any) -> list[dict[str, Any]]:
        answer = admin.get("/api/v1/audit", params=params)
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["items"]
        return found

    mine = items(actor="local:ada")
    assert [e["action"] for e in mine] == ["account.roles"] * 5 + ["auth.signin"]
    assert [e["seq"] for e in mine] == sorted((e["seq"] for e in mine), reverse=True)
    assert {e["actor"] for e in items(action="batch.")} == {"local:ann"}
    assert len(items(action="batch.import")) == 2
    hal = items(subject="account:hal")
    assert [e["action"] for e in hal] == ["account.roles", "account.roles", "account.create"]
    window = items(since=middle.isoformat(), until=end.isoformat())
    assert [e["action"] for e in window] == ["account.roles"] * 5
    naive = middle.replace(tzinfo=None).isoformat(timespec="seconds")  # as a browser sends it
    assert len(items(since=naive, until=end.isoformat())) == 5
    early = items(until=start.isoformat())
    assert [e["action"] for e in early] == ["auth.signin"] + ["account.create"] * 4

    everything = items(limit=200)
    seen: list[int] = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if before:
            params["before"] = before
        answer = admin.get("/api/v1/audit", params=params).json()
        seen += [e["seq"] for e in answer["items"]]
        before = answer["next_before"]
        if before is None:
            break
    assert seen == [e["seq"] for e in everything] and len(seen) > 6

    page = admin.get("/audit", params={"actor": "local:ada", "action": "account", "limit": 2})
    assert page.status_code == 200
    assert page.text.count("<code>account.roles</code>") == 2
    assert 'rel="next"' in page.text and "Older entries" in page.text
    assert 'value="local:ada"' in page.text  # the filter is kept in the form
    refused = admin.get("/api/v1/audit", params={"since": "yesterday"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "request.invalid"
    shown = admin.get("/audit", params={"since": "yesterday"})
    assert shown.status_code == 200 and 'role="alert"' in shown.text and "yesterday" in shown.text


def _bulk_log(inv: Inventory, count: int) -> None:
    """``count`` entries written straight into the table (not a valid chain: search only)."""
    with inv.uow() as uow:
        head = uow.session.execute(select(AuditHead)).scalar_one()
        first, at = head.seq + 1, inv.now()
        rows: list[dict[str, Any]] = [
            {
                "seq": seq,
                "at": at,
                "tenant": inv.tenant,
                "actor": "local:rare" if seq == first + 10 else f"local:bot{seq % 7}",
                "action": f"token.{('assign', 'activate', 'sync')[seq % 3]}",
                "subject": "RARE0001" if seq in (first + 5, first + 6) else f"S{seq % 5000:05d}",
                "reason": "",
                "details": "{}",
                "prev_hash": "0" * 64,
                "hash": hashlib.sha256(str(seq).encode()).hexdigest(),
            }
            for seq in range(first, first + count)
        ]
        uow.session.execute(insert(AuditEntry), rows)
        head.seq, head.hash = rows[-1]["seq"], rows[-1]["hash"]


def test_searching_a_big_log_walks_an_index_newest_first(
    admin: httpx.Client, inv: Inventory
) -> None:
    _bulk_log(inv, 60_000)
    first = admin.get("/api/v1/audit", params={"limit": 100}).json()
    deep = admin.get("/api/v1/audit", params={"limit": 100, "before": 300}).json()
    rare = admin.get("/api/v1/audit", params={"subject": "RARE0001"}).json()
    actor = admin.get("/api/v1/audit", params={"actor": "local:rare"}).json()
    assert [e["seq"] for e in deep["items"]] == list(range(299, 199, -1))
    assert first["items"][0]["seq"] > first["items"][-1]["seq"] and first["next_before"]
    assert [e["subject"] for e in rare["items"]] == ["RARE0001"] * 2
    assert rare["next_before"] is None
    assert [e["actor"] for e in actor["items"]] == ["local:rare"]
    # speed is bench material; what a test can hold is that each search walks an index:
    with inv.db.engine.connect() as conn:
        for flt in (
            AuditFilter(tenant=inv.tenant),
            AuditFilter(tenant=inv.tenant, actor="local:rare", action="token."),
            AuditFilter(tenant=inv.tenant, subject="RARE0001"),
        ):
            sql = page_query(flt, before=1000, limit=51).compile(
                inv.db.engine, compile_kwargs={"literal_binds": True}
            )
            plan = " | ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "USING INDEX" in plan or "USING PRIMARY KEY" in plan, plan
            if not flt.subject:  # ordered by the index itself: LIMIT stops the walk
                assert "TEMP B-TREE" not in plan, plan
            else:
                assert "ix_audit_subject" in plan, plan


def _tamper(inv: Inventory, statement: str) -> None:
    """As someone with owner rights on the database: drop the append-only triggers, then edit."""
    with inv.db.engine.begin() as conn:
        for sql in [
            "DROP TRIGGER audit_entries_no_update",
            "DROP TRIGGER audit_entries_no_delete",
            statement,
        ]:
            conn.exec_driver_sql(sql)


def test_verify_detects_an_entry_edited_in_the_database(
    app_url: str, server: Server, inv: Inventory, accounts: dict[str, list[str]]
) -> None:
    with new_client(app_url, server) as auditor:
        signed_in(auditor, "aud")
        good = auditor.get("/api/v1/audit/verify").json()
        assert good["ok"] is True and good["checked"] >= 4
        page = auditor.get("/audit/verify")
        assert page.status_code == 200 and "The audit chain verifies:" in page.text
        _tamper(inv, "UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2")
        bad = auditor.get("/api/v1/audit/verify").json()
        assert bad["ok"] is False and bad["seq"] == 2 and bad["problem"] == "altered"
        page = auditor.get("/audit/verify")
        assert 'role="alert"' in page.text
        assert "The audit chain is broken at entry 2 (altered)." in page.text


def test_the_export_is_json_lines_keeps_the_filter_and_is_itself_audited(
    app_url: str, server: Server, inv: Inventory, accounts: dict[str, list[str]]
) -> None:
    import_seeds(inv, support.entra_csv("EX", 2), "ex.csv", actor="local:ann")
    with new_client(app_url, server) as auditor:
        signed_in(auditor, "aud")
        download = auditor.get("/audit/export", params={"action": "account."})
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("application/x-ndjson")
        assert download.headers["content-disposition"].startswith("attachment; filename=")
        lines = download.text.splitlines()
        records = [json.loads(line) for line in lines]
        assert [r["action"] for r in records] == ["account.create"] * 4
        assert all({"hash", "prev_hash", "seq"} <= set(r) for r in records)
        whole = auditor.get("/api/v1/audit/export").text.splitlines()
        assert verify_export(whole, key=inv.db.audit_key) == len(whole)  # re-checks offline
        assert json.loads(whole[-1])["action"] == "audit.export"  # this export is in it
        log = auditor.get("/api/v1/audit", params={"action": "audit.export"}).json()["items"]
    assert [e["actor"] for e in log] == ["local:aud", "local:aud"]
    assert log[1]["details"]["filter"]["action"] == "account."
    assert log[0]["details"]["filter"]["action"] is None
    page_link = 'href="/audit/export?actor=&amp;action=token.'
    with new_client(app_url, server) as admin:
        signed_in(admin, "ada")
        assert page_link in admin.get("/audit", params={"action": "token."}).text


# -- settings: connection, keys -------------------------------------------------------------
def test_the_connection_check_reports_every_permission_for_the_full_app(
    admin: httpx.Client, inv: Inventory, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = itertools.count()  # latencies are read on the inventory's clock: make it tick
    monkeypatch.setattr(clock, "monotonic", lambda: next(ticks) * 0.01)
    page = post_form(admin, "/settings/connection-check", {"user": ""})
    assert page.status_code == 200, page.text
    assert "Every permission works." in page.text and support.TENANT in page.text
    assert page.text.count("state-activated") == 6
    report = api(admin, "POST", "/api/v1/settings/connection-check", json={}).json()
    assert report["ok"] is True and report["missing"] == [] and report["signed_in"]
    assert report["tenant"] == support.TENANT and report["client_id"] == support.APP
    assert {c["id"]: c["status"] for c in report["checks"]} == dict.fromkeys(
        [
            "inventory_read",
            "user_read",
            "methods_read",
            "policy_read",
            "inventory_write",
            "methods_write",
        ],
        "ok",
    )
    assert report["latency_ms"] > 0 and all(c["latency_ms"] is not None for c in report["checks"])
    assert "User.Read.All" in report["granted"]
    named = api(
        admin, "POST", "/api/v1/settings/connection-check", json={"user": support.upn("alan")}
    ).json()
    assert named["probe_user"] == support.user_id("alan") and named["ok"]
    assert support.APP_SECRET not in page.text + json.dumps(report)
    checks = admin.get("/api/v1/audit", params={"action": "settings.connection_check"}).json()
    assert len(checks["items"]) == 3 and checks["items"][0]["details"]["ok"] is True


def test_the_connection_check_names_the_permissions_an_app_lacks(
    tmp_path: Path, emu: Emu, server: Server, settings: WebSettings, other_app: list[Inventory]
) -> None:
    few = {
        "clientId": FEW_ROLES_APP,
        "clientSecret": FEW_ROLES_SECRET,
        "roles": ["Policy.Read.All", "User.Read.All"],
    }
    emu.seed({**support.SEED, "apps": [*support.SEED["apps"], few]})
    short = inventory_for(tmp_path, emu, FEW_ROLES_APP, FEW_ROLES_SECRET)
    other_app.append(short)
    install(server, settings, short)
    with new_client(server.url, server) as client:
        signed_in(client, "ada")
        report = api(client, "POST", "/api/v1/settings/connection-check").json()
        page = post_form(client, "/settings/connection-check", {"user": ""})
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses == {
        "inventory_read": "ok",
        "user_read": "ok",
        "methods_read": "missing",
        "policy_read": "missing",  # Policy.Read.All does not read the method policy
        "inventory_write": "missing",
        "methods_write": "missing",
    }
    assert report["ok"] is False and report["signed_in"] is True
    assert set(report["missing"]) == {  # the least-privileged names; broader ones also do
        "UserAuthMethod-HardwareOATH.Read.All",
        "Policy.Read.AuthenticationMethod",
        "Policy.ReadWrite.AuthenticationMethod",
        "UserAuthMethod-HardwareOATH.ReadWrite.All",
    }
    assert report["granted"] == ["Policy.Read.All", "User.Read.All"]
    assert page.status_code == 200 and 'role="alert"' in page.text
    assert "Some permissions are missing or failed:" in page.text
    assert "refused (403): the app lacks Policy.ReadWrite.AuthenticationMethod;" in page.text
    assert (
        "the app lacks UserAuthMethod-HardwareOATH.Read.All (or UserAuthenticationMethod.Read.All)"
        in page.text
    )


def test_the_connection_check_with_a_wrong_secret_says_sign_in_failed(
    tmp_path: Path, emu: Emu, server: Server, settings: WebSettings, other_app: list[Inventory]
) -> None:
    wrong = inventory_for(tmp_path, emu, support.APP, "not-the-secret")
    other_app.append(wrong)
    install(server, settings, wrong)
    with new_client(server.url, server) as client:
        signed_in(client, "ada")
        report = api(client, "POST", "/api/v1/settings/connection-check").json()
        page = post_form(client, "/settings/connection-check", {"user": ""})
    assert report["signed_in"] is False and report["ok"] is False
    assert report["error"]["code"] == "graph.auth"
    assert all(c["status"] == "skipped" for c in report["checks"])
    assert "oathdesk could not sign in to Entra." in page.text and 'role="alert"' in page.text
    assert "not-the-secret" not in page.text + json.dumps(report)


def test_key_rotation_needs_confirmation_and_reseals_every_seed(
    admin: httpx.Client, inv: Inventory
) -> None:
    import_seeds(inv, support.entra_csv("KR", 3), "kr.csv", actor="local:setup")
    old = inv.sealer.ring.current_id
    settings_page = admin.get("/settings")
    assert settings_page.status_code == 200 and f"<code>{old}</code>" in settings_page.text
    assert 'href="/settings/accounts"' in settings_page.text

    unconfirmed = post_form(admin, "/settings/keys/rotate", {})
    assert unconfirmed.status_code == 400 and 'role="alert"' in unconfirmed.text
    assert inv.sealer.ring.current_id == old

    done = post_form(admin, "/settings/keys/rotate", {"confirm": "yes"})
    assert done.status_code == 200, done.text
    new = inv.sealer.ring.current_id
    assert new != old and f"New key <code>{new}</code>:</strong> 3 seed(s) re-sealed" in done.text
    assert show_token(inv, support.serial("KR", 1))["key_id"] == new
    on_disk = KeyRing.load(inv.sealer.ring.path)  # type: ignore[arg-type]
    assert on_disk.key_ids == [old, new]
    with inv.uow(write=False) as uow:  # the seed still opens, under the new key
        record = uow.tokens.seed_record(uow.tokens.get(support.serial("KR", 1)), inv.sealer)
        assert record.secret.reveal() == support.secret_for("KR", 1).reveal()

    twin = api(admin, "POST", "/api/v1/keys/rotate")
    assert twin.status_code == 200
    body = twin.json()
    assert body["resealed"] == 3 and body["by_old_key"] == {new: 3}
    assert body["keys"]["current"] == body["key_id"] != new
    log = admin.get("/api/v1/audit", params={"action": "keys.rotate"}).json()["items"]
    assert [e["actor"] for e in log] == ["local:ada", "local:ada"]


# -- accounts -------------------------------------------------------------------------------
def test_accounts_are_created_changed_and_disabled_through_the_page(
    admin: httpx.Client, app_url: str, server: Server, inv: Inventory
) -> None:
    form = {"name": "eve", "roles": ["helpdesk", "auditor"], "password": PASSWORD}
    differ = post_form(admin, "/settings/accounts", {**form, "password2": PASSWORD + "x"})
    assert differ.status_code == 400 and 'role="alert"' in differ.text
    assert "The two passwords differ" in differ.text and PASSWORD not in differ.text
    assert 'value="eve"' in differ.text  # the name is kept, the passwords are not
    weak = post_form(
        admin, "/settings/accounts", {**form, "password": "short", "password2": "short"}
    )
    assert weak.status_code == 400 and "account.weak_password" in weak.text
    made = post_form(admin, "/settings/accounts", {**form, "password2": PASSWORD})
    assert made.status_code == 200 and "Account eve was created." in made.text
    twice = post_form(admin, "/settings/accounts", {**form, "password2": PASSWORD})
    assert twice.status_code == 409 and "account.exists" in twice.text
    eve = {a.name: a for a in list_accounts(inv)}["eve"]
    assert eve.roles == ("helpdesk", "auditor") and eve.enabled

    with new_client(app_url, server) as session:
        signed_in(session, "eve")
        assert session.get("/audit").status_code == 200
        changed = post_form(admin, "/settings/accounts/eve/roles", {"roles": ["helpdesk"]})
        assert changed.status_code == 200 and "eve now has: helpdesk." in changed.text
        assert session.get("/audit").status_code == 403  # at once
        no_reason = post_form(admin, "/settings/accounts/eve/disable", {"reason": " "})
        assert no_reason.status_code == 400 and 'role="alert"' in no_reason.text
        gone = post_form(admin, "/settings/accounts/eve/disable", {"reason": "ticket 42"})
        assert gone.status_code == 200
        assert "eve is disabled and was signed out everywhere." in gone.text
        assert session.get("/dashboard").status_code == 303  # the session ended
    with new_client(app_url, server) as fresh:
        assert sign_in(fresh, "eve").status_code == 401
    self_off = post_form(admin, "/settings/accounts/ada/disable", {"reason": "oops"})
    assert self_off.status_code == 403 and "ask another administrator" in self_off.text
    demoted = post_form(admin, "/settings/accounts/ada/roles", {"roles": ["auditor"]})
    assert demoted.status_code == 403
    missing = post_form(admin, "/settings/accounts/nobody/roles", {"roles": ["auditor"]})
    assert missing.status_code == 404 and 'role="alert"' in missing.text
    params = {"subject": "account:eve", "action": "account."}
    log = admin.get("/api/v1/audit", params=params).json()["items"]
    assert [(e["action"], e["actor"]) for e in log] == [
        ("account.disable", "local:ada"),
        ("account.roles", "local:ada"),
        ("account.create", "local:ada"),
    ]
    assert log[0]["reason"] == "ticket 42"
    page = admin.get("/settings/accounts")
    for label in ('for="name"', 'for="password"', 'for="password2"', "Disable hal"):
        assert label in page.text


def test_the_accounts_api_creates_changes_and_disables(admin: httpx.Client, inv: Inventory) -> None:
    made = api(
        admin,
        "POST",
        "/api/v1/accounts",
        json={"name": "kim", "roles": ["auditor"], "password": PASSWORD},
    )
    assert made.status_code == 201, made.text
    assert made.json()["roles"] == ["auditor"] and PASSWORD not in made.text
    bad = api(
        admin,
        "POST",
        "/api/v1/accounts",
        json={"name": "kim2", "roles": ["root"], "password": PASSWORD},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "account.bad_role"
    roles = api(admin, "PATCH", "/api/v1/accounts/kim", json={"roles": ["helpdesk"]})
    assert roles.status_code == 200 and roles.json()["roles"] == ["helpdesk"]
    nothing = api(admin, "PATCH", "/api/v1/accounts/kim", json={})
    assert nothing.status_code == 400
    off = api(admin, "PATCH", "/api/v1/accounts/kim", json={"enabled": False, "reason": "gone"})
    assert off.status_code == 200 and off.json()["enabled"] is False
    back = api(admin, "PATCH", "/api/v1/accounts/kim", json={"enabled": True})
    assert back.status_code == 400 and back.json()["error"]["code"] == "account.cannot_enable"
    self_off = api(admin, "PATCH", "/api/v1/accounts/ada", json={"enabled": False, "reason": "x"})
    assert self_off.status_code == 403 and self_off.json()["error"]["code"] == "account.forbidden"
    assert {a.name: a.enabled for a in list_accounts(inv)}["ada"] is True


# -- roles and CSRF -------------------------------------------------------------------------
@pytest.fixture
def clients(
    app_url: str, server: Server, accounts: dict[str, list[str]]
) -> Iterator[dict[str, httpx.Client]]:
    made = {name: signed_in(new_client(app_url, server), name) for name in WHO}
    made["anonymous"] = new_client(app_url, server)
    yield made
    for client in made.values():
        client.close()


def test_every_get_route_is_guarded_for_every_role(clients: dict[str, httpx.Client]) -> None:
    for method, path, allowed, kind in ROLE_ROUTES:
        for who, client in clients.items():
            response = client.request(method, path)
            where = f"{who} {method} {path}"
            if who == "anonymous":
                if kind == "page":
                    assert response.status_code == 303, where
                    assert response.headers["location"].startswith("/signin?next="), where
                else:
                    assert response.status_code == 401, where
                    assert response.json()["error"]["code"] == "auth.required", where
            elif who in allowed:
                assert response.status_code == 200, where
            elif kind == "page":
                assert response.status_code == 403, where
                assert "<h1>Not allowed</h1>" in response.text, where
            else:
                assert response.status_code == 403, where
                assert set(response.json()["error"]) == {"code", "message", "details"}
                assert response.json()["error"]["code"] == "auth.forbidden", where


def _send(
    client: httpx.Client, method: str, path: str, kind: str, body: dict[str, Any], token: str | None
) -> httpx.Response:
    if kind == "page":
        data = {**body, **({"csrf_token": token} if token else {})}
        return client.request(method, path, data=data)
    headers = {"X-CSRF-Token": token} if token else {}
    return client.request(method, path, json=body, headers=headers)


def test_every_write_is_refused_to_other_roles_and_without_the_csrf_token(
    clients: dict[str, httpx.Client], inv: Inventory
) -> None:
    key = inv.sealer.ring.current_id
    before = verify_seq(clients["ada"])
    for method, path, kind, body in WRITES:
        for who in ("anonymous", "hal", "aud", "joe"):
            client = clients[who]
            token = None if who == "anonymous" else csrf(client)
            response = _send(client, method, path, kind, body, token)
            where = f"{who} {method} {path}"
            if who == "anonymous":
                assert response.status_code == (303 if kind == "page" else 401), where
            else:
                assert response.status_code == 403, where
                if kind == "api":
                    assert response.json()["error"]["code"] == "auth.forbidden", where
        refused = _send(clients["ada"], method, path, kind, body, None)  # no CSRF token
        assert refused.status_code == 403, f"ada without CSRF {method} {path}"
        assert "auth.csrf" in refused.text
    assert inv.sealer.ring.current_id == key
    accounts = {a.name: a for a in list_accounts(inv)}
    assert "eve" not in accounts and accounts["hal"].roles == ("helpdesk",)
    assert accounts["hal"].enabled
    assert verify_seq(clients["ada"]) == before, "a refused write left an audit entry"


def verify_seq(client: httpx.Client) -> int:
    head: int = client.get("/api/v1/audit/verify").json()["head_seq"]
    return head


def test_covered_lists_every_route_this_area_registers() -> None:
    registered = {
        (method, route.path)
        for router in (routes_admin.pages, routes_admin.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or set()
    }
    assert registered == COVERED
    assert {(m, p) for m, p, _, _ in ROLE_ROUTES} == {(m, p) for m, p in COVERED if m == "GET"}
    writes = {(m, p.replace("hal", "{name}")) for m, p, _, _ in WRITES}
    assert writes == {(m, p) for m, p in COVERED if m != "GET"}


def test_the_api_twins_are_documented_in_openapi(client: httpx.Client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for method, path in COVERED:
        if path.startswith("/api/v1/"):
            operation = spec["paths"][path][method.lower()]
            assert {"400", "401", "403"} <= set(operation["responses"]), path
    assert not any(p.startswith(("/audit", "/settings", "/reconcile")) for p in spec["paths"])


def test_the_settings_page_reads_out_the_notifications(admin: httpx.Client, inv: Inventory) -> None:
    """Off by default; on, the relay (never its password) and the last delivery problem."""
    from oathdesk.mailing import SmtpSettings
    from oathdesk.service import NotifySettings

    assert "<dt>Notifications</dt><dd>Off</dd>" in admin.get("/settings").text
    inv.notify = NotifySettings(
        enabled=True,
        smtp=SmtpSettings(
            host="mail.example.com",
            port=587,
            starttls=True,
            username="oathdesk",
            password=Secret(b"relay-Pa55word"),
        ),
    )
    with inv.uow() as uow:
        row = uow.outbox.add("lost", "mail", "SN-9", "ada@example.com", {"serial": "SN-9"})
        uow.flush()
        uow.outbox.give_up(row, "the mail server mail.example.com:587 did not take the message")
    page = admin.get("/settings").text
    assert "<dt>Notifications</dt><dd>On</dd>" in page
    assert "<code>mail.example.com:587</code> (starttls, with login)" in page
    assert "0 waiting, 0 sent, 1 given up" in page
    assert "did not take the message</td>" in page and "<td>given up</td>" in page
    assert "relay-Pa55word" not in page
