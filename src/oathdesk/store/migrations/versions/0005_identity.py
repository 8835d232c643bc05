"""Accounts signed in through Entra ID, and API tokens for automation.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

``accounts.source`` tells a local break-glass account (a password) from one made by an Entra ID
sign-in (no usable password; roles come from the ID token's app roles at each sign-in).
``api_tokens`` holds bearer tokens for the REST API: only the SHA-256 of each value is stored,
with the roles it carries, who made it, and when it was made, expires, was last used, revoked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="local"))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("last_used_at", nullable=True),
        _ts("revoked_at", nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    # Entra accounts cannot exist without the column that marks them: remove them (and their
    # sessions, by the foreign key's cascade) rather than leave password-less local accounts
    op.execute(
        "DELETE FROM web_sessions WHERE account_id IN "
        "(SELECT id FROM accounts WHERE source = 'entra')"
    )
    op.execute("DELETE FROM accounts WHERE source = 'entra'")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("source")
