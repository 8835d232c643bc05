"""A help-desk agent in a real browser (Debian's chromium through Playwright) over HTTPS, with
the real HTTPS Entra emulator behind the console: replace a lost token in two steps (the new
token named before its code is asked), find the lost token again (back with its holder), and
delete it through its confirmation page (Cancel first: nothing done). Keyboard and labels only;
no script error and no CSP violation on any page.

Screenshots go to ``$OATHDESK_TEST_ARTIFACTS/web`` (default ``artifacts/web`` in the checkout).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, expect

from oathdesk.service import Inventory, activate, push
from tests.service.fixtures import Emu
from tests.web.conftest import PASSWORD, add_tokens
from tests.web.lifecycle_helpers import GRACE, code, emu, emu_session, entra_device, inv
from tests.web.test_browser import EXPECTED_FAILURES

__all__ = ["emu", "emu_session", "inv"]

SHOTS = ("replace-step1", "replace-step2", "token-found", "delete-confirm", "token-actions")


def test_replace_found_and_delete_with_confirmation_in_the_browser(
    page: Page, inv: Inventory, emu: Emu, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    add_tokens(inv, ["AB00001", "AB00002", "AB00003"])
    push(inv, actor="test")
    activate(inv, "AB00001", code("AB00001"), user=GRACE, actor="test", reason="INC-1 starter")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith(EXPECTED_FAILURES)
            else None
        ),
    )
    user_page = f"/users/{quote(GRACE, safe='@')}"
    page.goto(user_page)
    page.get_by_label("Account name").fill("hal")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(user_page)

    # replace, step 1: the token given up, why, the new serial left empty (next from stock)
    form = page.locator("#replace")
    expect(form).not_to_contain_text("Code shown on the new token")
    form.get_by_label("Token to replace").select_option("AB00001")
    form.get_by_label("lost").check()
    form.get_by_label("Reason (ticket or note)").fill("INC-5001 lost on the train")
    page.screenshot(path=artifacts / "replace-step1.png", full_page=True)
    form.get_by_role("button", name="Next: check the new token").click()

    # step 2: which serial was picked, what Grace gives up, then the code of that token
    expect(page.get_by_role("heading", level=2, name="New token: AB00002")).to_be_visible()
    expect(page.locator("#new-token")).to_contain_text("Picked from stock")
    expect(page.locator("#old-token")).to_contain_text("AB00001 is marked lost.")
    expect(page.locator("#old-token")).to_contain_text(f"{GRACE} can no longer sign in with")
    code_box = page.get_by_label("Code the new token AB00002 shows now")
    expect(code_box).to_be_focused()
    page.screenshot(path=artifacts / "replace-step2.png", full_page=True)
    assert entra_device(emu, "AB00001").status == "activated"  # type: ignore[union-attr]
    code_box.fill(code("AB00002"))
    code_box.press("Enter")
    expect(page.locator("#done")).to_have_text(
        "Done: token AB00001 replaced by AB00002, now activated for this user."
    )

    # found it: the lost token goes back to Grace, deactivated, with what to do next
    page.goto("/tokens/AB00001")
    expect(page.locator("#token-state")).to_have_text("lost")
    found = page.locator("#found-form")
    found.get_by_label("Reason (ticket or note)").fill("INC-5002 found in the car")
    found.get_by_role("button", name="Found it").click()
    expect(page.locator("#done")).to_contain_text("Done: token AB00001 found.")
    expect(page.locator("#done")).to_contain_text("activate it with the code it shows")
    expect(page.locator("#token-state")).to_have_text("deactivated")
    expect(page.locator("#history")).to_contain_text("token.found")
    page.screenshot(path=artifacts / "token-found.png", full_page=True)

    # delete: the danger form asks first; Cancel does nothing; Yes retires it
    delete = page.locator("#delete-form")
    page.locator("#delete-form").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "token-actions.png", full_page=True)
    delete.get_by_label("Reason (ticket or note)").fill("INC-5003 end of life")
    delete.get_by_role("button", name="Delete and retire…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confirm: delete and retire token AB00001"
    )
    expect(page.locator("#losses")).to_contain_text("The token is retired for good")
    expect(page.locator("#losses")).to_contain_text(f"{GRACE} loses this token")
    page.screenshot(path=artifacts / "delete-confirm.png", full_page=True)
    page.get_by_role("link", name="Cancel: nothing is done").click()
    expect(page).to_have_url("/tokens/AB00001")
    expect(page.locator("#token-state")).to_have_text("deactivated")
    assert entra_device(emu, "AB00001") is not None

    page.locator("#delete-form").get_by_label("Reason (ticket or note)").fill("INC-5003")
    page.locator("#delete-form").get_by_role("button", name="Delete and retire…").click()
    yes = page.get_by_role("button", name="Yes, delete and retire token AB00001")
    yes.focus()
    yes.press("Enter")
    expect(page.locator("#done")).to_have_text(
        "Done: token AB00001 deleted from Entra and retired."
    )
    expect(page.locator("#token-state")).to_have_text("retired")
    assert entra_device(emu, "AB00001") is None
    assert errors == [], errors  # no CSP violation or script error on any page
    assert all((artifacts / f"{n}.png").stat().st_size > 5000 for n in SHOTS)
