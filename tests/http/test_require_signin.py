"""``require(roles)`` and the kit's sign-in routes: who gets in, where they land, and that a
session ends for good at sign-out."""

from __future__ import annotations

import httpx
import pytest

from tests.http.conftest import ROBOT_KEY, set_cookies, sign_in, token_in
from tests.web.conftest import PASSWORD, Server, new_client


def test_signing_in_opens_a_session_and_drops_the_nonce(client: httpx.Client) -> None:
    response = sign_in(client, "hal")
    assert response.status_code == 303 and response.headers["location"] == "/staff"
    cookies = set_cookies(response)
    session = cookies["__Host-kit_test_session"].lower()
    assert "httponly" in session and "secure" in session and "samesite=lax" in session
    assert "max-age=0" in cookies["__Host-kit_test_pre"].lower()
    assert client.get("/staff").text == "staff hal"
    again = client.get("/signin?next=/home")  # signed in already: straight on
    assert again.status_code == 303 and again.headers["location"] == "/home"


def test_the_signin_page_and_a_refusal(client: httpx.Client) -> None:
    page = client.get("/signin?next=/staff")
    assert page.status_code == 200 and 'name="next" value="/staff"' in page.text
    assert 'autocomplete="current-password"' in page.text and "autofocus" in page.text
    refused = sign_in(client, "hal", "wrong password")
    assert refused.status_code == 401 and 'role="alert"' in refused.text
    assert "Sign-in refused." in refused.text
    assert "__Host-kit_test_session" not in refused.headers.get("set-cookie", "")


def test_an_unsafe_next_page_is_replaced_by_home(client: httpx.Client) -> None:
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        token = token_in(client.get("/form"))
        data = {"name": "joe", "password": PASSWORD, "csrf_token": token, "next": target}
        answer = client.post("/signin", data=data)
        assert answer.status_code == 303 and answer.headers["location"] == "/home", target


def test_without_a_session_pages_redirect_to_signin_and_the_api_says_401(
    client: httpx.Client,
) -> None:
    page = client.get("/staff?x=1")
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=%2Fstaff%3Fx%3D1"
    assert client.post("/admin").status_code == 303


@pytest.mark.parametrize(
    ("name", "staff", "admin"), [("ada", 200, 200), ("hal", 200, 403), ("joe", 403, 403)]
)
def test_roles_are_checked_on_every_route(
    url: str, server: Server, name: str, staff: int, admin: int
) -> None:
    with new_client(url, server) as client:
        assert sign_in(client, name).status_code == 303
        home = client.get("/home")
        assert home.status_code == 200 and f"hello {name}" in home.text  # any signed-in account
        token = token_in(home)
        assert client.get("/staff").status_code == staff
        written = client.post("/admin", headers={"X-CSRF-Token": token})
        assert written.status_code == admin
        if admin == 403:
            assert "does not have the role this needs (admin)" in written.text
            assert "<h1>Not allowed</h1>" in written.text


def test_csrf_can_be_waived_per_dependency_and_is_not_asked_of_bearer_clients(
    client: httpx.Client, url: str, server: Server
) -> None:
    assert sign_in(client, "ada").status_code == 303
    assert client.post("/admin").status_code == 403
    assert client.post("/admin/no-csrf").status_code == 200
    with new_client(url, server, **{"X-Robot": ROBOT_KEY}) as robot:
        answer = robot.post("/admin")  # an ``authenticate`` hook's principal: no cookie
        assert answer.status_code == 200 and answer.text == "written by api:robot"


def test_signing_out_ends_the_session_for_good(
    client: httpx.Client, url: str, server: Server
) -> None:
    assert sign_in(client, "ada").status_code == 303
    stolen = dict(client.cookies)
    token = token_in(client.get("/home"))
    assert client.post("/signout").status_code == 403  # no CSRF token
    out = client.post("/signout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert "max-age=0" in set_cookies(out)["__Host-kit_test_session"].lower()
    with new_client(url, server) as thief:
        thief.cookies.update(stolen)
        assert thief.get("/home").status_code == 303


def test_a_new_sign_in_replaces_the_old_session(
    client: httpx.Client, url: str, server: Server
) -> None:
    assert sign_in(client, "ada").status_code == 303
    old = dict(client.cookies)
    assert sign_in(client, "hal").status_code == 303
    assert client.get("/staff").text == "staff hal"
    with new_client(url, server) as replay:
        replay.cookies.update(old)
        assert replay.get("/home").status_code == 303
