"""Every store test runs on SQLite and on the machine's PostgreSQL (``db_url``, tests/backends.py),
schemas made by migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oathdesk.store import AuditKey, Database, KeyRing, Sealer, upgrade


@pytest.fixture
def audit_key(tmp_path: Path) -> AuditKey:
    """The audit key, in its owner-only file outside the database."""
    return AuditKey.load_or_create(tmp_path / "keys" / "audit-key.json")


@pytest.fixture
def db(db_url: str, audit_key: AuditKey) -> Iterator[Database]:
    """A database migrated to head through Alembic, its audit chains keyed."""
    upgrade(db_url)
    database = Database(db_url, audit_key=audit_key)
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
