"""The Users page lists Entra's directory on open, a page at a time (Entra's own skiptoken
paging, against the real HTTPS emulator), each user with the count of tokens our inventory
records for them and guests flagged; the API twin pages the same way; Entra refusing or absent
is a readable message. Chromium walks the pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import Secret
from oathdesk.service import Inventory
from oathdesk.service.accounts import create_account
from oathdesk.store import TokenState, upgrade
from oathdesk.web import WebSettings, create_app
from tests.service import support
from tests.service.fixtures import Emu
from tests.web.conftest import PASSWORD, Server, add_tokens, new_client, signed_in
from tests.web.lifecycle_helpers import GRACE, emu, emu_session, inv

__all__ = ["emu", "emu_session", "inv"]  # fixtures, used by name below

EXTRA = 26  # with the tenant's 4 users: 30, so two pages of 25
ROW_RE = re.compile(r"<tr>\s*<td><a href=\"/users/([^\"]+)\">.*?</tr>", re.S)
NEXT_RE = re.compile(r'<a href="(/users\?after=[^"]+)" rel="next">Next page</a>')


def extra_user(n: int) -> dict[str, Any]:
    key = f"person{n:02d}"
    return {
        "id": support.user_id(key),
        "userPrincipalName": support.upn(key),
        "displayName": f"Person {n:02d}",
        "userType": "Member",
        "password": "Pass-word-1",
        "roles": [],
    }


@pytest.fixture
def directory(emu: Emu) -> list[str]:
    """The emulator's tenant with 30 users; their UPNs."""
    users = [*support.SEED["users"], *(extra_user(n) for n in range(EXTRA))]
    emu.seed({**support.SEED, "users": users})
    return [u["userPrincipalName"] for u in users]


@pytest.fixture
def hal(app_url: str, server: Server, accounts: dict[str, list[str]]) -> Iterator[httpx.Client]:
    with new_client(app_url, server) as client:
        yield signed_in(client, "hal")


def hold(inv: Inventory, upn: str, serials: list[str], state: TokenState) -> None:
    """Record ``serials`` (already imported) as ``upn``'s, in ``state``."""
    with inv.uow() as uow:
        for serial in serials:
            token = uow.tokens.get_for_update(serial)
            token.user_upn = upn
            token.state = state


def listed(text: str) -> list[str]:
    return [m.group(1).replace("%40", "@") for m in ROW_RE.finditer(text)]


def row_of(text: str, upn: str) -> str:
    for match in ROW_RE.finditer(text):
        if match.group(1).replace("%40", "@") == upn:
            return match.group(0)
    raise AssertionError(f"{upn} is not listed")


