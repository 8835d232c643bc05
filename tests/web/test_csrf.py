"""CSRF: every browser write needs the token bound to its session (or, to sign in, to its
pre-session cookie); a missing or foreign token is refused and changes nothing."""

from __future__ import annotations

import httpx

from tests.web.conftest import PASSWORD, Server, form_token, new_client, signed_in


def test_signin_without_or_with_a_foreign_token_is_refused(
    client: httpx.Client, accounts: dict[str, list[str]], app_url: str, server: Server
) -> None:
    form = {"name": "ada", "password": PASSWORD}
    form_token(client)  # the browser has its pre-session cookie
    missing = client.post("/signin", data=form)
    with new_client(app_url, server) as other:
        foreign = client.post("/signin", data={**form, "csrf_token": form_token(other)})
    with new_client(app_url, server) as no_cookie:  # a cross-site form post: no pre-session
        cross = no_cookie.post("/signin", data={**form, "csrf_token": form_token(client)})
    for response in (missing, foreign, cross):
        assert response.status_code == 403
        assert "This form has expired or did not come from this site" in response.text
        assert "oathdesk_session" not in response.headers.get("set-cookie", "")


def test_signout_form_needs_the_session_token(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    signed_in(client, "ada")
    assert client.post("/signout").status_code == 403
    assert client.post("/signout", data={"csrf_token": "0" * 64}).status_code == 403
    assert client.get("/api/v1/me").status_code == 200  # still signed in: nothing happened
    token = client.get("/api/v1/me").json()["csrf_token"]
    assert client.post("/signout", data={"csrf_token": token}).status_code == 303
    assert client.get("/api/v1/me").status_code == 401


def test_api_writes_from_a_browser_need_the_header(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    signed_in(client, "hal")
    refused = client.delete("/api/v1/session")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "auth.csrf"
    assert client.get("/api/v1/me").status_code == 200
    token = client.get("/api/v1/me").json()["csrf_token"]
    done = client.delete("/api/v1/session", headers={"X-CSRF-Token": token})
    assert done.status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_the_token_of_one_session_does_not_work_for_another(
    client: httpx.Client, accounts: dict[str, list[str]], app_url: str, server: Server
) -> None:
    signed_in(client, "ada")
    with new_client(app_url, server) as other:
        signed_in(other, "ada")
        theirs = other.get("/api/v1/me").json()["csrf_token"]
    assert client.get("/api/v1/me").json()["csrf_token"] != theirs
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": theirs}).status_code == 403
