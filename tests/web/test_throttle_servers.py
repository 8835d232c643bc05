"""Sign-in throttling holds exactly under concurrency: parallel wrong passwords for one account,
split over two ``oathdesk serve`` processes on one database (SQLite and PostgreSQL), get at most
the limit's password checks, and the right password is refused from the guessers' network while
it is locked, but not from the owner's own network (lock-outs are no weapon against the owner).

The client address is varied through ``X-Forwarded-For``: ``oathdesk serve`` believes it from
its default trusted proxy, 127.0.0.1, which is where these clients connect from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
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
from tests.web.servers import FRESH, running_servers, write_config

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


def _ready(url: str, address: str = "127.0.0.1") -> tuple[httpx.Client, str]:
    client = httpx.Client(
        base_url=url,
        follow_redirects=False,
        timeout=120,
        headers={"x-forwarded-for": address},
        limits=FRESH,
    )
    found = CSRF_RE.search(client.get("/signin").text)
    assert found, "no CSRF token in the form"
    return client, found.group(1)


def _post(client: httpx.Client, token: str, password: str, name: str = "ada") -> int:
    form = {"name": name, "password": password, "csrf_token": token, "next": "/dashboard"}
    return client.post("/signin", data=form).status_code


def _parallel(clients: list[tuple[httpx.Client, str]], post: Callable[[int], int]) -> Counter[int]:
    """``post(i)`` for every client at once (released together): the answers' statuses."""
    start = Barrier(len(clients))

    def one(i: int) -> int:
        start.wait()
        return post(i)

    with ThreadPoolExecutor(len(clients)) as pool:
        return Counter(pool.map(one, range(len(clients))))


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


def test_the_guessers_network_is_locked_and_the_owner_on_another_signs_in(
    two_servers: list[str],
) -> None:
    """40 wrong passwords at once for ``ada``, each from another address of one IPv6 /64, over
    both servers: exactly the limit is checked (the /64 is one network). Then the right password
    from that /64 is refused on both servers, and the owner, from another network, signs in on
    both."""
    limit = ThrottlePolicy().max_failures
    clients = [_ready(two_servers[i % 2], f"2001:db8:bad:1::{i + 1:x}") for i in range(PARALLEL)]
    try:
        answers = _parallel(clients, lambda i: _post(*clients[i], f"wrong password {i:02d}"))
        assert answers == Counter({401: limit, 429: PARALLEL - limit}), answers
        for n, url in enumerate(two_servers):
            guesser = _ready(url, f"2001:db8:bad:1:{n + 7}::1")
            owner = _ready(url, "198.51.100.20")
            clients += [guesser, owner]
            assert _post(*guesser, PASSWORD) == 429
            assert _post(*owner, PASSWORD) == 303
    finally:
        for client, _ in clients:
            client.close()


def test_one_network_spraying_many_accounts_gets_exactly_its_limit(
    two_servers: list[str],
) -> None:
    """40 wrong passwords at once for 40 names from one IPv4 address, over both servers: exactly
    the network's limit is checked; ``ada`` from another network is not affected."""
    limit = ThrottlePolicy().address_failures
    clients = [_ready(two_servers[i % 2], "203.0.113.66") for i in range(PARALLEL)]
    try:
        answers = _parallel(
            clients, lambda i: _post(*clients[i], "wrong password", name=f"guess{i:02d}")
        )
        assert answers == Counter({401: limit, 429: PARALLEL - limit}), answers
        owner = _ready(two_servers[1], "2001:db8:0:1::5")
        clients.append(owner)
        assert _post(*owner, PASSWORD) == 303
    finally:
        for client, _ in clients:
            client.close()