def test_the_page_lists_every_user_a_page_at_a_time(
    hal: httpx.Client, directory: list[str]
) -> None:
    first = hal.get("/users")
    assert first.status_code == 200
    assert "Users in Entra, page 1" in first.text and 'id="result-count"' not in first.text
    page_one = listed(first.text)
    assert len(page_one) == 25
    found = NEXT_RE.search(first.text)
    assert found and "First page" not in first.text
    second = hal.get(found.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "Users in Entra, page 2" in second.text
    page_two = listed(second.text)
    assert len(page_two) == EXTRA + 4 - 25
    assert sorted(page_one + page_two) == sorted(directory), "every user once, none twice"
    assert not NEXT_RE.search(second.text) and '<a href="/users">First page</a>' in second.text


def test_each_user_shows_our_token_count_and_a_guest_is_flagged(
    hal: httpx.Client, inv: Inventory, directory: list[str]
) -> None:
    add_tokens(inv, ["UL00001", "UL00002", "UL00003"])
    hold(inv, GRACE, ["UL00001"], TokenState.ACTIVATED)
    hold(inv, GRACE, ["UL00002"], TokenState.LOST)
    page = hal.get("/users").text
    assert '<th scope="col" class="num">Tokens in inventory</th>' in page
    assert '<td class="num">2</td>' in row_of(page, GRACE)
    assert '<td class="num">0</td>' in row_of(page, support.upn("alan"))
    guest = row_of(page, support.upn("gus"))
    assert '<strong class="guest">Guest</strong>' in guest and '<td class="num">0</td>' in guest
    searched = hal.get("/users", params={"q": "Grace"}).text
    assert '<td class="num">2</td>' in row_of(searched, GRACE), "a search shows the count too"
    api = hal.get("/api/v1/users").json()
    counts = {u["user_principal_name"]: u["tokens"] for u in api["items"]}
    assert counts[GRACE] == 2 and counts[support.upn("alan")] == 0
    found = hal.get("/api/v1/users", params={"q": GRACE}).json()["items"]
    assert [(u["user_principal_name"], u["tokens"]) for u in found] == [(GRACE, 2)]


def test_the_api_pages_the_directory_with_next(hal: httpx.Client, directory: list[str]) -> None:
    first = hal.get("/api/v1/users")
    assert first.status_code == 200
    body = first.json()
    assert len(body["items"]) == 25 and body["next"]
    fields = {"id", "user_principal_name", "display_name", "user_type", "tokens"}
    assert set(body["items"][0]) == fields
    for bad in ("é", "a b", "\x00"):  # never sent on to Entra: refused as a bad request
        refused = hal.get("/api/v1/users", params={"after": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["error"]["code"] == "request.invalid"
    rest = hal.get("/api/v1/users", params={"after": body["next"]}).json()
    assert rest["next"] is None and len(rest["items"]) == 5
    upns = [u["user_principal_name"] for u in body["items"] + rest["items"]]
    assert sorted(upns) == sorted(directory)


def test_entra_refusing_the_listing_is_a_readable_message(
    hal: httpx.Client, emu: Emu, directory: list[str]
) -> None:
    rule = {"method": "GET", "path": "/beta/users$", "status": 403}
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": [rule]}).is_success
    try:
        page = hal.get("/users")
    finally:
        emu.control.delete(f"{emu.url}/_emulator/faults")
    assert page.status_code == 200
    assert 'role="alert"' in page.text and "Entra could not list its users." in page.text
    assert "Traceback" not in page.text and 'id="users"' not in page.text
    forged = hal.get("/users", params={"after": "not-a-token-entra-gave", "n": "3"})
    assert forged.status_code == 200 and "Entra could not list its users." in forged.text
    assert '<a href="/users">First page</a>' in forged.text


def test_without_entra_the_list_says_so(
    server: Server, settings: WebSettings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'offline.db'}"
    upgrade(url)
    offline = build_inventory(support.config(url, tmp_path, None, None))
    try:
        create_account(offline, "hal", Secret(PASSWORD.encode()), ["helpdesk"], actor="test")
        server.holder.app = create_app(offline, settings)
        with new_client(server.url, server) as client:
            signed_in(client, "hal")
            page = client.get("/users")
            assert page.status_code == 200
            assert "Entra could not list its users." in page.text
            assert "Graph is not configured" in page.text
    finally:
        server.holder.app = None
        offline.close()


def test_a_browser_pages_through_the_users(
    page: Page,
    inv: Inventory,
    directory: list[str],
    accounts: dict[str, list[str]],
    artifacts: Path,
) -> None:
    add_tokens(inv, ["UB00001"])
    hold(inv, GRACE, ["UB00001"], TokenState.ACTIVATED)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/signin")
    page.get_by_label("Account name").fill("hal")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    table = page.get_by_role("table", name="Users in Entra, page 1")
    expect(table.locator("tbody tr")).to_have_count(25)
    grace = table.locator("tbody tr", has_text=GRACE)
    expect(grace.locator("td.num")).to_have_text("1")
    expect(table.locator("tbody tr", has_text="gus@").locator("strong.guest")).to_have_text("Guest")
    page.screenshot(path=artifacts / "users-page-1.png", full_page=True)
    page.get_by_role("link", name="Next page").click()
    second = page.get_by_role("table", name="Users in Entra, page 2")
    expect(second.locator("tbody tr")).to_have_count(5)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    page.screenshot(path=artifacts / "users-page-2.png", full_page=True)
    page.get_by_role("link", name="First page").click()
    expect(page.get_by_role("table", name="Users in Entra, page 1")).to_be_visible()
