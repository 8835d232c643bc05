"""The first inventory schema: batches, tokens, jobs and job items, the audit chain and its head.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

TOKEN_STATES = (
    "in_stock",
    "available",
    "assigned",
    "activated",
    "failed_activation",
    "deactivated",
    "lost",
    "broken",
    "retired",
)
JOB_STATES = ("pending", "running", "done", "failed", "cancelled")
ITEM_STATES = ("pending", "done", "failed", "skipped")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("format", sa.String(40), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sa.Column("conflict_count", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("restrict_group_id", sa.String(64), nullable=True),
        sa.Column("restrict_users", sa.JSON(), nullable=True),
        sa.UniqueConstraint("tenant", "content_hash", name="uq_batches_tenant_hash"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("serial", sa.String(128), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("digits", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(32), nullable=False),
        sa.Column("t0", sa.BigInteger(), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("user_upn", sa.String(320), nullable=True),
        sa.Column("entra_id", sa.String(64), nullable=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("batches.id"), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("state_changed_at"),
        _ts("assigned_at", nullable=True),
        _ts("activated_at", nullable=True),
        _ts("entra_synced_at", nullable=True),
        _ts("entra_last_used_at", nullable=True),
        sa.Column("otp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("otp_drift", sa.Integer(), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        _ts("seed_destroyed_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("tenant", "serial", name="uq_tokens_tenant_serial"),
        sa.CheckConstraint(_one_of("state", TOKEN_STATES), name="ck_tokens_state"),
        sa.CheckConstraint(_one_of("kind", ("totp", "hotp")), name="ck_tokens_kind"),
        sa.CheckConstraint(
            _one_of("algorithm", ("sha1", "sha256", "sha512")), name="ck_tokens_algorithm"
        ),
        sa.CheckConstraint("digits BETWEEN 6 AND 8", name="ck_tokens_digits"),
        sa.CheckConstraint("period > 0", name="ck_tokens_period"),
        sa.CheckConstraint("counter >= 0", name="ck_tokens_counter"),
        sa.CheckConstraint(
            "(sealed_secret IS NULL) = (key_id IS NULL)", name="ck_tokens_sealed_has_key"
        ),
    )
    op.create_index("ix_tokens_tenant_state_serial", "tokens", ["tenant", "state", "serial"])
    op.create_index("ix_tokens_tenant_created", "tokens", ["tenant", "created_at", "id"])
    op.create_index("ix_tokens_tenant_upn", "tokens", ["tenant", "user_upn"])
    op.create_index("ix_tokens_tenant_maker_model", "tokens", ["tenant", "manufacturer", "model"])
    op.create_index("ix_tokens_batch", "tokens", ["batch_id"])
    op.create_index("ix_tokens_key_id", "tokens", ["key_id"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("finished_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(_one_of("state", JOB_STATES), name="ck_jobs_state"),
    )
    op.create_index("ix_jobs_tenant_kind_state", "jobs", ["tenant", "kind", "state"])
    op.create_table(
        "job_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("serial", sa.String(128), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("entra_id", sa.String(64), nullable=True),
        sa.Column("error_code", sa.String(80), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        _ts("updated_at"),
        sa.UniqueConstraint("job_id", "serial", name="uq_job_items_job_serial"),
        sa.CheckConstraint(_one_of("state", ITEM_STATES), name="ck_job_items_state"),
    )
    op.create_index("ix_job_items_job_state", "job_items", ["job_id", "state", "id"])

    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        _ts("at"),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_tenant_seq", "audit_entries", ["tenant", "seq"])
    op.create_index("ix_audit_subject", "audit_entries", ["subject"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_table("audit_entries")
    op.drop_table("job_items")
    op.drop_table("jobs")
    op.drop_table("tokens")
    op.drop_table("batches")
