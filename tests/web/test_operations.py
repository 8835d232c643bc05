"""The operations endpoints over a real uvicorn: ``/healthz`` and ``/readyz`` without sign-in (GET
and HEAD), naming the failing check (migrations behind, database away, Graph unreachable) with
no host or secret; ``/metrics`` for loopback by default, behind a token or an allow-list, off
when turned off, counting requests by route template, our 429s, Graph calls, and tokens and
jobs by state from the database (SQLite and PostgreSQL); the request id, from ``X-Request-ID``
or made, in the answer and in Graph's ``client-request-id``."""

from __future__ import annotations

import ipaddress
import logging
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import FixedClock, Secret
from oathdesk.http.metrics import MetricsAccess
from oathdesk.http.operations import Operations
from oathdesk.service import Inventory
from oathdesk.store import upgrade
from oathdesk.web import WebSettings, create_app
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import PASSWORD, Server, add_tokens, new_client, sign_in, signed_in

__all__ = ["emu", "emu_session"]


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from an exposition, 0 when absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def serve(server: Server, settings: WebSettings) -> Iterator[object]:
    """Install a console over an inventory (and operations) for this test; its client."""
    clients: list[httpx.Client] = []

    def install(inv: Inventory, ops: Operations | None = None) -> httpx.Client:
        server.holder.app = create_app(inv, settings, operations=ops)
        client = new_client(server.url, server)
        clients.append(client)
        return client

    yield install
    for client in clients:
        client.close()
    server.holder.app = None


def _inventory(db_url: str, tmp_path: Path, revision: str = "head") -> Inventory:
    upgrade(db_url, revision)
    config = Config(sections={"data": {"dir": str(tmp_path / "data")}, "store": {"url": db_url}})
    return build_inventory(config, clock=FixedClock(1_800_000_000))


def test_probes_answer_without_sign_in_get_and_head(client: httpx.Client) -> None:
    live = client.get("/healthz")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"] == {"status": "ok"}
    assert checks["migrations"]["status"] == "ok"
    assert checks["migrations"]["revision"] == checks["migrations"]["head"]
    assert checks["graph"] == {"status": "skipped", "reason": "not configured"}
    for path in ("/healthz", "/readyz"):
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == "application/json"
    assert client.get("/signin").status_code == 200  # nothing was audited or throttled


def test_readiness_names_migrations_behind(db_url: str, tmp_path: Path, serve: object) -> None:
    inv = _inventory(db_url, tmp_path, "0008")
    try:
        client = serve(inv)  # type: ignore[operator]
        ready = client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["failing"] == ["migrations"]
        assert body["checks"]["migrations"]["revision"] == "0008"
        assert body["checks"]["migrations"]["reason"] == "run: oathdesk db upgrade"
        assert client.get("/healthz").status_code == 200  # alive all the same
    finally:
        inv.close()


def test_a_database_migrated_by_a_newer_version_stays_ready(
    db_url: str, tmp_path: Path, serve: object
) -> None:
    from sqlalchemy import text

    inv = _inventory(db_url, tmp_path)
    try:
        with inv.db.engine.begin() as conn:  # what a later release's `db upgrade` leaves
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        client = serve(inv)  # type: ignore[operator]
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["migrations"]["reason"] == "the database is newer"
    finally:
        inv.close()


def test_readiness_names_an_unreachable_database_without_its_address(
    tmp_path: Path, serve: object
) -> None:
    inv = _inventory(f"sqlite:///{tmp_path / 'ok.db'}", tmp_path)
    inv.close()
    away = _inventory(f"sqlite:///{tmp_path / 'ok.db'}", tmp_path)
    away.db.engine.dispose()  # its next connection opens the file anew, and finds none
    (tmp_path / "ok.db").rename(tmp_path / "moved.db")
    (tmp_path / "ok.db").mkdir()  # a folder where the file was: no database answers
    try:
        client = serve(away)  # type: ignore[operator]
        ready = client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert "database" in body["failing"]
        assert body["checks"]["database"] == {"status": "fail", "reason": "store.unreachable"}
        assert str(tmp_path) not in ready.text
        metrics = client.get("/metrics").text
        assert sample(metrics, "oathdesk_database_up") == 0.0
    finally:
        away.close()


