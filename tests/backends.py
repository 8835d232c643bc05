"""``db_url``: the empty database a store, delivery, service or CLI test runs on, once on SQLite
and once on PostgreSQL (a fresh schema in the session's database).

A pytest plugin (the root conftest lists it). Tests that only need one backend (the web pages
over a real server) take ``sqlite_only``.
"""

from __future__ import annotations

import pytest

from tests.postgres import fresh_schema

BACKENDS = ["sqlite", "postgresql"]

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""Run the marked test (or module, as ``pytestmark``) on SQLite alone."""


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database (not migrated) on each backend."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    return fresh_schema(request.getfixturevalue("pg_database"))
