"""CLI fixtures: both databases and the real HTTPS emulator of the inventory tests (see
tests/service/fixtures.py; the emulator starts only when a test asks for it)."""

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
