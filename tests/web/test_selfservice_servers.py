"""Self-service rate limits hold exactly under concurrency over two ``oathdesk serve`` processes on
one database (SQLite and PostgreSQL), both reaching one HTTPS Entra emulator: 40 wrong codes for
one token at once, from two people over both servers, get exactly the token's limit of checks and
the rest ``selfservice.rate_limited``, and the right code is then refused on both servers (while
another token is still enrolled through them); 40 unclaimable serials from one person at once get
exactly the user's limit. No request ever answers 500, and the locked token stays unclaimed.

Why real processes: every server must see the same counts (issue 12, "Throttles are atomic"); in
one process, threads alone (tests/service/test_throttle_parallel.py) cannot show that."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from threading import Barrier

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import Secret
from oathdesk.service import TokenState, push
from oathdesk.service.accounts import create_account
from oathdesk.service.selfservice import Limits
from oathdesk.store import upgrade
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.service.selfservice_seed import code, stock
from tests.service.support import secret_for, serial, upn, user_id, wrong_code
from tests.web.conftest import CSRF_RE, PASSWORD
from tests.web.servers import FRESH, running_servers, write_config

__all__ = ["emu", "emu_session"]

PARALLEL = 40
ADA, GRACE, ALAN = upn("ada"), upn("grace"), upn("alan")
RATE_LIMITED = (429, "selfservice.rate_limited")


@dataclass
class Site:
    """The two servers' URLs and the settings of their database (for the checks after)."""

    urls: list[str]
    db_url: str
    folder: Path


@pytest.fixture
def site(db_url: str, tmp_path: Path, emu: Emu) -> Iterator[Site]:
    """Two console processes on one migrated database reaching the emulator: local accounts
    named by the tenant users' UPNs, with no role; tokens ``SA00000``-``SA00002`` pushed to
    Entra (available to anyone), ``SR00000`` in stock for Alan only."""
    upgrade(db_url)
    cfg = support.config(db_url, tmp_path, emu.url, emu.ca)
    inv = build_inventory(cfg)  # also writes the key ring both servers seal with
    try:
        for name in (ADA, GRACE, ALAN):
            create_account(inv, name, Secret(PASSWORD.encode()), [], actor="test")
        report = push(inv, actor="test", batch_id=stock(inv, "SA", 3))
        assert report.created == 3
        stock(inv, "SR", 1, users=[ALAN])
    finally:
        inv.close()
    with running_servers(write_config(tmp_path / "oathdesk.toml", cfg.sections)) as urls:
        yield Site(urls, db_url, tmp_path)


def _session(url: str, name: str) -> httpx.Cookies:
    """The session cookie of ``name`` signed in on ``url`` (good on both servers: one key)."""
    with httpx.Client(base_url=url, follow_redirects=False, timeout=60) as client:
        found = CSRF_RE.search(client.get("/signin").text)
        assert found, "no CSRF token on the sign-in form"
        form = {"name": name, "password": PASSWORD, "csrf_token": found.group(1), "next": "/me"}
        answer = client.post("/signin", data=form)
        assert answer.status_code == 303, answer.text
        return httpx.Cookies(client.cookies)


def _client(url: str, cookies: httpx.Cookies) -> httpx.Client:
    """A client of that session on ``url``, connected, with the session's CSRF header."""
    client = httpx.Client(
        base_url=url, cookies=cookies, follow_redirects=False, timeout=120, limits=FRESH
    )
    me = client.get("/api/v1/me")
    assert me.status_code == 200, me.text
    client.headers["X-CSRF-Token"] = me.json()["csrf_token"]
    return client


def _enroll(client: httpx.Client, sn: str, value: str) -> tuple[int, str]:
    """One API enrollment: its status and error code (``enrolled`` when it worked)."""
    body = {"serial": sn, "display_name": "Mine", "code": value}
    answer = client.post("/api/v1/me/tokens", json=body)
    if answer.status_code == 201:
        return 201, "enrolled"
    error = answer.json()["error"]  # a 500 would not match any expected answer either
    if answer.status_code == 429:
        assert answer.headers["Retry-After"] == str(error["details"]["retry_after"])
    return answer.status_code, error["code"]


