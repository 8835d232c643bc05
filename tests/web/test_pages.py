"""The dashboard and inventory pages and their API twins show the same real data."""

from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute

from oathdesk.service import Inventory, inventory_report
from oathdesk.web import WebSettings, create_app
from oathdesk.web.api_docs import DOCS
from tests.web.conftest import add_tokens, app_routes, signed_in

SERIALS = [f"TK{i:04d}" for i in range(1, 61)]


@pytest.fixture
def stocked(inv: Inventory, accounts: dict[str, list[str]]) -> Inventory:
    add_tokens(
        inv,
        SERIALS,
        states={
            "available": SERIALS[40:50],
            "assigned": SERIALS[50:55],
            "activated": SERIALS[55:],
        },
    )
    return inv


def test_dashboard_counts_match_the_report_on_page_and_api(
    client: httpx.Client, stocked: Inventory
) -> None:
    signed_in(client, "aud")
    api = client.get("/api/v1/dashboard").json()
    expected = inventory_report(stocked)["by_state"]
    assert api["by_state"] == expected
    assert api["by_state"]["in_stock"] == 40
    assert api["by_state"]["activated"] == 5
    assert api["total"] == 60
    assert api["stock"]["count"] == 50
    assert [a["code"] for a in api["alerts"]] == []  # 50 in stock: no low-stock alert
    page = client.get("/dashboard").text
    assert '<a href="/inventory?state=in_stock">in_stock</a></th><td class="num">40</td>' in page
    assert '<dd id="stock-count">50</dd>' in page
    assert 'role="img"' in page and '<title id="chart-title">' in page
    assert 'width="360" height="20" class="bar bar-in_stock"' in page  # the longest bar


def test_low_stock_raises_an_alert(
    client: httpx.Client, inv: Inventory, accounts: dict[str, list[str]]
) -> None:
    add_tokens(inv, ["A1", "A2", "A3"], states={"activated": ["A3"]})
    signed_in(client, "ada")
    alerts = client.get("/api/v1/dashboard").json()["alerts"]
    assert [(a["code"], a["count"]) for a in alerts] == [("low_stock", 2)]
    assert "Only 2 token(s) left in stock" in client.get("/dashboard").text


def test_inventory_filters_sorts_and_pages_with_a_cursor(
    client: httpx.Client, stocked: Inventory
) -> None:
    signed_in(client, "hal")
    first = client.get("/api/v1/tokens", params={"limit": 25}).json()
    assert first["total"] == 60
    assert [t["serial"] for t in first["items"]] == SERIALS[:25]
    second = client.get("/api/v1/tokens", params={"limit": 25, "cursor": first["next_cursor"]})
    assert [t["serial"] for t in second.json()["items"]] == SERIALS[25:50]
    states = client.get(
        "/api/v1/tokens",
        params=[("state", "assigned"), ("state", "activated"), ("sort", "-serial")],
    ).json()
    assert [t["serial"] for t in states["items"]] == SERIALS[50:][::-1]
    assert states["total"] == 10
    prefix = client.get("/api/v1/tokens", params={"q": "TK005"}).json()
    assert [t["serial"] for t in prefix["items"]] == [f"TK005{d}" for d in range(10)]
    user = client.get("/api/v1/tokens", params={"user": "user-tk0056@contoso.com"}).json()
    assert [t["serial"] for t in user["items"]] == ["TK0056"]
    assert all("sealed" not in key and "secret" not in key for key in first["items"][0])


def test_inventory_page_renders_the_same_page_and_links_the_next(
    client: httpx.Client, stocked: Inventory
) -> None:
    signed_in(client, "hal")
    page = client.get("/inventory", params={"limit": 25, "state": "in_stock"})
    assert page.status_code == 200
    assert "40 token(s) match." in page.text
    assert page.text.count("<code>TK") == 25
    assert '<input type="checkbox" name="state" value="in_stock" checked>' in page.text
    next_link = page.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "cursor=" in next_link and "state=in_stock" in next_link
    nxt = client.get(next_link.replace("&amp;", "&"))
    assert nxt.text.count("<code>TK") == 15
    assert "<code>TK0026</code>" in nxt.text and "First page" in nxt.text
    assert 'rel="next"' not in nxt.text


