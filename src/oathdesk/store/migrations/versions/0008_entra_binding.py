"""Entra accounts bound to the user's immutable ids, not to a user name.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

``accounts.entra_tenant_id`` + ``accounts.entra_object_id`` hold the ``tid`` and ``oid`` of the
Entra user an account belongs to (unique together). A UPN can be renamed, and a freed UPN can be
given to someone else later; the object id cannot. Accounts made before this revision have no
ids yet: their next sign-in binds them (docs/security.md, "Entra identities").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("entra_tenant_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("entra_object_id", sa.String(64), nullable=True))
        batch.create_unique_constraint(
            "uq_accounts_entra_identity", ["entra_tenant_id", "entra_object_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint("uq_accounts_entra_identity", type_="unique")
        batch.drop_column("entra_object_id")
        batch.drop_column("entra_tenant_id")
