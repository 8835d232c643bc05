"""Migration 0005 on SQLite and PostgreSQL: existing accounts become local ones, API tokens get
their table, the schema matches the models, and the way down keeps local accounts only."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError

from oathdesk.store import Database, current_revision, downgrade, upgrade
from oathdesk.store.models import Base

ACCOUNT = (
    "INSERT INTO accounts (name, password_hash, roles, created_at, updated_at) "
    "VALUES (:name, 'h', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
ENTRA_ACCOUNT = (
    "INSERT INTO accounts (name, password_hash, roles, created_at, updated_at, source) "
    "VALUES (:name, 'h', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'entra')"
)
TOKEN = (
    "INSERT INTO api_tokens (name, token_hash, roles, created_by, created_at, expires_at) "
    "VALUES (:name, :digest, '[\"admin\"]', 'test', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
SESSION = (
    "INSERT INTO web_sessions (id, account_id, created_at, last_seen_at, expires_at, address) "
    "VALUES (:id, :account, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '')"
)


def _account(conn: Connection, name: str, sql: str = ACCOUNT) -> None:
    conn.execute(text(sql), {"name": name})


def _token(conn: Connection, name: str, digest: str) -> None:
    conn.execute(text(TOKEN), {"name": name, "digest": digest})


def test_0005_upgrades_existing_accounts_and_matches_the_models(db_url: str) -> None:
    upgrade(db_url, "0004")
    db = Database(db_url)
    try:
        with db.engine.begin() as conn:
            _account(conn, "breakglass")
        upgrade(db, "0005")
        assert current_revision(db) == "0005"
        assert "api_tokens" in inspect(db.engine).get_table_names()
        columns = {c["name"] for c in inspect(db.engine).get_columns("accounts")}
        assert "source" in columns
        with db.engine.connect() as conn:
            source = conn.execute(text("SELECT source FROM accounts")).scalar_one()
        assert source == "local"
        upgrade(db)  # and the later revisions keep the schema the models describe
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        db.dispose()


def test_0005_token_names_and_hashes_are_unique(db: Database) -> None:
    with db.engine.begin() as conn:
        _token(conn, "ci", "a" * 64)
    for name, digest in (("ci", "b" * 64), ("other", "a" * 64)):
        try:
            with db.engine.begin() as conn:
                _token(conn, name, digest)
        except IntegrityError:
            continue
        raise AssertionError(f"a second token {name}/{digest[:4]} was accepted")


def test_0005_downgrades_to_local_accounts_only_and_upgrades_again(db: Database) -> None:
    with db.engine.begin() as conn:
        _account(conn, "breakglass")
        _account(conn, "ada@example.com", ENTRA_ACCOUNT)
        entra_id = conn.execute(text("SELECT id FROM accounts WHERE source = 'entra'")).scalar_one()
        conn.execute(text(SESSION), {"id": "s" * 64, "account": entra_id})
        _token(conn, "ci", "c" * 64)
    downgrade(db, "0004")
    assert current_revision(db) == "0004"
    assert "api_tokens" not in inspect(db.engine).get_table_names()
    assert "source" not in {c["name"] for c in inspect(db.engine).get_columns("accounts")}
    with db.engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM accounts")).scalars().all()
        sessions = conn.execute(text("SELECT count(*) FROM web_sessions")).scalar_one()
    assert names == ["breakglass"] and sessions == 0
    upgrade(db, "0005")
    assert current_revision(db) == "0005"
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT source FROM accounts")).scalars().all() == ["local"]
