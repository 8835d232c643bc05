"""The self-service MFA re-prompt over real HTTPS, against the HTTPS emulator: a person signed in
with Microsoft more than 10 minutes ago is sent through the sign-in again (with the claims and
``prompt=login``) before ``/me`` shows or changes anything, and the change they posted is then
completed; the API twins answer 401 ``auth.reauth_required``; local accounts are not asked."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Browser, expect

from oathdesk.domain import FixedClock
from oathdesk.service import Inventory
from oathdesk.store import TokenState
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import CSRF_RE, Server, add_tokens, new_client, signed_in
from tests.web.test_oidc import (
    USER_PASSWORD,
    at_entra,
    browser,
    deliver,
    settings,
    sign_in_entra,
    tenant,
    upn,
)

__all__ = ["browser", "emu", "emu_session", "settings", "tenant"]

STALE = 11 * 60
LINK_RE = re.compile(r'<a id="reauth-link" href="([^"]+)">')


def holding(inv: Inventory, serial: str, who: str) -> None:
    """``serial`` is an activated token of ``who`` in the inventory."""
    add_tokens(inv, [serial], states={"activated": [serial]})
    with inv.uow() as uow:
        uow.tokens.get_for_update(serial).user_upn = who


def token_name(inv: Inventory, serial: str) -> str:
    with inv.uow(write=False) as uow:
        token = uow.tokens.get(serial)
        assert token.state is TokenState.ACTIVATED
        return str(token.display_name)


def signed_in_long_ago(browser: httpx.Client, clock: FixedClock) -> str:
    """Sign ``plain`` in with Microsoft 11 minutes ago on the console's clock; the CSRF token
    of their /me page."""
    clock.at -= STALE
    assert sign_in_entra(browser, "plain", "/me").headers["location"] == "/me"
    page = browser.get("/me")
    assert page.status_code == 200
    found = CSRF_RE.search(page.text)
    assert found is not None
    clock.advance(STALE)
    return found.group(1)


def sign_in_again(browser: httpx.Client, to_signin: httpx.Response) -> httpx.Response:
    """Follow the re-prompt: the console's start, Entra (asked for the claims and a new
    sign-in), the reply; the console's answer to that reply."""
    assert to_signin.status_code == 303
    location = to_signin.headers["location"]
    if location.startswith("/me/reauth?"):  # a form's answer: a page with the link
        page = browser.get(location)
        assert page.status_code == 200 and "Sign in with Microsoft again" in page.text
        link = LINK_RE.search(page.text)
        assert link is not None
        location = html.unescape(link.group(1))
    assert location.startswith("/signin/entra?")
    start = browser.get(location)
    assert start.status_code == 303
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["prompt"] == ["login"]
    assert json.loads(query["claims"][0])["access_token"]["max_age"]["value"] == "600"
    return deliver(browser, at_entra(browser, start.headers["location"], "plain"))


def test_a_rename_posted_after_ten_minutes_waits_for_a_new_sign_in_then_completes(
    browser: httpx.Client, inv: Inventory, clock: FixedClock
) -> None:
    holding(inv, "RE-1", upn("plain"))
    csrf = signed_in_long_ago(browser, clock)
    posted = browser.post(
        "/me/tokens/RE-1/rename", data={"display_name": "Desk key", "csrf_token": csrf}
    )
    assert posted.status_code == 303
    target = urlsplit(posted.headers["location"])
    assert target.path == "/me/reauth" and parse_qs(target.query)["next"] == ["/me/resume"]
    assert token_name(inv, "RE-1") != "Desk key"  # nothing changed before the new sign-in
    back = sign_in_again(browser, posted)
    assert back.status_code == 303 and back.headers["location"] == "/me/resume"
    done = browser.get("/me/resume")
    assert done.status_code == 303 and done.headers["location"] == "/me?done=renamed&serial=RE-1"
    assert token_name(inv, "RE-1") == "Desk key"
    assert "Token RE-1 is renamed." in browser.get(done.headers["location"]).text
    again = browser.get("/me/resume")  # the kept change is completed once only
    assert again.status_code == 303 and again.headers["location"] == "/me"


def test_reading_me_and_the_api_twins_also_ask_for_a_new_sign_in(
    browser: httpx.Client, inv: Inventory, clock: FixedClock
) -> None:
    holding(inv, "RE-2", upn("plain"))
    signed_in_long_ago(browser, clock)
    listed = browser.get("/api/v1/me/tokens")
    assert listed.status_code == 401
    error = listed.json()["error"]
    assert error["code"] == "auth.reauth_required"
    assert json.loads(error["details"]["claims"])["access_token"]["max_age"]["value"] == "600"
    assert error["details"]["signin"].startswith("/signin/entra?next=%2Fme&claims=")
    page = browser.get("/me")
    assert page.status_code == 303 and page.headers["location"].startswith("/signin/entra?")
    assert sign_in_again(browser, page).headers["location"] == "/me"
    assert browser.get("/me").status_code == 200
    assert [t["serial"] for t in browser.get("/api/v1/me/tokens").json()["items"]] == ["RE-2"]


