"""The delivery web application: ``create_delivery_app(delivery)`` returns a configured FastAPI app.

Why a second application: a token vendor (or a PKI team) runs it apart from any inventory
console, on its own host name. It is built with the same HTTP kit as the console (error
answers, security headers, cookies, CSRF, sign-in), with values of its own: its cookie names,
its title, and ``Referrer-Policy: no-referrer`` because its links carry their token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from oathdesk import __version__
from oathdesk.delivery import web_customer, web_review
from oathdesk.delivery.context import Delivery
from oathdesk.http import CookiePolicy, SecurityHeaders, Site, install, make_templates
from oathdesk.http.operations import Operations, install_operations

HERE = Path(__file__).parent
ASSETS = ("delivery.css", "delivery.js")  # in static/


def create_delivery_app(
    delivery: Delivery, *, owns_inventory: bool = False, operations: Operations | None = None
) -> FastAPI:
    """The customer wizard, download pages and the team's review queue over ``delivery``;
    ``operations`` says who may read ``/metrics`` (loopback only by default)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_inventory:
            delivery.inv.close()

    app = FastAPI(
        title="oathdesk seed delivery",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    settings = delivery.settings
    app.state.delivery = delivery
    install(
        app,
        # __Host-oathdesk_delivery_* cookies: apart from the console's even on one host
        Site(inventory=delivery.inv, cookies=CookiePolicy.of(settings, "oathdesk.delivery")),
        make_templates(HERE / "templates", title=settings.title, assets=ASSETS),
        SecurityHeaders(referrer="no-referrer", hsts=settings.secure_cookies),
    )
    install_operations(app, delivery.inv, name="delivery", operations=operations)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (web_customer, web_review):
        app.include_router(module.pages)
        app.include_router(module.router)
    return app
