"""The hand-out API over HTTP (real uvicorn over TLS, real HTTPS emulator): a dry run lists
each refusal with its line and code, a roster becomes a job that runs to the end in the
background, activation from the seed is refused while the setting is off, admins only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import FixedClock, Secret
from oathdesk.service import HandoutSettings, Inventory
from oathdesk.store import upgrade
from oathdesk.web.settings import WebSettings
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.service.handout_support import assert_once, people, roster, stock, tenant
from tests.web.conftest import Server, new_client, signed_in

__all__ = ["emu", "emu_session"]
ALLOWED = HandoutSettings(activate_from_seed=True, workers=4, rate=100.0)


@pytest.fixture
def inv(tmp_path: Path, sqlite_url: str, emu: Emu, clock: FixedClock) -> Iterator[Inventory]:
    upgrade(sqlite_url)
    inventory = build_inventory(support.config(sqlite_url, tmp_path, emu.url, emu.ca))
    yield inventory
    inventory.close()


@pytest.fixture
def settings() -> WebSettings:
    return WebSettings(secret_key=Secret(b"k" * 32), secure_cookies=True, handout=ALLOWED)


@pytest.fixture
def admin(app_url: str, server: Server, accounts: dict[str, list[str]]) -> Iterator[httpx.Client]:
    with new_client(app_url, server) as client:
        yield signed_in(client, "ada")


def _post(client: httpx.Client, data: bytes, **fields: str) -> httpx.Response:
    token = client.get("/api/v1/me").json()["csrf_token"]
    return client.post(
        "/api/v1/handouts",
        data=fields,
        files={"file": ("roster.csv", data)},
        headers={"X-CSRF-Token": token},
    )


def test_a_roster_is_checked_then_handed_out_in_the_background(
    admin: httpx.Client, inv: Inventory, emu: Emu
) -> None:
    tenant(emu, 5)
    sns = stock(inv, "W", 5)
    pairs = [(sn, support.upn(k)) for sn, k in zip(sns, people(5), strict=True)]
    bad = roster([*pairs, ("NOPE", support.upn("p000"))])
    checked = _post(admin, bad, dry_run="true", activate_from_seed="true")
    assert checked.status_code == 200
    (problem,) = checked.json()["problems"]
    assert (problem["locator"], problem["code"]) == ("roster.csv:7", "roster.unknown_serial")
    refused = _post(admin, bad, activate_from_seed="true")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "roster.invalid"
    started = _post(admin, roster(pairs), activate_from_seed="true", reason="RITM-9")
    assert started.status_code == 202, started.text
    where = started.headers["location"]
    deadline = time.monotonic() + 60
    while (job := admin.get(where).json())["state"] in ("pending", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["state"] == "done" and job["progress"]["done"] == 5
    assert job["activate_from_seed"] is True
    assert {r["outcome"] for r in job["rows"]} == {"activated"}
    client = emu.client()
    try:
        assert_once(client, pairs, "activated")
    finally:
        client.close()


def test_activation_from_the_seed_needs_the_setting_and_an_admin(
    app_url: str, server: Server, accounts: dict[str, list[str]], inv: Inventory, emu: Emu
) -> None:
    tenant(emu, 1)
    sns = stock(inv, "X", 1)
    data = roster([(sns[0], support.upn("p000"))])
    with new_client(app_url, server) as helpdesk:
        signed_in(helpdesk, "hal")
        answer = _post(helpdesk, data)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "auth.forbidden"
    server.holder.app.state.settings = WebSettings(  # type: ignore[union-attr]
        secret_key=Secret(b"k" * 32), secure_cookies=True
    )
    with new_client(app_url, server) as admin:
        signed_in(admin, "ada")
        off = _post(admin, data, activate_from_seed="true")
    assert off.status_code == 403 and off.json()["error"]["code"] == "handout.from_seed_off"
