"""Chromium (Debian's, through Playwright) walks the pages that were CLI-only and the readable
audit log: an administrator creates an API token and sees its value once, revokes it, gives an
account the ``delivery`` role, then reads the audit log by filters and opens an entry's details;
an auditor reads the log but has no API tokens page.

Screenshots go to ``$OATHDESK_TEST_ARTIFACTS/web`` (default ``artifacts/web`` in the checkout).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from oathdesk.service import Inventory
from oathdesk.service.api_tokens import list_api_tokens
from tests.web.conftest import PASSWORD

VALUE = re.compile(r"^odk_[A-Za-z0-9_-]{43}$")
EXPECTED = "Failed to load resource: the server responded with a status of 403"


def watch(page: Page) -> list[str]:
    """Script errors and CSP violations the page reports (none are expected)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and not m.text.startswith(EXPECTED) else None
        ),
    )
    return errors


def sign_in(page: Page, name: str, target: str) -> None:
    page.goto(target)
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(target)


def test_admin_creates_and_revokes_an_api_token_sets_a_role_and_reads_the_audit_log(
    page: Page, inv: Inventory, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    errors = watch(page)
    sign_in(page, "ada", "/dashboard")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    expect(page.locator("#no-tokens")).to_have_text("No API token yet.")

    page.get_by_label("Name (letters").fill("nightly-report")
    page.get_by_label("auditor: read the inventory").check()
    page.get_by_label("Valid for (days").fill("30")
    page.get_by_role("button", name="Create the API token").click()
    created = page.locator("#created")
    expect(created).to_contain_text("API token nightly-report was created.")
    expect(created).to_contain_text("it is not shown again")
    value = page.get_by_label("Value of API token nightly-report").input_value()
    assert VALUE.match(value), "the value is shown in full, once"
    expect(page.get_by_role("button", name="Copy the value")).to_be_visible()  # the page script
    expect(page.locator("#api-token-nightly-report")).to_contain_text("active")
    page.screenshot(path=artifacts / "api-token-created.png", full_page=True)

    nav.get_by_role("link", name="API tokens").click()  # come back: the value is gone
    expect(page.locator("#api-token-nightly-report")).to_contain_text("auditor")
    expect(page.locator("#created")).to_have_count(0)
    assert value not in page.content()

    row = page.locator("#api-token-nightly-report")
    row.get_by_text("Revoke nightly-report…").click()
    expect(row.get_by_role("paragraph")).to_contain_text("refused from its next call")
    row.get_by_label("Reason").fill("ticket 9")
    page.screenshot(path=artifacts / "api-token-revoke-confirm.png", full_page=True)
    row.get_by_role("button", name="Revoke nightly-report now").click()
    expect(page.get_by_role("status")).to_have_text(
        "API token nightly-report is revoked; a call made with it is now refused."
    )
    expect(page.locator("#api-token-nightly-report")).to_contain_text("revoked")
    assert list_api_tokens(inv)[0].revoked_at is not None

    nav.get_by_role("link", name="Accounts").click()
    hal = page.locator("#account-hal")
    hal.get_by_label("delivery").check()
    hal.get_by_role("button", name="Save roles of hal").click()
    expect(page.get_by_role("status")).to_have_text("hal now has: helpdesk, delivery.")
    expect(page.locator("#account-hal")).to_contain_text("helpdesk, delivery")
    page.screenshot(path=artifacts / "accounts-delivery-role.png", full_page=True)

    nav.get_by_role("link", name="Audit").click()
    page.get_by_label("Action starts with").fill("api_token.")
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("#entries tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("ada revoked API token nightly-report (ticket 9).")
    expect(rows.nth(1)).to_contain_text("ada created API token nightly-report with role(s) auditor")
    details = rows.first.locator("dl.audit-details")
    expect(details).to_be_hidden()
    rows.first.get_by_text("ada revoked API token nightly-report").click()
    expect(details).to_be_visible()
    expect(details).to_contain_text("api_token.revoke")
    expect(details).to_contain_text("local:ada")
    page.screenshot(path=artifacts / "audit-readable.png", full_page=True)

    details.get_by_role("link", name="api_token:nightly-report").click()  # filter by target
    expect(page.get_by_label("Token serial or target")).to_have_value("api_token:nightly-report")
    expect(rows).to_have_count(2)
    page.get_by_role("link", name="Clear the filters").click()
    page.get_by_label("Token serial or target").fill("account:hal")
    page.get_by_label("Action starts with").fill("account.")
    page.get_by_role("button", name="Apply").click()
    expect(rows.first).to_contain_text(
        "ada changed the roles of account hal from helpdesk to helpdesk, delivery."
    )
    page.get_by_label("From (UTC)").fill("2999-01-01T00:00:00")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#no-entries")).to_be_visible()
    page.screenshot(path=artifacts / "audit-filtered-empty.png", full_page=True)
    assert errors == [], errors


def test_an_auditor_reads_the_log_by_actor_but_has_no_api_tokens_page(
    page: Page, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    errors = watch(page)
    sign_in(page, "aud", "/audit")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="API tokens")).to_have_count(0)
    page.get_by_label("Who (actor)").fill("local:aud")
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("#entries tbody tr")
    expect(rows.first).to_contain_text("aud signed in from")
    rows.first.locator("summary").press("Enter")  # the keyboard opens the details too
    expect(rows.first.locator("dl.audit-details")).to_contain_text("auth.signin")
    page.screenshot(path=artifacts / "audit-auditor.png", full_page=True)
    page.goto("/settings/api-tokens")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    assert errors == [], errors
