"""Alembic migrations of the inventory schema, run programmatically by ``store.engine.upgrade``."""
