"""The notification outbox: one row per message to send (a mail to a user, a webhook call),
written in the transaction of the help-desk action it tells about.

Why an outbox: a mail server that is down must never block or undo a hand-over, and a
notification must never go out for an action that rolled back. The action only adds a row; a
sender later claims due rows (under a row lock, so two senders never take the same one), sends,
and marks each ``sent`` or schedules a retry, until ``failed`` after the last attempt. A claim is
a lease: a sender killed mid-send leaves a row that becomes due again when the lease ends. The
row keeps the template's fields only (names, serial, model, times), never a seed or a code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from oathdesk.domain import Clock
from oathdesk.domain.clock import utc_now
from oathdesk.store.models import Base, UTCDateTime

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)
MAIL, WEBHOOK = "mail", "webhook"


class OutboxRow(Base):
    """One message: its ``event`` about token ``serial``, by ``channel`` (mail to ``recipient``,
    or the webhook), the template ``fields``, and where it stands (``status``, ``attempts``,
    ``next_attempt_at``, ``last_error``)."""

    __tablename__ = "notify_outbox"
    __table_args__ = (
        Index("ix_notify_outbox_due", "status", "next_attempt_at"),
        Index("ix_notify_outbox_serial", "tenant", "serial", "event", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    serial: Mapped[str] = mapped_column(String(128))
    recipient: Mapped[str] = mapped_column(String(320))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    def __repr__(self) -> str:
        return (
            f"OutboxRow(id={self.id!r}, event={self.event!r}, channel={self.channel!r}, "
            f"serial={self.serial!r}, status={self.status!r}, attempts={self.attempts})"
        )


class OutboxRepository:
    """A tenant's outbox through one session; every time from the unit of work's clock."""

    def __init__(self, session: Session, tenant: str, *, clock: Clock) -> None:
        self.session = session
        self.tenant = tenant
        self.clock = clock

    def add(
        self, event: str, channel: str, serial: str, recipient: str, fields: dict[str, Any]
    ) -> OutboxRow:
        now = utc_now(self.clock)
        row = OutboxRow(
            tenant=self.tenant,
            event=event,
            channel=channel,
            serial=serial,
            recipient=recipient,
            fields=fields,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        return row

    def claim(self, *, limit: int, lease: timedelta) -> list[OutboxRow]:
        """Up to ``limit`` due rows (pending and due, or a lease that ran out), oldest first,
        taken for ``lease``: each one's attempt is counted now, so a sender that dies
        mid-send still uses an attempt. Rows another sender holds locked are skipped."""
        now = utc_now(self.clock)
        query = (
            select(OutboxRow)
            .where(
                OutboxRow.tenant == self.tenant,
                or_(OutboxRow.status == PENDING, OutboxRow.status == SENDING),
                OutboxRow.next_attempt_at <= now,
            )
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = list(self.session.scalars(query))
        for row in rows:
            row.status = SENDING
            row.attempts += 1
            row.next_attempt_at = now + lease
            row.updated_at = now
        self.session.flush()
        return rows

    def get(self, row_id: int) -> OutboxRow | None:
        return self.session.get(OutboxRow, row_id, with_for_update=True)

    def sent(self, row: OutboxRow) -> None:
        now = utc_now(self.clock)
        row.status, row.sent_at, row.last_error, row.updated_at = SENT, now, None, now

    def retry(self, row: OutboxRow, error: str, delay: timedelta) -> None:
        now = utc_now(self.clock)
        row.status, row.last_error = PENDING, error
        row.next_attempt_at, row.updated_at = now + delay, now

    def give_up(self, row: OutboxRow, error: str) -> None:
        row.status, row.last_error, row.updated_at = FAILED, error, utc_now(self.clock)

    def last_event(self, serial: str, event: str, since: datetime) -> datetime | None:
        """When ``event`` was last written for ``serial`` at or after ``since`` (None: never)."""
        query = select(func.max(OutboxRow.created_at)).where(
            OutboxRow.tenant == self.tenant,
            OutboxRow.serial == serial,
            OutboxRow.event == event,
            OutboxRow.created_at >= since,
        )
        found: datetime | None = self.session.execute(query).scalar_one_or_none()
        return found

    def counts(self) -> dict[str, int]:
        """Rows of this tenant by status (every status named, zero when none)."""
        query = (
            select(OutboxRow.status, func.count())
            .where(OutboxRow.tenant == self.tenant)
            .group_by(OutboxRow.status)
        )
        counted = {status: 0 for status in STATUSES}
        counted.update({str(s): int(n) for s, n in self.session.execute(query)})
        return counted

    def recent(self, *, statuses: Sequence[str], limit: int = 10) -> list[OutboxRow]:
        """The newest rows of this tenant in ``statuses``, newest change first."""
        query = (
            select(OutboxRow)
            .where(OutboxRow.tenant == self.tenant, OutboxRow.status.in_(list(statuses)))
            .order_by(OutboxRow.updated_at.desc(), OutboxRow.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query))
