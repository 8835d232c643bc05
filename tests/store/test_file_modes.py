"""The SQLite database and its WAL and shared-memory files are owner-only (0600) whatever the
folder's mode and the process's umask: they hold sealed seeds, the audit chain and accounts."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from oathdesk.store import Database, upgrade


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask 022, under which a file is made 0644 unless its creator says otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_in_an_open_folder_is_0600_with_its_wal_and_shm(
    tmp_path: Path, open_umask: None
) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    path = folder / "new.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    try:
        with db.engine.connect() as conn:  # open: the -wal and -shm files exist meanwhile
            conn.execute(text("CREATE TABLE probe (n INTEGER)"))
            conn.execute(text("INSERT INTO probe VALUES (1)"))
            files = [path, folder / "new.db-wal", folder / "new.db-shm"]
            assert all(f.exists() for f in files), sorted(p.name for p in folder.iterdir())
            assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
    finally:
        db.dispose()
    assert mode(path) == 0o600


def test_an_existing_database_file_left_readable_is_made_0600_on_connect(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "old.db"
    upgrade(f"sqlite:///{path}")
    path.chmod(0o644)
    for leftover in ("old.db-wal", "old.db-shm"):
        if (tmp_path / leftover).exists():
            (tmp_path / leftover).chmod(0o644)
    db = Database(f"sqlite:///{path}")
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            assert mode(path) == 0o600
            for leftover in ("old.db-wal", "old.db-shm"):
                if (tmp_path / leftover).exists():
                    assert mode(tmp_path / leftover) == 0o600, leftover
    finally:
        db.dispose()
