"""Helpers shared by the store tests."""

from __future__ import annotations

import secrets

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
