"""Uploads waiting between the console's import preview and its confirm, as database rows.

Why in the database: the preview and the confirm may reach two different server processes, so
what one process validated must be readable by every other. The row holds the file's bytes and
the password that opens it **sealed** (the service seals them with the inventory's key ring, the
row's key hash and a purpose bound in as associated data), never in clear; the upload's key and
the session that made it are kept only as SHA-256 hashes, so a copy of the table gives neither a
usable key nor a session. Rows expire (``expires_at``) and are purged by the next put or take.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, delete, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from oathdesk.store.models import Base, UTCDateTime


class HeldUploadRow(Base):
    """One validated upload waiting for its confirm; its repr shows no byte and no hash."""

    __tablename__ = "held_uploads"
    __table_args__ = (Index("ix_held_uploads_expires", "expires_at"),)

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    owner_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the session that uploaded
    name: Mapped[str] = mapped_column(String(255))
    fmt: Mapped[str | None] = mapped_column(String(32), default=None)
    use_pgp: Mapped[bool] = mapped_column(Boolean, default=False)
    member: Mapped[str | None] = mapped_column(String(255), default=None)  # in a ZIP of several
    size: Mapped[int] = mapped_column(Integer)  # bytes of the file as uploaded
    data_key_id: Mapped[str] = mapped_column(String(32))
    sealed_data: Mapped[bytes] = mapped_column(LargeBinary)
    password_key_id: Mapped[str | None] = mapped_column(String(32), default=None)
    sealed_password: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"HeldUploadRow(name={self.name!r}, size={self.size}, expires_at={self.expires_at})"


class HeldUploadRepository:
    """The waiting uploads through one session (a unit of work's)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self) -> None:
        """Serialise puts so two at the same moment cannot both pass the size cap: a table lock
        that conflicts with itself on PostgreSQL; SQLite's write transaction already holds the
        one write lock from its ``BEGIN IMMEDIATE``."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("LOCK TABLE held_uploads IN SHARE ROW EXCLUSIVE MODE"))

    def purge(self, now: datetime) -> int:
        """Delete every upload whose time ran out before ``now``; how many."""
        result = self.session.execute(
            delete(HeldUploadRow).where(HeldUploadRow.expires_at < now),
            execution_options={"synchronize_session": False},
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def waiting_bytes(self) -> int:
        """The bytes of every upload still held, all tenants together."""
        total = self.session.scalar(select(func.coalesce(func.sum(HeldUploadRow.size), 0)))
        return int(total or 0)

    def add(self, row: HeldUploadRow) -> None:
        self.session.add(row)
        self.session.flush()

    def get(self, key_hash: str, *, lock: bool = False) -> HeldUploadRow | None:
        query = select(HeldUploadRow).where(HeldUploadRow.key_hash == key_hash)
        if lock:
            query = query.with_for_update()
        return self.session.execute(query).scalar_one_or_none()

    def remove(self, key_hash: str, owner_hash: str) -> bool:
        """Delete the upload if it is still there for this owner; whether this call deleted it
        (of two takes at the same moment, exactly one gets ``True``)."""
        result = self.session.execute(
            delete(HeldUploadRow).where(
                HeldUploadRow.key_hash == key_hash, HeldUploadRow.owner_hash == owner_hash
            ),
            execution_options={"synchronize_session": False},
        )
        return bool(getattr(result, "rowcount", 0))
