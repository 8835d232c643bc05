"""A real browser (Debian's chromium through Playwright) as a help-desk agent over HTTPS, with the
real HTTPS Entra emulator behind the console: sign in, search a user, hand over a token with a
wrong code (a clear message, focused) and then the right one (activated in Entra), open the
token's page, and select a page of the inventory with the keyboard.

Screenshots go to ``$OATHDESK_TEST_ARTIFACTS/web`` (default ``artifacts/web`` in the checkout).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from oathdesk.service import Inventory
from tests.service import support
from tests.service.fixtures import Emu
from tests.web.conftest import PASSWORD, add_tokens
from tests.web.lifecycle_helpers import code, emu, emu_session, entra_device, inv, wrong_code
from tests.web.test_browser import EXPECTED_FAILURES

__all__ = ["emu", "emu_session", "inv"]

# the refused hand-over answers 400 on purpose
EXPECTED = (
    *EXPECTED_FAILURES,
    "Failed to load resource: the server responded with a status of 400",
)


def test_helpdesk_hands_over_a_token_in_the_browser(
    page: Page, inv: Inventory, emu: Emu, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    add_tokens(inv, ["BR00001", "BR00002", "BR00003"])
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and not m.text.startswith(EXPECTED) else None
        ),
    )

    page.goto("/users")
    expect(page).to_have_url("/signin?next=%2Fusers")
    page.get_by_label("Account name").fill("hal")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url("/users")

    page.get_by_label("Name or UPN").fill("Grace")
    page.get_by_label("Name or UPN").press("Enter")
    expect(page.locator("#result-count")).to_have_text("1 user(s) found.")
    page.screenshot(path=artifacts / "users.png", full_page=True)
    page.get_by_role("link", name="Grace Example").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Example")
    expect(page.locator("#no-tokens")).to_be_visible()

    form = page.locator("#handover")
    form.get_by_label("Serial (on the back of the token)").fill("BR00001")
    form.get_by_label("Code shown on the token now").fill(wrong_code("BR00001"))
    form.get_by_label("Reason (ticket or note)").fill("INC-4001 new laptop")
    form.get_by_role("button", name="Hand over and activate").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The code does not match token BR00001")
    expect(alert).to_contain_text("nothing was sent to Entra")
    expect(alert).to_be_focused()
    expect(form.get_by_label("Serial (on the back of the token)")).to_have_value("BR00001")
    page.screenshot(path=artifacts / "user-wrong-code.png", full_page=True)
    assert entra_device(emu, "BR00001") is None  # refused before Entra was called

    form.get_by_label("Code shown on the token now").fill(code("BR00001"))
    form.get_by_label("Code shown on the token now").press("Enter")  # keyboard only
    expect(page.locator("#done")).to_have_text("Done: token BR00001 handed over and activated.")
    expect(page.locator("#user-tokens")).to_contain_text("activated")
    expect(page.locator("#entra-methods")).to_contain_text("BR00001")
    page.screenshot(path=artifacts / "user.png", full_page=True)
    device = entra_device(emu, "BR00001")
    assert device is not None and device.status == "activated"
    assert device.assigned_to_id == support.user_id("grace")

    page.locator("#user-tokens").get_by_role("link", name="BR00001").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Token BR00001")
    expect(page.locator("#entra")).to_contain_text("activated")
    expect(page.locator("#agreement")).to_have_text("Entra agrees with our record.")
    expect(page.locator("#history")).to_contain_text("token.activate")
    page.screenshot(path=artifacts / "token.png", full_page=True)

    page.goto("/inventory")
    select_all = page.get_by_label("Select every token on this page")
    expect(select_all).to_be_visible()  # shown by our script
    select_all.check()
    expect(page.locator("input.pick:checked")).to_have_count(3)
    page.get_by_label("Select BR00001").uncheck()
    assert page.evaluate("document.getElementById('select-all').indeterminate") is True
    page.get_by_label("Action").select_option("push")
    page.get_by_label("Reason (ticket or note)").fill("INC-4002 stock to Entra")
    page.get_by_role("button", name="Run on selection").click()
    expect(page.locator("#bulk-summary")).to_contain_text("2 token(s) pushed to Entra, 0 refused")
    page.screenshot(path=artifacts / "bulk.png", full_page=True)
    assert errors == [], errors  # no CSP violation or script error on any page
    assert all((artifacts / f"{n}.png").stat().st_size > 5000 for n in ("users", "user", "token"))
