"""Failure counting for everything that must stop guessers: console sign-ins, self-service codes
and delivery order look-ups, one table and one implementation.

Why in the database: every server process must see the same counts. Each key
(``account:NAME|net:NETWORK``, ``signin:net:NETWORK``, ``selfservice:…``, ``delivery:…``; docs/
security.md lists them) counts failures in a window; reaching the
limit locks the key until ``locked_until``. A failure is counted by one statement
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``, SQLite ≥ 3.35 and PostgreSQL), so two failures
at the same moment are both counted and the caller learns the count its own failure made.
The table is called ``signin_throttle`` after its first user (migration ``0003_accounts``).

Why reserve before checking: a check ("is this key locked?") read apart from the count lets N
parallel guesses all pass before any is counted. ``reserve`` therefore locks the keys' rows
(an upsert that changes nothing: a row lock on PostgreSQL, the write lock on SQLite), refuses
if one is locked, else counts the attempt as a failure, all in the caller's short transaction.
Only then is the secret checked; a right answer gives its reservation back (``release`` or
``clear``). So at most ``limit`` checks run per window, however many requests arrive at once.

Why keys per (subject, client network) and a growing lock: a lock on the subject alone (an
account, an order) is a weapon: anyone could lock a real customer or administrator out by typing
wrong answers on purpose. Callers therefore count a subject's failures per network
(:func:`pair`), so the attacker's network locks only itself, and a lock given with
``first_lockout`` doubles at each further failure (``first_lockout``, ×2, ×4 … up to
``lockout``) instead of being the longest at once: an honest typo costs a minute, a guesser
who keeps going waits longer and longer. Such a key keeps its count while it comes back
within ``window`` of its last lock; quiet for a whole window, it starts again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, and_, case, delete, literal, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from oathdesk.domain.networks import client_network
from oathdesk.store.models import Base, UTCDateTime

LADDER_STEPS = 12  # 2**12 × first_lockout: past any sensible cap, so the CASE stays short


class FailureCount(Base):
    """Failures of one key in the current window, and until when the key is locked."""

    __tablename__ = "signin_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


@dataclass(frozen=True, slots=True)
class Counted:
    """What one counted failure left: the failures in the window and the lock, if any."""

    failures: int
    locked_until: datetime | None


def pair(subject: str, address: str) -> str:
    """The key of ``subject``'s failures from ``address``'s network (``oathdesk.domain.networks``:
    an IPv4 address, or an IPv6 /64), e.g. ``account:ada|net:2001:db8:1::/64``."""
    return f"{subject}|net:{client_network(address)}"[:300]


def network_key(scope: str, address: str) -> str:
    """The key of every failure of ``scope`` from ``address``'s network, whatever the subject:
    it stops one network spraying guesses over many subjects."""
    return f"{scope}:net:{client_network(address)}"[:300]


def lock_durations(first: timedelta, longest: timedelta) -> list[timedelta]:
    """The progressive lock-outs: ``first``, then doubled at each further failure, the last one
    ``longest`` (which every later failure gets again)."""
    steps: list[timedelta] = []
    step = min(first, longest)
    while step < longest and len(steps) < LADDER_STEPS:
        steps.append(step)
        step *= 2
    return [*steps, longest]


def retry_after(until: datetime, now: datetime) -> int:
    """Whole seconds to wait (at least 1): the ``Retry-After`` a locked key answers with."""
    return max(1, int((until - now).total_seconds() + 0.999))


class FailureThrottle:
    """The counters through one session (a unit of work's): check, count, clear."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def locked_until(self, keys: Iterable[str], now: datetime) -> datetime | None:
        """The latest lock still running on any of ``keys``, or None."""
        table = FailureCount.__table__
        query = select(table.c.locked_until).where(
            table.c.key.in_([k[:300] for k in keys]), table.c.locked_until > now
        )
        until = [u for u in self.session.scalars(query) if u is not None]
        return max(until) if until else None

    def fail(
        self,
        key: str,
        *,
        limit: int,
        window: timedelta,
        lockout: timedelta,
        now: datetime,
        first_lockout: timedelta | None = None,
    ) -> Counted:
        """Count one failure of ``key``: a window older than ``window`` starts again at one;
        the ``limit``-th failure in a window locks the key for ``lockout``. With
        ``first_lockout`` the lock grows instead: ``first_lockout`` at the ``limit``-th failure,
        doubled at each further one up to ``lockout``, and the count survives the window while
        the key's last lock ended less than ``window`` ago."""
        table = FailureCount.__table__
        at = literal(now, UTCDateTime())
        ago = literal(now - window, UTCDateTime())
        stale = table.c.window_started_at < ago
        ladder = lock_durations(first_lockout or lockout, lockout)
        if first_lockout is not None:
            quiet = or_(table.c.locked_until.is_(None), table.c.locked_until < ago)
            stale = and_(stale, quiet)
        failures = case((stale, 1), else_=table.c.failures + 1)
        longest = literal(now + ladder[-1], UTCDateTime())
        steps = [
            (failures == limit + i, literal(now + step, UTCDateTime()))
            for i, step in enumerate(ladder[:-1])
        ]
        lock = case(*steps, else_=longest) if steps else longest
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(table)
            .values(
                key=key[:300],
                failures=1,
                window_started_at=now,
                locked_until=now + ladder[0] if limit <= 1 else None,
            )
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "failures": failures,
                    "window_started_at": case((stale, at), else_=table.c.window_started_at),
                    "locked_until": case(
                        (failures >= limit, lock), (stale, null()), else_=table.c.locked_until
                    ),
                },
            )
            .returning(table.c.failures, table.c.locked_until)
        )
        row = self.session.execute(statement).one()
        return Counted(row.failures, row.locked_until)

    def reserve(
        self,
        limits: Sequence[tuple[str, int]],
        *,
        window: timedelta,
        lockout: timedelta,
        now: datetime,
        first_lockout: timedelta | None = None,
    ) -> datetime | None:
        """Count one attempt on every ``(key, limit)`` before its secret is checked, or count
        nothing and return the latest running lock when any key is locked. The rows stay
        locked until the caller's transaction ends: commit it before the slow check.
        ``first_lockout``: the locks grow, as :meth:`fail` says."""
        ordered = sorted({(k[:300], n) for k, n in limits})  # one order: no deadlock
        table = FailureCount.__table__
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        locks: list[datetime] = []
        for key, _ in ordered:
            take = (
                dialect.insert(table)
                .values(key=key, failures=0, window_started_at=now, locked_until=None)
                .on_conflict_do_update(
                    index_elements=[table.c.key], set_={"failures": table.c.failures}
                )
                .returning(table.c.locked_until)
            )
            until = self.session.execute(take).scalar_one()
            if until is not None and until > now:
                locks.append(until)
        if locks:
            return max(locks)
        for key, limit in ordered:
            self.fail(
                key,
                limit=limit,
                window=window,
                lockout=lockout,
                now=now,
                first_lockout=first_lockout,
            )
        return None

    def release(self, key: str, limit: int) -> None:
        """Give back one reserved attempt of ``key`` (its secret was right), and lift a lock
        that only reservations still being checked had set."""
        table = FailureCount.__table__
        left = case((table.c.failures > 0, table.c.failures - 1), else_=0)
        self.session.execute(
            update(FailureCount)
            .where(table.c.key == key[:300])
            .values(
                failures=left,
                locked_until=case((left < limit, null()), else_=table.c.locked_until),
            )
        )

    def clear(self, key: str) -> None:
        """Forget ``key``'s failures (a success proves the key's owner)."""
        self.session.execute(delete(FailureCount).where(FailureCount.key == key[:300]))
