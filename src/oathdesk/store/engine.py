"""Engines and sessions for SQLite (the default, a file in the data folder) and PostgreSQL (by URL).

Why: the same code must give the same guarantees on both. SQLite gets WAL, foreign keys, a busy
timeout and explicit ``BEGIN IMMEDIATE`` for write transactions (its form of a row lock: one
writer at a time, taken before anything is read); PostgreSQL gets ``SELECT ... FOR UPDATE``
through the repositories. ``upgrade`` runs the Alembic migrations, the only way schemas are made.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from oathdesk.domain.wording import clause
from oathdesk.store.audit_key import AuditKey
from oathdesk.store.errors import StoreError

DB_FILE = "oathdesk.db"
BUSY_TIMEOUT_S = 30.0
MIGRATIONS = Path(__file__).with_name("migrations")


def default_url(data_dir: Path) -> str:
    """The SQLite database in the data folder (created owner-only if it does not exist)."""
    data_dir = Path(data_dir)
    if not data_dir.exists():
        data_dir.mkdir(parents=True, mode=0o700)
    return f"sqlite:///{data_dir / DB_FILE}"


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for another database, an in-memory one or a bad URL)."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def normalize_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine configured for oathdesk's guarantees on its dialect."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        raise StoreError(
            "The database URL is not valid; use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST:PORT/DB.",
            code="store.bad_url",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_S}, pool_pre_ping=False
        )
        name = parsed.database or ""
        in_memory = name in ("", ":memory:")
        plain_file = not in_memory and not parsed.query and not name.startswith("file:")
        _sqlite_setup(engine, in_memory=in_memory, path=Path(name) if plain_file else None)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # psycopg prepares a statement after 5 runs and PostgreSQL then may switch it to a
        # generic plan, where "serial = ANY($1)" is no longer hashed: imports slowed
        # quadratically (0.4 s per 500-serial lookup at 20,000 tokens). Plan every query fresh.
        return create_engine(
            parsed, echo=echo, pool_pre_ping=True, connect_args={"prepare_threshold": None}
        )
    raise StoreError(
        f"Database {parsed.get_backend_name()!r} is not supported; use SQLite or PostgreSQL.",
        code="store.unsupported_database",
    )


OWNER_ONLY = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def owner_only(path: Path) -> None:
    """Make the database file and its side files 0600, whatever the folder and the umask.

    Why: the file holds sealed seeds, password hashes and the audit chain; a 0644 file in a 0755
    folder lets every local account copy it. The file is created 0600 before SQLite opens it,
    and SQLite gives the WAL and shared-memory files its mode; files left readable by an older
    version (or copied in) are tightened on every new connection. A file this process may not
    change (another owner) is left as it is: SQLite then says what it can or cannot do.
    """
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, OWNER_ONLY))
    except OSError:
        return
    for file in (path, *(path.with_name(path.name + side) for side in SIDE_FILES)):
        try:
            if file.exists() and (file.stat().st_mode & 0o777) != OWNER_ONLY:
                file.chmod(OWNER_ONLY)
        except OSError:
            continue


def _sqlite_setup(engine: Engine, *, in_memory: bool, path: Path | None) -> None:
    if path is not None:
        file = path

        @event.listens_for(engine, "do_connect")
        def _before_connect(*_args: Any) -> None:
            owner_only(file)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cursor = dbapi_conn.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()
        if path is not None:
            owner_only(path)  # the -wal and -shm files, now that WAL mode made them

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("oathdesk_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


class AuditSink(Protocol):
    """Where committed audit entries go (``store.siem.AuditStream``)."""

    def publish(self, entries: Sequence[tuple[str, dict[str, Any]]]) -> None: ...

    def close(self) -> None: ...


class Database:
    """One database: the engine, a session factory for reads and one for writes, and the audit
    key (from a file outside the database) that its units of work key audit hashes with."""

    def __init__(self, url: str, *, echo: bool = False, audit_key: AuditKey | None = None) -> None:
        self.url = normalize_url(url)
        self.audit_key = audit_key  # keys the audit chains' hashes; never stored in the database
        self.audit_stream: AuditSink | None = None  # committed audit entries to a SIEM
        self.engine = make_engine(self.url, echo=echo)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(oathdesk_write=True)
        self._write = sessionmaker(writer, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool = False) -> Session:
        """A new session; ``write=True`` takes SQLite's write lock when the transaction begins."""
        return self._write() if write else self._read()

    def check(self) -> None:
        """Connect once; a clear error rather than a driver traceback when the server is away."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except OperationalError as exc:
            raise StoreError(
                f"Cannot reach the database at {self.engine.url.render_as_string()}: "
                f"{clause(str(exc.orig).strip().splitlines()[0] if exc.orig else 'no answer')}.",
                code="store.unreachable",
            ) from None

    def dispose(self) -> None:
        if self.audit_stream is not None:
            self.audit_stream.close()  # what is queued is delivered first (bounded wait)
            self.audit_stream = None
        self.engine.dispose()

    def __repr__(self) -> str:  # the URL without its password
        return f"Database({self.engine.url.render_as_string(hide_password=True)})"


def upgrade(url: str | Database, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` (the future ``oathdesk db upgrade``)."""
    _migrate(url, revision, up=True)


def downgrade(url: str | Database, revision: str) -> None:
    """Run the migrations down to ``revision`` (``base`` empties the database)."""
    _migrate(url, revision, up=False)


def _migrate(url: str | Database, revision: str, *, up: bool) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    db = url if isinstance(url, Database) else Database(url)
    try:
        db.check()
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", os.fspath(MIGRATIONS))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.upgrade if up else command.downgrade)(cfg, revision)
    finally:
        if not isinstance(url, Database):
            db.dispose()


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
