"""Error answers (the JSON envelope under /api/, a page elsewhere, sign-in for auth.required,
Retry-After whenever the error says when to retry), the status table, and security headers."""

from __future__ import annotations

import httpx
import pytest

from oathdesk.domain import http_status
from oathdesk.http import status_for


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("auth.required", 401),
        ("auth.csrf", 403),
        ("auth.throttled", 429),
        ("store.unreachable", 503),
        ("selfservice.not_claimable", 404),
        ("delivery.link_gone", 410),
        ("delivery.order_not_found", 404),
        ("inventory.not_found", 404),
        ("account.forbidden", 403),
        ("selfservice.rate_limited", 429),
        ("api_token.exists", 409),
        ("service.no_stock", 404),
        ("inventory.serial_conflict", 409),
        ("seed.invalid", 400),
    ],
)
def test_status_of_each_code(code: str, status: int) -> None:
    assert status_for(code) == http_status(code) == status


def test_the_api_answers_the_envelope(client: httpx.Client) -> None:
    answer = client.get("/api/fail/inventory.not_found")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": {
            "code": "inventory.not_found",
            "message": "It went wrong on purpose.",
            "details": {},
        }
    }
    unknown = client.get("/api/nowhere")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "http.not_found"
    required = client.get("/api/fail/auth.required")  # no redirect for automation
    assert required.status_code == 401 and required.json()["error"]["code"] == "auth.required"


def test_pages_answer_a_readable_page(client: httpx.Client) -> None:
    page = client.get("/fail/inventory.not_found")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text and "It went wrong on purpose." in page.text
    assert "<code>inventory.not_found</code> (HTTP 404)" in page.text
    shown, hidden = page.text.split("<details>", 1)
    assert "inventory.not_found" not in shown and "<summary>Details</summary>" in hidden
    assert "<nav>menu</nav>" not in page.text  # nobody signed in: no app menu
    assert '/static/t.css"' in page.text  # the app's own base and assets
    unknown = client.get("/nowhere")
    assert unknown.status_code == 404 and "There is no page at this address." in unknown.text
    required = client.get("/fail/auth.required")
    assert required.status_code == 303
    assert required.headers["location"] == "/signin?next=%2Ffail%2Fauth.required"


def test_a_crash_is_a_500_without_details(client: httpx.Client) -> None:
    page = client.get("/crash")
    assert page.status_code == 500 and "do-not-show" not in page.text
    assert "An unexpected error happened" in page.text


@pytest.mark.parametrize("path", ["/api/fail/store.busy", "/fail/store.busy", "/form"])
def test_retry_after_goes_with_any_error_that_says_when(client: httpx.Client, path: str) -> None:
    """Not only on 429: a 503 ``store.busy`` that knows its wait says it too, in both the API
    and pages, and a form shown again with such an error as well."""
    query = "?code=store.busy&retry=7" if path == "/form" else "?retry=7"
    answer = client.get(path + query)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "7"
    without = client.get(path + ("?code=store.busy" if path == "/form" else ""))
    assert without.status_code == 503 and "retry-after" not in without.headers


def test_a_form_shown_again_has_the_status_of_its_error(client: httpx.Client) -> None:
    shown = client.get("/form?code=auth.throttled&retry=30")
    assert shown.status_code == 429 and shown.headers["retry-after"] == "30"
    assert 'role="alert"' in shown.text and "It went wrong on purpose." in shown.text
    assert client.get("/form").status_code == 200


def test_security_headers_on_every_answer(client: httpx.Client) -> None:
    for path in ("/signin", "/nowhere", "/api/fail/auth.csrf"):
        answer = client.get(path)
        headers = answer.headers
        assert headers["content-security-policy"].startswith("default-src 'self'"), path
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"  # this app's choice
        assert headers["cache-control"] == "no-store"
        assert headers["strict-transport-security"] == "max-age=31536000"
    assert client.get("/form").headers["content-security-policy"] == "default-src 'none'"
    static = client.get("/static/t.css")
    assert static.status_code == 200 and "cache-control" not in static.headers
    assert static.headers["x-content-type-options"] == "nosniff"
