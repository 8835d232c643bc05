"""One place where failures become answers: JSON ``{"error": {code, message, details}}`` under
``/api/``, a readable HTML page (or a redirect to sign-in) everywhere else.

Why: routes raise ``OathdeskError`` and never build error responses themselves, so every answer
has the same shape and the same status for the same code in both apps, ``Retry-After`` goes
with every error whose details say when to retry, and no traceback ever reaches a user.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match

from oathdesk.domain import OathdeskError
from oathdesk.domain.wording import clause, sentence
from oathdesk.http.status import status_for, title_for

log = logging.getLogger("oathdesk.http")
ERROR_PAGE = "kit/error.html"
HTTP_CODES = {404: "http.not_found", 405: "http.method_not_allowed"}
HTTP_MESSAGES = {
    404: "There is no page at this address.",
    405: "This address does not accept that method.",
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def retry_headers(details: Mapping[str, Any] | None) -> dict[str, str]:
    """``Retry-After`` when ``details`` carry ``retry_after`` (seconds), else nothing."""
    if details and "retry_after" in details:
        return {"Retry-After": str(details["retry_after"])}
    return {}


def error_response(
    request: Request,
    templates: Jinja2Templates,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> Response:
    headers = retry_headers(details)
    message = sentence(message)  # whatever made it, people read one sentence
    if is_api(request):
        body = {"error": {"code": code, "message": message, "details": details or {}}}
        return JSONResponse(body, status_code=status, headers=headers)
    if code == "auth.required":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    context = {
        "principal": getattr(request.state, "principal", None),
        "title": title_for(status),
        "status": status,
        "code": code,
        "message": message,
    }
    return templates.TemplateResponse(
        request, ERROR_PAGE, context, status_code=status, headers=headers
    )


def bad_json(request: Request, templates: Jinja2Templates, error: Mapping[str, Any]) -> Response:
    """400 ``request.bad_json``: the body does not parse, with the parser's reason and where."""
    loc = error.get("loc", ())
    # the parser counts from 0; people (and editors) count characters from 1
    position = loc[1] + 1 if len(loc) > 1 and isinstance(loc[1], int) else None
    reason = str((error.get("ctx") or {}).get("error", "it does not parse")).rstrip(".")
    where = f" at character {position}" if position is not None else ""
    message = f"The request body is not valid JSON: {clause(reason)}{where}."
    details = {"position": position} if position is not None else None
    return error_response(request, templates, 400, "request.bad_json", message, details)


def page_above(request: Request) -> str | None:
    """The nearest page above a form's address (``/tokens/SN/activate`` -> ``/tokens/SN``,
    ``/settings/connection-check`` -> ``/settings``) that answers ``GET``, or None."""
    path = request.url.path.rstrip("/")
    while "/" in path:
        path = path.rsplit("/", 1)[0] or "/"
        scope = {**request.scope, "path": path, "method": "GET"}
        for route in request.app.routes:
            if isinstance(route, BaseRoute) and route.matches(scope)[0] is Match.FULL:
                return path
        if path == "/":
            return None
    return None


def install_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    async def on_oathdesk(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OathdeskError)
        return error_response(
            request, templates, status_for(exc.code), exc.code, exc.message, exc.details
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        broken = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if broken is not None:  # its location is a character position, not a field
            return bad_json(request, templates, broken)
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ())[1:]), "problem": err.get("msg")}
            for err in exc.errors()
        ]
        said = "; ".join(f"{p['field'] or 'body'}: {clause(str(p['problem']))}" for p in problems)
        message = f"The request is not valid: {said}."
        return error_response(
            request, templates, 422, "request.invalid", message, {"problems": problems}
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        if status == 405 and request.method == "GET" and not is_api(request):
            above = page_above(request)  # a form's address reloaded or opened in a new tab
            if above is not None:
                return RedirectResponse(above, status_code=303)
        code = HTTP_CODES.get(status, f"http.{status}")
        message = HTTP_MESSAGES.get(status) or sentence(str(exc.detail))
        return error_response(request, templates, status, code, message)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(
            request,
            templates,
            500,
            "internal",
            "An unexpected error happened; it was logged, please tell your administrator.",
        )

    app.add_exception_handler(OathdeskError, on_oathdesk)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
