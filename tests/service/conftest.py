"""Inventory use-case fixtures (see fixtures.py): a real HTTPS emulator, over both databases
(``db_url`` from tests/backends.py)."""

from tests.service.fixtures import (
    cfg,
    emu,
    emu_session,
    inv,
    no_secret_anywhere,
    switched,
    watch_logs,
)

__all__ = [
    "cfg",
    "emu",
    "emu_session",
    "inv",
    "no_secret_anywhere",
    "switched",
    "watch_logs",
]
