"""Code run in separate OS processes (multiprocessing, spawn) by the concurrency tests."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import text

from oathdesk.domain import OathdeskError
from oathdesk.store import AuditKey, Database, TokenState, UnitOfWork

WAIT_S = 60.0


def race_assign(
    url: str, key_file: str, serial: str, user: str, barrier: Any, trying: Any, out: Any
) -> None:
    """Try to assign ``serial`` to ``user``; report (user, "won"|code, started, ended) in
    CLOCK_MONOTONIC seconds, which every process on the machine shares: for the winner,
    ``ended`` is when its transaction committed.

    ``trying`` is a semaphore each process releases just before it asks for the lock. The one
    that gets the lock keeps it until the other has released too (and, on PostgreSQL, until the
    server shows it waiting for a lock), so the other surely tries while the lock is held."""
    db = Database(url, audit_key=AuditKey.load(key_file))
    try:
        db.check()
        barrier.wait(timeout=WAIT_S)
        started = time.monotonic()
        trying.release()
        try:
            with UnitOfWork(db) as uow:
                token = uow.tokens.get_for_update(serial)
                uow.tokens.move(token, TokenState.ASSIGNED, expect=[TokenState.AVAILABLE])
                token.user_upn = user
                uow.audit.append("token.assign", actor=user, subject=serial, reason="race")
                uow.flush()
                _hold_until_the_other_tries(db, trying)
            out.put((user, "won", started, time.monotonic()))
        except OathdeskError as exc:
            out.put((user, exc.code, started, time.monotonic()))
    except Exception as exc:  # report, so the parent fails with a reason, not a hang
        out.put((user, f"crash:{type(exc).__name__}:{exc}", 0.0, 0.0))
    finally:
        db.dispose()


def _hold_until_the_other_tries(db: Database, trying: Any) -> None:
    for _ in range(2):  # this process's release and the other's
        if not trying.acquire(timeout=WAIT_S):
            raise TimeoutError("the other process never asked for the lock")
    if db.dialect != "postgresql":
        return  # SQLite: the other asks at BEGIN IMMEDIATE, which no other process can see
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + WAIT_S
    with db.engine.connect() as conn:
        while not conn.execute(query).scalar_one():
            if time.monotonic() > deadline:
                raise TimeoutError("the other process never waited for the row lock")
            time.sleep(0.01)


def append_many(url: str, key_file: str, name: str, count: int, barrier: Any, out: Any) -> None:
    """Append ``count`` audit entries, one transaction each, as fast as possible."""
    db = Database(url, audit_key=AuditKey.load(key_file))
    try:
        barrier.wait(timeout=60)
        for i in range(count):
            with UnitOfWork(db) as uow:
                uow.audit.append("test.append", actor=name, subject=f"{name}-{i}")
        out.put((name, "ok"))
    except Exception as exc:
        out.put((name, f"crash:{type(exc).__name__}:{exc}"))
    finally:
        db.dispose()
