"""Order look-up and serial limits hold exactly under concurrency, on SQLite and PostgreSQL:
parallel guesses get at most the limit's checks, the rest ``delivery.throttled``, never another
error; and guesses from one network never lock the customer, on another network, out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from threading import Barrier

import pytest
from sqlalchemy import select

from oathdesk.delivery import Delivery, DeliveryError, find_order, verify_possession
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


def test_parallel_guesses_on_one_number_lock_only_the_guessers_network(loaded: Delivery) -> None:
    """40 guesses at once on the customer's order from one IPv6 /64 (every one from another
    address in it): exactly the (number, network) limit is looked up, and the customer, from
    another network, still finds the order at once."""
    limit = loaded.settings.find.number_failures
    answers = _answers(
        lambda i: find_order(
            loaded, "PO-1001", f"g{i}@evil.example", address=f"2001:db8:bad:1::{i + 1:x}"
        )
    )
    assert answers == Counter(
        {"delivery.order_not_found": limit, "delivery.throttled": PARALLEL - limit}
    ), answers
    assert _failed(loaded) == limit
    _token, visit = find_order(loaded, "PO-1001", "it@contoso.example", address="192.0.2.44")
    assert visit.order.po_number == "PO-1001"
    with pytest.raises(DeliveryError) as locked:  # the guessers' /64 stays locked
        find_order(loaded, "PO-1001", "it@contoso.example", address="2001:db8:bad:1:ffff::1")
    assert locked.value.code == "delivery.throttled"


def test_guesses_on_one_number_from_many_networks_stop_at_its_total(loaded: Delivery) -> None:
    """One number's guesses over all networks are bounded too: with a total of 12, 40 parallel
    guesses from 40 networks get exactly 12 look-ups."""
    total = 12
    policy = replace(loaded.settings.find, number_total=total)
    dl = Delivery(loaded.inv, replace(loaded.settings, find=policy))
    answers = _answers(
        lambda i: find_order(dl, "PO-1001", f"g{i}@evil.example", address=f"198.51.100.{i + 1}")
    )
    assert answers == Counter(
        {"delivery.order_not_found": total, "delivery.throttled": PARALLEL - total}
    ), answers
    assert _failed(dl) == total


def test_parallel_wrong_serials_count_per_visit_and_per_order(loaded: Delivery) -> None:
    """Wrong serials in one visit stop at the visit's limit even from many networks; a new
    visit gets fresh tries but the order's total still bounds them all, and another visit's
    right serial is then refused too (the order total is the bound on guessing serials)."""
    visit_failures, serial_total = 5, 20  # docs/security.md, Throttles
    _token, visit = find_order(loaded, "PO-1001", "it@contoso.example", address="192.0.2.1")
    shipment = next(s.id for s in visit.order.shipments if s.number == "SH-1")
    answers = _answers(
        lambda i: verify_possession(
            loaded, visit, {shipment: f"ZZ{i:06d}"}, address=f"203.0.113.{i + 1}"
        )
    )
    assert answers == Counter(
        {
            "delivery.serial_mismatch": visit_failures,
            "delivery.throttled": PARALLEL - visit_failures,
        }
    ), answers
    wrong = visit_failures
    while wrong < serial_total:  # fresh visits, each from a fresh network
        n = wrong // visit_failures
        _t, other = find_order(loaded, "PO-1001", "it@contoso.example", address=f"192.0.2.{n + 9}")
        for i in range(min(visit_failures, serial_total - wrong)):
            with pytest.raises(DeliveryError) as bad:
                verify_possession(loaded, other, {shipment: f"YY{i:06d}"}, address=f"10.0.{n}.1")
            assert bad.value.code == "delivery.serial_mismatch"
            wrong += 1
    _t, last = find_order(loaded, "PO-1001", "it@contoso.example", address="192.0.2.200")
    with pytest.raises(DeliveryError) as locked:
        verify_possession(loaded, last, {shipment: "AC000102"}, address="10.9.9.9")
    assert locked.value.code == "delivery.throttled"
