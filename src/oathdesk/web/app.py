"""Build the web console: ``create_app(inventory, settings)`` returns a configured FastAPI app.

Why: no module-level state, so tests, ``oathdesk serve`` and (later) ``oathdesk demo`` each make
their own app over their own inventory; templates and static files ship inside the package, and
every response carries headers that keep the pages from being framed, sniffed or cached.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from oathdesk import __version__
from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.http import CSP, SecurityHeaders, Site, install, make_templates
from oathdesk.http.operations import Operations, install_operations
from oathdesk.service import Inventory
from oathdesk.service.handout import HandoutSettings
from oathdesk.web import (
    routes_admin,
    routes_api,
    routes_api_handout,
    routes_api_tokens,
    routes_auth,
    routes_handout,
    routes_import,
    routes_oidc,
    routes_pages,
    routes_reports,
    routes_self,
    routes_tokens,
    routes_users,
)
from oathdesk.web.api_docs import CSP_DOCS, DOCS, install_api_docs
from oathdesk.web.security import bearer_principal, cookie_policy
from oathdesk.web.settings import WebSettings

HERE = Path(__file__).parent
ASSETS = ("app.css", "app.js")  # in static/
OPENAPI = "/api/v1/openapi.json"


def create_app(
    inventory: Inventory,
    settings: WebSettings,
    *,
    owns_inventory: bool = False,
    operations: Operations | None = None,
) -> FastAPI:
    """The console and its API over ``inventory``; ``owns_inventory`` closes it on shutdown;
    ``operations`` says who may read ``/metrics`` (loopback only by default)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_inventory:
            inventory.close()

    app = FastAPI(
        title="oathdesk",
        version=__version__,
        description="Hardware OATH token management for Microsoft Entra ID: the REST API. "
        "Browser sessions send the CSRF token (GET /api/v1/me) in the X-CSRF-Token header "
        "on every write.",
        docs_url=None,  # served by api_docs from the installed packages, not a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url=OPENAPI,
        lifespan=lifespan,
    )
    templates = make_templates(HERE / "templates", title=settings.title, assets=ASSETS)
    app.state.inventory = inventory
    app.state.settings = settings
    site = Site(
        inventory=inventory,
        cookies=cookie_policy(settings),
        throttle=settings.throttle,
        authenticate=bearer_principal,
    )
    headers = SecurityHeaders(csp=CSP, csp_by_path={DOCS: CSP_DOCS}, hsts=settings.secure_cookies)
    install(app, site, templates, headers)
    install_operations(app, inventory, name="console", operations=operations)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    install_api_docs(app, openapi_url=OPENAPI, title=settings.title)
    app.include_router(routes_auth.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_api.router)
    app.include_router(routes_api_handout.router)
    app.include_router(routes_import.pages)
    app.include_router(routes_import.router)
    app.include_router(routes_handout.pages)
    app.include_router(routes_api_tokens.pages)
    app.include_router(routes_reports.router)
    for module in (routes_tokens, routes_users, routes_admin, routes_self, routes_oidc):
        app.include_router(module.pages)
        app.include_router(module.router)
    return app


def create_app_from_config(config: Config) -> FastAPI:
    """The app ``oathdesk serve`` runs: the configured inventory (schema checked) and settings."""
    settings = WebSettings.from_config(config)
    ops = Operations.from_config(config)  # a bad [metrics] value stops before the database
    inventory = build_inventory(config)
    try:
        inventory.check_schema()
    except BaseException:
        inventory.close()
        raise
    app = create_app(inventory, settings, owns_inventory=True, operations=ops)
    app.state.gpg_home = config.gpg_home  # offered on the import page when set
    app.state.handout = HandoutSettings.from_config(config)  # the hand-out page's [handout]
    return app
