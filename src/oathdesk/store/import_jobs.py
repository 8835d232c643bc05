"""Console import jobs (an import and the push to Entra that follows it) as database rows.

Why in the database: the progress page polls from the browser, and each poll may reach another
server process than the one running the push, so the push thread writes the job's counters here
(through a unit of work) and any process answers. A job whose process dies stays ``running``
(no process watches another's threads); the push itself is the resumable ``sync.push`` job and
``oathdesk sync push`` finishes it. Only the newest ``KEEP`` jobs of a tenant are kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from oathdesk.domain import Clock
from oathdesk.domain.clock import utc_now
from oathdesk.store.models import Base, UTCDateTime

KEEP = 100
RUNNING = "running"


class ImportJobRow(Base):
    """One import job: who started it, its state, ``done`` of ``total`` tokens pushed, the import
    report, the push report when it ended, and the error (message and code) if it failed."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_tenant_created", "tenant", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # running | done | failed
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    push: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    def __repr__(self) -> str:
        return f"ImportJobRow(id={self.id!r}, state={self.state!r}, {self.done}/{self.total})"


class ImportJobRepository:
    """A tenant's import jobs through one session; times from the unit of work's clock."""

    def __init__(self, session: Session, tenant: str, *, clock: Clock) -> None:
        self.session = session
        self.tenant = tenant
        self.clock = clock

    def add(
        self, job_id: str, *, actor: str, report: dict[str, Any], total: int, state: str
    ) -> ImportJobRow:
        """A new job; the tenant's jobs beyond the newest ``KEEP`` are dropped."""
        now = utc_now(self.clock)
        row = ImportJobRow(
            id=job_id,
            tenant=self.tenant,
            actor=actor,
            state=state,
            total=total,
            done=0,
            report=report,
            created_at=now,
            updated_at=now,
            finished_at=None if state == RUNNING else now,
        )
        self.session.add(row)
        self.session.flush()
        old = (
            select(ImportJobRow.id)
            .where(ImportJobRow.tenant == self.tenant)
            .order_by(ImportJobRow.created_at.desc(), ImportJobRow.id.desc())
            .offset(KEEP)
        )
        stale = list(self.session.scalars(old))
        if stale:
            self.session.execute(
                delete(ImportJobRow).where(ImportJobRow.id.in_(stale)),
                execution_options={"synchronize_session": False},
            )
        return row

    def get(self, job_id: str) -> ImportJobRow | None:
        query = select(ImportJobRow).where(
            ImportJobRow.id == job_id, ImportJobRow.tenant == self.tenant
        )
        return self.session.execute(query).scalar_one_or_none()

    def progress(self, job_id: str, done: int) -> None:
        """Set ``done`` of a running job (one statement; never backwards, never after its end)."""
        self.session.execute(
            update(ImportJobRow)
            .where(
                ImportJobRow.id == job_id,
                ImportJobRow.tenant == self.tenant,
                ImportJobRow.state == RUNNING,
                ImportJobRow.done < done,
            )
            .values(done=done, updated_at=utc_now(self.clock)),
            execution_options={"synchronize_session": False},
        )

    def finish(
        self,
        job_id: str,
        state: str,
        *,
        total: int | None = None,
        done: int | None = None,
        push: dict[str, Any] | None = None,
        error: str | None = None,
        error_code: str | None = None,
    ) -> None:
        """End a job: its state, final counts, push report and error."""
        now = utc_now(self.clock)
        values: dict[str, Any] = {
            "state": state,
            "error": error,
            "error_code": error_code,
            "updated_at": now,
            "finished_at": now,
        }
        if total is not None:
            values["total"] = total
        if done is not None:
            values["done"] = done
        if push is not None:
            values["push"] = push
        self.session.execute(
            update(ImportJobRow)
            .where(ImportJobRow.id == job_id, ImportJobRow.tenant == self.tenant)
            .values(**values),
            execution_options={"synchronize_session": False},
        )
