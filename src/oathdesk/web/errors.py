"""One place where failures become answers: JSON ``{"error": {code, message, details}}`` under
``/api/``, a readable HTML page (or a redirect to sign-in) everywhere else.

Why: routes raise ``OathdeskError`` and never build error responses themselves, so every answer
has the same shape and the same status for the same code, and no traceback ever reaches a user.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from oathdesk.domain import OathdeskError

log = logging.getLogger("oathdesk.web")

STATUS = {
    "auth.required": 401,
    "auth.invalid_credentials": 401,
    "auth.forbidden": 403,
    "auth.csrf": 403,
    "auth.throttled": 429,
    "store.busy": 503,
    "store.unreachable": 503,
    "service.not_migrated": 503,
    "request.invalid": 422,
    "selfservice.not_claimable": 404,  # unknown and not-yours alike: serials cannot be probed
    "graph.conflict": 409,
    "graph.unavailable": 503,
    "graph.outcome_unknown": 503,
}
TITLES = {
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    422: "Check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Try again shortly",
}


def status_for(code: str) -> int:
    if code in STATUS:
        return STATUS[code]
    if code.endswith(".not_found"):
        return 404
    if code.endswith((".forbidden", ".not_yours")):
        return 403
    if code.endswith((".throttled", ".rate_limited")):
        return 429
    if code.endswith((".state_conflict", ".concurrent_change", ".exists", ".serial_conflict")):
        return 409
    return 400


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request,
    templates: Jinja2Templates,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> Response:
    headers = {}
    if status == 429 and details and "retry_after" in details:
        headers["Retry-After"] = str(details["retry_after"])
    if is_api(request):
        body = {"error": {"code": code, "message": message, "details": details or {}}}
        return JSONResponse(body, status_code=status, headers=headers)
    if code == "auth.required":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    context = {
        "principal": getattr(request.state, "principal", None),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "message": message,
    }
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers
    )


def install_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    async def on_oathdesk(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OathdeskError)
        return error_response(
            request, templates, status_for(exc.code), exc.code, exc.message, exc.details
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ())[1:]), "problem": err.get("msg")}
            for err in exc.errors()
        ]
        message = "; ".join(f"{p['field'] or 'request'}: {p['problem']}" for p in problems)
        return error_response(
            request, templates, 422, "request.invalid", message, {"problems": problems}
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "http.not_found", 405: "http.method_not_allowed"}.get(
            exc.status_code, f"http.{exc.status_code}"
        )
        message = {
            404: "there is no page at this address",
            405: "this address does not accept that method",
        }.get(exc.status_code, str(exc.detail))
        return error_response(request, templates, exc.status_code, code, message)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(
            request,
            templates,
            500,
            "internal",
            "an unexpected error happened; it was logged, please tell your administrator",
        )

    app.add_exception_handler(OathdeskError, on_oathdesk)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