def test_metrics_count_routes_by_template_and_tokens_and_jobs_by_state(
    db_url: str, tmp_path: Path, serve: object
) -> None:
    inv = _inventory(db_url, tmp_path)
    try:
        add_tokens(inv, ["M1", "M2", "M3"], states={"available": ["M2"], "activated": ["M3"]})
        with inv.uow() as uow:
            uow.jobs.create("sync.push", ["M1"], actor="test")
            done = uow.jobs.create("sync.push", ["M2"], actor="test")
            uow.jobs.finish(done, "done")
            uow.import_jobs.add("j1", actor="test", report={}, total=3, state="running")
        client = serve(inv)  # type: ignore[operator]
        before = client.get("/metrics").text
        for _ in range(3):
            client.get("/tokens/SECRET-SERIAL-42")
        client.head("/healthz")
        text = client.get("/metrics").text
    finally:
        inv.close()
    route = {"app": "console", "method": "GET", "route": "/tokens/{serial}", "status": "303"}
    name = "oathdesk_http_requests_total"
    assert sample(text, name, **route) == sample(before, name, **route) + 3
    assert sample(text, name, app="console", method="HEAD", route="/healthz") >= 1
    assert "SECRET-SERIAL-42" not in text
    assert sample(text, "oathdesk_http_request_duration_seconds_count", route="/tokens/{serial}")
    assert sample(text, "oathdesk_tokens", state="in_stock") == 1
    assert sample(text, "oathdesk_tokens", state="available") == 1
    assert sample(text, "oathdesk_tokens", state="activated") == 1
    assert 'oathdesk_tokens{state="lost"} 0.0' in text
    assert sample(text, "oathdesk_database_up") == 1
    assert sample(text, "oathdesk_jobs", kind="sync.push", state="pending") == 1
    assert sample(text, "oathdesk_jobs", kind="sync.push", state="done") == 1
    assert sample(text, "oathdesk_jobs", kind="import", state="running") == 1


def test_metrics_access_loopback_allow_list_token_and_off(inv: Inventory, serve: object) -> None:
    open_ = serve(inv)  # type: ignore[operator]
    assert open_.get("/metrics").status_code == 200  # the tests connect from 127.0.0.1
    assert "text/plain" in open_.get("/metrics").headers["content-type"]
    elsewhere = (ipaddress.ip_network("10.0.0.0/8"),)
    denied = serve(inv, Operations(metrics=MetricsAccess(allow=elsewhere)))  # type: ignore[operator]
    assert denied.get("/metrics").status_code == 403
    token = Operations(metrics=MetricsAccess(token=Secret(b"scrape-me-please")))
    guarded = serve(inv, token)  # type: ignore[operator]
    assert guarded.get("/metrics").status_code == 401
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    good = guarded.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert good.status_code == 200 and "oathdesk_tokens" in good.text
    off = serve(inv, Operations(metrics=MetricsAccess(enabled=False)))  # type: ignore[operator]
    assert off.get("/metrics").status_code == 404
    # through a proxy: the client X-Forwarded-For names (believed from 127.0.0.1) is outside
    proxied = off.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 200
    server_open = serve(inv)  # type: ignore[operator]
    forwarded = server_open.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.status_code == 403


def test_throttled_sign_ins_are_counted_by_limiter(
    client: httpx.Client, accounts: dict[str, list[str]], settings: WebSettings
) -> None:
    name = "oathdesk_throttled_requests_total"
    before = sample(client.get("/metrics").text, name, app="console", limiter="auth.throttled")
    for _ in range(settings.throttle.max_failures):
        assert sign_in(client, "ada", "wrong password here").status_code == 401
    assert sign_in(client, "ada", PASSWORD).status_code == 429
    after = sample(client.get("/metrics").text, name, app="console", limiter="auth.throttled")
    assert after == before + 1


