"""Role checks on the server for every page and API route, signed out and as every role."""

from __future__ import annotations

import importlib

import httpx
import pytest
from fastapi.routing import APIRoute

from oathdesk.service import Inventory
from oathdesk.web import WebSettings, create_app
from tests.web.conftest import Server, app_routes, new_client, signed_in

STAFF = {"ada", "hal", "aud"}
EVERYONE = {"ada", "hal", "aud", "joe"}
# (method, path, who may, page or api)
ROUTES = [
    ("GET", "/dashboard", STAFF, "page"),
    ("GET", "/inventory", STAFF, "page"),
    ("GET", "/inventory/export", STAFF, "page"),
    ("GET", "/settings/accounts", {"ada"}, "page"),
    ("GET", "/import", {"ada"}, "page"),
    ("GET", "/me", EVERYONE, "page"),
    ("GET", "/api/v1/me", EVERYONE, "api"),
    ("GET", "/api/v1/dashboard", STAFF, "api"),
    ("GET", "/api/v1/tokens", STAFF, "api"),
    ("GET", "/api/v1/exports/tokens", STAFF, "api"),
    ("GET", "/api/v1/accounts", {"ada"}, "api"),
]
WHO = ["ada", "hal", "aud", "joe"]


@pytest.fixture
def clients(
    app_url: str, server: Server, accounts: dict[str, list[str]]
) -> dict[str, httpx.Client]:
    made = {name: signed_in(new_client(app_url, server), name) for name in WHO}
    made["anonymous"] = new_client(app_url, server)
    return made


def test_every_route_is_guarded_for_every_role(clients: dict[str, httpx.Client]) -> None:
    try:
        for method, path, allowed, kind in ROUTES:
            for who, client in clients.items():
                response = client.request(method, path)
                where = f"{who} {method} {path}"
                if who == "anonymous":
                    if kind == "page":
                        assert response.status_code == 303, where
                        assert response.headers["location"].startswith("/signin?next="), where
                    else:
                        assert response.status_code == 401, where
                        assert response.json()["error"]["code"] == "auth.required", where
                elif who in allowed:
                    assert response.status_code == 200, where
                elif kind == "page":
                    assert response.status_code == 403, where
                    assert "Your account does not have the role this needs" in response.text
                    assert "<h1>Not allowed</h1>" in response.text
                else:
                    assert response.status_code == 403, where
                    error = response.json()["error"]
                    assert error["code"] == "auth.forbidden", where
                    assert set(error) == {"code", "message", "details"}
    finally:
        for client in clients.values():
            client.close()


def test_navigation_offers_only_what_the_role_may_open(clients: dict[str, httpx.Client]) -> None:
    try:
        admin = clients["ada"].get("/dashboard").text
        helpdesk = clients["hal"].get("/dashboard").text
        assert 'href="/settings"' in admin
        assert 'href="/settings"' not in helpdesk
        auditor = clients["aud"].get("/dashboard").text
        assert 'href="/users"' in helpdesk and 'href="/users"' not in auditor
        assert 'href="/audit"' in auditor and 'href="/audit"' not in helpdesk
        assert 'href="/inventory"' in helpdesk
    finally:
        for client in clients.values():
            client.close()


# Each area's test module lists the routes it checks for allowed and refused roles (COVERED).
AREAS = (
    "tests.web.test_tokens",
    "tests.web.test_users",
    "tests.web.test_admin_pages",
    "tests.web.test_selfservice",
    "tests.web.test_oidc",
    "tests.web.test_api_tokens",
    "tests.web.test_reports",
    "tests.web.test_handout_pages",
)


def test_the_role_matrix_covers_every_route_the_app_has(
    inv: Inventory, settings: WebSettings
) -> None:
    app = create_app(inv, settings)
    paths = {
        (method, route.path)
        for route in app_routes(app)
        if isinstance(route, APIRoute)
        for method in route.methods or set()
    }
    open_routes = {("GET", "/"), ("GET", "/signin"), ("POST", "/signin")}
    open_routes |= {("GET", "/api/docs"), ("HEAD", "/api/docs")}  # test_api_docs_browser
    writes = {("POST", "/signout"), ("DELETE", "/api/v1/session")}  # tested in test_csrf
    imports = {  # writes and per-job routes: every role and CSRF tested in test_import
        ("POST", "/import/preview"),
        ("POST", "/import/confirm"),
        ("GET", "/import/jobs/{job_id}"),
        ("POST", "/api/v1/imports"),
        ("GET", "/api/v1/import/jobs/{job_id}"),
    }
    covered: set[tuple[str, str]] = {(m, p) for m, p, _, _ in ROUTES} | open_routes | writes
    covered |= imports
    # probes and metrics: open by design (metrics by network and token), tested in
    # test_operations; the hand-out API: admin only, refusals tested in test_handout_api
    covered |= {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
    covered |= {("POST", "/api/v1/handouts"), ("GET", "/api/v1/handouts/{job_id}")}
    for name in AREAS:
        area: set[tuple[str, str]] = importlib.import_module(name).COVERED
        assert area, name
        covered |= area
    assert paths - covered == set(), "routes no role test covers"
