"""A person enrolls their token in a real browser (Debian's chromium through Playwright) over
HTTPS, against the HTTPS Entra emulator: sign in, add a token by serial, name and code, then a
wrong code, a replayed code and a stranger's serial each show a clear message that takes focus;
rename and report lost by keyboard (after its confirmation), then found again. Screenshots of /me
go to the artifacts folder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import Secret
from oathdesk.service import Inventory, assign
from oathdesk.service.accounts import create_account
from oathdesk.store import upgrade
from tests.a11y import assert_accessible
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.service.selfservice_seed import code, grouped_seed, stock
from tests.service.support import secret_for, serial, upn, wrong_code
from tests.web.conftest import PASSWORD

__all__ = ["emu", "emu_session"]

ADA, GRACE = upn("ada"), upn("grace")
# the refusals we provoke on purpose come back as 400/404 pages
EXPECTED = tuple(
    f"Failed to load resource: the server responded with a status of {status}"
    for status in (400, 404)
)


@pytest.fixture
def inv(tmp_path: Path, sqlite_url: str, emu: Emu) -> Iterator[Inventory]:
    emu.seed(grouped_seed())
    upgrade(sqlite_url)
    inventory = build_inventory(support.config(sqlite_url, tmp_path, emu.url, emu.ca))
    yield inventory
    inventory.close()


def add(page: Page, sn: str, name: str, value: str) -> None:
    page.get_by_label("Serial number (on the back of the token)").fill(sn)
    page.get_by_label("Name for this token").fill(name)
    page.get_by_label("Code the token shows now").fill(value)
    page.get_by_label("Code the token shows now").press("Enter")  # keyboard only


def test_a_person_enrolls_a_token_and_reads_every_refusal(
    page: Page, inv: Inventory, emu: Emu, artifacts: Path
) -> None:
    for name in (ADA, GRACE):
        create_account(inv, name, Secret(PASSWORD.encode()), [], actor="test")
    stock(inv, "BR", 3)
    assign(inv, serial("BR", 2), GRACE, actor="helpdesk:bob", reason="ticket 11")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and not m.text.startswith(EXPECTED) else None
        ),
    )

    page.goto("/me")
    expect(page).to_have_url("/signin?next=%2Fme")
    page.get_by_label("Account name").fill(ADA)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url("/me")
    expect(page.get_by_role("heading", level=1)).to_have_text("My tokens")
    expect(page.locator("#no-tokens")).to_be_visible()
    page.screenshot(path=artifacts / "me-empty.png", full_page=True)

    first = serial("BR", 0)
    add(page, first, "Blue key fob", code("BR", 0, time.time()))
    expect(page.get_by_role("status")).to_contain_text(f"Token {first} is enrolled")
    row = page.locator("#my-tokens tbody tr", has_text=first)
    expect(row).to_contain_text("Blue key fob")
    expect(row).to_contain_text("activated")
    page.screenshot(path=artifacts / "me-enrolled.png", full_page=True)
    with emu.client() as graph:
        device = graph.find_serial(first)[0]
    assert (device.status, device.display_name) == ("activated", "Blue key fob")

    second = serial("BR", 1)
    add(page, second, "Spare", wrong_code(secret_for("BR", 1)))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The token was not added.")
    expect(alert).to_contain_text("does not match")
    expect(alert).to_be_focused()
    expect(page.get_by_label("Serial number (on the back of the token)")).to_have_value(second)
    expect(page.get_by_label("Code the token shows now")).to_have_value("")
    page.screenshot(path=artifacts / "me-error-wrong-code.png", full_page=True)

    rule = {"method": "POST", "path": "/activate$", "status": 400, "count": 1}
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": [rule]}).is_success
    shown = code("BR", 1, time.time())
    add(page, second, "Spare", shown)
    expect(page.get_by_role("alert")).to_contain_text("Entra refused the code")
    add(page, second, "Spare", shown)  # the same code again
    expect(page.get_by_role("alert")).to_contain_text("This code was already used")
    expect(page.get_by_role("alert")).to_contain_text("wait for the next code")
    page.screenshot(path=artifacts / "me-error-replay.png", full_page=True)

    stranger = serial("BR", 2)
    add(page, stranger, "Not mine", code("BR", 2, time.time()))
    expect(page.get_by_role("alert")).to_contain_text(
        f"No token with serial {stranger} can be enrolled by you"
    )
    page.screenshot(path=artifacts / "me-error-stranger.png", full_page=True)
    add(page, "XX-00404", "Nothing", "123456")
    expect(page.get_by_role("alert")).to_contain_text(
        "No token with serial XX-00404 can be enrolled by you"
    )
    expect(page.locator("#my-tokens tbody tr", has_text=stranger)).to_have_count(0)

    page.get_by_label(f"New name for {first}").fill("Work fob")
    page.get_by_label(f"New name for {first}").press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Token {first} is renamed")
    expect(row).to_contain_text("Work fob")
    page.get_by_label(f"What happened to {first}?").fill("left on the train")
    page.get_by_label(f"What happened to {first}?").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Report token {first} lost?")
    expect(page.locator("#losses")).to_contain_text("stops working for sign-in")
    expect(page.get_by_role("button", name=f"Yes, report token {first} lost")).to_have_class(
        "danger"
    )
    assert_accessible(page, "the report-lost confirmation")
    page.screenshot(path=artifacts / "me-lost-confirm.png", full_page=True)
    page.get_by_role("link", name="Cancel: nothing is done").click()
    expect(row).to_contain_text("activated")  # nothing was done
    page.get_by_label(f"What happened to {first}?").fill("left on the train")
    page.get_by_label(f"What happened to {first}?").press("Enter")
    page.get_by_role("button", name=f"Yes, report token {first} lost").click()
    expect(page.get_by_role("status")).to_contain_text(f"Token {first} is reported lost")
    expect(page.locator("#my-tokens tbody tr", has_text=first)).to_contain_text("lost")
    page.screenshot(path=artifacts / "me-lost.png", full_page=True)
    page.get_by_role("button", name=f"I found {first}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Token {first} is back with you")
    expect(row).to_contain_text("deactivated")
    expect(page.get_by_label(f"New name for {first}")).to_be_visible()  # in use again
    page.screenshot(path=artifacts / "me-found.png", full_page=True)
    with emu.client() as graph:
        device = graph.find_serial(first)[0]
    assert device.status == "assigned"  # Ada's again; Entra still waits for a code
    assert errors == [], errors  # no CSP violation or script error
    for name in ("me-empty", "me-enrolled", "me-error-wrong-code", "me-error-stranger"):
        assert (artifacts / f"{name}.png").stat().st_size > 5000
