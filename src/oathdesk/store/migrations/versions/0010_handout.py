"""Rosters and the bulk hand-out: who each job item is for, and the user a seed file named.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

A hand-out job item names the user its token goes to; ``uq_job_items_job_user`` lets one job
give a user one token only, and ``uq_job_items_serial_sending`` lets one serial be in flight to
Entra in one job item at a time, across every job (both enforced by the database, whatever the
workers believe). ``tokens.planned_user`` keeps the user a seed file names for a token (the
``upn`` column of an Entra CSV, ``assignTo`` of Entra JSON, PSKC ``UserId``), which import
used to drop, so the file itself can be the roster.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

SENDING = sa.text("state = 'sending'")
OLD_STATES = "state IN ('pending', 'done', 'failed', 'skipped')"
# 'sending': a hand-out item whose call to Entra may have gone out (settled before a resend)
NEW_STATES = "state IN ('pending', 'sending', 'done', 'failed', 'skipped')"


def _states(check: str) -> None:
    with op.batch_alter_table("job_items") as batch:
        batch.drop_constraint("ck_job_items_state", type_="check")
        batch.create_check_constraint("ck_job_items_state", check)


def upgrade() -> None:
    _states(NEW_STATES)
    op.add_column("tokens", sa.Column("planned_user", sa.String(320), nullable=True))
    op.add_column("job_items", sa.Column("user", sa.String(320), nullable=True))
    op.add_column("job_items", sa.Column("user_id", sa.String(64), nullable=True))
    op.add_column("job_items", sa.Column("display_name", sa.String(200), nullable=True))
    op.add_column("job_items", sa.Column("line", sa.Integer(), nullable=True))
    op.create_index("uq_job_items_job_user", "job_items", ["job_id", "user_id"], unique=True)
    op.create_index(
        "uq_job_items_serial_sending",
        "job_items",
        ["serial"],
        unique=True,
        sqlite_where=SENDING,
        postgresql_where=SENDING,
    )


def downgrade() -> None:
    op.drop_index("uq_job_items_serial_sending", table_name="job_items")
    op.drop_index("uq_job_items_job_user", table_name="job_items")
    with op.batch_alter_table("job_items") as batch:
        batch.drop_column("line")
        batch.drop_column("display_name")
        batch.drop_column("user_id")
        batch.drop_column("user")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("planned_user")
    _states(OLD_STATES)
