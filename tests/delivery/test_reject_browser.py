"""The delivery team rejects a request in a real browser (Debian's chromium through
Playwright): the danger button asks first, Cancel changes nothing, the confirmed form rejects.
Screenshots in ``$OATHDESK_TEST_ARTIFACTS/delivery`` (default ``artifacts/delivery``)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from oathdesk.delivery import Delivery, get_request
from tests.backends import sqlite_only
from tests.delivery.helpers import ask
from tests.delivery.test_browser import _context
from tests.web.conftest import PASSWORD


@sqlite_only
def test_the_team_confirms_a_rejection_in_a_browser(
    chromium: Browser, web_url: str, loaded: Delivery, artifacts: Path
) -> None:
    request_id = ask(loaded)
    errors: list[str] = []
    team = _context(chromium, web_url, errors)
    try:
        page = team.new_page()
        page.goto(f"/review/{request_id}")
        page.get_by_label("Account name").fill("dora")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Password").press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {request_id}: pending")
        page.get_by_label("Reason for rejecting").fill("The order is not paid yet.")
        page.get_by_role("button", name="Reject…").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Reject request {request_id}?")
        expect(page.locator("#reject-warning")).to_contain_text("they must ask again")
        page.screenshot(path=artifacts / "review-reject-confirm.png", full_page=True)
        page.get_by_role("link", name="Cancel: nothing is done").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {request_id}: pending")
        assert get_request(loaded, request_id).state == "pending"

        page.get_by_label("Reason for rejecting").fill("The order is not paid yet.")
        page.get_by_role("button", name="Reject…").click()
        yes = page.get_by_role("button", name=f"Yes, reject request {request_id}")
        yes.focus()
        yes.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {request_id}: rejected")
        assert get_request(loaded, request_id).state == "rejected"
    finally:
        team.close()
    assert errors == [], errors
    assert (artifacts / "review-reject-confirm.png").stat().st_size > 5000
