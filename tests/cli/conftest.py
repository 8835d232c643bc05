"""CLI fixtures: the real HTTPS emulator of the inventory tests (see tests/service/fixtures.py; it
starts only when a test asks for it), over both databases (``db_url`` from tests/backends.py), and
``cli``: oathdesk run in-process with the settings pointing at both."""

from pathlib import Path

import pytest

from oathdesk.config import Config
from tests.cli.inventory_helpers import Cli
from tests.service.fixtures import (
    Emu,
    cfg,
    emu,
    emu_session,
    inv,
    no_secret_anywhere,
    watch_logs,
)
from tests.service.support import config, environment

__all__ = [
    "cfg",
    "cli",
    "emu",
    "emu_session",
    "inv",
    "no_secret_anywhere",
    "watch_logs",
]


@pytest.fixture
def cli(
    db_url: str,
    tmp_path: Path,
    emu: Emu,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """``oathdesk`` in-process, its settings (database, emulator, CA) in OATHDESK_* variables."""
    settings: Config = config(db_url, tmp_path, emu.url, emu.ca)
    for name, value in environment(settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OATHDESK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return Cli(capsys)
