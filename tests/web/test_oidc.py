"""Sign-in with Entra ID against the real HTTPS emulator: the whole OIDC round trip (authorization
code, PKCE, state, nonce, ID token signature) as a browser-like httpx client and in chromium,
app roles mapped to console roles, and every way it can go wrong landing on the sign-in page."""

from __future__ import annotations

import copy
import html
import re
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, expect

from oathdesk.domain import Secret
from oathdesk.service import Inventory
from oathdesk.service.accounts import disable_account, list_accounts
from oathdesk.web import WebSettings
from oathdesk.web.settings import EntraSettings
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import PASSWORD, Server, new_client, sign_in

__all__ = ["emu", "emu_session"]

WEB_APP = "44444444-dddd-4ddd-8ddd-000000000001"
WEB_SECRET = "web-sign-in-secret-value"
USER_PASSWORD = "Entra-pass-1"
DOMAIN = support.DOMAIN
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
ACTION_RE = re.compile(r'<form method="post" action="([^"]+)">')
PEOPLE = {  # key -> app role values assigned to the user in the web app
    "boss": ["oathdesk.admin"],
    "desk": ["oathdesk.helpdesk"],
    "mixed": ["oathdesk.auditor", "Some.Other.Role"],
    "plain": [],
}
COVERED = {("GET", "/signin/entra"), ("POST", "/signin/entra/callback")}
# the two routes are open by design (they sign people in); what they refuse is tested below:
# a reply without the browser's flow cookie, a tampered state, a bad token, a cancelled sign-in


def upn(key: str) -> str:
    return f"{key}@{DOMAIN}"


def object_id(key: str) -> str:
    """A person's fixed Entra object id: seeding the tenant again keeps the same people
    (accounts are bound to the object id, so a new id is a new person)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"oathdesk-test:{key}"))


def seed_with_web_app(app_url: str, *, redirect: str | None = None) -> dict[str, Any]:
    document = copy.deepcopy(support.SEED)
    document["apps"].append(
        {
            "clientId": WEB_APP,
            "clientSecret": WEB_SECRET,
            "displayName": "oathdesk console",
            "roles": [],
            "redirectUris": [redirect or f"{app_url}/signin/entra/callback"],
            "publicClient": False,
        }
    )
    for key, values in PEOPLE.items():
        document["users"].append(
            {
                "id": object_id(key),
                "userPrincipalName": upn(key),
                "displayName": key.title(),
                "password": USER_PASSWORD,
                "appRoles": {WEB_APP: values} if values else {},
            }
        )
    return document


@pytest.fixture
def settings(emu: Emu) -> WebSettings:
    entra = EntraSettings(
        tenant=support.TENANT,
        client_id=WEB_APP,
        client_secret=Secret(WEB_SECRET.encode()),
        authority_host=emu.url,
        ca_file=emu.ca,
    )
    return WebSettings(secret_key=Secret(b"o" * 32), secure_cookies=True, entra=entra)


@pytest.fixture
def tenant(emu: Emu, app_url: str) -> Emu:
    emu.seed(seed_with_web_app(app_url))
    return emu


def browser_like(app_url: str, server: Server, emu: Emu) -> httpx.Client:
    """Trusts both the console's and the emulator's CA, keeps cookies, follows nothing."""
    context = ssl.create_default_context(cafile=str(server.ca))
    context.load_verify_locations(cafile=str(emu.ca))
    return httpx.Client(base_url=app_url, verify=context, follow_redirects=False, trust_env=False)


@pytest.fixture
def browser(app_url: str, server: Server, tenant: Emu) -> Iterator[httpx.Client]:
    with browser_like(app_url, server, tenant) as client:
        yield client


def to_entra(client: httpx.Client, next_path: str = "/dashboard") -> str:
    """Start at the console; the emulator's sign-in page URL it redirects to."""
    start = client.get("/signin/entra", params={"next": next_path})
    assert start.status_code == 303, start.text
    return start.headers["location"]


