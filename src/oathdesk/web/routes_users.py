"""Entra users: search, their tokens, assign and activate, replace (being built)."""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["users"])
