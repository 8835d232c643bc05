"""Inventory use-case fixtures: both databases, a real HTTPS emulator (see fixtures.py)."""

from tests.service.fixtures import (
    cfg,
    db_url,
    emu,
    emu_session,
    inv,
    no_secret_anywhere,
    pg_database,
    watch_logs,
)

__all__ = [
    "cfg",
    "db_url",
    "emu",
    "emu_session",
    "inv",
    "no_secret_anywhere",
    "pg_database",
    "watch_logs",
]
