"""Built delivery files kept sealed in the database instead of a node's folder.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Several app nodes behind one load balancer must all be able to serve a download; a file in one
node's folder is not there for the next. ``delivery_files`` gains the sealed bytes (AES-GCM with
the inventory's key ring, bound to the row's storage name) and the id of the key that sealed
them; both are cleared when the file is confirmed or expires. Links mailed before this upgrade
pointed at files in ``[delivery] storage_dir``: they answer "no longer valid"; approve again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_files") as batch:
        batch.add_column(sa.Column("data_key_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("sealed_data", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_files") as batch:
        batch.drop_column("sealed_data")
        batch.drop_column("data_key_id")
