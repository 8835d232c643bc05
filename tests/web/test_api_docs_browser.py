"""The API docs page works with no network: chromium, with every request off the console's own
origin refused, renders Swagger UI with our operations, reached from the console's navigation.

Before the docs were served from the installed packages, the page loaded Swagger UI from a CDN
and stayed blank offline.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, expect

from oathdesk.service import Inventory
from tests.web.conftest import PASSWORD


def test_api_docs_render_offline_from_the_console_navigation(
    page: Page, inv: Inventory, accounts: dict[str, list[str]], app_url: str, artifacts: Path
) -> None:
    origin = urlsplit(app_url).netloc
    refused: list[str] = []

    def only_our_origin(route: Route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_our_origin)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto("/dashboard")
    page.get_by_label("Account name").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url("/dashboard")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="API docs", exact=True
    ).click()
    expect(page).to_have_url("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("oathdesk")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.locator(".opblock-summary-path[data-path^='/api/v1/']").count() > 5
    page.screenshot(path=artifacts / "api-docs.png", full_page=False)

    assert refused == [], f"the docs page asked for outside resources: {refused}"
    assert errors == [], errors
