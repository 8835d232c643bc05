"""SQLAlchemy 2 models of the inventory: tokens, import batches, resumable jobs and the audit chain.

Why: oathdesk is the system of record Entra is not (Entra never gives a seed back and keeps no
history), so every column the lifecycle, sync, reconcile and reports need lives here, with the
indexes that keep filtered listing fast at 100,000 tokens. The schema itself is created only by
the Alembic migrations in ``store/migrations``; these classes must match them (a test compares).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import JSON, TypeDecorator

from oathdesk.domain import HashAlgorithm, OtpKind, SystemClock
from oathdesk.domain.clock import utc_now
from oathdesk.store.states import TokenState

DEFAULT_TENANT = "default"
GENESIS_HASH = "0" * 64


def utcnow() -> datetime:
    """The system clock as UTC; only for callers not yet handed a clock (``store.audit``).
    Rows never default to it: repositories stamp times from the unit of work's clock."""
    return utc_now(SystemClock())


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in as UTC and comes back timezone-aware on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(cls: type[Any], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=False,  # the migration writes the CHECK constraint
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    pass


class Batch(Base):
    """One imported file: where it came from, its content hash (import idempotence), counts."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("tenant", "content_hash", name="uq_batches_tenant_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    file_name: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    token_count: Mapped[int] = mapped_column(Integer, default=0)
    conflict_count: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    # Self-service claims: only members of this group, or only these users, may claim the tokens.
    restrict_group_id: Mapped[str | None] = mapped_column(String(64), default=None)
    restrict_users: Mapped[list[str] | None] = mapped_column(JSON, default=None)

    def __repr__(self) -> str:
        return f"Batch(id={self.id}, file_name={self.file_name!r}, tokens={self.token_count})"


class Token(Base):
    """One hardware token from import to retirement; the seed only ever sealed."""

    __tablename__ = "tokens"
    __table_args__ = (
        UniqueConstraint("tenant", "serial", name="uq_tokens_tenant_serial"),
        Index("ix_tokens_tenant_state_serial", "tenant", "state", "serial"),
        Index("ix_tokens_tenant_created", "tenant", "created_at", "id"),
        Index("ix_tokens_tenant_upn", "tenant", "user_upn"),
        Index("ix_tokens_tenant_maker_model", "tenant", "manufacturer", "model"),
        Index("ix_tokens_batch", "batch_id"),
        Index("ix_tokens_key_id", "key_id"),
        # serial-prefix search: PostgreSQL only uses an index for LIKE 'X%' under a non-C
        # collation when the column is indexed with text_pattern_ops (see migration 0004)
        Index(
            "ix_tokens_tenant_serial_pattern",
            "tenant",
            "serial",
            postgresql_ops={"serial": "text_pattern_ops"},
        ),
        CheckConstraint("digits BETWEEN 6 AND 8", name="ck_tokens_digits"),
        CheckConstraint("period > 0", name="ck_tokens_period"),
        CheckConstraint("counter >= 0", name="ck_tokens_counter"),
        CheckConstraint(
            "(sealed_secret IS NULL) = (key_id IS NULL)", name="ck_tokens_sealed_has_key"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    serial: Mapped[str] = mapped_column(String(128))
    state: Mapped[TokenState] = mapped_column(
        _enum(TokenState, "token_state"), default=TokenState.IN_STOCK
    )
    kind: Mapped[OtpKind] = mapped_column(_enum(OtpKind, "otp_kind"), default=OtpKind.TOTP)
    period: Mapped[int] = mapped_column(Integer, default=30)
    digits: Mapped[int] = mapped_column(Integer, default=6)
    algorithm: Mapped[HashAlgorithm] = mapped_column(
        _enum(HashAlgorithm, "hash_algorithm"), default=HashAlgorithm.SHA1
    )
    t0: Mapped[int] = mapped_column(BigInteger, default=0)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    manufacturer: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[str | None] = mapped_column(String(64), default=None)
    user_upn: Mapped[str | None] = mapped_column(String(320), default=None)
    # the user the seed file named for this token (a roster in the file itself; migration 0010)
    planned_user: Mapped[str | None] = mapped_column(String(320), default=None)
    entra_id: Mapped[str | None] = mapped_column(String(64), default=None)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    entra_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    entra_last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # OTP state kept between checks (oathdesk.otp.OtpState): replay protection and drift.
    otp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    otp_drift: Mapped[int] = mapped_column(Integer, default=0)
    # The seed, sealed (see store.sealing); both NULL once destroyed.
    sealed_secret: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    key_id: Mapped[str | None] = mapped_column(String(32), default=None)
    seed_destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    version: Mapped[int] = mapped_column(Integer)

    batch: Mapped[Batch | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own protocol

    @property
    def has_seed(self) -> bool:
        return self.sealed_secret is not None

    def describe(self) -> dict[str, Any]:
        """Everything but the sealed value, for reports, JSON output and audit details."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "serial": self.serial,
            "tenant": self.tenant,
            "state": self.state.value,
            "kind": self.kind.value,
            "period": self.period,
            "digits": self.digits,
            "algorithm": self.algorithm.value,
            "t0": self.t0,
            "counter": self.counter,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "display_name": self.display_name,
            "user_id": self.user_id,
            "user_upn": self.user_upn,
            "planned_user": self.planned_user,
            "entra_id": self.entra_id,
            "batch_id": self.batch_id,
            "key_id": self.key_id,
            "has_seed": self.has_seed,
            "seed_destroyed_at": iso(self.seed_destroyed_at),
            "created_at": iso(self.created_at),
            "state_changed_at": iso(self.state_changed_at),
            "activated_at": iso(self.activated_at),
            "entra_last_used_at": iso(self.entra_last_used_at),
        }

    def __repr__(self) -> str:  # never the sealed value
        return f"Token(serial={self.serial!r}, state={self.state.value}, tenant={self.tenant!r})"


