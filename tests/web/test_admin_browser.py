"""Chromium (Debian's, through Playwright) drives the admin pages over HTTPS against the real
Entra emulator: reconcile and its safe fix, the audit log with a filter, the chain check and the
export download, the connection check; an auditor reads the log but is refused the settings.

Screenshots go to ``$OATHDESK_TEST_ARTIFACTS/web`` (default ``artifacts/web`` in the checkout).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from oathdesk.service import Inventory, show_token
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import PASSWORD
from tests.web.test_admin_pages import entra_id, inv, stocked

__all__ = ["emu", "emu_session", "inv"]  # fixtures: the emulator and its inventory
# the 403 of the refused settings page is an answer we provoke on purpose
EXPECTED = "Failed to load resource: the server responded with a status of 403"


@pytest.fixture
def page(chromium: Browser, app_url: str) -> Iterator[Page]:
    """The web tests' tab, able to download (the audit export) and a little more patient."""
    context = chromium.new_context(
        base_url=app_url,
        ignore_https_errors=True,
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


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
    expect(page).to_have_url(f"/signin?next={target.replace('/', '%2F')}")
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(target)


def test_admin_reconciles_reads_the_audit_log_and_checks_the_connection(
    page: Page,
    inv: Inventory,
    emu: Emu,
    accounts: dict[str, list[str]],
    artifacts: Path,
    tmp_path: Path,
) -> None:
    serials = stocked(inv, "BR", 4)
    graph = emu.client()
    try:
        graph.delete_device(entra_id(inv, serials[2]))  # gone from Entra behind our back
    finally:
        graph.close()
    errors = watch(page)

    sign_in(page, "ada", "/reconcile")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reconcile with Entra")
    expect(page.locator("#count-missing_in_entra")).to_have_text("1")
    expect(page.locator("#findings-missing_in_entra")).to_contain_text(serials[2])
    page.screenshot(path=artifacts / "admin-reconcile.png", full_page=True)

    page.get_by_role("button", name="Apply the safe fixes").click()
    expect(page.get_by_role("status")).to_contain_text("Safe fixes applied: 1 fixed.")
    expect(page.locator("#findings-missing_in_entra")).to_contain_text("back to in_stock")
    assert show_token(inv, serials[2])["state"] == "in_stock"
    page.screenshot(path=artifacts / "admin-reconcile-fixed.png", full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    page.get_by_label("Action starts with").fill("reconcile.fix")  # each look: reconcile.checked
    page.get_by_label("Action starts with").press("Enter")
    rows = page.locator("#entries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(serials[2])
    expect(rows.first).to_contain_text("local:ada")
    page.screenshot(path=artifacts / "admin-audit.png", full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Export these entries as JSON lines").click()
    download = info.value
    assert download.suggested_filename.endswith(".jsonl")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    assert [x["action"] for x in lines] == ["reconcile.fix"]

    page.get_by_role("button", name="Verify the chain").click()
    expect(page.get_by_role("status")).to_contain_text("The audit chain verifies:")
    page.screenshot(path=artifacts / "admin-audit-verify.png", full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    page.get_by_role("button", name="Check the connection").click()
    expect(page.get_by_role("status")).to_contain_text("Every permission works.")
    expect(page.locator("#permissions tbody tr")).to_have_count(6)
    expect(page.locator("#check-inventory_write")).to_contain_text("allowed")
    page.screenshot(path=artifacts / "admin-settings.png", full_page=True)

    page.get_by_role("link", name="Manage local accounts").click()
    page.get_by_label("Account name").fill("kim")
    page.get_by_label("auditor", exact=True).last.check()
    page.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("status")).to_have_text("Account kim was created.")
    expect(page.locator("#account-kim")).to_contain_text("auditor")
    page.screenshot(path=artifacts / "admin-accounts.png", full_page=True)
    assert errors == [], errors
    for name in ("reconcile", "audit", "settings"):
        assert (artifacts / f"admin-{name}.png").stat().st_size > 5000


def test_an_auditor_reads_the_audit_log_but_not_the_settings(
    page: Page, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    errors = watch(page)
    sign_in(page, "aud", "/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.locator("#entries")).to_contain_text("account.create")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    page.goto("/settings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("alert")).to_contain_text("does not have the role")
    page.screenshot(path=artifacts / "admin-auditor-settings-refused.png", full_page=True)
    assert errors == [], errors
