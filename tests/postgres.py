"""The suite's PostgreSQL: one uniquely named database per test session (``pg_database``,
dropped at the end) and a fresh schema in it per test (``fresh_schema``).

A pytest plugin (the root conftest lists it). The tests run on SQLite AND PostgreSQL; when the
server cannot be reached they fail with a message that says so, never skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

PG_URL = os.environ.get(
    "OATHDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def session_database(prefix: str) -> Iterator[str]:
    """Create ``<prefix>_<pid>_<random>`` on the server; yield its URL; drop it afterwards."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at {make_url(PG_URL).render_as_string()} cannot be reached "
            f"({str(exc.orig).strip().splitlines()[0] if exc.orig else exc}). These tests run "
            "on SQLite AND PostgreSQL: start the server or set OATHDESK_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """One database on the server for the whole test session; its URL."""
    with session_database("oathdesk_test") as url:
        yield url


def fresh_schema(database_url: str) -> str:
    """A new empty schema in ``database_url``'s database, and a URL whose search path is it: each
    test gets its own tables without paying for a database of its own."""
    schema = f"t_{secrets.token_hex(6)}"
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    finally:
        engine.dispose()
    return (
        make_url(database_url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
