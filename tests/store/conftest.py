"""Every store test runs on SQLite and on the machine's PostgreSQL, schemas made by migrations.

PostgreSQL: one uniquely named database per test session (dropped at the end), one schema per
test. If the server cannot be reached the tests fail with a message saying so, never skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oathdesk.store import Database, KeyRing, Sealer, upgrade
from tests.postgres import session_database
from tests.store.support import fresh_url

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server for this session; its URL."""
    with session_database("oathdesk_store") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend (not migrated)."""
    return fresh_url(str(request.param), tmp_path, request)


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
