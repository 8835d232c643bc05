"""Every store test runs on SQLite and on the machine's PostgreSQL, schemas made by migrations.

PostgreSQL: one uniquely named database per test session (dropped at the end), one schema per
test. If the server cannot be reached the tests fail with a message saying so, never skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from oathdesk.store import Database, KeyRing, Sealer, upgrade
from tests.store.support import fresh_url

PG_URL = os.environ.get(
    "OATHDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server for this session; its URL."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"oathdesk_store_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at {make_url(PG_URL).render_as_string()} cannot be reached "
            f"({str(exc.orig).strip().splitlines()[0] if exc.orig else exc}). The store tests "
            "run on SQLite AND PostgreSQL: start the server or set OATHDESK_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
