"""Sign-in with Entra ID (OIDC authorization code with PKCE) and API tokens (being built)."""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["auth"])
