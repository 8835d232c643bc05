"""The delivery web application: ``create_delivery_app(delivery)`` returns a configured FastAPI app.

Why a second application: a token vendor (or a PKI team) runs it apart from any inventory
console, on its own host name. Like the console it keeps no module state, ships its templates
and static files in the package, sets a strict CSP, and turns every ``OathdeskError`` into
one readable page or one JSON envelope.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from oathdesk import __version__
from oathdesk.delivery import web_customer, web_review
from oathdesk.delivery.context import Delivery
from oathdesk.delivery.web_status import TITLES, status_for
from oathdesk.domain import OathdeskError

HERE = Path(__file__).parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
log = logging.getLogger("oathdesk.delivery.web")


def error_response(
    request: Request, status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    headers = {}
    if details and "retry_after" in details:
        headers["Retry-After"] = str(details["retry_after"])
    if request.url.path.startswith("/api/"):
        body = {"error": {"code": code, "message": message, "details": details or {}}}
        return JSONResponse(body, status_code=status, headers=headers)
    if code == "auth.required":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    templates: Jinja2Templates = request.app.state.templates
    context = {
        "principal": getattr(request.state, "principal", None),
        "title": TITLES.get(status, "Something is wrong"),
        "status": status,
        "code": code,
        "message": message,
    }
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers
    )


def _install_handlers(app: FastAPI) -> None:
    async def on_oathdesk(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OathdeskError)
        return error_response(request, status_for(exc.code), exc.code, exc.message, exc.details)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ())[1:]), "problem": err.get("msg")}
            for err in exc.errors()
        ]
        message = "; ".join(f"{p['field'] or 'request'}: {p['problem']}" for p in problems)
        return error_response(request, 422, "request.invalid", message, {"problems": problems})

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "http.not_found", 405: "http.method_not_allowed"}.get(
            exc.status_code, f"http.{exc.status_code}"
        )
        return error_response(request, exc.status_code, code, str(exc.detail))

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(
            request, 500, "internal", "an unexpected error happened; it was logged"
        )

    app.add_exception_handler(OathdeskError, on_oathdesk)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


def create_delivery_app(delivery: Delivery, *, owns_inventory: bool = False) -> FastAPI:
    """The customer wizard, download pages and the team's review queue over ``delivery``."""

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
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["app_title"] = delivery.settings.title
    templates.env.globals["version"] = __version__
    app.state.delivery = delivery
    app.state.templates = templates

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"  # links carry their token
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        if delivery.settings.secure_cookies:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    _install_handlers(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (web_customer, web_review):
        app.include_router(module.pages)
        app.include_router(module.router)
    return app