def test_the_request_id_is_returned_and_a_bad_one_replaced(client: httpx.Client) -> None:
    mine = client.get("/signin", headers={"X-Request-ID": "proxy-abc-123456"})
    assert mine.headers["x-request-id"] == "proxy-abc-123456"
    bad_ids = [b"short", b"has space in it 1234", b"x" * 200, "evil\u00e9-1234567".encode()]
    for bad in bad_ids:
        made = client.get("/signin", headers=[(b"X-Request-ID", bad)])
        assert made.headers["x-request-id"].encode() != bad
        assert re.fullmatch(r"[0-9a-f-]{36}", made.headers["x-request-id"])
    one, two = client.get("/healthz"), client.get("/healthz")
    assert one.headers["x-request-id"] != two.headers["x-request-id"]


def _graph_inventory(tmp_path: Path, emu: Emu, base_url: str | None = None) -> Inventory:
    url = f"sqlite:///{tmp_path / 'graph.db'}"
    upgrade(url)
    config = support.config(url, tmp_path, emu.url, emu.ca)
    if base_url is not None:
        config.sections["graph"]["base_url"] = base_url
    return build_inventory(config, clock=FixedClock(1_800_000_000))


def test_graph_gets_our_request_id_and_is_counted_and_probed(
    tmp_path: Path,
    emu: Emu,
    server: Server,
    settings: WebSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from oathdesk.service.accounts import create_account

    inv = _graph_inventory(tmp_path, emu)
    create_account(inv, "aud", Secret(PASSWORD.encode()), ["auditor"], actor="test")
    server.holder.app = create_app(
        inv, WebSettings(secret_key=settings.secret_key, graph_tenant_id=support.TENANT)
    )
    caplog.set_level(logging.DEBUG, logger="oathdesk.graph")
    try:
        with new_client(server.url, server) as client:
            ready = client.get("/readyz", headers={"X-Request-ID": "ready-probe-0001"})
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["graph"] == {"status": "ok"}
            signed_in(client, "aud")
            page = client.get("/dashboard", headers={"X-Request-ID": "dash-click-000042"})
            assert page.status_code == 200
            assert page.headers["x-request-id"] == "dash-click-000042"
            metrics = client.get("/metrics").text
    finally:
        server.holder.app = None
        inv.close()
    echoed = [r.getMessage() for r in caplog.records if r.name == "oathdesk.graph"]
    assert any("client-request-id dash-click-000042" in line for line in echoed), echoed
    assert sample(metrics, "oathdesk_graph_requests_total", method="GET", endpoint="organization")
    assert sample(metrics, "oathdesk_graph_requests_total", endpoint="/")  # the probe


def test_an_unreachable_graph_fails_readiness_without_naming_the_host(
    tmp_path: Path, emu: Emu, serve: object
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing answers there
    inv = _graph_inventory(tmp_path, emu, base_url=f"https://127.0.0.1:{port}/beta")
    try:
        client = serve(inv)  # type: ignore[operator]
        ready = client.get("/readyz")
    finally:
        inv.close()
    assert ready.status_code == 503
    body = ready.json()
    assert body["failing"] == ["graph"]
    assert body["checks"]["graph"] == {"status": "fail", "reason": "ConnectError"}
    assert str(port) not in ready.text and support.APP_SECRET not in ready.text


def test_an_https_client_sees_the_same_probes(
    server: Server, inv: Inventory, serve: object
) -> None:
    serve(inv)  # type: ignore[operator]
    context = ssl.create_default_context(cafile=server.ca)
    with httpx.Client(base_url=server.url, verify=context) as plain:
        assert plain.get("/healthz").json() == {"status": "ok"}
