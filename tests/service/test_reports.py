"""The console's reports and the dashboard's alert queries, on SQLite and PostgreSQL.

One small inventory with known dates covers every report: two batches of two models, tokens in
stock of different ages, assignments and activations in known months, a failed activation, a lost
token, drifted and unused tokens, and a token assigned long ago and never activated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import FixedClock, Secret, SeedRecord
from oathdesk.service import Inventory
from oathdesk.service.alerts import assigned_not_activated, last_reconcile
from oathdesk.service.reports import REPORTS, build_report
from oathdesk.store import NewBatch, TokenState

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
S = TokenState


@pytest.fixture
def inv(cfg: Config) -> Iterator[Inventory]:
    inventory = build_inventory(cfg, clock=FixedClock(NOW.timestamp()))
    try:
        yield inventory
    finally:
        inventory.close()


def _batch(inv: Inventory, name: str, serials: list[str], manufacturer: str, model: str) -> None:
    records = [
        SeedRecord(
            serial=s,
            secret=Secret(hashlib.sha256(s.encode()).digest()[:20]),
            manufacturer=manufacturer,
            model=model,
        )
        for s in serials
    ]
    with inv.uow() as uow:
        uow.tokens.add_batch(
            NewBatch(name, "entra-csv", hashlib.sha256(name.encode()).hexdigest()),
            records,
            inv.sealer,
            actor="test",
        )


def _set(inv: Inventory, serial: str, path: list[TokenState], **columns: Any) -> None:
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        for state in path:
            uow.tokens.move(token, state)
        if token.state is not S.IN_STOCK and token.state is not S.AVAILABLE:
            token.user_upn = f"{serial.lower()}@contoso.com"
        for name, value in columns.items():
            setattr(token, name, value)


def days(n: float) -> datetime:
    return NOW - timedelta(days=n)


@pytest.fixture
def stocked(inv: Inventory) -> Inventory:
    _batch(inv, "a.csv", [f"A0{i}" for i in range(1, 7)], "Token2", "C302")
    _batch(inv, "b.csv", ["B01", "B02", "B03", "B04"], "Feitian", "OTPC-P1")
    _set(inv, "A01", [], created_at=days(10))
    _set(inv, "A02", [], created_at=days(100))
    _set(inv, "B01", [S.AVAILABLE], created_at=days(200))
    _set(inv, "B04", [], created_at=days(400))
    _set(inv, "A03", [S.ASSIGNED], assigned_at=days(20))
    _set(
        inv,
        "A04",
        [S.ASSIGNED, S.ACTIVATED],
        assigned_at=datetime(2026, 4, 3, tzinfo=UTC),
        activated_at=datetime(2026, 4, 5, tzinfo=UTC),
        entra_last_used_at=days(200),
        otp_drift=2,
    )
    _set(inv, "A05", [S.ASSIGNED, S.FAILED_ACTIVATION], assigned_at=days(3))
    _set(inv, "A06", [S.ASSIGNED, S.ACTIVATED, S.LOST], assigned_at=days(2), activated_at=days(2))
    _set(
        inv,
        "B02",
        [S.ASSIGNED, S.ACTIVATED],
        assigned_at=days(100),
        activated_at=datetime(2026, 3, 7, tzinfo=UTC),
        entra_last_used_at=None,
    )
    _set(
        inv,
        "B03",
        [S.ASSIGNED, S.ACTIVATED],
        assigned_at=days(1),
        activated_at=days(1),
        entra_last_used_at=days(0.5),
        otp_drift=-5,
    )
    return inv


def test_stock_by_model_and_batch_counts_only_unassigned_tokens(stocked: Inventory) -> None:
    report = build_report(stocked, "stock")
    assert report.columns == ("manufacturer", "model", "batch", "imported_at", "tokens")
    assert [(r[0], r[1], r[2], r[4]) for r in report.rows] == [
        ("Feitian", "OTPC-P1", "b.csv", 2),
        ("Token2", "C302", "a.csv", 2),
    ]
    assert report.summary == {"tokens": 4}
    exported = report.to_dict()
    assert exported["rows"][0]["batch"] == "b.csv"
    assert exported["rows"][0]["imported_at"] == NOW.isoformat()


def test_age_puts_each_stock_token_in_its_bucket(stocked: Inventory) -> None:
    report = build_report(stocked, "age")
    assert dict(report.rows) == {
        "0-30 days": 1,
        "31-90 days": 0,
        "91-180 days": 1,
        "181-365 days": 1,
        "older than 365 days": 1,
    }


def test_activity_counts_assignments_and_activations_per_month(stocked: Inventory) -> None:
    rows = {r[0]: (r[1], r[2]) for r in build_report(stocked, "activity").rows}
    assert len(rows) == 12 and min(rows) == "2025-07" and max(rows) == "2026-06"
    assert rows["2026-04"] == (1, 1)  # A04
    assert rows["2026-03"] == (1, 1)  # B02: assigned 7 Mar (100 days before 15 Jun), activated
    assert rows["2026-05"] == (1, 0)  # A03, assigned 26 May
    assert rows["2026-06"] == (3, 2)  # A05, A06, B03 assigned; A06, B03 activated
    assert sum(a for a, _ in rows.values()) == 6


def test_failed_and_lost_list_the_tokens_with_their_user(stocked: Inventory) -> None:
    failed = build_report(stocked, "failed")
    assert [(r[0], r[1], r[2]) for r in failed.rows] == [("A05", "C302", "a05@contoso.com")]
    assert failed.summary == {"tokens": 1, "failed_attempts": 0}
    lost = build_report(stocked, "lost")
    assert [(r[0], r[2]) for r in lost.rows] == [("A06", "a06@contoso.com")]
    assert lost.summary == {"tokens": 1}


def test_drift_health_buckets_the_absolute_drift_and_counts_the_tokens_at_risk(
    stocked: Inventory,
) -> None:
    report = build_report(stocked, "drift")
    assert dict(report.rows) == {"0 steps": 1, "1 step": 0, "2 steps": 1, "3 or more steps": 1}
    # A04 last used 200 days ago; B02 never used since its activation 100 days ago (< 180)
    assert report.summary == {"activated": 3, "unused_days": 180, "at_risk": 1}


def test_unused_lists_never_used_first_then_the_oldest_use(stocked: Inventory) -> None:
    report = build_report(stocked, "unused", days=90)
    assert [(r[0], r[3]) for r in report.rows] == [("B02", None), ("A04", days(200))]
    assert report.summary == {"tokens": 2, "never_used": 1, "days": 90}
    assert [r[0] for r in build_report(stocked, "unused", days=150).rows] == ["A04"]
    assert build_report(stocked, "unused", days=365).rows == []


def test_an_empty_inventory_gives_empty_reports(inv: Inventory) -> None:
    for name in REPORTS:
        report = build_report(inv, name)
        assert report.to_dict()["name"] == name
    assert build_report(inv, "stock").rows == []
    assert all(n == 0 for _, n in build_report(inv, "age").rows)


def test_assigned_not_activated_after_n_days(stocked: Inventory) -> None:
    # A03 assigned 20 days ago, A05 3 days ago (failed: not "assigned" any more)
    assert assigned_not_activated(stocked, days=14) == {
        "days": 14,
        "count": 1,
        "serials": ["A03"],
    }
    assert assigned_not_activated(stocked, days=30)["count"] == 0


def test_the_last_reconcile_is_unknown_until_one_is_recorded(
    inv: Inventory, tmp_path: Path
) -> None:
    assert last_reconcile(inv) is None
    with inv.uow() as uow:
        for counts in ({"missing_in_entra": 4}, {"missing_in_entra": 1, "unknown_to_us": 2}):
            uow.audit.append(
                "reconcile.checked",
                actor="test",
                reason="reconcile",
                details={"counts": counts},
                tenant=inv.tenant,
            )
    found = last_reconcile(inv)
    assert found is not None
    assert found["counts"] == {"missing_in_entra": 1, "unknown_to_us": 2}
    assert found["differences"] == 3
    assert found["at"] == NOW.isoformat()
