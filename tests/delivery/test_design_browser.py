"""The delivery app's pages in a real browser (Debian's chromium through Playwright) with the
shared design system: every page a customer or the review team sees passes axe (tests/a11y.py)
at a laptop's 1366x768 and at a phone's 375x667, where none scrolls sideways; headings go
down one level at a time under one h1.

Screenshots in ``$OATHDESK_TEST_ARTIFACTS/delivery`` (default ``artifacts/delivery``).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, expect

from oathdesk.delivery import Delivery, approve
from tests.a11y import assert_accessible
from tests.backends import sqlite_only
from tests.delivery import support
from tests.delivery.helpers import ask
from tests.delivery.test_browser import _context
from tests.web.conftest import PASSWORD
from tests.web.test_design_browser import heading_jumps

DESKTOP = ViewportSize(width=1366, height=768)
PHONE = ViewportSize(width=375, height=667)


def fits(page: Page, where: str, artifacts: Path, shot: str = "") -> None:
    """The page as it is now passes axe at both sizes and is never wider than a phone."""
    page.set_viewport_size(DESKTOP)
    expect(page.locator("main h1")).to_have_count(1)
    assert heading_jumps(page) == [], f"{where}: headings out of order"
    assert_accessible(page, f"{where} at 1366x768")
    page.set_viewport_size(PHONE)
    wider = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wider == 0, f"{where} is {wider} pixels wider than a phone"
    assert_accessible(page, f"{where} at 375x667")
    if shot:
        page.screenshot(path=artifacts / f"{shot}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


@sqlite_only
def test_customer_pages_fit_a_phone_and_pass_axe(
    chromium: Browser, web_url: str, loaded: Delivery, mailbox: support.Mailbox, artifacts: Path
) -> None:
    approve(loaded, ask(loaded), actor="local:dora")
    (link,) = mailbox.links()
    errors: list[str] = []
    context = _context(chromium, web_url, errors)
    try:
        page = context.new_page()
        page.goto("/order")
        fits(page, "order find", artifacts, "design-order-find-phone")
        page.get_by_label("PO, invoice or shipment number").fill("PO-7777")
        page.get_by_label("Business e-mail address").fill("pki@contoso.example")
        page.get_by_role("button", name="Find the order").click()
        expect(page.get_by_role("alert")).to_contain_text("No order matches")
        fits(page, "order find with its error", artifacts)
        page.get_by_label("PO, invoice or shipment number").fill("INV-2001")
        page.get_by_label("Business e-mail address").fill("pki@contoso.example")
        page.get_by_role("button", name="Find the order").click()
        expect(page).to_have_url("/order/shipments")
        fits(page, "order shipments", artifacts, "design-order-shipments-phone")
        page.get_by_label("SH-1", exact=True).check()
        page.get_by_label("Serial of a token in SH-1").fill("AC000102")
        page.get_by_role("button", name="Verify and continue").click()
        expect(page).to_have_url("/order/options")
        page.get_by_label("Format").select_option("custom-csv")
        fits(page, "order options", artifacts, "design-order-options-phone")
        page.get_by_label("Password", exact=True).fill(support.STRONG)
        page.get_by_label("Password again").fill(support.STRONG)
        page.get_by_label("Format").select_option("entra-csv")
        page.get_by_role("button", name="Send the request for review").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
        fits(page, "order done", artifacts)

        page.goto(f"/d/{link}")
        fits(page, "download", artifacts, "design-download-phone")
        page.get_by_label("The password you chose for this file").fill("not-the-password")
        page.get_by_role("button", name="Download").click()
        expect(page.get_by_role("alert")).to_contain_text("not the one chosen")
        fits(page, "download with its error", artifacts)
        page.get_by_label("The password you chose for this file").fill(support.STRONG)
        with page.expect_download():
            page.get_by_role("button", name="Download").click()
        page.goto(f"/d/{link}")  # the link has served its one download
        expect(page.get_by_role("status")).to_contain_text("used for its download")
        fits(page, "download used", artifacts)
        page.get_by_role("button", name="I have the file: delete it now").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Delete")
        fits(page, "download confirm", artifacts)
        page.goto("/no-such-page")
        fits(page, "error page", artifacts)
    finally:
        context.close()
    assert errors == [], errors


@sqlite_only
def test_review_pages_fit_a_phone_and_pass_axe(
    chromium: Browser, web_url: str, loaded: Delivery, artifacts: Path
) -> None:
    request_id = ask(loaded)
    errors: list[str] = []
    context = _context(chromium, web_url, errors)
    try:
        page = context.new_page()
        page.goto("/review")
        fits(page, "team sign-in", artifacts)
        page.get_by_label("Account name").fill("dora")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Password").press("Enter")
        expect(page).to_have_url("/review")
        fits(page, "review queue", artifacts, "design-review-queue-phone")
        page.get_by_role("link", name=str(request_id), exact=True).click()
        fits(page, "review detail", artifacts, "design-review-detail-phone")
        page.get_by_label("Reason for rejecting").fill("The order is not paid yet.")
        page.get_by_role("button", name="Reject…").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Reject request {request_id}?")
        fits(page, "reject confirm", artifacts)
    finally:
        context.close()
    assert errors == [], errors