def test_bad_parameters_get_readable_errors_in_the_envelope(
    client: httpx.Client, stocked: Inventory
) -> None:
    signed_in(client, "ada")
    bad_state = client.get("/api/v1/tokens", params={"state": "stolen"})
    assert bad_state.status_code == 422
    error = bad_state.json()["error"]
    assert error["code"] == "request.invalid"
    assert error["message"].startswith("The request is not valid: state")
    assert error["message"].endswith(".")
    bad_cursor = client.get("/api/v1/tokens", params={"cursor": "not-a-cursor"})
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["error"]["code"] == "inventory.bad_cursor"
    page = client.get("/inventory", params={"limit": 5000})
    assert page.status_code == 422
    assert "<h1>Check the form</h1>" in page.text
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "http.not_found"
    assert "There is no page at this address." in client.get("/nothing-here").text


def test_openapi_documents_the_api_and_hides_the_pages(
    client: httpx.Client, inv: Inventory, settings: WebSettings
) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    api_routes = {
        route.path
        for route in app_routes(create_app(inv, settings))
        if isinstance(route, APIRoute) and route.path.startswith("/api/") and route.path != DOCS
    }
    # every API route is described, and nothing else: no page ever appears in the API
    assert set(spec["paths"]) == api_routes
    assert {
        "/api/v1/me",
        "/api/v1/session",
        "/api/v1/dashboard",
        "/api/v1/tokens",
        "/api/v1/exports/tokens",
        "/api/v1/accounts",
        "/api/v1/imports",
        "/api/v1/import/jobs/{job_id}",
    } <= api_routes
    tokens = spec["paths"]["/api/v1/tokens"]["get"]
    assert {p["name"] for p in tokens["parameters"]} == {
        "q",
        "state",
        "user",
        "name",
        "model",
        "manufacturer",
        "batch",
        "entra",
        "sort",
        "dir",
        "limit",
        "cursor",
    }
    assert "403" in tokens["responses"]


def test_every_page_carries_the_security_headers(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    for response in (client.get("/signin"), signed_in(client, "ada").get("/dashboard")):
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["strict-transport-security"].startswith("max-age=")
    assert client.get("/static/app.css").status_code == 200
    css = client.get("/static/kit/oathdesk.css")  # the design system both apps share
    assert css.status_code == 200 and ":focus-visible" in css.text
    assert "cache-control" not in css.headers  # a static file may be cached


def test_a_body_that_is_not_json_is_named_as_such_not_as_a_field(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    signed_in(client, "ada")
    csrf = {"X-CSRF-Token": client.get("/api/v1/me").json()["csrf_token"]}
    broken = client.post(
        "/api/v1/tokens/bulk",
        content=b'{"action": "retire",, "serials": []}',
        headers={**csrf, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400, broken.text
    error = broken.json()["error"]
    assert error["code"] == "request.bad_json"
    assert "not valid JSON" in error["message"] and "at character 21" in error["message"]
    assert error["details"] == {"position": 21}
    # a body that parses but breaks a field still names the field
    wrong = client.post("/api/v1/tokens/bulk", json={"action": 5, "serials": []}, headers=csrf)
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"]["problems"][0]["field"] == "action"


def test_a_form_address_opened_with_get_leads_to_its_page_not_a_405(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    """Reloading a form's result by its address (or opening it in a new tab) sends ``GET`` to a
    ``POST``-only route: the browser is sent to the page above it instead of a 405."""
    signed_in(client, "ada")
    for form, page in (
        ("/settings/connection-check", "/settings"),
        ("/tokens/SN-1/activate", "/tokens/SN-1"),
        ("/settings/accounts/hal/roles", "/settings/accounts"),
        ("/inventory/bulk", "/inventory"),
    ):
        answer = client.get(form)
        assert (answer.status_code, answer.headers.get("location")) == (303, page), form
    api = client.get("/api/v1/settings/connection-check")
    assert api.status_code == 405 and api.json()["error"]["code"] == "http.method_not_allowed"
    assert client.delete("/settings").status_code == 405  # only GET is redirected


def test_a_delivery_only_account_is_not_offered_console_pages_it_cannot_open(
    client: httpx.Client, inv: Inventory
) -> None:
    """The nav showed Dashboard, Inventory and API to an account whose only role is
    ``delivery``; each answered 403. It now shows only what the account may open."""
    from oathdesk.domain import Secret
    from oathdesk.service.accounts import create_account
    from tests.web.conftest import PASSWORD

    create_account(inv, "dora", Secret(PASSWORD.encode()), ["delivery"], actor="test")
    signed_in(client, "dora")
    page = client.get("/me")
    assert page.status_code == 200
    nav = page.text.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    for hidden in ('href="/dashboard"', 'href="/inventory"', 'href="/api/docs"'):
        assert hidden not in nav, hidden
    assert 'href="/me"' in nav
    assert client.get("/dashboard").status_code == 403