@dataclass
class Reply:
    """What Entra's form_post page makes the browser post back to the console."""

    action: str
    fields: dict[str, str]


def at_entra(client: httpx.Client, authorize: str, key: str, **extra: str) -> Reply:
    """Fill in the emulator's sign-in page; the reply its self-posting form carries back."""
    page = client.get(authorize)
    assert page.status_code == 200 and 'name="password"' in page.text
    hidden = {k: html.unescape(v) for k, v in HIDDEN_RE.findall(page.text)}
    form = {**hidden, "username": upn(key), "password": USER_PASSWORD, **extra}
    answer = client.post(authorize.split("?")[0], data=form)
    assert answer.status_code == 200 and "document.forms[0].submit()" in answer.text
    action = ACTION_RE.search(answer.text)
    assert action is not None
    fields = {k: html.unescape(v) for k, v in HIDDEN_RE.findall(answer.text)}
    return Reply(html.unescape(action.group(1)), fields)


def deliver(client: httpx.Client, reply: Reply, **changes: str) -> httpx.Response:
    return client.post(reply.action, data={**reply.fields, **changes})


def sign_in_entra(client: httpx.Client, key: str, next_path: str = "/dashboard") -> httpx.Response:
    return deliver(client, at_entra(client, to_entra(client, next_path), key))


def test_the_signin_page_offers_microsoft_beside_the_local_form(browser: httpx.Client) -> None:
    page = browser.get("/signin", params={"next": "/inventory"})
    assert 'href="/signin/entra?next=/inventory"' in page.text
    assert "Sign in with Microsoft" in page.text and 'name="password"' in page.text


def test_the_signin_page_without_entra_configured_offers_only_the_local_form(
    client: httpx.Client, server: Server, inv: Inventory
) -> None:
    from oathdesk.web import create_app

    server.holder.app = create_app(inv, WebSettings(secret_key=Secret(b"p" * 32)))
    page = client.get("/signin")
    assert "Sign in with Microsoft" not in page.text and 'name="password"' in page.text
    refused = client.get("/signin/entra")
    assert refused.status_code == 400
    assert "Sign-in with Microsoft is not configured" in refused.text


def test_round_trip_signs_an_entra_admin_in_with_the_admin_role(
    browser: httpx.Client, tenant: Emu, inv: Inventory, app_url: str
) -> None:
    start = browser.get("/signin/entra", params={"next": "/inventory"})
    assert start.status_code == 303
    target = urlsplit(start.headers["location"])
    assert f"{target.scheme}://{target.netloc}" == tenant.url
    assert target.path == f"/{support.TENANT}/oauth2/v2.0/authorize"
    query = parse_qs(target.query)
    assert query["client_id"] == [WEB_APP] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{app_url}/signin/entra/callback"]
    assert "state" in query and "nonce" in query and "code_challenge" in query
    assert "code_verifier" not in query  # the verifier stays in the signed cookie
    cookie = next(c for c in browser.cookies.jar if c.name == "__Host-oathdesk_oidc")
    assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")

    back = at_entra(browser, start.headers["location"], "boss")
    assert back.action == f"{app_url}/signin/entra/callback" and "code" in back.fields
    done = deliver(browser, back)
    assert done.status_code == 303 and done.headers["location"] == "/inventory"
    me = browser.get("/api/v1/me").json()
    assert me["name"] == upn("boss") and me["roles"] == ["admin"]
    assert browser.get("/settings/accounts").status_code == 200
    assert browser.get("/api/v1/accounts").status_code == 200
    assert "__Host-oathdesk_oidc" not in browser.cookies  # the flow cookie is spent
    again = deliver(browser, back)  # the same reply a second time: the flow is gone
    assert again.status_code == 400 and "start again" in again.text

    views = {a.name: a for a in list_accounts(inv)}
    assert views[upn("boss")].source == "entra" and views[upn("boss")].roles == ("admin",)
    with inv.uow(write=False) as uow:
        entries = [(e.action, e.actor, e.details) for e in uow.audit.entries()]
    assert any(
        a == "auth.signin"
        and actor == f"entra:{upn('boss')}"
        and '"method":"entra"' in d.replace(" ", "")
        for a, actor, d in entries
    )


