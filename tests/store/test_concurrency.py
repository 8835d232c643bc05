"""Real OS processes racing: one token change wins, audit appends never fork the chain."""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

from oathdesk.store import Database, Sealer, TokenState, UnitOfWork
from oathdesk.store.tokens import NewBatch
from tests.store.support import make_records
from tests.store.workers import append_many, race_assign

SPAWN = multiprocessing.get_context("spawn")


def _collect(out: Any, n: int) -> list[Any]:
    try:
        return [out.get(timeout=90) for _ in range(n)]
    except queue.Empty:
        raise AssertionError("a worker process did not report back in time") from None


def _run(target: Any, args: list[tuple[Any, ...]]) -> list[Any]:
    procs = [SPAWN.Process(target=target, args=a) for a in args]
    for p in procs:
        p.start()
    try:
        results = _collect(args[0][-1], len(procs))
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    assert all(p.exitcode == 0 for p in procs)
    return results


def _key(db: Database) -> str:
    """The audit key file, for the worker processes to open the database as oathdesk does."""
    assert db.audit_key is not None and db.audit_key.path is not None
    return str(db.audit_key.path)


def test_two_processes_racing_to_assign_one_token(db: Database, sealer: Sealer) -> None:
    with UnitOfWork(db) as uow:
        uow.tokens.add_batch(
            NewBatch("a", "entra-csv", "a" * 64), make_records(1), sealer, actor="a"
        )
        uow.tokens.move(uow.tokens.get_for_update("SN000000"), TokenState.AVAILABLE)
    barrier, trying, out = SPAWN.Barrier(2), SPAWN.Semaphore(0), SPAWN.Queue()
    results = _run(
        race_assign,
        [(db.url, _key(db), "SN000000", user, barrier, trying, out) for user in ("alice", "bob")],
    )
    outcomes = sorted(r[1] for r in results)
    assert outcomes == ["inventory.state_conflict", "won"], results
    winner = next(r[0] for r in results if r[1] == "won")
    committed = next(r[3] for r in results if r[1] == "won")
    tried, refused = next((r[2], r[3]) for r in results if r[1] != "won")
    # the loser tried while the winner held the row (the winner waits for that before it
    # commits) and was answered only after the commit: refused, never let through
    assert tried < committed <= refused, results
    with UnitOfWork(db, write=False) as uow:
        token = uow.tokens.get("SN000000")
        assert token.state is TokenState.ASSIGNED and token.user_upn == winner
        assigns = [e for e in uow.audit.entries() if e.action == "token.assign"]
        assert [e.actor for e in assigns] == [winner]
        assert uow.audit.verify().ok


def test_two_processes_appending_leave_one_valid_chain(db: Database) -> None:
    per_writer = 25
    barrier, out = SPAWN.Barrier(2), SPAWN.Queue()
    writers = [(db.url, _key(db), name, per_writer, barrier, out) for name in "AB"]
    results = _run(append_many, writers)
    assert sorted(results) == [("A", "ok"), ("B", "ok")]
    with UnitOfWork(db, write=False) as uow:
        entries = list(uow.audit.entries())
        report = uow.audit.verify()
    assert report.ok and report.checked == report.head_seq == 2 * per_writer
    assert [e.seq for e in entries] == list(range(1, 2 * per_writer + 1))
    for name in "AB":  # each writer's entries are all there, in its own order
        mine = [e.subject for e in entries if e.actor == name]
        assert mine == [f"{name}-{i}" for i in range(per_writer)]
