"""The two routers of the admin area, shared by ``routes_admin`` and ``routes_settings``.

Why: both modules register their routes directly on these routers, so ``routes_admin.pages``
and ``routes_admin.router`` list every admin route as a plain ``APIRoute`` (no nested include
that a route listing would have to unfold).
"""

from __future__ import annotations

from fastapi import APIRouter

from oathdesk.web.routes_api import ERRORS

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["admin"], responses=ERRORS)
