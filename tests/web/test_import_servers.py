"""The console import over two ``oathdesk serve`` processes on one database (SQLite and
PostgreSQL), as behind a load balancer: an upload previewed on one server is confirmed on the
other, a job's progress is polled on the server that is not running its push (and is seen moving,
then done), and the same confirm sent to both servers at once imports once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import Secret
from oathdesk.service import TokenState
from oathdesk.service.accounts import create_account
from oathdesk.store import upgrade
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import CSRF_RE
from tests.web.conftest import PASSWORD as ACCOUNT_PASSWORD
from tests.web.servers import running_servers, write_config
from tests.web.test_import import JOB_RE, PASSWORD, UPLOAD_RE, stock_count, zipped

__all__ = ["emu", "emu_session"]

SLOW = {"rules": [{"path": "hardwareOathDevices", "method": "POST", "delayMs": 250}]}


@pytest.fixture
def servers(db_url: str, tmp_path: Path, emu: Emu) -> Iterator[list[str]]:
    """Two console processes on one migrated database (the account ``ada``, admin), both
    pushing to the emulator."""
    upgrade(db_url)
    cfg = support.config(db_url, tmp_path, emu.url, emu.ca)
    inv = build_inventory(cfg)  # also writes the key ring both servers seal with
    try:
        create_account(inv, "ada", Secret(ACCOUNT_PASSWORD.encode()), ["admin"], actor="test")
    finally:
        inv.close()
    with running_servers(write_config(tmp_path / "oathdesk.toml", cfg.sections)) as urls:
        yield urls


def _token(client: httpx.Client, url: str) -> str:
    found = CSRF_RE.search(client.get(f"{url}/import").text)
    assert found, "no CSRF token on the import page"
    return found.group(1)


def _sign_in(client: httpx.Client, url: str) -> None:
    found = CSRF_RE.search(client.get(f"{url}/signin").text)
    assert found
    form = {"name": "ada", "password": ACCOUNT_PASSWORD, "csrf_token": found.group(1)}
    answer = client.post(f"{url}/signin", data={**form, "next": "/dashboard"})
    assert answer.status_code == 303, answer.text


def _preview(client: httpx.Client, url: str, data: bytes) -> str:
    page = client.post(
        f"{url}/import/preview",
        data={"csrf_token": _token(client, url), "password": PASSWORD},
        files={"file": ("delivery.zip", data)},
    )
    assert page.status_code == 200, page.text
    found = UPLOAD_RE.search(page.text)
    assert found, "no confirm form for a valid file"
    return found.group(1)


def _confirm(client: httpx.Client, url: str, upload: str) -> httpx.Response:
    return client.post(
        f"{url}/import/confirm", data={"csrf_token": _token(client, url), "upload": upload}
    )


def _follow(client: httpx.Client, urls: list[str], job_id: str) -> list[dict[str, Any]]:
    """Poll the job on ``urls`` in turn until it is no longer running; every answer."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while True:
        answer = client.get(f"{urls[len(seen) % len(urls)]}/api/v1/import/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        if seen[-1]["state"] != "running" or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def test_preview_confirm_and_progress_may_each_reach_either_server(
    servers: list[str], emu: Emu, db_url: str, tmp_path: Path
) -> None:
    one, two = servers
    assert emu.control.post(f"{emu.url}/_emulator/faults", json=SLOW).status_code < 300
    try:
        with httpx.Client(timeout=60, follow_redirects=False) as client:
            _sign_in(client, one)  # one session: its cookie goes to both (same host)
            # previewed on server 1, confirmed on server 2, whose thread pushes; polled on 1
            upload = _preview(client, one, zipped("MA", 8))
            confirmed = _confirm(client, two, upload)
            assert confirmed.status_code == 303, confirmed.text
            found = JOB_RE.match(confirmed.headers["location"])
            assert found
            polls = _follow(client, [one], found.group(1))
            moving = [p for p in polls if p["state"] == "running" and 0 < p["done"] < 8]
            assert moving, "server 1 never saw the push on server 2 move"
            assert (polls[-1]["state"], polls[-1]["done"], polls[-1]["total"]) == ("done", 8, 8)
            page = client.get(f"{one}{confirmed.headers['location']}")
            assert 'max="8" value="8">100 %</progress>' in page.text
            # and the other way round, the polls alternating between the two servers
            upload = _preview(client, two, zipped("MB", 4))
            confirmed = _confirm(client, one, upload)
            assert confirmed.status_code == 303, confirmed.text
            job_id = confirmed.headers["location"].rsplit("/", 1)[1]
            polls = _follow(client, [two, one], job_id)
            assert polls[-1]["state"] == "done" and polls[-1]["done"] == 4, polls[-1]
            assert {p["id"] for p in polls} == {job_id}
            # the same confirm sent to both servers at the same moment imports once
            upload = _preview(client, one, zipped("MC", 2))
            tokens = {url: _token(client, url) for url in servers}
            start = Barrier(2)

            def confirm_on(url: str) -> httpx.Response:
                start.wait()
                form = {"csrf_token": tokens[url], "upload": upload}
                return client.post(f"{url}/import/confirm", data=form)

            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(confirm_on, servers))
            assert Counter(a.status_code for a in answers) == Counter({303: 1, 400: 1})
            refused = next(a for a in answers if a.status_code == 400)
            assert "import.upload_expired" in refused.text
            won = next(a for a in answers if a.status_code == 303)
            job_id = won.headers["location"].rsplit("/", 1)[1]
            final = _follow(client, [two, one], job_id)[-1]
            assert (final["state"], final["import"]["added"]) == ("done", 2)
    finally:
        emu.control.delete(f"{emu.url}/_emulator/faults")
    inv = build_inventory(support.config(db_url, tmp_path, None, None))
    try:
        assert stock_count(inv, TokenState.AVAILABLE) == 14
        assert stock_count(inv) == 14
    finally:
        inv.close()


def test_a_job_started_through_the_api_on_one_server_is_polled_on_the_other(
    servers: list[str], emu: Emu
) -> None:
    one, two = servers
    assert emu.control.post(f"{emu.url}/_emulator/faults", json=SLOW).status_code < 300
    try:
        with httpx.Client(timeout=60, follow_redirects=False) as client:
            _sign_in(client, one)
            csrf = client.get(f"{one}/api/v1/me").json()["csrf_token"]
            started = client.post(
                f"{one}/api/v1/imports",
                data={"password": PASSWORD},
                files={"file": ("delivery.zip", zipped("MD", 6))},
                headers={"X-CSRF-Token": csrf},
            )
            assert started.status_code == 202, started.text
            job_id = started.json()["id"]
            polls = _follow(client, [two], job_id)  # never asked of the server pushing it
            assert any(p["state"] == "running" for p in polls), "the job was never seen running"
            assert (polls[-1]["state"], polls[-1]["done"], polls[-1]["percent"]) == ("done", 6, 100)
            assert polls[-1]["push"]["created"] == 6
            missing = client.get(f"{two}/api/v1/import/jobs/no-such-job")
            assert missing.status_code == 404
            assert missing.json()["error"]["code"] == "import.not_found"
    finally:
        emu.control.delete(f"{emu.url}/_emulator/faults")
