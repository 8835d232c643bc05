"""API tokens for automation over real HTTPS: created by the CLI and by the admin API, used with
``Authorization: Bearer`` (roles enforced, no CSRF), refused once revoked or expired, and their
value never in a listing, the audit log or any log record."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from oathdesk.cli.accounts_cmd import app as accounts_cli
from oathdesk.domain import FixedClock
from oathdesk.service import Inventory
from oathdesk.service.api_tokens import create_api_token, list_api_tokens, resolve_api_token
from tests.web.conftest import Server, new_client, signed_in

WHO = ["ada", "hal", "aud", "joe"]
# (method, path, who may, page or api)
ROLE_ROUTES: list[tuple[str, str, set[str], str]] = [
    ("GET", "/api/v1/api-tokens", {"ada"}, "api"),
]
COVERED: set[tuple[str, str]] = {
    ("GET", "/api/v1/api-tokens"),
    ("POST", "/api/v1/api-tokens"),
    ("DELETE", "/api/v1/api-tokens/{token_id}"),
    # the page's roles and CSRF: tests/web/test_console_pages_v2.py
    ("GET", "/settings/api-tokens"),
    ("POST", "/settings/api-tokens"),
    ("POST", "/settings/api-tokens/{token_id}/revoke"),
}


@pytest.fixture
def clients(
    app_url: str, server: Server, accounts: dict[str, list[str]]
) -> Iterator[dict[str, httpx.Client]]:
    made = {name: signed_in(new_client(app_url, server), name) for name in WHO}
    made["anonymous"] = new_client(app_url, server)
    yield made
    for client in made.values():
        client.close()


def csrf(client: httpx.Client) -> dict[str, str]:
    return {"x-csrf-token": client.get("/api/v1/me").json()["csrf_token"]}


def bearer(app_url: str, server: Server, value: str) -> httpx.Client:
    return new_client(app_url, server, authorization=f"Bearer {value}")


def test_every_role_against_every_route(clients: dict[str, httpx.Client]) -> None:
    for method, path, allowed, _kind in ROLE_ROUTES:
        for who, client in clients.items():
            response = client.request(method, path)
            where = f"{who} {method} {path}"
            if who == "anonymous":
                assert response.status_code == 401, where
                assert response.json()["error"]["code"] == "auth.required", where
            elif who in allowed:
                assert response.status_code == 200, where
            else:
                assert response.status_code == 403, where
                assert response.json()["error"]["code"] == "auth.forbidden", where


def test_writes_are_for_administrators_with_the_csrf_token(
    clients: dict[str, httpx.Client], inv: Inventory
) -> None:
    body = {"name": "nightly", "roles": ["auditor"]}
    for who in ("hal", "aud", "joe"):
        client = clients[who]
        refused = client.post("/api/v1/api-tokens", json=body, headers=csrf(client))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "auth.forbidden"
        gone = client.delete("/api/v1/api-tokens/1", headers=csrf(client))
        assert gone.status_code == 403
    anonymous = clients["anonymous"]
    assert anonymous.post("/api/v1/api-tokens", json=body).status_code == 401
    assert anonymous.delete("/api/v1/api-tokens/1").status_code == 401
    ada = clients["ada"]
    forged = ada.post("/api/v1/api-tokens", json=body)  # a cookie without the CSRF header
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "auth.csrf"
    assert list_api_tokens(inv) == []
    made = ada.post("/api/v1/api-tokens", json=body, headers=csrf(ada))
    assert made.status_code == 201, made.text
    assert ada.delete(f"/api/v1/api-tokens/{made.json()['id']}").status_code == 403  # no CSRF
    revoked = ada.delete(f"/api/v1/api-tokens/{made.json()['id']}", headers=csrf(ada))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    missing = ada.delete("/api/v1/api-tokens/999", headers=csrf(ada))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "api_token.not_found"


def test_a_token_made_by_the_api_carries_its_roles_and_needs_no_csrf(
    clients: dict[str, httpx.Client], app_url: str, server: Server, inv: Inventory
) -> None:
    ada = clients["ada"]
    made = ada.post(
        "/api/v1/api-tokens",
        json={"name": "desk-bot", "roles": ["helpdesk"], "expires_days": 30},
        headers=csrf(ada),
    )
    assert made.status_code == 201
    created = made.json()
    value = created["token"]
    assert value.startswith("odk_") and created["roles"] == ["helpdesk"]
    assert created["state"] == "active" and created["created_by"] == "local:ada"
    with bearer(app_url, server, value) as bot:
        me = bot.get("/api/v1/me").json()
        assert me["name"] == "desk-bot" and me["roles"] == ["helpdesk"]
        assert bot.get("/api/v1/tokens").status_code == 200
        assert bot.get("/api/v1/dashboard").status_code == 200
        for path in ("/api/v1/accounts", "/api/v1/api-tokens"):
            refused = bot.get(path)
            assert refused.status_code == 403, path
            assert refused.json()["error"]["code"] == "auth.forbidden"
        escalate = bot.post("/api/v1/api-tokens", json={"name": "x", "roles": ["admin"]})
        assert escalate.status_code == 403  # a write, no CSRF header: refused for the role
        assert "set-cookie" not in bot.get("/api/v1/me").headers
        assert bot.get("/dashboard").status_code == 303  # pages ignore bearer tokens
    listed = ada.get("/api/v1/api-tokens").json()["items"]
    assert [t["name"] for t in listed] == ["desk-bot"]
    assert listed[0]["last_used_at"] is not None
    assert value not in json.dumps(listed) and "token" not in listed[0]
    with inv.uow(write=False) as uow:
        entries = [(e.action, e.actor, e.subject) for e in uow.audit.entries()]
    assert ("api_token.create", "local:ada", "api_token:desk-bot") in entries


def test_an_admin_token_writes_without_csrf_and_acts_as_api_name(
    app_url: str, server: Server, inv: Inventory
) -> None:
    value, _view = create_api_token(inv, "root-bot", ["admin"], actor="test")
    with bearer(app_url, server, value.reveal().decode()) as bot:
        made = bot.post("/api/v1/api-tokens", json={"name": "child", "roles": ["auditor"]})
        assert made.status_code == 201 and made.json()["created_by"] == "api:root-bot"
        again = bot.post("/api/v1/api-tokens", json={"name": "child", "roles": ["auditor"]})
        assert again.status_code == 409 and again.json()["error"]["code"] == "api_token.exists"
        bad = bot.post("/api/v1/api-tokens", json={"name": "odd", "roles": ["superuser"]})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "api_token.bad_role"
        none = bot.post("/api/v1/api-tokens", json={"name": "odd", "roles": []})
        assert none.status_code == 422
        revoked = bot.delete(f"/api/v1/api-tokens/{made.json()['id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    with inv.uow(write=False) as uow:
        actors = {(e.action, e.actor) for e in uow.audit.entries()}
    assert ("api_token.revoke", "api:root-bot") in actors


def test_revoked_expired_unknown_and_malformed_tokens_get_401(
    app_url: str, server: Server, inv: Inventory, clock: FixedClock, accounts: object
) -> None:
    short, _ = create_api_token(inv, "short", ["auditor"], actor="test", days=1)
    kept, kept_view = create_api_token(inv, "kept", ["auditor"], actor="test")
    from oathdesk.service.api_tokens import revoke_api_token

    with bearer(app_url, server, kept.reveal().decode()) as bot:
        assert bot.get("/api/v1/dashboard").status_code == 200
        revoke_api_token(inv, kept_view.id, actor="test")
        refused = bot.get("/api/v1/dashboard")
        assert refused.status_code == 401
        error = refused.json()["error"]
        assert error["code"] == "auth.required" and error["details"]["reason"] == "invalid_token"
        assert "revoked" in error["message"]
    with bearer(app_url, server, short.reveal().decode()) as bot:
        assert bot.get("/api/v1/dashboard").status_code == 200
        clock.advance(86400 + 1)
        assert bot.get("/api/v1/dashboard").status_code == 401
    for value in ("odk_" + "A" * 43, "not-a-token", "odk_short"):
        with bearer(app_url, server, value) as bot:
            assert bot.get("/api/v1/me").status_code == 401, value
    with new_client(app_url, server) as browser:  # a valid session does not rescue a bad token
        signed_in(browser, "ada")
        browser.headers["authorization"] = "Bearer odk_" + "B" * 43
        assert browser.get("/api/v1/me").status_code == 401
        del browser.headers["authorization"]
        assert browser.get("/api/v1/me").status_code == 200
    assert resolve_api_token(inv, kept.reveal().decode()) is None


def test_the_cli_creates_lists_and_revokes_and_prints_the_value_once(
    tmp_path: Path, inv: Inventory, app_url: str, server: Server
) -> None:
    config = tmp_path / "oathdesk.toml"
    config.write_text(f'[data]\ndir = "{tmp_path / "data"}"\n')
    base = ["--config", str(config)]
    runner = CliRunner()
    made = runner.invoke(
        accounts_cli,
        [
            "token",
            "create",
            "ci",
            "--role",
            "helpdesk",
            "--role",
            "auditor",
            "--expires-days",
            "7",
            "--actor",
            "cli:tester",
            *base,
        ],
    )
    assert made.exit_code == 0, made.output
    value = made.output.strip().splitlines()[-1]
    assert value.startswith("odk_") and "Store the value now" in made.output
    with bearer(app_url, server, value) as bot:
        assert bot.get("/api/v1/me").json()["roles"] == ["auditor", "helpdesk"]
    listed = runner.invoke(accounts_cli, ["token", "list", "--json", *base])
    assert listed.exit_code == 0
    rows = json.loads(listed.output)["api_tokens"]
    assert rows[0]["name"] == "ci" and rows[0]["created_by"] == "cli:tester"
    assert value not in listed.output
    table = runner.invoke(accounts_cli, ["token", "list", *base])
    assert "ci" in table.output and value not in table.output
    as_json = runner.invoke(
        accounts_cli, ["token", "create", "ci2", "--role", "admin", "--json", *base]
    )
    assert json.loads(as_json.output)["token"].startswith("odk_")
    gone = runner.invoke(accounts_cli, ["token", "revoke", "ci", "--reason", "rotated", *base])
    assert gone.exit_code == 0 and "revoked" in gone.output
    with bearer(app_url, server, value) as bot:
        assert bot.get("/api/v1/me").status_code == 401


def test_token_values_never_reach_a_log_record_or_the_audit_log(
    app_url: str,
    server: Server,
    inv: Inventory,
    caplog: pytest.LogCaptureFixture,
    clients: dict[str, httpx.Client],
) -> None:
    caplog.set_level(logging.DEBUG)
    ada = clients["ada"]
    made = ada.post(
        "/api/v1/api-tokens", json={"name": "quiet", "roles": ["auditor"]}, headers=csrf(ada)
    )
    value = made.json()["token"]
    with bearer(app_url, server, value) as bot:
        bot.get("/api/v1/dashboard")
        bot.get("/api/v1/accounts")  # refused: 403
    with bearer(app_url, server, value + "x") as bot:
        bot.get("/api/v1/dashboard")  # refused: 401
    ada.delete(f"/api/v1/api-tokens/{made.json()['id']}", headers=csrf(ada))
    assert caplog.records, "nothing was logged at all"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert value not in logged and value[4:20] not in logged
    with inv.uow(write=False) as uow:
        audit = "\n".join(e.details + (e.subject or "") + e.actor for e in uow.audit.entries())
    assert value not in audit and value[4:20] not in audit
    assert "api_token:quiet" in audit
    assert value not in repr(list_api_tokens(inv))
