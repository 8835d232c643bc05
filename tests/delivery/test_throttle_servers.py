"""Delivery look-up and serial limits hold exactly with real parallel requests over two
``oathdesk delivery serve`` processes on one database (SQLite and PostgreSQL), and guesses from
one network never lock the customer, on another network, out of their order.

The client address is varied through ``X-Forwarded-For``: the server believes it from its
default trusted proxy, 127.0.0.1, which is where these clients connect from."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.delivery import Delivery, DeliverySettings, load
from oathdesk.domain import Secret
from oathdesk.store import upgrade
from tests.delivery import support
from tests.delivery.web_support import SHIP_RE, find, token_of
from tests.web.servers import FRESH
from tests.web.test_serve import _free_port

PARALLEL = 40
NUMBER_FAILURES = VISIT_FAILURES = 5  # docs/security.md, Throttles: FindPolicy's defaults


def _serve(config: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OATHDESK_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oathdesk",
            "delivery",
            "serve",
            "--port",
            str(port),
            "--config",
            str(config),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/order")
            return proc, url
        except httpx.TransportError:
            assert proc.poll() is None, "oathdesk delivery serve stopped"
            assert time.monotonic() < deadline, "oathdesk delivery serve did not answer"
            time.sleep(0.2)


@pytest.fixture
def two_servers(db_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two delivery processes on one migrated database holding the orders of ``support``."""
    data = tmp_path / "data"
    config = Config(sections={"data": {"dir": str(data)}, "store": {"url": db_url}})
    upgrade(db_url)
    inv = build_inventory(config)
    try:
        settings = DeliverySettings(secret_key=Secret(b"d" * 32))
        dl = Delivery(inv, settings)
        dl.prepare()
        seeds = support.seed_file()
        load(dl, seeds, "seeds.csv", support.manifest_csv(), "orders.csv", actor="local:vendor")
    finally:
        inv.close()
    path = tmp_path / "oathdesk.toml"
    path.write_text(
        f'[data]\ndir = "{data}"\n[store]\nurl = "{db_url}"\n[delivery]\nsecure_cookies = false\n'
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        urls = []
        for _ in range(2):  # one after the other: the first writes the shared delivery key
            proc, url = _serve(path)
            procs.append(proc)
            urls.append(url)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)


def _client(url: str, address: str, cookies: httpx.Cookies | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        follow_redirects=False,
        timeout=120,
        headers={"x-forwarded-for": address},
        cookies=cookies,
        limits=FRESH,
    )


def _parallel(post: Callable[[int], int]) -> Counter[int]:
    """``post(i)`` for ``PARALLEL`` requests released together: the answers' statuses."""
    start = Barrier(PARALLEL)

    def one(i: int) -> int:
        start.wait()
        return post(i)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return Counter(pool.map(one, range(PARALLEL)))


def test_guessers_on_one_order_lock_their_network_not_the_customer(
    two_servers: list[str],
) -> None:
    """40 wrong look-ups at once on the customer's order, each from another address of one
    IPv6 /64, over both servers: exactly the (number, network) limit is looked up. The right
    answer from that /64 then waits; the customer, from another network, finds the order on
    both servers."""
    clients = [_client(two_servers[i % 2], f"2001:db8:bad:1::{i + 1:x}") for i in range(PARALLEL)]
    tokens = [token_of(c, "/order") for c in clients]
    form = [{"number": "PO-1001", "email": f"g{i}@evil.example"} for i in range(PARALLEL)]
    try:
        answers = _parallel(
            lambda i: (
                clients[i].post("/order", data={**form[i], "csrf_token": tokens[i]}).status_code
            )
        )
        assert answers == Counter({404: NUMBER_FAILURES, 429: PARALLEL - NUMBER_FAILURES}), answers
        for n, url in enumerate(two_servers):
            with _client(url, f"2001:db8:bad:1:{n + 7}::1") as guesser:
                assert find(guesser).status_code == 429
            with _client(url, "192.0.2.44") as customer:
                assert find(customer).status_code == 303
    finally:
        for client in clients:
            client.close()


def test_wrong_serials_in_one_visit_stop_at_the_visits_limit(two_servers: list[str]) -> None:
    """40 wrong serials at once in one visit (its cookie copied), each from another network,
    over both servers: exactly the visit's limit is checked; a new visit from the customer's
    network still proves possession with the right serial."""
    with _client(two_servers[0], "192.0.2.44") as customer:
        assert find(customer).status_code == 303
        cookies = customer.cookies
    clients = [
        _client(two_servers[i % 2], f"198.51.100.{i + 1}", cookies=cookies) for i in range(PARALLEL)
    ]
    try:
        pages = [c.get("/order/shipments") for c in clients]
        ships = [SHIP_RE.findall(p.text)[0] for p in pages]
        tokens = [token_of(c, "/order/shipments") for c in clients]

        def post(i: int) -> int:
            data = {"csrf_token": tokens[i], "pick": ships[i], f"serial_{ships[i]}": f"ZZ{i:06d}"}
            return clients[i].post("/order/shipments", data=data).status_code

        answers = _parallel(post)
        assert answers[429] == PARALLEL - VISIT_FAILURES, answers
        assert sum(answers.values()) - answers[429] == VISIT_FAILURES, answers
        assert len(answers) == 2, answers  # one status for a mismatch, 429 for the rest
        with _client(two_servers[1], "192.0.2.44") as again:
            assert find(again).status_code == 303
            ship = SHIP_RE.findall(again.get("/order/shipments").text)[0]
            data = {
                "csrf_token": token_of(again, "/order/shipments"),
                "pick": ship,
                f"serial_{ship}": support.SHIPMENTS["SH-1"][0],
            }
            assert again.post("/order/shipments", data=data).status_code == 303
    finally:
        for client in clients:
            client.close()
