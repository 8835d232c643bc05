"""A delivery request's state changes only by the moves ``REQUEST_MOVES`` allows; the store
refuses any other with ``delivery.state_conflict`` and leaves the request as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import StatementError

from oathdesk.store import (
    REQUEST_MOVES,
    Database,
    DeliveryRequest,
    RequestState,
    StateConflict,
    UnitOfWork,
    can_move_request,
)

R = RequestState
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _request(db: Database, state: RequestState) -> int:
    with UnitOfWork(db) as uow:
        orders = uow.delivery_orders
        customer = orders.add_customer("Contoso", "contoso.example", "Mia")
        order = orders.add_order(customer, "PO-1", None, AT)
        row = uow.delivery_requests.add(
            DeliveryRequest(
                order_id=order.id,
                email="it@contoso.example",
                shipment_ids=[],
                packaging="combined",
                format="entra-csv",
                encryption="password",
                state=state,
                created_at=AT,
            )
        )
        return row.id


def test_final_states_have_no_way_out_and_every_state_is_in_the_table() -> None:
    assert set(REQUEST_MOVES) == set(RequestState)
    for final in (R.REJECTED, R.CONFIRMED, R.EXPIRED):
        assert not any(can_move_request(final, target) for target in RequestState)
    assert can_move_request(R.PENDING, R.APPROVED) and can_move_request(R.SENT, R.CONFIRMED)
    assert not can_move_request(R.PENDING, R.SENT)  # nothing is mailed before it is built
    assert not can_move_request(R.SENT, R.PENDING)


def test_a_forbidden_move_is_refused_with_a_coded_conflict(db: Database) -> None:
    request_id = _request(db, R.PENDING)
    with pytest.raises(StateConflict) as refused, UnitOfWork(db) as uow:
        row = uow.delivery_requests.get(request_id, for_update=True)
        assert row is not None
        uow.delivery_requests.move(row, R.SENT)
    assert refused.value.code == "delivery.state_conflict"
    assert refused.value.details == {"request": request_id, "state": "pending", "target": "sent"}
    with UnitOfWork(db) as uow:
        row = uow.delivery_requests.get(request_id, for_update=True)
        assert row is not None and row.state is R.PENDING
        assert uow.delivery_requests.move(row, R.APPROVED) is R.PENDING
    with pytest.raises(StateConflict) as unexpected, UnitOfWork(db) as uow:
        row = uow.delivery_requests.get(request_id, for_update=True)
        assert row is not None
        uow.delivery_requests.move(row, R.SENT, expect=[R.MAIL_FAILED])  # allowed, not expected
    assert unexpected.value.code == "delivery.state_conflict"
    with UnitOfWork(db, write=False) as uow:
        row = uow.delivery_requests.get(request_id)
        assert row is not None and row.state is R.APPROVED
        assert [r.id for r in uow.delivery_requests.by_state(R.APPROVED)] == [request_id]


def test_an_unknown_state_never_reaches_the_database(db: Database) -> None:
    with pytest.raises(StatementError) as refused:
        _request(db, "stolen")  # type: ignore[arg-type]
    assert isinstance(refused.value.orig, LookupError)