def _at_once(
    clients: list[httpx.Client], serials: list[str], value: str
) -> Counter[tuple[int, str]]:
    """``clients[i]`` enrolls ``serials[i]`` with ``value``, all released together."""
    start = Barrier(len(clients))

    def one(i: int) -> tuple[int, str]:
        start.wait()
        return _enroll(clients[i], serials[i], value)

    with ThreadPoolExecutor(len(clients)) as pool:
        return Counter(pool.map(one, range(len(clients))))


def _stored(site: Site, sn: str) -> tuple[TokenState, str | None]:
    inv = build_inventory(support.config(site.db_url, site.folder, None, None))
    try:
        with inv.uow(write=False) as uow:
            token = uow.tokens.find(sn)
            assert token is not None
            return token.state, token.user_upn
    finally:
        inv.close()


def test_parallel_wrong_codes_for_one_token_get_exactly_its_limit_on_both_servers(
    site: Site, emu: Emu
) -> None:
    """Ada and Alan (20 tries each, so neither's own limit of 5 binds first) send the same
    wrong code for ``SA00000`` at once; Grace, who never guessed, then has the right code
    refused on both servers, and enrolls another token through them."""
    limit, sn = Limits().token_failures, serial("SA", 0)
    bad = wrong_code(secret_for("SA", 0))  # outside Entra's whole ±1 day window
    sessions = {name: _session(site.urls[0], name) for name in (ADA, ALAN, GRACE)}
    clients = [
        _client(site.urls[i % 2], sessions[(ADA, ALAN)[i // 2 % 2]]) for i in range(PARALLEL)
    ]
    try:
        answers = _at_once(clients, [sn] * PARALLEL, bad)
        assert answers == Counter(
            {(400, "service.code_rejected"): limit, RATE_LIMITED: PARALLEL - limit}
        ), answers
        for url in site.urls:  # locked for everyone, on both servers, even with the right code
            grace = _client(url, sessions[GRACE])
            clients.append(grace)
            assert _enroll(grace, sn, code("SA", 0, time.time())) == RATE_LIMITED
        # the lock is the token's: Grace's own count is untouched, she enrolls another token
        assert _enroll(clients[-1], serial("SA", 1), code("SA", 1, time.time())) == (
            201,
            "enrolled",
        )
    finally:
        for client in clients:
            client.close()
    assert _stored(site, sn) == (TokenState.AVAILABLE, None)
    assert _stored(site, serial("SA", 1)) == (TokenState.ACTIVATED, GRACE)
    with emu.client() as graph:
        (device,) = graph.find_serial(sn)
        (enrolled,) = graph.find_serial(serial("SA", 1))
    assert (device.status, device.assigned_to_id) == ("available", "")
    assert (enrolled.status, enrolled.assigned_to_id) == ("activated", user_id("grace"))


def test_parallel_unclaimable_serials_of_one_user_get_exactly_her_limit_on_both_servers(
    site: Site,
) -> None:
    """Grace sends 40 serials she cannot claim at once (unknown ones, and Alan's restricted
    ``SR00000``), over both servers: exactly her limit is checked. Then the right code of a
    free token is refused for her on both servers; Ada is not affected."""
    limit = Limits().user_failures
    grace = _session(site.urls[1], GRACE)
    clients = [_client(site.urls[i % 2], grace) for i in range(PARALLEL)]
    serials = [serial("SR", 0) if i % 4 == 0 else f"NOPE-{i:02d}" for i in range(PARALLEL)]
    try:
        answers = _at_once(clients, serials, "123456")
        assert answers == Counter(
            {(404, "selfservice.not_claimable"): limit, RATE_LIMITED: PARALLEL - limit}
        ), answers
        for mine in clients[:2]:  # one on each server
            assert _enroll(mine, serial("SA", 2), code("SA", 2, time.time())) == RATE_LIMITED
        ada = _client(site.urls[0], _session(site.urls[0], ADA))
        clients.append(ada)
        assert _enroll(ada, serial("SA", 2), code("SA", 2, time.time())) == (201, "enrolled")
    finally:
        for client in clients:
            client.close()
    assert _stored(site, serial("SR", 0)) == (TokenState.IN_STOCK, None)
    assert _stored(site, serial("SA", 2)) == (TokenState.ACTIVATED, ADA)
