"""CLI fixtures: the real HTTPS emulator of the inventory tests (started only when asked for)."""

from tests.service.fixtures import emu, emu_session

__all__ = ["emu", "emu_session"]
