"""Sign-in, sign-out, session cookies and their server-side expiry, over real HTTPS."""

from __future__ import annotations

from datetime import timedelta

import httpx

from oathdesk.domain import FixedClock
from oathdesk.service import Inventory
from oathdesk.service.accounts import disable_account
from oathdesk.web import WebSettings
from tests.web.conftest import PASSWORD, Server, form_token, new_client, sign_in, signed_in


def test_signin_sets_a_locked_down_session_cookie_and_opens_the_dashboard(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    response = sign_in(client, "ada")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    session = next(c for c in cookies if c.startswith("__Host-oathdesk_session="))
    flags = {part.strip().lower() for part in session.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    assert not any(f.startswith("domain=") for f in flags)  # __Host- cookies never have one
    assert any(c.startswith("__Host-oathdesk_pre=") and "max-age=0" in c.lower() for c in cookies)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "<h1>Dashboard</h1>" in page.text
    assert "ada (admin)" in page.text


def test_wrong_password_and_unknown_account_get_the_same_answer(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    wrong = sign_in(client, "ada", "not the password at all")
    unknown = sign_in(client, "nobody-here", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "The account name or password is wrong" in response.text
        assert 'role="alert"' in response.text
        assert "__Host-oathdesk_session" not in response.headers.get("set-cookie", "")
    assert client.get("/dashboard").status_code == 303


def test_pages_send_a_signed_out_visitor_to_signin_and_back(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    response = client.get("/inventory?state=lost")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Finventory%3Fstate%3Dlost"
    back = sign_in(client, "hal", next_path="/inventory?state=lost")
    assert back.headers["location"] == "/inventory?state=lost"


def test_signin_never_redirects_to_another_site(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        response = sign_in(client, "ada", next_path=target)
        assert response.headers["location"] == "/dashboard", target


def test_signout_ends_the_session_on_the_server(
    client: httpx.Client,
    accounts: dict[str, list[str]],
    app_url: str,
    server: Server,
    inv: Inventory,
) -> None:
    signed_in(client, "ada")
    stolen = dict(client.cookies)
    token = client.get("/api/v1/me").json()["csrf_token"]
    response = client.post("/signout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?signed_out=1"
    assert "max-age=0" in response.headers["set-cookie"].lower()
    with new_client(app_url, server) as thief:  # the old cookie, replayed, is worth nothing
        thief.cookies.update(stolen)
        assert thief.get("/api/v1/me").status_code == 401
        assert thief.get("/dashboard").status_code == 303
    with inv.uow(write=False) as uow:
        last = list(uow.audit.entries())[-1]
    assert (last.action, last.subject, last.actor) == ("auth.signout", "account:ada", "local:ada")


def test_a_forged_or_altered_cookie_is_ignored(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    signed_in(client, "ada")
    value = client.cookies["__Host-oathdesk_session"]
    client.cookies.clear()
    client.cookies.set(
        "__Host-oathdesk_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    )
    assert client.get("/api/v1/me").status_code == 401


def test_idle_and_absolute_expiry_are_enforced_by_the_server(
    client: httpx.Client,
    accounts: dict[str, list[str]],
    clock: FixedClock,
    settings: WebSettings,
) -> None:
    signed_in(client, "ada")
    clock.advance(settings.session_idle.total_seconds() - 5)
    assert client.get("/api/v1/me").status_code == 200  # activity within the idle limit
    for _ in range(20):  # stays active, but the absolute lifetime still ends it
        clock.advance(settings.session_idle.total_seconds() - 5)
        if client.get("/api/v1/me").status_code != 200:
            break
    lifetime = settings.session_lifetime + timedelta(minutes=1)
    assert 20 * (settings.session_idle.total_seconds() - 5) > lifetime.total_seconds()
    assert client.get("/api/v1/me").status_code == 401
    signed_in(client, "ada")
    clock.advance(settings.session_idle.total_seconds() + 61)
    assert client.get("/api/v1/me").status_code == 401


def test_disabling_an_account_ends_its_sessions_and_refuses_signin(
    client: httpx.Client, accounts: dict[str, list[str]], inv: Inventory
) -> None:
    signed_in(client, "hal")
    assert client.get("/api/v1/me").json()["name"] == "hal"
    disable_account(inv, "hal", actor="test", reason="left the company")
    assert client.get("/api/v1/me").status_code == 401
    client.cookies.clear()
    refused = sign_in(client, "hal")
    assert refused.status_code == 401
    assert "disabled" in refused.text


def test_a_user_without_a_role_lands_on_their_own_page(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    response = sign_in(client, "joe")
    assert response.headers["location"] == "/me"
    page = client.get("/me")
    assert page.status_code == 200
    assert "none (self-service only)" in page.text
    assert 'href="/dashboard"' not in page.text  # navigation shows only what the role allows


def test_signing_in_again_replaces_the_old_session(
    client: httpx.Client, accounts: dict[str, list[str]], app_url: str, server: Server
) -> None:
    signed_in(client, "ada")
    old = dict(client.cookies)
    with new_client(app_url, server) as fresh:  # a pre-session cookie and its form token
        token = form_token(fresh)
        client.cookies.set("__Host-oathdesk_pre", fresh.cookies["__Host-oathdesk_pre"])
    response = client.post(
        "/signin", data={"name": "hal", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    assert client.get("/api/v1/me").json()["name"] == "hal"
    with new_client(app_url, server) as replay:
        replay.cookies.update(old)
        assert replay.get("/api/v1/me").status_code == 401
