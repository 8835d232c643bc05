"""Wording in a real browser (Debian's chromium through Playwright) on the console over HTTPS:
a moment shows in the viewer's time zone with UTC on hover (``local-time.js``), in UTC without
JavaScript; an error page and a refused form read as sentences and keep the code inside a
closed Details element; the JSON API keeps its ``{"error": {code, message, details}}``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Browser, Page, expect

from oathdesk.domain.wording import is_sentence
from oathdesk.service import Inventory
from tests.web.conftest import PASSWORD, add_tokens, signed_in

NEW_YORK = "America/New_York"
SERIAL = "WD00001"


def _signed_in_tab(
    chromium: Browser, app_url: str, *, timezone_id: str | None = None, javascript: bool = True
) -> Page:
    tab = chromium.new_context(
        base_url=app_url,
        ignore_https_errors=True,
        timezone_id=timezone_id,
        java_script_enabled=javascript,
    ).new_page()
    tab.set_default_timeout(15_000)
    tab.goto("/signin")
    tab.get_by_label("Account name").fill("ada")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab).to_have_url("/dashboard")
    return tab


def test_a_moment_shows_in_the_viewers_time_zone_with_utc_on_hover(
    chromium: Browser, app_url: str, inv: Inventory, accounts: object, artifacts: Path
) -> None:
    add_tokens(inv, [SERIAL])
    tab = _signed_in_tab(chromium, app_url, timezone_id=NEW_YORK)
    tab.goto(f"/tokens/{SERIAL}")
    imported = tab.locator("dt:has-text('Imported') + dd time")
    exact = imported.get_attribute("datetime")
    assert exact is not None and exact.endswith("Z")
    moment = datetime.fromisoformat(exact)
    here = moment.astimezone(ZoneInfo(NEW_YORK))
    utc = moment.strftime("%Y-%m-%d %H:%M UTC")
    expect(imported).to_have_text(f"{here:%Y-%m-%d %H:%M} {here.tzname()}")  # EST or EDT
    expect(imported).to_have_attribute("title", utc)  # hovering shows UTC
    tab.screenshot(path=artifacts / "token-local-time.png", full_page=True)
    tab.context.close()

    plain = _signed_in_tab(chromium, app_url, javascript=False)
    plain.goto(f"/tokens/{SERIAL}")
    expect(plain.locator("dt:has-text('Imported') + dd time")).to_have_text(utc)
    plain.context.close()


def test_an_error_page_and_a_refused_form_read_as_sentences_with_the_code_in_details(
    page: Page, accounts: object
) -> None:
    page.goto("/signin")
    page.get_by_label("Account name").fill("ada")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    said = alert.locator("p").first.inner_text()
    assert said.startswith("Sign-in refused. ") and is_sentence(said), said
    code = alert.locator("details code")
    expect(code).to_be_hidden()  # closed: the code is not read out or shown
    alert.get_by_text("Details").click()
    expect(code).to_have_text("auth.invalid_credentials")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/dashboard")
    page.goto("/tokens/NOPE-1")
    alert = page.get_by_role("alert")
    message = alert.locator("p").first
    expect(message).to_have_text("No token with serial NOPE-1 in the inventory.")
    expect(page.get_by_text("inventory.not_found")).to_be_hidden()
    alert.get_by_text("Details").click()
    expect(alert.locator("details")).to_contain_text("Error code inventory.not_found (HTTP 404).")


def test_the_api_keeps_its_envelope_with_a_sentence(client: httpx.Client, accounts: object) -> None:
    signed_in(client, "ada")
    answer = client.get("/api/v1/tokens/NOPE-1")
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "inventory.not_found" and set(error) == {"code", "message", "details"}
    assert error["message"] == "No token with serial NOPE-1 in the inventory."
    missing = client.get("/api/v1/nowhere").json()["error"]
    assert (missing["code"], missing["message"]) == (
        "http.not_found",
        "There is no page at this address.",
    )
