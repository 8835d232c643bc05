"""A real browser (Debian's chromium through Playwright) signs in as an administrator over HTTPS,
reads the dashboard and the inventory, pages and filters by keyboard, and signs out.

Screenshots go to ``$OATHDESK_TEST_ARTIFACTS/web`` (default ``artifacts/web`` in the checkout).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from oathdesk.service import Inventory
from tests.web.conftest import PASSWORD, add_tokens

# the refused sign-in (401) and the forged write (403) are answers we provoke on purpose
EXPECTED_FAILURES = tuple(
    f"Failed to load resource: the server responded with a status of {status}"
    for status in (401, 403)
)
SERIALS = [f"YK{i:05d}" for i in range(1, 121)]


def test_admin_signs_in_and_sees_dashboard_and_inventory(
    page: Page, inv: Inventory, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    add_tokens(
        inv,
        SERIALS,
        states={"available": SERIALS[100:110], "activated": SERIALS[110:]},
    )
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

    page.goto("/inventory")  # signed out: sent to sign-in, then back here
    expect(page).to_have_url("/signin?next=%2Finventory")
    page.screenshot(path=artifacts / "signin.png", full_page=True)

    page.get_by_label("Account name").fill("ada")
    page.get_by_label("Password").fill("a wrong password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The account name or password is wrong")
    expect(alert).to_be_focused()  # our JS moves focus to the error
    page.screenshot(path=artifacts / "signin-error.png", full_page=True)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # keyboard only
    expect(page).to_have_url("/inventory")
    expect(page.locator("#result-count")).to_have_text("120 token(s) match.")
    expect(page.locator("#tokens tbody tr")).to_have_count(50)
    page.screenshot(path=artifacts / "inventory.png", full_page=True)

    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#tokens tbody tr").first).to_contain_text("YK00051")

    page.get_by_label("activated", exact=True).check()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#result-count")).to_have_text("10 token(s) match.")
    expect(page.locator("#tokens tbody tr").first).to_contain_text("YK00111")
    page.screenshot(path=artifacts / "inventory-filtered.png", full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    by_state = page.locator("#by-state")
    expect(by_state.get_by_role("row", name="in_stock", exact=False)).to_contain_text("100")
    expect(by_state.get_by_role("row", name="activated 10", exact=True)).to_contain_text("10")
    expect(page.locator("#stock-count")).to_have_text("110")
    expect(page.get_by_role("img", name="Bar chart of tokens by state")).to_be_visible()
    page.screenshot(path=artifacts / "dashboard.png", full_page=True)

    page.get_by_role("link", name="Accounts").click()
    expect(page.locator("#accounts")).to_contain_text("hal")
    page.screenshot(path=artifacts / "accounts.png", full_page=True)

    me = page.evaluate("() => oathdesk.api('GET', '/api/v1/me')")  # our JS helper
    assert me["name"] == "ada" and me["roles"] == ["admin"]
    forged = page.evaluate("() => fetch('/api/v1/session', {method: 'DELETE'}).then(r => r.status)")
    assert forged == 403  # a write without the CSRF header is refused, even same-origin

    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["__Host-oathdesk_session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # invisible to scripts

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/signin?signed_out=1")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/dashboard")
    expect(page).to_have_url("/signin?next=%2Fdashboard")
    assert errors == [], errors  # no CSP violation or script error on any page
    assert all((artifacts / f"{n}.png").stat().st_size > 5000 for n in ("dashboard", "inventory"))


def test_a_help_desk_agent_cannot_reach_admin_pages(
    page: Page, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    page.goto("/signin")
    page.get_by_label("Account name").fill("hal")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url("/dashboard")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users")).to_be_visible()
    for hidden in ("Import", "Reconcile", "Settings", "Accounts", "Audit"):
        expect(nav.get_by_role("link", name=hidden, exact=True)).to_have_count(0)
    for path in ("/import", "/reconcile", "/settings", "/settings/accounts", "/audit"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
        expect(page.locator("main")).to_contain_text("does not have the role this needs")
    page.screenshot(path=artifacts / "helpdesk-refused.png", full_page=True)