def test_roles_follow_the_app_roles_and_unknown_values_grant_nothing(
    app_url: str, server: Server, tenant: Emu
) -> None:
    for key, expected, allowed, refused in [
        ("desk", ["helpdesk"], "/inventory", "/settings/accounts"),
        ("mixed", ["auditor"], "/dashboard", "/import"),
    ]:
        with browser_like(app_url, server, tenant) as client:
            assert sign_in_entra(client, key).status_code == 303
            assert client.get("/api/v1/me").json()["roles"] == expected
            assert client.get(allowed).status_code == 200
            assert client.get(refused).status_code == 403


def test_a_user_without_an_app_role_gets_self_service_only(
    browser: httpx.Client, inv: Inventory
) -> None:
    done = sign_in_entra(browser, "plain", "/settings/accounts")
    assert done.status_code == 303 and done.headers["location"] == "/me"
    assert browser.get("/me").status_code == 200
    assert browser.get("/dashboard").status_code == 403
    assert browser.get("/api/v1/accounts").status_code == 403
    me = browser.get("/api/v1/me").json()
    assert me["name"] == upn("plain") and me["roles"] == []


def test_a_role_removed_in_entra_is_gone_at_the_next_signin(
    app_url: str, server: Server, tenant: Emu, inv: Inventory
) -> None:
    with browser_like(app_url, server, tenant) as client:
        sign_in_entra(client, "boss")
        assert client.get("/api/v1/me").json()["roles"] == ["admin"]
    document = seed_with_web_app(app_url)
    for user in document["users"]:
        if user["userPrincipalName"] == upn("boss"):
            user["appRoles"] = {WEB_APP: ["oathdesk.auditor"]}
    tenant.seed(document)
    with browser_like(app_url, server, tenant) as client:
        sign_in_entra(client, "boss")
        assert client.get("/api/v1/me").json()["roles"] == ["auditor"]
    assert [a.roles for a in list_accounts(inv) if a.name == upn("boss")] == [("auditor",)]


def test_a_tampered_state_is_refused(browser: httpx.Client, inv: Inventory) -> None:
    back = at_entra(browser, to_entra(browser), "boss")
    forged = deliver(browser, back, state=back.fields["state"][::-1])
    assert forged.status_code == 400
    assert 'role="alert"' in forged.text and "does not belong to the sign-in" in forged.text
    assert browser.get("/api/v1/me").status_code == 401
    with inv.uow(write=False) as uow:
        codes = [e.details for e in uow.audit.entries() if e.action == "auth.signin_failed"]
    assert any("auth.entra_state" in d for d in codes)


def test_a_reply_in_another_browser_is_refused(
    app_url: str, server: Server, browser: httpx.Client, tenant: Emu
) -> None:
    back = at_entra(browser, to_entra(browser), "boss")
    with browser_like(app_url, server, tenant) as attacker_victim:  # login CSRF: no flow cookie
        forced = deliver(attacker_victim, back)
        assert forced.status_code == 400 and "started in another browser" in forced.text
        assert attacker_victim.get("/api/v1/me").status_code == 401


def test_a_forged_flow_cookie_is_refused(browser: httpx.Client) -> None:
    back = at_entra(browser, to_entra(browser), "boss")
    browser.cookies.set(
        "__Host-oathdesk_oidc", "eyJmb3JnZWQiOnRydWV9.forged.sig", domain="127.0.0.1"
    )
    refused = deliver(browser, back)
    assert refused.status_code == 400 and 'role="alert"' in refused.text


def test_cancelling_at_microsoft_shows_a_readable_message(browser: httpx.Client) -> None:
    back = at_entra(browser, to_entra(browser), "boss", action="decline")
    assert back.fields["error"] == "access_denied" and "code" not in back.fields
    page = deliver(browser, back)
    assert page.status_code == 400
    assert "The sign-in with Microsoft was cancelled" in page.text and 'role="alert"' in page.text
    assert browser.get("/api/v1/me").status_code == 401