def test_an_enrollment_comes_back_filled_in_asking_for_a_fresh_code(
    browser: httpx.Client, inv: Inventory, clock: FixedClock
) -> None:
    csrf = signed_in_long_ago(browser, clock)
    form = {"serial": "EN-7", "display_name": "Spare", "code": "123456", "csrf_token": csrf}
    posted = browser.post("/me/tokens", data=form)
    assert posted.status_code == 303
    assert "123456" not in str(posted.headers)  # the code is not kept anywhere
    sign_in_again(browser, posted)
    page = browser.get("/me/resume")
    assert page.status_code == 200
    assert "Type the code token EN-7 shows now" in page.text
    assert 'value="EN-7"' in page.text and 'value="Spare"' in page.text
    assert "123456" not in page.text


def test_a_local_account_is_not_asked_to_sign_in_with_microsoft(
    app_url: str, server: Server, accounts: dict[str, list[str]], clock: FixedClock
) -> None:
    with new_client(app_url, server) as anonymous:
        for path in ("/me/resume", "/me/reauth"):
            resume = anonymous.get(path)
            assert resume.status_code == 303
            assert resume.headers["location"].startswith("/signin?next=")
    for name in accounts:  # every role: nothing kept, back to /me; no Microsoft sign-in
        with new_client(app_url, server) as client:
            signed_in(client, name)
            clock.advance(STALE)
            assert client.get("/me").status_code == 200
            assert client.get("/api/v1/me/tokens").status_code == 200
            resume = client.get("/me/resume")
            assert resume.status_code == 303 and resume.headers["location"] == "/me"
            assert client.get("/me/reauth").status_code == 200


def test_chromium_signs_in_again_and_the_rename_completes(
    chromium: Browser,
    app_url: str,
    tenant: Emu,
    inv: Inventory,
    clock: FixedClock,
    artifacts: Path,
) -> None:
    holding(inv, "RB-1", upn("plain"))
    context = chromium.new_context(base_url=app_url, ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def at_microsoft() -> None:
        expect(page.get_by_label("User name")).to_be_visible()
        assert page.url.startswith(tenant.url)
        page.get_by_label("User name").fill(upn("plain"))
        page.get_by_label("Password").fill(USER_PASSWORD)
        page.get_by_label("Password").press("Enter")

    clock.at -= STALE  # the first sign-in happens 11 minutes ago on the console's clock
    page.goto("/me")
    page.get_by_role("link", name="Sign in with Microsoft").click()
    at_microsoft()
    expect(page).to_have_url("/me")
    clock.advance(STALE)
    page.get_by_label("New name for RB-1").fill("Desk key")
    page.get_by_label("New name for RB-1").press("Enter")  # posted with a stale sign-in
    expect(page.get_by_role("heading", name="Sign in again")).to_be_visible()
    page.screenshot(path=artifacts / "me-reauth.png", full_page=True)
    page.get_by_role("link", name="Sign in with Microsoft again").click()
    at_microsoft()  # Microsoft asks again; then the rename completes
    expect(page.get_by_role("status")).to_contain_text("Token RB-1 is renamed")
    expect(page.locator("#my-tokens tbody tr", has_text="RB-1")).to_contain_text("Desk key")
    page.screenshot(path=artifacts / "me-reauth-renamed.png", full_page=True)
    assert errors == [], errors
    context.close()
    assert token_name(inv, "RB-1") == "Desk key"


def test_a_sign_in_entra_did_not_make_fresh_is_refused_not_looped(
    browser: httpx.Client, inv: Inventory, clock: FixedClock
) -> None:
    signed_in_long_ago(browser, clock)
    clock.advance(STALE)  # the console is now 11 minutes ahead of Entra's clock
    page = browser.get("/me")
    refused = sign_in_again(browser, page)  # Entra's auth_time is 11 minutes old for us
    assert refused.status_code == 400 and "did not sign you in again" in refused.text
    with inv.uow(write=False) as uow:
        details = [e.details for e in uow.audit.entries() if e.action == "auth.signin_failed"]
    assert any("auth.entra_not_fresh" in d for d in details)


def test_report_lost_after_ten_minutes_asks_to_confirm_once_signed_in_again(
    browser: httpx.Client, inv: Inventory, clock: FixedClock
) -> None:
    holding(inv, "RL-1", upn("plain"))
    csrf = signed_in_long_ago(browser, clock)
    posted = browser.post("/me/tokens/RL-1/lost", data={"reason": "train", "csrf_token": csrf})
    assert urlsplit(posted.headers["location"]).path == "/me/reauth"  # no confirmation yet
    assert sign_in_again(browser, posted).headers["location"] == "/me/resume"
    asked = browser.get("/me/resume")  # the kept report comes back as its confirmation
    assert asked.status_code == 200 and "Yes, report token RL-1 lost" in asked.text
    assert "stops working for sign-in" in asked.text
    token_name(inv, "RL-1")  # still activated: nothing is done before "Yes"
    fresh = CSRF_RE.search(asked.text)
    assert fresh is not None
    sure = {"reason": "train", "confirmed": "yes", "csrf_token": fresh.group(1)}
    done = browser.post("/me/tokens/RL-1/lost", data=sure)
    assert done.headers["location"] == "/me?done=lost&serial=RL-1"

    found = browser.post("/me/tokens/RL-1/found", data={"csrf_token": fresh.group(1)})
    assert found.headers["location"] == "/me?done=found&serial=RL-1"  # signed in freshly now
    with inv.uow(write=False) as uow:
        assert uow.tokens.get("RL-1").state is not TokenState.LOST
