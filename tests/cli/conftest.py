"""CLI fixtures: the real HTTPS emulator of the inventory tests (see tests/service/fixtures.py; it
starts only when a test asks for it), over both databases (``db_url`` from tests/backends.py)."""

from tests.service.fixtures import (
    cfg,
    emu,
    emu_session,
    inv,
    no_secret_anywhere,
    watch_logs,
)

__all__ = [
    "cfg",
    "emu",
    "emu_session",
    "inv",
    "no_secret_anywhere",
    "watch_logs",
]
