"""The operations endpoints and logs of real ``oathdesk serve`` and ``oathdesk delivery serve``
processes: probes and ``/metrics`` on both apps (SQLite and PostgreSQL), every stderr line JSON
with time, level, logger, message and request id (``--log-format json`` or ``[log] format``),
the request lines with method, route template, status and duration and no secret, the audit
streamed to a JSON lines SIEM file, and ``X-Forwarded-For`` believed only from
``--trusted-proxies``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import Secret
from oathdesk.service.accounts import create_account
from oathdesk.store import upgrade
from tests.web.servers import FRESH, write_config
from tests.web.test_serve import RUN_SERVE, _free_port

PASSWORD = "correct horse battery staple"


@contextmanager
def running(
    command: Sequence[str], config: Path, log: Path, probe: str, *extra: str
) -> Iterator[str]:
    """A server process on a free port, its stderr in ``log``; its URL once ``probe`` answers."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OATHDESK_")}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*command, "--port", str(port), "--config", str(config), *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{url}{probe}")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "the server did not answer"
                    time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def json_lines(log: Path) -> list[dict[str, Any]]:
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line, uvicorn's too, is JSON
    for line in parsed:
        assert {"time", "level", "logger", "message"} <= set(line), line
    return parsed


def _prepare(db_url: str, tmp_path: Path, extra: dict[str, dict[str, object]]) -> Path:
    data = tmp_path / "data"
    upgrade(db_url)
    sections: dict[str, dict[str, object]] = {
        "data": {"dir": str(data)},
        "store": {"url": db_url},
        "delivery": {"secure_cookies": False},
        **extra,
    }
    inv = build_inventory(Config(sections={k: dict(v) for k, v in sections.items()}))
    try:
        create_account(inv, "ada", Secret(PASSWORD.encode()), ["admin"], actor="test")
    finally:
        inv.close()
    return write_config(tmp_path / "oathdesk.toml", sections)


def test_serve_logs_json_with_request_ids_and_streams_the_audit(
    db_url: str, tmp_path: Path
) -> None:
    siem = tmp_path / "audit.jsonl"
    config = _prepare(db_url, tmp_path, {"siem": {"json_file": str(siem)}})
    log = tmp_path / "serve.log"
    serve = [sys.executable, "-c", RUN_SERVE]
    with (
        running(serve, config, log, "/healthz", "--log-format", "json") as url,
        httpx.Client(base_url=url, limits=FRESH, timeout=60) as client,
    ):
        signin = client.get("/signin", headers={"X-Request-ID": "form-0000-0001"})
        token = signin.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        posted = client.post(
            "/signin",
            data={"name": "ada", "password": PASSWORD, "csrf_token": token, "next": "/dashboard"},
            headers={"X-Request-ID": "signin-0000-0002"},
        )
        assert posted.status_code == 303 and posted.headers["x-request-id"] == "signin-0000-0002"
        assert client.get("/tokens/SERIAL-IN-PATH").status_code == 404  # no such token
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ok"
        assert client.head("/healthz").status_code == 200
        metrics = client.get("/metrics").text
        session = client.cookies.get("oathdesk_session") or ""
    lines = json_lines(log)
    requests = [line for line in lines if line["logger"] == "oathdesk.http.access"]
    post = next(line for line in requests if line["request_id"] == "signin-0000-0002")
    assert (post["method"], post["route"], post["status"]) == ("POST", "/signin", 303)
    assert post["app"] == "console" and isinstance(post["duration_ms"], float)
    assert any(line["route"] == "/tokens/{serial}" for line in requests)
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    text = log.read_text()
    assert PASSWORD not in text and "SERIAL-IN-PATH" not in text
    assert len(session) > 20 and session not in text
    assert 'route="/signin",status="303"' in metrics and 'app="console"' in metrics
    assert "oathdesk_tokens{" in metrics
    streamed = [json.loads(line) for line in siem.read_text().splitlines()]
    assert any(e["action"] == "auth.signin" and e["subject"] == "account:ada" for e in streamed)
    assert PASSWORD not in siem.read_text()


def test_delivery_serve_answers_probes_and_metrics_with_json_logs_from_config(
    db_url: str, tmp_path: Path
) -> None:
    config = _prepare(db_url, tmp_path, {"log": {"format": "json"}})
    log = tmp_path / "delivery.log"
    command = [sys.executable, "-m", "oathdesk", "delivery", "serve"]
    with (
        running(command, config, log, "/healthz") as url,
        httpx.Client(base_url=url, limits=FRESH, timeout=60) as client,
    ):
        live = client.get("/healthz", headers={"X-Request-ID": "delivery-live-01"})
        assert live.json() == {"status": "ok"}
        assert live.headers["x-request-id"] == "delivery-live-01"
        assert client.head("/readyz").status_code == 200
        ready = client.get("/readyz").json()
        assert ready["checks"]["database"] == {"status": "ok"}
        assert ready["checks"]["migrations"]["status"] == "ok"
        client.get("/download/not-a-real-link-token-000000")
        assert (
            client.get("/order", headers={"X-Request-ID": "delivery-order-02"}).status_code == 200
        )
        metrics = client.get("/metrics").text
    assert 'app="delivery"' in metrics and "oathdesk_database_up 1.0" in metrics
    assert "not-a-real-link-token" not in metrics
    lines = json_lines(log)
    order = next(line for line in lines if line.get("request_id") == "delivery-order-02")
    assert (order["route"], order["status"], order["app"]) == ("/order", 200, "delivery")
    # probes are logged at debug only: the default level (info) keeps them out of the log
    assert not any(line.get("request_id") == "delivery-live-01" for line in lines)
    assert "not-a-real-link-token" not in log.read_text()


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    sqlite_url: str, tmp_path: Path
) -> None:
    """/metrics serves loopback: a forged X-Forwarded-For from a peer that is not a trusted
    proxy changes nothing; from a trusted proxy, the client it names is the client."""
    config = _prepare(sqlite_url, tmp_path, {})
    serve = [sys.executable, "-c", RUN_SERVE]
    forged = {"X-Forwarded-For": "203.0.113.9"}
    with running(
        serve, config, tmp_path / "a.log", "/healthz", "--trusted-proxies", "10.9.9.9"
    ) as url:
        assert httpx.get(f"{url}/metrics", headers=forged).status_code == 200  # ignored
    with running(serve, config, tmp_path / "b.log", "/healthz") as url:  # 127.0.0.1 trusted
        assert httpx.get(f"{url}/metrics", headers=forged).status_code == 403
        assert httpx.get(f"{url}/metrics").status_code == 200
