"""Self-service as a person reads it, over HTTP (real uvicorn over TLS, real HTTPS Entra
emulator) and in chromium: a change that worked is shown as a success (green), a token reported
lost offers no rename (and the rename is refused by the page and the API alike), and after
signing out the sign-in page says "You are signed out."."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from oathdesk.domain import Secret
from oathdesk.service import Inventory
from oathdesk.service.accounts import create_account
from tests.service.selfservice_seed import code, stock
from tests.service.support import serial
from tests.web.conftest import PASSWORD, signed_in
from tests.web.test_selfservice import (
    ADA,
    api_enroll,
    csrf,
    emu,
    emu_session,
    error,
    inv,
    page_csrf,
    people,
    user,
)

__all__ = ["emu", "emu_session", "inv", "people", "user"]  # fixtures, used by name below

SUCCESS = re.compile(r'<p class="success" role="status" id="me-notice">([^<]*)</p>')
GREEN = "rgb(218, 251, 225)"  # the success box's background (selfservice.css)


def enrolled(client: httpx.Client, inv: Inventory, prefix: str) -> str:
    stock(inv, prefix, 1)
    sn = serial(prefix, 0)
    made = api_enroll(client, sn, "Desk token", code(prefix, 0, time.time()))
    assert made.status_code == 201, made.text
    return sn


def test_a_change_that_worked_is_a_success_and_a_note_is_not(user: Any, inv: Inventory) -> None:
    ada = user(ADA)
    sn = enrolled(ada, inv, "SG")
    form = {"csrf_token": page_csrf(ada), "display_name": "Work fob"}
    done = ada.post(f"/me/tokens/{sn}/rename", data=form)
    assert done.status_code == 303
    page = ada.get(done.headers["location"])
    found = SUCCESS.search(page.text)
    assert found and found.group(1) == f"Token {sn} is renamed.", page.text
    assert "selfservice.css" in page.text
    plain = ada.get("/me")
    assert 'id="me-notice"' not in plain.text, "no success without a change"


def test_a_lost_token_offers_no_rename_and_refuses_one(user: Any, inv: Inventory) -> None:
    ada = user(ADA)
    sn = enrolled(ada, inv, "SL")
    before = ada.get("/me").text
    assert f'action="/me/tokens/{sn}/rename"' in before
    lost = ada.post(f"/api/v1/me/tokens/{sn}/lost", json={"reason": "train"}, headers=csrf(ada))
    assert lost.status_code == 200 and lost.json()["state"] == "lost"
    after = ada.get("/me").text
    assert f'action="/me/tokens/{sn}/rename"' not in after
    assert f"New name for {sn}" not in after
    assert "You reported this token lost: it no longer signs you in." in after
    api = ada.patch(f"/api/v1/me/tokens/{sn}", json={"display_name": "x"}, headers=csrf(ada))
    assert api.status_code == 409 and error(api)["code"] == "selfservice.state_conflict"
    assert "only a token in use can be renamed" in error(api)["message"]
    form = {"csrf_token": page_csrf(ada), "display_name": "Found"}
    page = ada.post(f"/me/tokens/{sn}/rename", data=form)
    assert page.status_code == 409 and "The token was not renamed." in page.text
    mine = ada.get("/api/v1/me/tokens").json()["items"]
    assert [(t["serial"], t["display_name"]) for t in mine] == [(sn, "Desk token")]


def test_after_signing_out_the_sign_in_page_says_so(user: Any) -> None:
    ada = user(ADA)
    out = ada.post("/signout", data={"csrf_token": page_csrf(ada)})
    assert out.status_code == 303 and out.headers["location"] == "/signin?signed_out=1"
    page = ada.get(out.headers["location"])
    assert page.status_code == 200
    assert '<p class="success" role="status" id="signed-out">You are signed out.</p>' in page.text
    assert "You are signed out." not in ada.get("/signin").text, "only right after a sign-out"
    refused = ada.post(
        "/signin?signed_out=1",
        data={"name": ADA, "password": "wrong", "csrf_token": page_csrf_of_signin(ada)},
    )
    assert "You are signed out." not in refused.text, "an error is not a sign-out"
    signed_in(ada, ADA)
    back = ada.get("/signin?signed_out=1")
    assert back.status_code == 303, "signed in: the page is not shown at all"


def page_csrf_of_signin(client: httpx.Client) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get("/signin").text)
    assert found
    return found.group(1)


def test_a_browser_shows_success_in_green_and_the_signed_out_message(
    page: Page, inv: Inventory, artifacts: Path
) -> None:
    create_account(inv, ADA, Secret(PASSWORD.encode()), [], actor="test")
    stock(inv, "SB", 1)
    sn = serial("SB", 0)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: self-service is used there
    page.goto("/me")
    page.get_by_label("Account name").fill(ADA)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url("/me")
    page.get_by_label("Serial number (on the back of the token)").fill(sn)
    page.get_by_label("Name for this token").fill("Blue key fob")
    page.get_by_label("Code the token shows now").fill(code("SB", 0, time.time()))
    page.get_by_label("Code the token shows now").press("Enter")
    status = page.get_by_role("status")
    expect(status).to_contain_text(f"Token {sn} is enrolled")
    expect(status).to_have_css("background-color", GREEN)
    page.screenshot(path=artifacts / "me-success.png", full_page=True)
    page.get_by_label(f"What happened to {sn}?").fill("left on the train")
    page.get_by_label(f"What happened to {sn}?").press("Enter")
    page.get_by_role("button", name=f"Yes, report token {sn} lost").click()
    expect(page.get_by_role("status")).to_contain_text(f"Token {sn} is reported lost")
    expect(page.get_by_label(f"New name for {sn}")).to_have_count(0)
    expect(page.locator("#my-tokens")).to_contain_text("You reported this token lost")
    page.screenshot(path=artifacts / "me-lost-no-rename.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/signin?signed_out=1")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("status")).to_have_css("background-color", GREEN)
    page.screenshot(path=artifacts / "signed-out.png", full_page=True)