def test_an_id_token_signed_by_another_key_is_refused(
    app_url: str, server: Server, tenant: Emu, inv: Inventory, emu_session: Emu
) -> None:
    from oathdesk.emulator.tokens import SigningKey, id_token
    from oathdesk.web.oidc import EntraClient, EntraSignInError

    client = EntraClient(
        EntraSettings(
            tenant=support.TENANT,
            client_id=WEB_APP,
            client_secret=Secret(WEB_SECRET.encode()),
            authority_host=tenant.url,
            ca_file=tenant.ca,
        )
    )
    issuer = f"{tenant.url}/{support.TENANT}/v2.0"
    claims: dict[str, Any] = dict(
        issuer=issuer,
        tenant_id=support.TENANT,
        client_id=WEB_APP,
        now=time.time(),
        object_id="x",
        upn=upn("boss"),
        name="Boss",
        nonce=None,
        roles=["oathdesk.admin"],
    )
    forged = id_token(SigningKey.generate(), **claims)
    with pytest.raises(EntraSignInError) as caught:
        client.validate(forged)
    assert caught.value.code == "auth.entra_bad_token"
    state = tenant.server.state
    genuine = id_token(state.signing_key, **claims)
    assert client.validate(genuine)["roles"] == ["oathdesk.admin"]
    for bad in ({"client_id": "someone-else"}, {"issuer": "https://evil.example/v2.0"}):
        with pytest.raises(EntraSignInError):
            client.validate(id_token(state.signing_key, **{**claims, **bad}))
    with pytest.raises(EntraSignInError):  # expired beyond the leeway
        client.validate(id_token(state.signing_key, **{**claims, "now": time.time() - 7200}))


def test_a_disabled_entra_account_and_a_local_name_clash_are_refused(
    app_url: str, server: Server, tenant: Emu, inv: Inventory
) -> None:
    with browser_like(app_url, server, tenant) as client:
        sign_in_entra(client, "desk")
    disable_account(inv, upn("desk"), actor="test")
    with browser_like(app_url, server, tenant) as client:
        page = sign_in_entra(client, "desk")
        assert page.status_code == 403 and "disabled" in page.text
        assert client.get("/api/v1/me").status_code == 401
    from oathdesk.service.accounts import create_account

    create_account(inv, upn("boss"), Secret(PASSWORD.encode()), [], actor="test")
    with browser_like(app_url, server, tenant) as client:
        page = sign_in_entra(client, "boss")
        assert page.status_code == 400 and "A local account is already named" in page.text
        assert client.get("/api/v1/me").status_code == 401


def test_an_entra_account_cannot_sign_in_with_a_password(
    app_url: str, server: Server, tenant: Emu
) -> None:
    with browser_like(app_url, server, tenant) as client:
        sign_in_entra(client, "boss")
    with new_client(app_url, server) as client:
        for password in ("!entra", "", USER_PASSWORD):
            assert sign_in(client, upn("boss"), password or "x").status_code in (401, 422)


def test_a_redirect_uri_the_app_does_not_list_is_refused_by_entra(
    browser: httpx.Client, tenant: Emu, app_url: str
) -> None:
    tenant.seed(
        seed_with_web_app(app_url, redirect="https://console.example/signin/entra/callback")
    )
    refused = browser.get(to_entra(browser))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


