"""Make the audit log append-only in the database itself: UPDATE and DELETE are refused.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The hash chain detects tampering; these triggers prevent the casual kind (a mistaken UPDATE, a
cleanup script). Someone with owner rights can still drop them, which the chain then exposes.
"""

from __future__ import annotations

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

MESSAGE = "audit entries are append-only"

PG_UP = [
    f"""CREATE FUNCTION oathdesk_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""",
    """CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION oathdesk_audit_append_only()""",
    """CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION oathdesk_audit_append_only()""",
]
PG_DOWN = [
    "DROP TRIGGER audit_entries_no_truncate ON audit_entries",
    "DROP TRIGGER audit_entries_append_only ON audit_entries",
    "DROP FUNCTION oathdesk_audit_append_only()",
]
SQLITE_UP = [
    f"""CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
    for verb in ("UPDATE", "DELETE")
]
SQLITE_DOWN = [f"DROP TRIGGER audit_entries_no_{verb}" for verb in ("update", "delete")]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(PG_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP)


def downgrade() -> None:
    _run(PG_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN)
