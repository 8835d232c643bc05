"""Token detail and lifecycle actions: pages and their ``/api/v1`` twins (being built)."""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["tokens"])
