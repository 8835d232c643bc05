"""Self-service: my tokens; enroll by serial, name and code; rename; report lost (being built)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from oathdesk.web.routes_pages import render
from oathdesk.web.security import SignedIn

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["self-service"])


@pages.get("/me")
def me_page(request: Request, principal: SignedIn) -> Response:
    return render(request, "me.html", principal, title="My account")
