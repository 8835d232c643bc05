"""Where keyed audit hashing starts: ``keyed_from`` on both chain heads.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

From this version on every audit entry's hash is an HMAC under the audit key, a file outside the
database (``store/audit_key.py``). Entries written before it keep their plain SHA-256 and still
verify: each chain head records the first sequence number hashed under the key, set here to the
entry after the current head (1 for an empty chain). A checkpoint (``oathdesk audit checkpoint``)
records the same number, so moving it to pass rewritten entries off as old ones is caught.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

HEADS = ("audit_head", "delivery_audit_head")


def upgrade() -> None:
    for table in HEADS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("keyed_from", sa.BigInteger(), nullable=True))
        op.execute(f"UPDATE {table} SET keyed_from = seq + 1")  # noqa: S608 (constant names)
        with op.batch_alter_table(table) as batch:
            batch.alter_column("keyed_from", existing_type=sa.BigInteger(), nullable=False)


def downgrade() -> None:
    for table in HEADS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("keyed_from")
