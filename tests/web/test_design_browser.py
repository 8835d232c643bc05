"""The design system in a real browser (Debian's chromium through Playwright), over HTTPS with
the Entra emulator behind the console: every console page passes axe (tests/a11y.py) at a
laptop's 1366x768 and at a phone's 375x667, where no page scrolls sideways; the menu collapses
into a <details> on the phone and opens without script (app.js opens it on a wide screen
where CSS cannot); the focus ring shows; self-service
reads as one card per token on the phone; headings go down one level at a time under one h1.

Screenshots go to ``$OATHDESK_TEST_ARTIFACTS/web`` (default ``artifacts/web`` in the checkout).
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, ViewportSize, expect

from oathdesk.domain import Secret
from oathdesk.service import Inventory, activate, push
from oathdesk.service.accounts import create_account
from tests.a11y import assert_accessible
from tests.service.fixtures import Emu
from tests.web.conftest import PASSWORD, add_tokens
from tests.web.lifecycle_helpers import GRACE, code, emu, emu_session, inv

__all__ = ["emu", "emu_session", "inv"]

DESKTOP = ViewportSize(width=1366, height=768)
PHONE = ViewportSize(width=375, height=667)
CONSOLE = (
    "/dashboard",
    "/inventory",
    "/tokens/AB00001",
    "/users",
    f"/users/{quote(GRACE, safe='@')}",
    "/import",
    "/reports",
    "/audit",
    "/audit/verify",
    "/settings",
    "/settings/accounts",
    "/settings/api-tokens",
    "/reconcile",
    "/me",
    "/tokens/NO-SUCH-TOKEN",  # the error page
)


def sideways(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def heading_jumps(page: Page) -> list[str]:
    """Headings that skip a level on the way down (an h2 followed by an h4), and h1 counts."""
    levels: list[int] = page.evaluate(
        "[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]"
        ".filter(h => h.getClientRects().length).map(h => +h.tagName[1])"
    )
    found = [f"{a} then {b}" for a, b in pairwise(levels) if b > a + 1]
    return found if levels[:1] == [1] and levels.count(1) == 1 else [f"h1s: {levels}", *found]


def sign_in(page: Page, name: str, target: str) -> None:
    page.goto(target)
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(target)


def stock(inv: Inventory) -> None:
    """Three tokens in Entra, one of them activated for Grace (so her /me has a row)."""
    add_tokens(inv, ["AB00001", "AB00002", "AB00003"])
    push(inv, actor="test")
    activate(inv, "AB00001", code("AB00001"), user=GRACE, actor="test", reason="INC-1 starter")


def test_every_console_page_is_accessible_and_fits_a_phone(
    page: Page, inv: Inventory, emu: Emu, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    stock(inv)
    page.set_viewport_size(DESKTOP)
    page.goto("/signin")
    assert_accessible(page, "sign-in at 1366x768")
    page.set_viewport_size(PHONE)
    assert sideways(page) == 0, "sign-in is wider than a phone"
    assert_accessible(page, "sign-in at 375x667")
    page.set_viewport_size(DESKTOP)
    sign_in(page, "ada", "/dashboard")
    page.screenshot(path=artifacts / "console-dashboard-design.png")
    for path in CONSOLE:
        page.set_viewport_size(DESKTOP)
        page.goto(path)
        expect(page.locator("main h1")).to_have_count(1)
        assert heading_jumps(page) == [], f"{path}: headings out of order"
        assert_accessible(page, f"{path} at 1366x768")
        assert sideways(page) == 0, f"{path} is wider than 1366 pixels"
        page.set_viewport_size(PHONE)
        page.goto(path)
        assert sideways(page) == 0, f"{path} is wider than a phone"
        assert_accessible(page, f"{path} at 375x667")
    page.goto("/inventory")
    page.screenshot(path=artifacts / "console-inventory-phone.png", full_page=True)

    page.set_viewport_size(DESKTOP)  # a confirmation page: the answer to a form
    page.goto("/tokens/AB00002")
    delete = page.locator("#delete-form")
    delete.get_by_label("Reason (ticket or note)").fill("INC-9 design check")
    delete.get_by_role("button", name="Delete and retire…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirm")
    assert_accessible(page, "the delete confirmation at 1366x768")
    page.set_viewport_size(PHONE)
    assert sideways(page) == 0, "the delete confirmation is wider than a phone"
    assert_accessible(page, "the delete confirmation at 375x667")
    page.screenshot(path=artifacts / "console-confirm-phone.png", full_page=True)


def test_the_menu_collapses_on_a_phone_and_opens_without_script(
    page: Page, inv: Inventory, emu: Emu, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, "ada", "/dashboard")
    nav = page.get_by_role("navigation", name="Main")
    menu = page.locator("details.menu > summary")
    expect(menu).to_be_hidden()  # a laptop shows the whole navigation
    expect(nav.get_by_role("link", name="Inventory")).to_be_visible()
    rows = page.evaluate(
        "new Set([...document.querySelectorAll('nav a')].map(a => a.getBoundingClientRect().top))"
        ".size"
    )
    assert rows == 1, "an administrator's whole navigation fits one line at 1366 pixels"
    page.screenshot(path=artifacts / "console-desktop-nav.png")

    page.set_viewport_size(PHONE)
    expect(menu).to_be_visible()
    expect(nav.get_by_role("link", name="Inventory")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.keyboard.press("Tab")  # the skip link first, then the brand, then the menu
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(menu).to_be_focused()
    outline = page.evaluate(
        "[getComputedStyle(document.activeElement).outlineStyle,"
        " getComputedStyle(document.activeElement).outlineWidth]"
    )
    assert outline == ["solid", "3px"], outline  # the focus ring shows
    page.keyboard.press("Enter")
    link = nav.get_by_role("link", name="Inventory")
    expect(link).to_be_visible()
    assert sideways(page) == 0
    page.screenshot(path=artifacts / "console-phone-nav.png")
    assert_accessible(page, "the open menu on a phone")
    link.click()
    expect(page).to_have_url("/inventory")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inventory")
    expect(nav.get_by_role("link", name="Inventory")).to_be_hidden()  # closed on the new page
    expect(page.locator('details.menu a[aria-current="page"]')).to_have_text("Inventory")

    # a browser without ::details-content: app.js opens the menu on a wide screen instead
    page.add_init_script("CSS.supports = () => false;")
    page.set_viewport_size(DESKTOP)
    page.goto("/dashboard")
    expect(page.locator("details.menu")).to_have_attribute("open", "")
    page.set_viewport_size(PHONE)
    expect(page.locator("details.menu")).not_to_have_attribute("open", "")


def test_self_service_is_one_card_per_token_on_a_phone(
    page: Page, inv: Inventory, emu: Emu, artifacts: Path
) -> None:
    stock(inv)
    create_account(inv, GRACE, Secret(PASSWORD.encode()), [], actor="test")
    page.set_viewport_size(PHONE)
    sign_in(page, GRACE, "/me")
    row = page.locator("#my-tokens tbody tr", has_text="AB00001")
    expect(row).to_contain_text("activated")
    expect(page.locator("#my-tokens thead")).not_to_be_in_viewport()  # read out, not shown
    box = row.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"], box
    rename = page.get_by_label("New name for AB00001")
    expect(rename).to_be_visible()
    field = rename.bounding_box()
    assert field is not None and field["x"] + field["width"] <= PHONE["width"], field
    assert sideways(page) == 0
    assert_accessible(page, "/me on a phone")
    page.screenshot(path=artifacts / "selfservice-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)  # a laptop shows the table with its headings
    expect(page.locator("#my-tokens thead")).to_be_visible()
    assert_accessible(page, "/me at 1366x768")
