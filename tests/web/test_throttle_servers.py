"""Sign-in throttling holds exactly under concurrency: parallel wrong passwords for one account,
split over two ``oathdesk serve`` processes on one database (SQLite and PostgreSQL), get at most
the limit's password checks, and the right password is refused while the account is locked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import Secret
from oathdesk.service.accounts import ThrottlePolicy, create_account
from oathdesk.store import upgrade
from tests.web.conftest import CSRF_RE, PASSWORD
from tests.web.test_serve import RUN_SERVE, _free_port

PARALLEL = 40


def _serve(config: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OATHDESK_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_SERVE, "--port", str(port), "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/signin")
            return proc, url
        except httpx.TransportError:
            assert proc.poll() is None, "oathdesk serve stopped"
            assert time.monotonic() < deadline, "oathdesk serve did not answer"
            time.sleep(0.2)


@pytest.fixture
def two_servers(db_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two console processes on one migrated database holding the account ``ada``."""
    data = tmp_path / "data"
    config = Config(sections={"data": {"dir": str(data)}, "store": {"url": db_url}})
    upgrade(db_url)
    inv = build_inventory(config)
    try:
        create_account(inv, "ada", Secret(PASSWORD.encode()), ["admin"], actor="test")
    finally:
        inv.close()
    path = tmp_path / "oathdesk.toml"
    path.write_text(
        f'[data]\ndir = "{data}"\n[store]\nurl = "{db_url}"\n[web]\nsecure_cookies = false\n'
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        urls = []
        for _ in range(2):  # one after the other: the first writes the shared web key
            proc, url = _serve(path)
            procs.append(proc)
            urls.append(url)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)


def _ready(url: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=120)
    found = CSRF_RE.search(client.get("/signin").text)
    assert found, "no CSRF token in the form"
    return client, found.group(1)


def _post(client: httpx.Client, token: str, password: str) -> int:
    form = {"name": "ada", "password": password, "csrf_token": token, "next": "/dashboard"}
    return client.post("/signin", data=form).status_code


def test_parallel_wrong_passwords_over_two_servers_get_exactly_the_limit(
    two_servers: list[str],
) -> None:
    limit = ThrottlePolicy().max_failures
    clients = [_ready(two_servers[i % 2]) for i in range(PARALLEL)]
    start = Barrier(PARALLEL)

    def one(i: int) -> int:
        client, token = clients[i]
        start.wait()
        return _post(client, token, f"wrong password {i:02d}")

    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            answers = Counter(pool.map(one, range(PARALLEL)))
        assert answers == Counter({401: limit, 429: PARALLEL - limit}), answers
        for url in two_servers:  # the right password waits for the lock-out, on both servers
            client, token = _ready(url)
            clients.append((client, token))
            assert _post(client, token, PASSWORD) == 429
    finally:
        for client, _ in clients:
            client.close()
