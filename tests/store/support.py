"""Helpers shared by the store tests."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from oathdesk.domain import Secret, SeedRecord


def make_records(n: int, *, prefix: str = "SN", start: int = 0) -> list[SeedRecord]:
    """Distinct records with random secrets and a mix of makers and models."""
    return [
        SeedRecord(
            serial=f"{prefix}{i:06d}",
            secret=Secret(secrets.token_bytes(20)),
            manufacturer=("Token2", "Feitian")[i % 2],
            model=("C301", "C200", "OTP c100")[i % 3],
        )
        for i in range(start, start + n)
    ]


def fresh_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database: a SQLite file, or a new schema in the session's PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    base: str = request.getfixturevalue("pg_database")
    schema = f"t_{secrets.token_hex(6)}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return (
        make_url(base)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
