"""Alembic environment: runs on the connection ``store.engine.upgrade`` hands over, or on a URL.

Why: the migrations live inside the package so ``oathdesk db upgrade`` works from an installed
wheel with no ``alembic.ini``; SQLite gets batch mode so later revisions can alter tables.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from oathdesk.store.engine import Database
from oathdesk.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes")
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            _run(conn)
    finally:
        db.dispose()


if context.is_offline_mode():
    raise RuntimeError("oathdesk migrations run online only (store.engine.upgrade)")
run_migrations_online()
