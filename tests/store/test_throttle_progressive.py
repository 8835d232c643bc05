"""Growing locks and (subject, network) keys: the lock after the limit starts short and
doubles at each further failure up to the longest; a key quiet for a whole window after its
lock starts again; one network's failures on a subject leave the same subject from another
network alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oathdesk.store import Counted, Database, UnitOfWork
from oathdesk.store.throttle import lock_durations, network_key, pair

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WINDOW = LONGEST = timedelta(minutes=15)
FIRST = timedelta(minutes=1)
MIN = timedelta(minutes=1)


def _fail(db: Database, key: str, at: datetime, limit: int = 3) -> Counted:
    with UnitOfWork(db) as uow:
        return uow.throttle.fail(
            key, limit=limit, window=WINDOW, lockout=LONGEST, now=at, first_lockout=FIRST
        )


def _reserve(db: Database, at: datetime, *limits: tuple[str, int]) -> datetime | None:
    with UnitOfWork(db) as uow:
        return uow.throttle.reserve(
            limits, window=WINDOW, lockout=LONGEST, now=at, first_lockout=FIRST
        )


def test_the_ladder_doubles_up_to_the_longest() -> None:
    assert lock_durations(FIRST, LONGEST) == [MIN, 2 * MIN, 4 * MIN, 8 * MIN, 15 * MIN]
    assert lock_durations(LONGEST, LONGEST) == [LONGEST]
    assert lock_durations(2 * LONGEST, LONGEST) == [LONGEST]  # never past the longest


def test_each_failure_after_the_limit_doubles_the_lock(db: Database) -> None:
    key, at = "account:ada|net:192.0.2.1", T0
    for _ in range(2):
        assert _fail(db, key, at).locked_until is None
    waits = []
    for _ in range(7):  # each failure when the previous lock has just run out
        until = _fail(db, key, at).locked_until
        assert until is not None
        waits.append(until - at)
        at = until
    assert waits == [MIN, 2 * MIN, 4 * MIN, 8 * MIN, 15 * MIN, 15 * MIN, 15 * MIN]


def test_a_key_quiet_for_a_window_after_its_lock_starts_again(db: Database) -> None:
    key = "account:ada|net:192.0.2.1"
    for _ in range(3):
        last = _fail(db, key, T0)
    assert last.locked_until == T0 + MIN
    soon = T0 + MIN + WINDOW - timedelta(seconds=1)  # the window is over, the lock is recent
    assert _fail(db, key, soon) == Counted(4, soon + 2 * MIN)
    later = soon + 2 * MIN + WINDOW + timedelta(seconds=1)
    assert _fail(db, key, later) == Counted(1, None)


def test_without_first_lockout_the_lock_is_the_longest_at_once(db: Database) -> None:
    with UnitOfWork(db) as uow:
        counted = [
            uow.throttle.fail(
                "selfservice:token:SN1", limit=2, window=WINDOW, lockout=LONGEST, now=T0
            )
            for _ in range(2)
        ]
    assert counted[-1] == Counted(2, T0 + LONGEST)


def test_a_subject_locked_from_one_network_is_open_from_another(db: Database) -> None:
    attacker, owner = "2001:db8:bad:1::7", "198.51.100.20"
    guesses = [(pair("account:ada", f"2001:db8:bad:1::{i}"), 3) for i in range(1, 4)]
    for key in guesses:  # three addresses of one /64: one key
        assert _reserve(db, T0, key) is None
    assert {key for key, _ in guesses} == {"account:ada|net:2001:db8:bad:1::/64"}
    assert _reserve(db, T0, (pair("account:ada", attacker), 3)) == T0 + MIN
    assert _reserve(db, T0, (pair("account:ada", owner), 3)) is None
    assert network_key("signin", "::ffff:198.51.100.20") == "signin:net:198.51.100.20"