def test_chromium_signs_in_with_microsoft(
    chromium: Browser, app_url: str, tenant: Emu, artifacts: Path
) -> None:
    context = chromium.new_context(
        base_url=app_url, ignore_https_errors=True, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/settings/accounts")
    expect(page).to_have_url("/signin?next=%2Fsettings%2Faccounts")
    link = page.get_by_role("link", name="Sign in with Microsoft")
    expect(link).to_be_visible()
    page.screenshot(path=artifacts / "signin-entra.png", full_page=True)
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("User name")).to_be_visible()
    assert page.url.startswith(tenant.url)
    page.get_by_label("User name").fill(upn("boss"))
    page.get_by_label("Password").fill(USER_PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url("/settings/accounts")
    expect(page.locator(".who")).to_contain_text(upn("boss"))
    page.screenshot(path=artifacts / "signed-in-entra.png", full_page=True)
    cookies = {c["name"]: c for c in context.cookies()}
    assert "__Host-oathdesk_oidc" not in cookies
    assert cookies["__Host-oathdesk_session"]["httpOnly"]
    assert errors == []
    context.close()
    assert (artifacts / "signin-entra.png").stat().st_size > 5000


def test_settings_come_from_web_keys_with_graph_defaults(tmp_path: Path) -> None:
    from oathdesk.config import load_config
    from oathdesk.domain import ConfigError

    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    secret = tmp_path / "entra-secret.txt"
    secret.write_text("from-a-file\n")
    env = {
        "OATHDESK_DATA_DIR": str(tmp_path),
        "OATHDESK_GRAPH_TENANT_ID": "tenant-from-graph",
        "OATHDESK_GRAPH_AUTHORITY_HOST": "https://127.0.0.1:9443",
        "OATHDESK_GRAPH_CA_FILE": str(ca),
        "OATHDESK_WEB_ENTRA_CLIENT_ID": "web-app",
        "OATHDESK_WEB_ENTRA_CLIENT_SECRET_FILE": str(secret),
        "OATHDESK_WEB_ENTRA_ADMIN_ROLE": "Console.Admin",
    }
    config = load_config(env=env)
    entra = EntraSettings.from_config(config)
    assert entra is not None
    assert entra.authority == "https://127.0.0.1:9443/tenant-from-graph"
    assert entra.ca_file == ca and entra.client_secret.reveal() == b"from-a-file"
    assert entra.roles_for(["Console.Admin", "oathdesk.helpdesk", "oathdesk.admin"]) == [
        "admin",
        "helpdesk",
    ]
    assert "from-a-file" not in repr(entra)
    assert EntraSettings.from_config(load_config(env={"OATHDESK_DATA_DIR": str(tmp_path)})) is None
    with pytest.raises(ConfigError) as caught:
        EntraSettings.from_config(load_config(env={"OATHDESK_WEB_ENTRA_CLIENT_ID": "x"}))
    assert caught.value.code == "config.entra_incomplete"
    plain = {**env, "OATHDESK_WEB_ENTRA_AUTHORITY_HOST": "http://login.example"}
    with pytest.raises(ConfigError):
        EntraSettings.from_config(load_config(env=plain))


def test_an_entra_signin_replaces_the_browsers_local_session(
    browser: httpx.Client, accounts: dict[str, list[str]], inv: Inventory
) -> None:
    sign_in(browser, "joe")
    old = browser.cookies["__Host-oathdesk_session"]
    assert browser.get("/api/v1/me").json()["name"] == "joe"
    assert sign_in_entra(browser, "boss").status_code == 303
    assert browser.get("/api/v1/me").json()["name"] == upn("boss")
    browser.cookies.set("__Host-oathdesk_session", old, domain="127.0.0.1")
    assert browser.get("/api/v1/me").status_code == 401  # the old session ended on the server
    with inv.uow(write=False) as uow:
        signouts = [e.actor for e in uow.audit.entries() if e.action == "auth.signout"]
    assert signouts == ["local:joe"]


def test_chromium_cancel_shows_the_focused_alert(
    chromium: Browser, app_url: str, tenant: Emu, artifacts: Path
) -> None:
    context = chromium.new_context(base_url=app_url, ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/signin")
    page.get_by_role("link", name="Sign in with Microsoft").click()
    page.get_by_role("button", name="Cancel").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The sign-in with Microsoft was cancelled")
    expect(alert).to_be_focused()
    page.screenshot(path=artifacts / "signin-entra-cancelled.png", full_page=True)
    assert page.evaluate("() => location.pathname") == "/signin/entra/callback"
    context.close()
