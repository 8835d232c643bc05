"""The unit of work: one transaction holding the repositories and the audit log, all or nothing.

Why: a state change and the audit entry that records it must commit together or not at all, and
a write must hold the right locks from its first read. Leaving the ``with`` block commits; an
exception rolls everything back. Lost races surface as typed conflicts, never as driver errors.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from oathdesk.domain import Clock, SystemClock
from oathdesk.domain.clock import utc_now
from oathdesk.store.audit import DELIVERY, AuditLog
from oathdesk.store.delivery_orders import OrderRepository
from oathdesk.store.delivery_requests import RequestRepository
from oathdesk.store.engine import Database
from oathdesk.store.errors import StateConflict, StoreError
from oathdesk.store.held_uploads import HeldUploadRepository
from oathdesk.store.import_jobs import ImportJobRepository
from oathdesk.store.jobs import BatchRepository, JobRepository
from oathdesk.store.models import DEFAULT_TENANT
from oathdesk.store.outbox import OutboxRepository
from oathdesk.store.throttle import FailureThrottle
from oathdesk.store.tokens import TokenRepository


def _conflict() -> StateConflict:
    return StateConflict(
        "Someone else changed this token at the same moment; reload it and try again.",
        code="inventory.concurrent_change",
    )


def _busy(exc: OperationalError) -> StoreError:
    return StoreError(
        "The database stayed busy (another oathdesk process holds it); try again in a moment.",
        code="store.busy",
        details={"driver": type(exc.orig).__name__ if exc.orig else "unknown"},
    )


class UnitOfWork:
    """``with UnitOfWork(db) as uow:`` then ``uow.tokens``, ``uow.batches``, ``uow.jobs``,
    ``uow.audit`` (the inventory's chain), ``uow.throttle`` (failure counters), the console's
    ``uow.held_uploads`` and ``uow.import_jobs``, the notification ``uow.outbox``, and for the
    delivery service ``uow.delivery_orders``, ``uow.delivery_requests``, ``uow.delivery_audit``.
    ``write=False`` gives a read-only view that takes no write lock.

    Every time the repositories write comes from ``clock`` (the system clock if none is given),
    and any row changed in the transaction gets its ``updated_at`` from it at flush."""

    session: Session
    tokens: TokenRepository
    batches: BatchRepository
    jobs: JobRepository
    audit: AuditLog
    throttle: FailureThrottle
    delivery_orders: OrderRepository
    delivery_requests: RequestRepository
    delivery_audit: AuditLog
    held_uploads: HeldUploadRepository
    import_jobs: ImportJobRepository
    outbox: OutboxRepository

    def __init__(
        self,
        db: Database,
        *,
        tenant: str = DEFAULT_TENANT,
        write: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.tenant = tenant
        self.write = write
        self.clock: Clock = clock or SystemClock()

    def __enter__(self) -> UnitOfWork:
        self.session = self.db.session(write=self.write)
        try:
            self.session.begin()
            self.session.connection()  # BEGIN now: on SQLite the write lock is taken here
        except OperationalError as exc:
            self.session.close()
            raise _busy(exc) from None
        event.listen(self.session, "before_flush", self._stamp_updates)
        key = self.db.audit_key
        self.audit = AuditLog(self.session, clock=self.clock, writable=self.write, key=key)
        self.tokens = TokenRepository(
            self.session, self.audit, self.tenant, clock=self.clock, writable=self.write
        )
        self.batches = BatchRepository(self.session, self.tenant)
        self.jobs = JobRepository(self.session, self.tenant, clock=self.clock)
        self.throttle = FailureThrottle(self.session)
        self.held_uploads = HeldUploadRepository(self.session)
        self.import_jobs = ImportJobRepository(self.session, self.tenant, clock=self.clock)
        self.outbox = OutboxRepository(self.session, self.tenant, clock=self.clock)
        self.delivery_orders = OrderRepository(self.session)
        self.delivery_requests = RequestRepository(self.session)
        self.delivery_audit = AuditLog(
            self.session, clock=self.clock, writable=self.write, chain=DELIVERY, key=key
        )
        return self

    def _stamp_updates(self, session: Session, _context: Any, _instances: Any) -> None:
        """``updated_at`` of every changed row, from this unit's clock (the columns have no
        default: a row's times never come from anywhere but the clock)."""
        now = utc_now(self.clock)
        for row in session.dirty:
            state = inspect(row)
            if "updated_at" not in state.mapper.columns or not session.is_modified(row):
                continue
            if not state.attrs.updated_at.history.has_changes():  # unless the caller set it
                row.updated_at = now

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                self.session.rollback()
                if isinstance(exc, StaleDataError):
                    raise _conflict() from None
                if isinstance(exc, OperationalError) and _is_lock_error(exc):
                    raise _busy(exc) from None
                return
            if not self.write:
                return  # close() below ends the transaction; loaded objects stay readable
            try:
                self.session.commit()
            except StaleDataError:
                self.session.rollback()
                raise _conflict() from None
            except OperationalError as err:
                self.session.rollback()
                if _is_lock_error(err):
                    raise _busy(err) from None
                raise
            stream = self.db.audit_stream
            if stream is not None:  # committed: the SIEM may learn of it now, never before
                stream.publish(self.audit.appended + self.delivery_audit.appended)
        finally:
            self.session.close()

    def flush(self) -> None:
        """Send pending changes now (inside the transaction), e.g. to surface a conflict early."""
        try:
            self.session.flush()
        except StaleDataError:
            raise _conflict() from None


def _is_lock_error(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else ""
    return "locked" in text or "lock timeout" in text or "deadlock" in text