class Job(Base):
    """A resumable background job (e.g. pushing stock to Entra); progress is per serial."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_tenant_kind_state", "tenant", "kind", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    actor: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)

    def __repr__(self) -> str:
        return f"Job(id={self.id}, kind={self.kind!r}, state={self.state!r})"


class JobItem(Base):
    """One serial of a job: pending until done, failed or skipped; retried on resume."""

    __tablename__ = "job_items"
    __table_args__ = (
        UniqueConstraint("job_id", "serial", name="uq_job_items_job_serial"),
        Index("ix_job_items_job_state", "job_id", "state", "id"),
        # a hand-out gives one user one token per job, and sends a serial from one item at once
        Index("uq_job_items_job_user", "job_id", "user_id", unique=True),
        Index(
            "uq_job_items_serial_sending",
            "serial",
            unique=True,
            sqlite_where=text("state = 'sending'"),
            postgresql_where=text("state = 'sending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    serial: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    entra_id: Mapped[str | None] = mapped_column(String(64), default=None)
    error_code: Mapped[str | None] = mapped_column(String(80), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # a hand-out item (migration 0010): the roster's user, Entra's object id, name and line
    user: Mapped[str | None] = mapped_column(String(320), default=None)
    user_id: Mapped[str | None] = mapped_column(String(64), default=None)
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    line: Mapped[int | None] = mapped_column(Integer, default=None)

    def __repr__(self) -> str:
        return f"JobItem(job_id={self.job_id}, serial={self.serial!r}, state={self.state!r})"


class AuditRecord:
    """The columns of every hash-chained audit table (the inventory's and the delivery's), so
    one implementation appends to and verifies each: ``hash`` commits to the content and to the
    previous entry's hash."""

    if TYPE_CHECKING:  # the mapped subclasses take their columns as keywords

        def __init__(self, **values: Any) -> None: ...

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    tenant: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON text, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def details_dict(self) -> dict[str, Any]:
        value = json.loads(self.details)
        return value if isinstance(value, dict) else {"value": value}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(seq={self.seq}, action={self.action!r}, "
            f"subject={self.subject!r})"
        )


class ChainHead:
    """The single row naming a chain's last entry: appends lock it, verify checks truncation,
    and ``keyed_from`` says where keyed hashing starts."""

    if TYPE_CHECKING:

        def __init__(self, **values: Any) -> None: ...

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    # the first entry hashed under the audit key (migration 0007 sets it past the entries an
    # older version wrote with plain SHA-256; 1 for a chain that started keyed)
    keyed_from: Mapped[int] = mapped_column(BigInteger)


class AuditEntry(AuditRecord, Base):
    """One audited inventory action."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_tenant_seq", "tenant", "seq"),
        Index("ix_audit_subject", "subject"),
    )


class AuditHead(ChainHead, Base):
    """The head of the inventory's chain."""

    __tablename__ = "audit_head"
