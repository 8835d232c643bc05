"""Sign-in throttling holds exactly under concurrency: parallel wrong passwords for one account,
split over two ``oathdesk serve`` processes on one database (SQLite and PostgreSQL), get at most
the limit's password checks, and the right password is refused while the account is locked."""

from __future__ import annotations

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
from tests.web.servers import running_servers, write_config

PARALLEL = 40


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
    path = write_config(
        tmp_path / "oathdesk.toml", {"data": {"dir": str(data)}, "store": {"url": db_url}}
    )
    with running_servers(path) as urls:
        yield urls


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
