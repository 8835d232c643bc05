"""Alembic revisions, oldest first; each one a file that upgrades and downgrades one step."""
