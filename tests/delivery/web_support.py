"""Steps of the delivery web app as an HTTP client takes them (real TLS uvicorn)."""

from __future__ import annotations

import re

import httpx

from tests.delivery import support
from tests.web.conftest import CSRF_RE, PASSWORD

SHIP_RE = re.compile(r'name="pick" value="(\d+)"')


def token_of(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF_RE.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def team_sign_in(client: httpx.Client, name: str) -> httpx.Client:
    token = token_of(client, "/signin")
    answer = client.post(
        "/signin", data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/review"}
    )
    assert answer.status_code == 303, answer.text
    return client


def session_csrf(client: httpx.Client) -> str:
    return token_of(client, "/review")


def find(
    client: httpx.Client, number: str = "PO-1001", email: str = "it@contoso.example"
) -> httpx.Response:
    token = token_of(client, "/order")
    return client.post("/order", data={"number": number, "email": email, "csrf_token": token})


def verify_all(client: httpx.Client) -> dict[str, int]:
    page = client.get("/order/shipments")
    assert page.status_code == 200, page.text
    ids = [int(i) for i in SHIP_RE.findall(page.text)]
    assert len(ids) == 2
    numbers = dict(zip(("SH-1", "SH-2"), ids, strict=True))
    token = CSRF_RE.search(page.text)
    assert token
    data: dict[str, str | list[str]] = {
        "csrf_token": token.group(1),
        "pick": [str(i) for i in ids],
        **{f"serial_{numbers[n]}": support.SHIPMENTS[n][0] for n in numbers},
    }
    answer = client.post("/order/shipments", data=data)
    assert answer.status_code == 303 and answer.headers["location"] == "/order/options", answer.text
    return numbers


def ask(client: httpx.Client, **fields: str) -> httpx.Response:
    token = token_of(client, "/order/options")
    data = {
        "csrf_token": token,
        "packaging": "combined",
        "format": "entra-csv",
        "encryption": "password",
        "password": support.STRONG,
        "password_again": support.STRONG,
        **fields,
    }
    return client.post("/order/options", data=data, files={"pgp_key_file": ("", b"")})


def session_csrf_of(client: httpx.Client) -> str:
    """The session's CSRF token for an account without the team role (from the sign-out form
    of the 403 page it gets)."""
    page = client.get("/review")
    assert page.status_code == 403
    found = CSRF_RE.search(page.text)
    assert found, "no sign-out form on the refusal page"
    return found.group(1)
