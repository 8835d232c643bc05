"""The console's replace with a Temporary Access Pass, in a real browser over HTTPS with the real
HTTPS emulator behind it: step 2 offers the pass (lifetime, one-time use), the result page
(replace_done.html) shows it once (``no-store``), Entra holds it, a reload of the token page
never shows it again, and the result page passes the accessibility check.

Screenshots go to ``$OATHDESK_TEST_ARTIFACTS/web`` (docs/images/console-replace-tap.png is
``replace-tap.png`` from here).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, expect

from oathdesk.service import Inventory, activate, push
from oathdesk.store.audit import AuditFilter
from tests.a11y import assert_accessible
from tests.service.fixtures import Emu
from tests.service.support import user_id
from tests.web.conftest import PASSWORD, add_tokens
from tests.web.lifecycle_helpers import GRACE, code, emu, emu_session, inv

__all__ = ["emu", "emu_session", "inv"]


def test_replace_with_a_temporary_access_pass(
    page: Page, inv: Inventory, emu: Emu, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    add_tokens(inv, ["TA00001", "TA00002"])
    push(inv, actor="test")
    activate(inv, "TA00001", code("TA00001"), user=GRACE, actor="test", reason="INC-1 starter")
    answers: list[tuple[str, dict[str, str]]] = []
    page.on("response", lambda r: answers.append((r.url, r.headers)))
    token_page = f"/tokens/{quote('TA00001')}"
    page.goto(token_page)
    page.get_by_label("Account name").fill("hal")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(token_page)

    form = page.locator("#replace-form")
    form.get_by_label("lost").check()
    form.get_by_label("Reason (ticket or note)").fill("INC-6001 lost at the station")
    form.get_by_role("button", name="Next: check the new token").click()

    choice = page.locator("#tap-choice")
    expect(choice).to_contain_text(f"Temporary Access Pass for {GRACE}")
    expect(page.get_by_label("One-time use (one sign-in spends it)")).to_be_checked()
    page.get_by_label("Issue a Temporary Access Pass").check()
    page.get_by_label("Lifetime in minutes (10 to 43,200)").fill("240")
    assert_accessible(page, "replace step 2 with the pass choice")
    code_box = page.get_by_label("Code the new token TA00002 shows now")
    code_box.fill(code("TA00002"))
    code_box.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Token TA00001 replaced")
    expect(page.locator("#done")).to_contain_text("replaced by TA00002, now activated")
    shown = page.locator("#tap-value").inner_text().strip()
    assert len(shown) >= 8
    expect(page.locator("#tap-pass")).to_contain_text("240 minutes")
    expect(page.locator("#tap-pass")).to_contain_text("One sign-in spends it.")
    expect(page.locator("#tap-pass")).to_contain_text("cannot show it again")
    assert_accessible(page, "replace result with the pass")
    page.screenshot(path=artifacts / "replace-tap.png", full_page=True)
    result = [h for url, h in answers if url.endswith("/tokens/TA00001/replace")]
    assert result and result[-1].get("cache-control") == "no-store"

    with emu.client() as graph:
        (held,) = graph.taps(user_id("grace"))
    assert (held.lifetime_minutes, held.usable_once, held.usable) == (240, True, True)

    page.goto(token_page)  # the token page and its history: the pass is gone for good
    assert shown not in page.content()
    page.goto(f"/users/{quote(GRACE, safe='@')}")
    assert shown not in page.content()
    with inv.uow(write=False) as uow:  # the audit: a pass was issued, for how long; no pass
        found = uow.audit.matching(AuditFilter(tenant=inv.tenant, action="user.tap_issued"))
        try:
            (entry,) = list(found)
        finally:
            found.close()
    assert entry.details_dict["lifetime_minutes"] == 240 and entry.actor == "local:hal"
    assert shown not in repr(entry.details_dict)


def test_replace_from_the_user_page_with_a_reusable_pass(
    page: Page, inv: Inventory, emu: Emu, accounts: dict[str, list[str]]
) -> None:
    add_tokens(inv, ["TB00001", "TB00002"])
    push(inv, actor="test")
    activate(inv, "TB00001", code("TB00001"), user=GRACE, actor="test", reason="INC-2 starter")
    user_page = f"/users/{quote(GRACE, safe='@')}"
    page.goto(user_page)
    page.get_by_label("Account name").fill("hal")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    form = page.locator("#replace")
    form.get_by_label("Token to replace").select_option("TB00001")
    form.get_by_label("broken").check()
    form.get_by_label("Reason (ticket or note)").fill("INC-6002 cracked")
    form.get_by_role("button", name="Next: check the new token").click()

    page.get_by_label("Issue a Temporary Access Pass").check()
    lifetime = page.get_by_label("Lifetime in minutes (10 to 43,200)")
    lifetime.fill("5")  # below the policy: the browser itself refuses to send the form
    page.get_by_label("Code the new token TB00002 shows now").fill(code("TB00002"))
    page.get_by_label("Code the new token TB00002 shows now").press("Enter")
    assert lifetime.evaluate("e => e.validity.rangeUnderflow") is True
    expect(page.locator("#tap-choice")).to_be_visible()  # still on step 2
    with inv.uow(write=False) as uow:  # nothing changed
        assert uow.tokens.get("TB00001").state.value == "activated"

    page.get_by_label("Lifetime in minutes (10 to 43,200)").fill("30")
    page.get_by_label("One-time use (one sign-in spends it)").uncheck()
    page.get_by_label("Code the new token TB00002 shows now").fill(code("TB00002", steps=1))
    page.get_by_label("Code the new token TB00002 shows now").press("Enter")
    expect(page.locator("#tap-pass")).to_contain_text("Any number of sign-ins until it expires.")
    shown = page.locator("#tap-value").inner_text().strip()
    with emu.client() as graph:
        (held,) = graph.taps(user_id("grace"))
    assert (held.lifetime_minutes, held.usable_once) == (30, False)
    page.goto(user_page)
    assert shown not in page.content()
