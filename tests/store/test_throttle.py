"""The one failure throttle: counts in a window, locks at the limit, forgets on success, and
counts every one of many failures that arrive at the same moment (one upsert each)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from oathdesk.store import Counted, Database, UnitOfWork, retry_after

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WINDOW = LOCKOUT = timedelta(minutes=15)


def _fail(db: Database, key: str, at: datetime, limit: int = 3) -> Counted:
    with UnitOfWork(db) as uow:
        return uow.throttle.fail(key, limit=limit, window=WINDOW, lockout=LOCKOUT, now=at)


def _locked(db: Database, *keys: str, at: datetime) -> datetime | None:
    with UnitOfWork(db, write=False) as uow:
        return uow.throttle.locked_until(keys, at)


def test_the_limit_th_failure_locks_the_key_until_the_lockout_ends(db: Database) -> None:
    seen = [_fail(db, "address:192.0.2.1", T0 + timedelta(seconds=i)) for i in range(3)]
    assert [c.failures for c in seen] == [1, 2, 3]
    assert seen[0].locked_until is None and seen[1].locked_until is None
    until = T0 + timedelta(seconds=2) + LOCKOUT
    assert seen[2].locked_until == until
    assert _locked(db, "account:ada", "address:192.0.2.1", at=T0 + timedelta(minutes=5)) == until
    assert _locked(db, "address:192.0.2.2", at=T0) is None  # another key is not affected
    assert _locked(db, "address:192.0.2.1", at=until) is None  # the lock has run out
    assert retry_after(until, until - timedelta(seconds=1.2)) == 2


def test_a_stale_window_starts_again_at_one_and_drops_its_lock(db: Database) -> None:
    for i in range(3):
        _fail(db, "account:ada", T0 + timedelta(seconds=i))
    later = T0 + WINDOW + timedelta(minutes=1)
    assert _fail(db, "account:ada", later) == Counted(1, None)
    assert _locked(db, "account:ada", at=later) is None


def test_a_limit_of_one_locks_at_the_first_failure(db: Database) -> None:
    assert _fail(db, "selfservice:token:SN1", T0, limit=1) == Counted(1, T0 + LOCKOUT)


def test_clear_forgets_the_failures(db: Database) -> None:
    _fail(db, "delivery:number:po-1", T0)
    _fail(db, "delivery:number:po-1", T0)
    with UnitOfWork(db) as uow:
        uow.throttle.clear("delivery:number:po-1")
    assert _fail(db, "delivery:number:po-1", T0).failures == 1


def test_failures_at_the_same_moment_are_each_counted_once(db: Database) -> None:
    attempts = 12
    with ThreadPoolExecutor(6) as pool:
        counts = list(pool.map(lambda _: _fail(db, "address:203.0.113.7", T0, 5), range(attempts)))
    assert sorted(c.failures for c in counts) == list(range(1, attempts + 1))
    assert sum(c.locked_until is not None for c in counts) == attempts - 4


def _reserve(db: Database, at: datetime, *limits: tuple[str, int]) -> datetime | None:
    with UnitOfWork(db) as uow:
        return uow.throttle.reserve(limits, window=WINDOW, lockout=LOCKOUT, now=at)


def _failures(db: Database, key: str, at: datetime) -> int:
    return _fail(db, key, at, limit=99).failures - 1  # what was there before this one


def test_reserve_counts_every_key_until_one_is_locked_then_counts_nothing(db: Database) -> None:
    keys = (("account:ada", 2), ("address:192.0.2.1", 5))
    assert _reserve(db, T0, *keys) is None
    assert _reserve(db, T0, *keys) is None  # the second attempt locks the account
    assert _reserve(db, T0, *keys) == T0 + LOCKOUT  # refused, and not counted
    assert _failures(db, "address:192.0.2.1", T0) == 2


def test_release_gives_one_attempt_back_and_lifts_its_lock(db: Database) -> None:
    assert _reserve(db, T0, ("account:ada", 1)) is None  # locked by this very attempt
    assert _locked(db, "account:ada", at=T0) == T0 + LOCKOUT
    with UnitOfWork(db) as uow:
        uow.throttle.release("account:ada", 1)
    assert _locked(db, "account:ada", at=T0) is None
    assert _failures(db, "account:ada", T0) == 0


def test_parallel_reservations_pass_exactly_the_limit(db: Database) -> None:
    with ThreadPoolExecutor(8) as pool:
        passed = list(pool.map(lambda _: _reserve(db, T0, ("account:ada", 5)), range(30)))
    assert passed.count(None) == 5
