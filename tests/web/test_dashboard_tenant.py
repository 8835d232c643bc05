"""Bug 11: the dashboard named the store's tenant label (``default``) instead of the Entra
tenant. It now shows the id from ``[graph] tenant_id`` and, when Graph tells it (``GET
/organization``), the tenant's name; without the permission, the id alone. Also the "Entra drift"
alert from the last comparison with Entra. Real HTTPS emulator, real SQLite."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import FixedClock, Secret
from oathdesk.service import Inventory, reconcile
from oathdesk.store import upgrade
from oathdesk.web import WebSettings
from oathdesk.web.views import TENANT_RETRY, tenant_of
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import Server, add_tokens, new_client, signed_in

__all__ = ["emu", "emu_session"]  # the emulator fixtures, used by ``inv`` below


@pytest.fixture
def inv(tmp_path: Path, sqlite_url: str, emu: Emu, clock: FixedClock) -> Iterator[Inventory]:
    """A migrated SQLite inventory whose Entra is the emulator (overrides the web one)."""
    upgrade(sqlite_url)
    inventory = build_inventory(support.config(sqlite_url, tmp_path, emu.url, emu.ca), clock=clock)
    yield inventory
    inventory.close()


@pytest.fixture
def settings() -> WebSettings:
    """The web tests' settings, with the tenant id from [graph] as the console reads it."""
    return WebSettings(
        secret_key=Secret(b"k" * 16 + bytes(range(16))), graph_tenant_id=support.TENANT
    )


def with_directory_read(emu: Emu) -> None:
    seed = copy.deepcopy(support.SEED)
    seed["apps"][0]["roles"].append("Directory.Read.All")
    emu.seed(seed)


def test_the_dashboard_names_the_entra_tenant_by_name_and_id(
    client: httpx.Client, inv: Inventory, emu: Emu, accounts: dict[str, list[str]]
) -> None:
    with_directory_read(emu)
    signed_in(client, "aud")
    page = client.get("/dashboard").text
    assert f'<code id="tenant-id">{support.TENANT}</code>' in page
    assert '<strong id="tenant-name">Inventory</strong>' in page  # inventory.example.com
    assert "<code>default</code>" not in page
    api = client.get("/api/v1/dashboard").json()
    assert api["entra_tenant"] == {"id": support.TENANT, "name": "Inventory", "name_error": None}


def test_without_the_permission_the_id_alone_is_shown_with_why(
    client: httpx.Client, inv: Inventory, accounts: dict[str, list[str]]
) -> None:
    signed_in(client, "ada")  # the test app holds no Organization.Read.All/Directory.Read.All
    page = client.get("/dashboard").text
    assert f'<code id="tenant-id">{support.TENANT}</code>' in page
    assert 'id="tenant-name"' not in page
    assert "Why the tenant&#39;s name is not shown" in page or "Why the tenant's name" in page
    entra = client.get("/api/v1/dashboard").json()["entra_tenant"]
    assert entra["id"] == support.TENANT and entra["name"] is None
    assert "Directory.Read.All" in entra["name_error"]


def test_entra_drift_is_unknown_until_a_comparison_then_shows_its_differences(
    client: httpx.Client,
    inv: Inventory,
    accounts: dict[str, list[str]],
    app_url: str,
    server: Server,
) -> None:
    signed_in(client, "ada")
    codes = {a["code"]: a for a in client.get("/api/v1/dashboard").json()["alerts"]}
    assert "no comparison has been run yet" in codes["entra_drift_unknown"]["message"]
    add_tokens(inv, ["D1", "D2"], states={"available": ["D1", "D2"]})  # "available", not in Entra
    result = reconcile(inv, actor="test")
    assert result["counts"] == {"missing_in_entra": 2}
    codes = {a["code"]: a for a in client.get("/api/v1/dashboard").json()["alerts"]}
    assert "entra_drift_unknown" not in codes
    assert codes["entra_drift"]["count"] == 2
    page = client.get("/dashboard").text
    assert "found 2 difference(s)." in page
    assert '<a href="/reconcile">Compare with Entra</a>' in page
    with new_client(app_url, server) as other:
        helpdesk = signed_in(other, "hal").get("/dashboard").text
    assert "found 2 difference(s)." in helpdesk
    assert '<a href="/reconcile">' not in helpdesk  # the help desk may not open it


def test_a_known_name_is_kept_and_a_missing_one_asked_again_after_a_while(
    client: httpx.Client,
    inv: Inventory,
    emu: Emu,
    clock: FixedClock,
    accounts: dict[str, list[str]],
    settings: WebSettings,
) -> None:
    with_directory_read(emu)
    signed_in(client, "aud")
    assert client.get("/api/v1/dashboard").json()["entra_tenant"]["name"] == "Inventory"
    renamed = copy.deepcopy(support.SEED)
    renamed["tenant"]["domain"] = "renamed.example.com"
    renamed["apps"][0]["roles"].append("Directory.Read.All")
    emu.seed(renamed)  # Graph would now say "Renamed": the dashboard does not ask again
    clock.advance(TENANT_RETRY.total_seconds() + 1)
    assert client.get("/api/v1/dashboard").json()["entra_tenant"]["name"] == "Inventory"

    cache: dict[str, Any] = {}
    unnamed = replace(inv, connect_entra=None, _entra=None)  # no Graph from this one
    first = tenant_of(unnamed, settings, cache)
    assert first["id"] == support.TENANT and first["name"] is None
    assert cache["until"] == inv.now() + TENANT_RETRY  # asked again after a while, not at once
