"""What the kit needs to know about one app, kept on ``app.state.site``, and the one call that
puts the kit's pieces (error handlers, security headers, the shared stylesheet) on an app.

Why: the kit's dependencies and handlers run per request without module state, so each app
factory builds a :class:`Site` from its own settings and the kit reads it from the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from oathdesk.http.cookies import CookiePolicy
from oathdesk.http.errors import install_handlers
from oathdesk.http.head import HeadAsGet
from oathdesk.http.headers import SecurityHeaders, install_security_headers
from oathdesk.http.principal import Principal
from oathdesk.service import Inventory
from oathdesk.service.accounts import ThrottlePolicy

KIT_STATIC = Path(__file__).parent / "static"

Authenticate = Callable[[Request], Principal | None]


@dataclass(frozen=True)
class Site:
    """One app: its inventory (accounts and sessions), its cookies, its sign-in throttle
    (None: the service's default), and an optional ``authenticate`` tried before the session
    cookie (the console's API tokens): it returns None when the request carries no such
    credential, and raises when the credential is bad."""

    inventory: Inventory
    cookies: CookiePolicy
    throttle: ThrottlePolicy | None = None
    authenticate: Authenticate | None = None


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def install(app: FastAPI, site: Site, templates: Jinja2Templates, headers: SecurityHeaders) -> None:
    """Keep ``site`` and ``templates`` on the app; add the error handlers and headers, and serve
    the shared stylesheet (``static/oathdesk.css``) under ``/static/kit/`` (mounted before the
    app's own ``/static``, so it wins for that prefix)."""
    app.state.site = site
    app.state.templates = templates
    install_handlers(app, templates)
    install_security_headers(app, headers)
    app.add_middleware(HeadAsGet)
    app.mount("/static/kit", StaticFiles(directory=KIT_STATIC), name="kit-static")
