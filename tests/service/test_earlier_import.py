"""``earlier_import``: whether a file's exact bytes were imported before, on SQLite and
PostgreSQL, answered with the digest ``import_seeds`` records (so a preview says what a confirm
would find): the batch for the same bytes under any name, nothing for other bytes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import FixedClock
from oathdesk.service import Inventory, import_seeds
from oathdesk.service.import_desk import earlier_import
from tests.service import support

START = 1_800_000_000.0


@pytest.fixture
def store_inv(cfg: Config) -> Iterator[Inventory]:
    inventory = build_inventory(cfg, clock=FixedClock(START))
    try:
        yield inventory
    finally:
        inventory.close()


def test_the_same_bytes_under_any_name_are_the_earlier_batch(store_inv: Inventory) -> None:
    data = support.entra_csv("EI", 3)
    assert earlier_import(store_inv, data) is None
    report = import_seeds(store_inv, data, "first.csv", actor="local:ada")
    earlier = earlier_import(store_inv, data)
    assert earlier is not None
    assert (earlier.batch_id, earlier.file_name, earlier.actor, earlier.tokens) == (
        report.batch_id,
        "first.csv",
        "local:ada",
        3,
    )
    assert earlier.imported_at.timestamp() == START
    assert earlier.to_dict()["imported_at"].startswith("2027-01-15T08:00:00")
    assert earlier_import(store_inv, data + b"\n") is None, "one byte more is another file"
    again = import_seeds(store_inv, data, "renamed.csv", actor="local:bob")
    assert again.already_imported and again.batch_id == earlier.batch_id
