"""Code run in separate OS processes (multiprocessing, spawn) by the concurrency tests."""

from __future__ import annotations

import time
from typing import Any

from oathdesk.domain import OathdeskError
from oathdesk.store import Database, TokenState, UnitOfWork


def race_assign(url: str, serial: str, user: str, barrier: Any, hold: float, out: Any) -> None:
    """Try to assign ``serial`` to ``user``; report (user, "won"|code, started, ended) in
    CLOCK_MONOTONIC seconds, which every process on the machine shares: for the winner,
    ``ended`` is when its transaction committed."""
    db = Database(url)
    try:
        db.check()
        barrier.wait(timeout=60)
        started = time.monotonic()
        try:
            with UnitOfWork(db) as uow:
                token = uow.tokens.get_for_update(serial)
                uow.tokens.move(token, TokenState.ASSIGNED, expect=[TokenState.AVAILABLE])
                token.user_upn = user
                uow.audit.append("token.assign", actor=user, subject=serial, reason="race")
                uow.flush()
                time.sleep(hold)  # keep the lock while the other process tries
            out.put((user, "won", started, time.monotonic()))
        except OathdeskError as exc:
            out.put((user, exc.code, started, time.monotonic()))
    except Exception as exc:  # report, so the parent fails with a reason, not a hang
        out.put((user, f"crash:{type(exc).__name__}:{exc}", 0.0, 0.0))
    finally:
        db.dispose()


def append_many(url: str, name: str, count: int, barrier: Any, out: Any) -> None:
    """Append ``count`` audit entries, one transaction each, as fast as possible."""
    db = Database(url)
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
