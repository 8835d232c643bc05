"""Order look-up limits hold exactly under concurrency, on SQLite and PostgreSQL: parallel
guesses get at most the limit's look-ups, the rest ``delivery.throttled``, never another error."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from sqlalchemy import select

from oathdesk.delivery import Delivery, find_order
from oathdesk.domain import OathdeskError
from oathdesk.store import DeliveryAuditEntry

PARALLEL = 40


def _answers(attempt: Callable[[int], object]) -> Counter[str]:
    """Run ``attempt(i)`` in ``PARALLEL`` threads released at once; the error code of each."""
    start = Barrier(PARALLEL)

    def one(i: int) -> str:
        start.wait()
        try:
            attempt(i)
        except OathdeskError as exc:
            return exc.code
        return "found"

    with ThreadPoolExecutor(PARALLEL) as pool:
        return Counter(pool.map(one, range(PARALLEL)))


def _failed(dl: Delivery) -> int:
    with dl.uow(write=False) as uow:
        actions = uow.session.scalars(select(DeliveryAuditEntry.action)).all()
    return actions.count("delivery.find_failed")


def test_parallel_guesses_from_one_address_get_exactly_the_limit(loaded: Delivery) -> None:
    limit = loaded.settings.find.address_failures
    answers = _answers(
        lambda i: find_order(loaded, f"PO-{7000 + i}", "x@contoso.example", address="203.0.113.9")
    )
    assert answers == Counter(
        {"delivery.order_not_found": limit, "delivery.throttled": PARALLEL - limit}
    ), answers
    assert _failed(loaded) == limit


def test_parallel_guesses_on_one_number_get_exactly_the_limit(loaded: Delivery) -> None:
    limit = loaded.settings.find.number_failures
    answers = _answers(
        lambda i: find_order(loaded, "PO-1001", f"g{i}@evil.example", address=f"198.51.100.{i}")
    )
    assert answers == Counter(
        {"delivery.order_not_found": limit, "delivery.throttled": PARALLEL - limit}
    ), answers
    assert _failed(loaded) == limit
