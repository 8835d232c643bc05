"""Header sorts and the console's filters: every order pages through a filtered view once, in
order, on SQLite and PostgreSQL; a cursor is only good for the order it was made for."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest

from oathdesk.service.reconcile import EXPECTED
from oathdesk.store import (
    Database,
    NewBatch,
    Sealer,
    StateConflict,
    Token,
    TokenFilter,
    TokenState,
    UnitOfWork,
)
from oathdesk.store.listing import ENTRA_STATUS_STATES
from oathdesk.store.sorting import EPOCH, SortKey
from tests.store.support import make_records

N = 45
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def mixed(db: Database, sealer: Sealer) -> Database:
    """45 tokens in two batches with ties in every sortable column and NULLs where they can be."""
    with UnitOfWork(db) as uow:
        uow.tokens.add_batch(
            NewBatch("a.csv", "entra-csv", "a" * 64), make_records(30), sealer, actor="t"
        )
        uow.tokens.add_batch(
            NewBatch("b.csv", "pskc", "b" * 64), make_records(15, start=30), sealer, actor="t"
        )
    with UnitOfWork(db) as uow:
        for i in range(N):
            token = uow.tokens.get_for_update(f"SN{i:06d}")
            token.display_name = ("Desk", "desk spare", "")[i % 3]
            if i % 4 == 0:
                continue  # in stock: no user, never used, not in Entra
            uow.tokens.move(token, TokenState.AVAILABLE)
            token.entra_id = f"dev-{i}"
            if i % 4 == 1:
                continue
            uow.tokens.move(token, TokenState.ASSIGNED)
            token.user_upn = ("Ann@Contoso.com", "bob@contoso.com", "ann.b@fabrikam.com")[i % 3]
            if i % 4 == 3:
                uow.tokens.move(token, TokenState.ACTIVATED)
                token.entra_last_used_at = T0 + timedelta(days=i % 5)  # ties on purpose
    return db


def key_of(sort: str, t: Token) -> tuple[Any, ...]:
    """The order the listing promises, computed in Python from the rows."""
    name = sort.removeprefix("-")
    keys: dict[str, tuple[Any, ...]] = {
        "serial": (t.serial,),
        "created": (t.created_at, t.id),
        "state": (t.state.value, t.serial),
        "manufacturer": (t.manufacturer, t.model, t.serial),
        "name": (t.display_name, t.serial),
        "user": (t.user_upn or "", t.serial),
        "batch": (t.batch_id or 0, t.serial),
        "last_used": (t.entra_last_used_at or EPOCH, t.serial),
    }
    return keys[name]


def walk(db: Database, sort: str, flt: TokenFilter | None, size: int) -> list[Token]:
    seen: list[Token] = []
    cursor = None
    with UnitOfWork(db, write=False) as uow:
        while True:
            page = uow.tokens.list(flt, sort=sort, limit=size, cursor=cursor)  # type: ignore[arg-type]
            seen += page.items
            cursor = page.next_cursor
            if cursor is None:
                return seen


@pytest.mark.parametrize("sort", get_args(SortKey))
def test_every_order_pages_through_a_filtered_view_once_in_order(
    mixed: Database, sort: str
) -> None:
    flt = TokenFilter(manufacturer="Token2")  # the even serials: 23 of 45
    whole = walk(mixed, sort, flt, 1000)
    paged = walk(mixed, sort, flt, 4)
    assert len(whole) == 23
    assert [t.serial for t in paged] == [t.serial for t in whole]  # no duplicate, no gap
    expected = sorted(whole, key=lambda t: key_of(sort, t), reverse=sort.startswith("-"))
    assert [t.serial for t in whole] == [t.serial for t in expected]


def test_sorts_put_ties_and_nulls_where_the_header_says(mixed: Database) -> None:
    used = walk(mixed, "-last_used", None, 1000)
    assert used[0].entra_last_used_at == T0 + timedelta(days=4)
    assert all(t.entra_last_used_at is None for t in used[-34:])  # never used: last
    users = walk(mixed, "user", None, 1000)
    assert users[0].user_upn is None and users[-1].user_upn == "bob@contoso.com"
    batches = [t.batch_id or 0 for t in walk(mixed, "-batch", None, 1000)]
    assert batches == sorted(batches, reverse=True) and batches[0] != batches[-1]


def test_substring_and_entra_filters(mixed: Database) -> None:
    def serials(flt: TokenFilter) -> set[int]:
        return {int(t.serial[2:]) for t in walk(mixed, "serial", flt, 1000)}

    held = {i for i in range(N) if i % 4 in (2, 3)}
    assert serials(TokenFilter(user_contains="ANN")) == {i for i in held if i % 3 in (0, 2)}
    assert serials(TokenFilter(user_contains="contoso")) == {i for i in held if i % 3 in (0, 1)}
    assert serials(TokenFilter(user_contains="%")) == set()  # a LIKE wildcard is plain text
    assert serials(TokenFilter(name_contains="DESK")) == {i for i in range(N) if i % 3 < 2}
    assert serials(TokenFilter(name_contains="spare")) == {i for i in range(N) if i % 3 == 1}
    assert serials(TokenFilter(entra="absent")) == {i for i in range(N) if i % 4 == 0}
    assert serials(TokenFilter(entra="present")) == {i for i in range(N) if i % 4}
    assert serials(TokenFilter(entra="available")) == {i for i in range(N) if i % 4 == 1}
    assert serials(TokenFilter(entra="assigned")) == {i for i in range(N) if i % 4 == 2}
    assert serials(TokenFilter(entra="activated")) == {i for i in range(N) if i % 4 == 3}
    assert serials(TokenFilter(entra="failedActivation")) == set()
    both = TokenFilter(user_contains="ann", entra="activated", manufacturer="Feitian")
    assert serials(both) == {i for i in held if i % 3 in (0, 2) and i % 4 == 3 and i % 2}


def test_entra_status_map_is_reconciles_expectation_read_backwards() -> None:
    backwards: dict[str, set[TokenState]] = {}
    for state, status in EXPECTED.items():
        backwards.setdefault(status, set()).add(state)
    assert {k: set(v) for k, v in ENTRA_STATUS_STATES.items()} == backwards


def test_a_cursor_is_good_only_for_its_own_order(mixed: Database) -> None:
    with UnitOfWork(mixed, write=False) as uow:
        cursor = uow.tokens.list(sort="user", limit=3).next_cursor
        assert cursor is not None
        assert len(uow.tokens.list(sort="user", limit=3, cursor=cursor).items) == 3
        for other in ("name", "-user", "serial"):  # each a SortKey
            with pytest.raises(StateConflict) as refused:
                uow.tokens.list(sort=other, cursor=cursor)
            assert refused.value.code == "inventory.bad_cursor"
        naive = {"k": "last_used", "v": ["2026-01-01T00:00:00", "SN000001"]}
        forged = base64.urlsafe_b64encode(json.dumps(naive).encode()).decode()
        with pytest.raises(StateConflict):
            uow.tokens.list(sort="last_used", cursor=forged)
        with pytest.raises(StateConflict) as unknown:
            uow.tokens.list(sort="colour")  # type: ignore[arg-type]
        assert unknown.value.code == "inventory.bad_sort"
