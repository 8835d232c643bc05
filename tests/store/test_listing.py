"""Listing and counting: filters, keyset paging that visits every row once, grouped counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oathdesk.domain import OtpKind
from oathdesk.store import (
    Database,
    NewBatch,
    Sealer,
    StateConflict,
    TokenFilter,
    TokenState,
    UnitOfWork,
)
from oathdesk.store.listing import SortKey
from tests.store.support import make_records

N = 37


@pytest.fixture
def stocked(db: Database, sealer: Sealer) -> Database:
    with UnitOfWork(db) as uow:
        uow.tokens.add_batch(
            NewBatch("a.csv", "entra-csv", "a" * 64), make_records(N), sealer, actor="admin"
        )
        uow.tokens.add_batch(
            NewBatch("b.csv", "pskc", "b" * 64), make_records(3, prefix="B%_"), sealer, actor="a"
        )
    with UnitOfWork(db) as uow:
        for i in range(0, 10):
            token = uow.tokens.get_for_update(f"SN{i:06d}")
            uow.tokens.move(token, TokenState.AVAILABLE)
            if i < 4:
                uow.tokens.move(token, TokenState.ASSIGNED)
                token.user_upn = f"user{i % 2}@example.com"
    return db


@pytest.mark.parametrize("sort", ["serial", "-serial", "created", "-created"])
def test_keyset_paging_visits_every_row_once_in_order(stocked: Database, sort: SortKey) -> None:
    seen: list[str] = []
    cursor = None
    with UnitOfWork(stocked, write=False) as uow:
        everything = [t.serial for t in uow.tokens.list(sort=sort, limit=1000).items]
        while True:
            page = uow.tokens.list(sort=sort, limit=7, cursor=cursor)
            seen += [t.serial for t in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert len(everything) == N + 3
    assert seen == everything
    if "serial" in sort:
        assert everything == sorted(everything, reverse=sort.startswith("-"))


def test_offset_paging(stocked: Database) -> None:
    with UnitOfWork(stocked, write=False) as uow:
        first = [t.serial for t in uow.tokens.list(limit=10).items]
        second = [t.serial for t in uow.tokens.list(limit=10, offset=5).items]
    assert second[:5] == first[5:]


def test_filters_narrow_the_listing(stocked: Database) -> None:
    with UnitOfWork(stocked, write=False) as uow:
        tokens = uow.tokens

        def serials(flt: TokenFilter) -> list[str]:
            return [t.serial for t in tokens.list(flt, limit=1000).items]

        assert len(serials(TokenFilter(states=[TokenState.IN_STOCK]))) == N + 3 - 10
        available = serials(TokenFilter(states=[TokenState.AVAILABLE]))
        assert available == [f"SN{i:06d}" for i in range(4, 10)]
        assert serials(TokenFilter(user_upn="user1@example.com")) == ["SN000001", "SN000003"]
        assert len(serials(TokenFilter(assigned=True))) == 4
        assert serials(TokenFilter(serial_prefix="B%_")) == ["B%_000000", "B%_000001", "B%_000002"]
        assert serials(TokenFilter(serial_prefix="SN00003")) == [f"SN00003{i}" for i in range(7)]
        maker = TokenFilter(manufacturer="Feitian", model="C200", kind=OtpKind.TOTP)
        assert all(t.model == "C200" for t in tokens.list(maker, limit=1000).items)
        assert tokens.count(maker) == len(serials(maker)) > 0
        batch_b = uow.batches.find_by_hash("b" * 64)
        assert batch_b is not None
        assert tokens.count(TokenFilter(batch_id=batch_b.id)) == 3
        assert tokens.count(TokenFilter(has_seed=True)) == N + 3


def test_counts_by_dimension(stocked: Database) -> None:
    with UnitOfWork(stocked, write=False) as uow:
        by_state = uow.tokens.counts_by("state")
        by_maker = uow.tokens.counts_by("manufacturer")
        by_model = uow.tokens.counts_by("model")
        by_batch = uow.tokens.counts_by("batch")
    assert by_state == {"assigned": 4, "available": 6, "in_stock": N + 3 - 10}
    assert sum(by_maker.values()) == sum(by_model.values()) == N + 3
    assert set(by_maker) == {"Feitian", "Token2"} and set(by_model) == {"C200", "C301", "OTP c100"}
    assert sorted(by_batch.values()) == [3, N]


def test_tenants_do_not_see_each_other(stocked: Database, sealer: Sealer) -> None:
    with UnitOfWork(stocked, tenant="other") as uow:
        assert uow.tokens.count() == 0
        result = uow.tokens.add_batch(
            NewBatch("a.csv", "entra-csv", "a" * 64), make_records(2), sealer, actor="msp"
        )
        assert result.added == 2 and not result.already_imported  # same serials, other tenant
    with UnitOfWork(stocked, write=False) as uow:
        assert uow.tokens.count() == N + 3


def test_garbage_cursor_is_a_typed_error(stocked: Database) -> None:
    with UnitOfWork(stocked, write=False) as uow, pytest.raises(StateConflict) as caught:
        uow.tokens.list(cursor="!!not-a-cursor", sort="created")
    assert caught.value.code == "inventory.bad_cursor"


def test_usage_and_age_filters(stocked: Database) -> None:
    now = datetime.now(UTC)
    with UnitOfWork(stocked) as uow:
        uow.tokens.get_for_update("SN000001").entra_last_used_at = now - timedelta(days=100)
        uow.tokens.get_for_update("SN000002").entra_last_used_at = now - timedelta(days=2)
    with UnitOfWork(stocked, write=False) as uow:
        stale = TokenFilter(last_used_before=now - timedelta(days=90))
        assert [t.serial for t in uow.tokens.list(stale).items] == ["SN000001"]
        assert uow.tokens.count(TokenFilter(never_used=False)) == 2
        assert uow.tokens.count(TokenFilter(never_used=True)) == N + 3 - 2
        assert uow.tokens.count(TokenFilter(created_before=now + timedelta(seconds=5))) == N + 3
        assert uow.tokens.count(TokenFilter(created_before=now - timedelta(days=1))) == 0
