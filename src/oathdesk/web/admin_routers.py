"""The two routers of the admin area, shared by ``routes_admin`` and ``routes_settings``.

Why: both modules register their routes directly on these routers, so ``routes_admin.pages``
and ``routes_admin.router`` list every admin route as a plain ``APIRoute`` (no nested include
that a route listing would have to unfold).
"""

from __future__ import annotations

from fastapi import APIRouter

from oathdesk.web.routes_api import ERRORS, ErrorEnvelope

pages = APIRouter(include_in_schema=False)
router = APIRouter(
    prefix="/api/v1",
    tags=["admin"],
    responses={
        **ERRORS,
        400: {
            "model": ErrorEnvelope,
            "description": "Refused as sent, or Entra unreachable or refusing (graph.*).",
        },
        404: {"model": ErrorEnvelope, "description": "No such account (*.not_found)."},
        409: {"model": ErrorEnvelope, "description": "The account exists (account.exists)."},
    },
)
