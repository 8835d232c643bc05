"""Shared by the help-desk lifecycle tests: an inventory whose Entra is the real HTTPS emulator,
codes computed from the seeds ``add_tokens`` gives (sha256(serial)[:20]), CSRF helpers, and a
watch over every answer body for those seeds."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import Secret
from oathdesk.graph import Device
from oathdesk.otp import totp
from oathdesk.service import Inventory
from oathdesk.store import upgrade
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import CSRF_RE, Server, new_client, signed_in

__all__ = ["emu", "emu_session"]

WHO = ["ada", "hal", "aud", "joe"]
ALICE = support.upn("ada")  # an Entra user of the emulator's tenant (not the console account)
GRACE = support.upn("grace")
ALAN = support.upn("alan")


@pytest.fixture
def inv(tmp_path: Path, sqlite_url: str, emu: Emu) -> Iterator[Inventory]:
    """A migrated SQLite inventory whose Entra is the emulator (overrides the web one)."""
    upgrade(sqlite_url)
    inventory = build_inventory(support.config(sqlite_url, tmp_path, emu.url, emu.ca))
    yield inventory
    inventory.close()


def seed(serial: str) -> bytes:
    return hashlib.sha256(serial.encode()).digest()[:20]


def code(serial: str, *, steps: int = 0, at: float | None = None) -> str:
    """The code the token shows now (or at ``at``), ``steps`` periods later, by our OTP engine."""
    return totp(Secret(seed(serial)), (time.time() if at is None else at) + 30 * steps)


def wrong_code(serial: str) -> str:
    """A code the token shows nowhere in Entra's ±1 day activation window."""
    return support.wrong_code(Secret(seed(serial)))


class Seen:
    """Every answer body a test received, searched at the end for the tokens' seeds."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def __call__(self, response: httpx.Response) -> httpx.Response:
        self.bodies.append(response.text + "\n" + str(response.headers))
        return response

    def assert_clean(self, serials: list[str]) -> None:
        haystack = "\n".join(self.bodies)
        assert haystack, "nothing was captured"
        for serial in serials:
            leaked = [f for f in support.leak_forms(seed(serial)) if f in haystack]
            assert not leaked, f"the seed of {serial} appeared in an answer"


def page_csrf(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF_RE.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def api_csrf(client: httpx.Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/v1/me").json()["csrf_token"]}


def entra_device(emu: Emu, serial: str) -> Device | None:
    """What the emulator holds for ``serial`` (read with a Graph client of its own)."""
    with emu.client() as graph:
        found = graph.find_serial(serial)
    return found[0] if found else None


def role_clients(app_url: str, server: Server) -> dict[str, httpx.Client]:
    made = {name: signed_in(new_client(app_url, server), name) for name in WHO}
    made["anonymous"] = new_client(app_url, server)
    return made


def check_get_roles(
    clients: dict[str, httpx.Client], routes: list[tuple[str, str, set[str], str]]
) -> None:
    """Every GET route as every role: 200 when allowed; signed out 303 to /signin (page) or 401
    (API); a wrong role 403 with a readable page or the error envelope."""
    for method, path, allowed, kind in routes:
        for who, client in clients.items():
            response = client.request(method, path)
            where = f"{who} {method} {path}"
            if who == "anonymous":
                if kind == "page":
                    assert response.status_code == 303, where
                    assert response.headers["location"].startswith("/signin?next="), where
                else:
                    assert response.status_code == 401, where
                    assert response.json()["error"]["code"] == "auth.required", where
            elif who in allowed:
                assert response.status_code == 200, f"{where}: {response.text[:300]}"
            elif kind == "page":
                assert response.status_code == 403, where
                assert "Your account does not have the role this needs" in response.text, where
            else:
                assert response.status_code == 403, where
                error = response.json()["error"]
                assert error["code"] == "auth.forbidden", where
                assert set(error) == {"code", "message", "details"}, where


def refused_write(
    client: httpx.Client, path: str, *, api: bool, body: dict[str, Any]
) -> httpx.Response:
    """A write from a signed-in client with its own valid CSRF token (so only the role decides)."""
    if api:
        return client.post(path, json=body, headers=api_csrf(client))
    token = client.get("/api/v1/me").json()["csrf_token"]
    return client.post(path, data={**body, "csrf_token": token})
