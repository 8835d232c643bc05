"""Every store test runs on SQLite and on the machine's PostgreSQL (``db_url``, tests/backends.py),
schemas made by migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oathdesk.store import Database, KeyRing, Sealer, upgrade


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A database migrated to head through Alembic."""
    upgrade(db_url)
    database = Database(db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "store-keys.json"


@pytest.fixture
def ring(key_file: Path) -> KeyRing:
    return KeyRing.load_or_create(key_file)


@pytest.fixture
def sealer(ring: KeyRing) -> Sealer:
    return Sealer(ring)
