"""The console's held uploads and import jobs, in the database.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03

An import preview and its confirm, or a job's progress poll, may reach different server
processes; what they share must live here. ``held_uploads`` keeps a validated upload until its
confirm (bytes and password sealed with the inventory's key ring; key and session as SHA-256
hashes); ``import_jobs`` keeps each import's state and push progress.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "held_uploads",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("owner_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("fmt", sa.String(32), nullable=True),
        sa.Column("use_pgp", sa.Boolean(), nullable=False),
        sa.Column("member", sa.String(255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data_key_id", sa.String(32), nullable=False),
        sa.Column("sealed_data", sa.LargeBinary(), nullable=False),
        sa.Column("password_key_id", sa.String(32), nullable=True),
        sa.Column("sealed_password", sa.LargeBinary(), nullable=True),
        _ts("created_at"),
        _ts("expires_at"),
    )
    op.create_index("ix_held_uploads_expires", "held_uploads", ["expires_at"])
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("push", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("finished_at", nullable=True),
    )
    op.create_index("ix_import_jobs_tenant_created", "import_jobs", ["tenant", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_import_jobs_tenant_created", table_name="import_jobs")
    op.drop_table("import_jobs")
    op.drop_index("ix_held_uploads_expires", table_name="held_uploads")
    op.drop_table("held_uploads")
