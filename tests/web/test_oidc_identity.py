"""Entra identities against the real HTTPS emulator: accounts bound to ``tid`` + ``oid`` (a
renamed user keeps their account, a reused UPN does not get it, another tenant is refused), the
flow cookie encrypted (nothing of state, nonce or PKCE verifier readable, tampering refused),
and failed anonymous callbacks counted per address with a coded 429 and bounded audit rows."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import time
import zlib
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from oathdesk.domain import FixedClock, Secret
from oathdesk.emulator.tokens import id_token
from oathdesk.service import Inventory
from oathdesk.service.accounts import list_accounts
from oathdesk.web import WebSettings
from oathdesk.web.oidc import EntraClient, EntraSignInError
from oathdesk.web.oidc_cookie import open_flow, seal_flow
from oathdesk.web.settings import EntraSettings
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import Server
from tests.web.test_oidc import (
    WEB_APP,
    WEB_SECRET,
    at_entra,
    browser,
    browser_like,
    deliver,
    seed_with_web_app,
    settings,
    sign_in_entra,
    tenant,
    to_entra,
    upn,
)

__all__ = ["browser", "emu", "emu_session", "settings", "tenant"]

DESK_ID = "0c0ffee0-0000-4000-8000-00000000d35c"
NEWCOMER_ID = "0c0ffee0-0000-4000-8000-0000000000ee"
COOKIE = "__Host-oathdesk_oidc"


def seed_people(app_url: str, names: dict[str, str]) -> dict[str, Any]:
    """The web app's tenant with ``desk`` given fixed object ids: ``names`` maps an object id
    to the key (UPN prefix) the user holds now; each gets the helpdesk app role."""
    document = seed_with_web_app(app_url)
    users = [u for u in document["users"] if u["userPrincipalName"] != upn("desk")]
    template = next(u for u in document["users"] if u["userPrincipalName"] == upn("desk"))
    for object_id, key in names.items():
        users.append({**template, "id": object_id, "userPrincipalName": upn(key)})
    document["users"] = users
    return document


def audit_rows(inv: Inventory, action: str) -> list[tuple[str | None, str, str]]:
    with inv.uow(write=False) as uow:
        return [(e.subject, e.actor, e.details) for e in uow.audit.entries() if e.action == action]


# -- binding -------------------------------------------------------------------------------
def test_a_renamed_user_keeps_their_account(
    app_url: str, server: Server, tenant: Emu, inv: Inventory
) -> None:
    tenant.seed(seed_people(app_url, {DESK_ID: "desk"}))
    with browser_like(app_url, server, tenant) as client:
        assert sign_in_entra(client, "desk").status_code == 303
    tenant.seed(seed_people(app_url, {DESK_ID: "desk.renamed"}))  # same person, new UPN
    with browser_like(app_url, server, tenant) as client:
        assert sign_in_entra(client, "desk.renamed").status_code == 303
        me = client.get("/api/v1/me").json()
        assert me["name"] == upn("desk.renamed") and me["roles"] == ["helpdesk"]
    names = [a.name for a in list_accounts(inv) if a.source == "entra"]
    assert names == [upn("desk.renamed")]  # one account, renamed; no second one made
    renames = audit_rows(inv, "account.rename")
    assert len(renames) == 1 and upn("desk.renamed") in renames[0][2]


def test_a_reused_upn_does_not_get_the_former_holders_account(
    app_url: str, server: Server, tenant: Emu, inv: Inventory
) -> None:
    tenant.seed(seed_people(app_url, {DESK_ID: "desk"}))
    with browser_like(app_url, server, tenant) as client:
        sign_in_entra(client, "desk")
    # the first holder is renamed, and their old UPN goes to a newcomer (another object id)
    tenant.seed(seed_people(app_url, {DESK_ID: "desk.old", NEWCOMER_ID: "desk"}))
    with browser_like(app_url, server, tenant) as client:
        page = sign_in_entra(client, "desk")
        assert page.status_code == 400
        assert "belongs to another Entra user" in page.text
        assert client.get("/api/v1/me").status_code == 401
    with browser_like(app_url, server, tenant) as client:  # the first holder keeps it
        assert sign_in_entra(client, "desk.old").status_code == 303
        assert client.get("/api/v1/me").json()["name"] == upn("desk.old")
    with browser_like(app_url, server, tenant) as client:  # the name is free: a new account
        assert sign_in_entra(client, "desk").status_code == 303
        assert client.get("/api/v1/me").json()["name"] == upn("desk")
    with inv.uow(write=False) as uow:
        from oathdesk.store.accounts import AccountRepository

        repo = AccountRepository(uow.session)
        old = repo.find_entra(support.TENANT, DESK_ID)
        new = repo.find_entra(support.TENANT, NEWCOMER_ID)
        assert old is not None and old.name == upn("desk.old")
        assert new is not None and new.name == upn("desk") and new.id != old.id


def test_an_account_made_before_binding_is_bound_at_its_next_signin(
    app_url: str, server: Server, tenant: Emu, inv: Inventory
) -> None:
    from oathdesk.service.accounts import sign_in_entra as unbound_sign_in

    unbound_sign_in(inv, upn("desk"), ["helpdesk"], address="127.0.0.1")  # the old way
    tenant.seed(seed_people(app_url, {DESK_ID: "desk"}))
    with browser_like(app_url, server, tenant) as client:
        assert sign_in_entra(client, "desk").status_code == 303
    assert len(audit_rows(inv, "account.bind")) == 1
    tenant.seed(seed_people(app_url, {DESK_ID: "desk.old", NEWCOMER_ID: "desk"}))
    with browser_like(app_url, server, tenant) as client:  # bound now: the newcomer is refused
        assert sign_in_entra(client, "desk").status_code == 400


def entra_client(tenant: Emu) -> EntraClient:
    return EntraClient(
        EntraSettings(
            tenant=support.TENANT,
            client_id=WEB_APP,
            client_secret=Secret(WEB_SECRET.encode()),
            authority_host=tenant.url,
            ca_file=tenant.ca,
        )
    )


def test_an_id_token_from_another_tenant_is_refused(tenant: Emu) -> None:
    client = entra_client(tenant)
    claims: dict[str, Any] = dict(
        issuer=f"{tenant.url}/{support.TENANT}/v2.0",
        tenant_id=support.TENANT,
        client_id=WEB_APP,
        now=time.time(),
        object_id=DESK_ID,
        upn=upn("boss"),
        name="Boss",
        nonce=None,
    )
    key = tenant.server.state.signing_key
    assert client.validate(id_token(key, **claims))["oid"] == DESK_ID
    other = {**claims, "tenant_id": "99999999-9999-4999-8999-999999999999"}
    with pytest.raises(EntraSignInError) as caught:  # issuer right, tid another directory's
        client.validate(id_token(key, **other))
    assert caught.value.code == "auth.entra_wrong_tenant"


# -- the flow cookie -----------------------------------------------------------------------
def _readable(value: str) -> bytes:
    """Everything a client could decode from a cookie value: raw bytes, and each dot-separated
    part base64url-decoded (and inflated, as itsdangerous compresses)."""
    seen = [value.encode()]
    for part in value.lstrip(".").split("."):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            continue
        seen.append(raw)
        with contextlib.suppress(zlib.error):
            seen.append(zlib.decompress(raw))
    return b"\n".join(seen)


def test_the_flow_cookie_hides_state_nonce_and_verifier(
    browser: httpx.Client, settings: WebSettings, inv: Inventory
) -> None:
    start = browser.get("/signin/entra", params={"next": "/inventory"})
    query = parse_qs(urlsplit(start.headers["location"]).query)
    state, nonce, challenge = query["state"][0], query["nonce"][0], query["code_challenge"][0]
    value = browser.cookies[COOKIE]
    readable = _readable(value)
    for secret in (state, nonce, "/inventory", "code_verifier"):
        assert secret.encode() not in readable
    flow = open_flow(settings, value, inv.now())  # the server can read it back
    assert flow is not None and flow["state"] == state
    assert hashlib.sha256(flow["nonce"].encode()).hexdigest() == nonce  # MSAL sends its hash
    assert flow["nonce"].encode() not in readable
    digest = hashlib.sha256(flow["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).decode().rstrip("=") == challenge
    assert flow["code_verifier"].encode() not in readable
    other = WebSettings(secret_key=Secret(b"x" * 32), secure_cookies=True)
    assert open_flow(other, value, inv.now()) is None  # another key reads nothing
    assert open_flow(settings, value, inv.now() + timedelta(minutes=11)) is None
    assert open_flow(settings, seal_flow(settings, {"a": 1}, inv.now()), inv.now()) == {"a": 1}


def test_a_tampered_flow_cookie_is_refused(browser: httpx.Client, settings: WebSettings) -> None:
    back = at_entra(browser, to_entra(browser), "boss")
    value = browser.cookies[COOKIE]
    flipped = value[:20] + ("A" if value[20] != "A" else "B") + value[21:]
    browser.cookies.set(COOKIE, flipped, domain="127.0.0.1")
    refused = deliver(browser, back)
    assert refused.status_code == 400 and "started in another browser" in refused.text
    assert browser.get("/api/v1/me").status_code == 401
    browser.cookies.set(COOKIE, value, domain="127.0.0.1")  # the genuine one still works
    assert deliver(browser, back).status_code == 303


# -- failed anonymous callbacks ------------------------------------------------------------
def test_failed_callbacks_are_counted_and_end_in_a_coded_429(
    browser: httpx.Client, inv: Inventory
) -> None:
    bad = {"code": "not-a-code", "state": "not-our-state"}
    answers = [browser.post("/signin/entra/callback", data=bad) for _ in range(10)]
    assert [a.status_code for a in answers] == [400] * 10
    for _ in range(5):
        locked = browser.post("/signin/entra/callback", data=bad)
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        assert "Too many failed sign-ins with Microsoft" in locked.text
    cancelled = browser.post("/signin/entra/callback", data={"error": "access_denied"})
    assert cancelled.status_code == 429
    failed = audit_rows(inv, "auth.signin_failed")
    assert len(failed) == 1 and "auth.entra_state" in failed[0][2]  # not one row per failure
    throttled = audit_rows(inv, "auth.signin_throttled")
    assert len(throttled) == 1 and '"failures":10' in throttled[0][2].replace(" ", "")
    # while locked, even a genuine reply from this address waits
    assert sign_in_entra(browser, "boss").status_code == 429


def test_the_lock_ends_and_a_new_window_is_audited_once_more(
    browser: httpx.Client, inv: Inventory, clock: FixedClock
) -> None:
    for _ in range(10):
        browser.post("/signin/entra/callback", data={"state": "x"})
    assert browser.post("/signin/entra/callback", data={"state": "x"}).status_code == 429
    clock.advance(16 * 60)
    assert browser.post("/signin/entra/callback", data={"state": "x"}).status_code == 400
    assert len(audit_rows(inv, "auth.signin_failed")) == 2
    assert sign_in_entra(browser, "boss").status_code == 303
