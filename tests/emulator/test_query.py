"""Properties of the OData subset: any serial survives quoting in ``$filter``, skip tokens round
trip, and anything beyond ``eq``/``and`` is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oathdesk.emulator.errors import GraphError
from oathdesk.emulator.query import (
    apply_filter,
    decode_skiptoken,
    encode_skiptoken,
    parse_filter,
)

ALLOWED: dict[str, type] = {"serialNumber": str, "timeIntervalInSeconds": int, "assignedTo/id": str}
SERIALS = st.text(max_size=30)


@given(SERIALS)
def test_any_serial_round_trips_through_a_quoted_literal(serial: str) -> None:
    expr = "serialNumber eq '" + serial.replace("'", "''") + "'"
    assert parse_filter(expr, ALLOWED) == [("serialNumber", serial)]


@given(SERIALS, st.integers(min_value=0, max_value=10**6))
def test_and_combinations_select_exactly_the_matches(serial: str, interval: int) -> None:
    items = [
        {"serialNumber": serial, "timeIntervalInSeconds": interval, "assignedTo": None},
        {"serialNumber": serial + "x", "timeIntervalInSeconds": interval, "assignedTo": None},
        {"serialNumber": serial, "timeIntervalInSeconds": interval + 1, "assignedTo": {"id": "u"}},
    ]
    quoted = serial.replace("'", "''")
    clauses = parse_filter(
        f"serialNumber eq '{quoted}' and timeIntervalInSeconds eq {interval}", ALLOWED
    )
    assert apply_filter(items, clauses) == [items[0]]
    assert apply_filter(items, parse_filter("assignedTo/id eq 'U'", ALLOWED)) == [items[2]]


@given(st.integers(min_value=0, max_value=10**9))
def test_skiptokens_round_trip(offset: int) -> None:
    assert decode_skiptoken(encode_skiptoken(offset)) == offset


@pytest.mark.parametrize(
    "expr",
    [
        "serialNumber gt 'a'",
        "serialNumber eq 'a' or serialNumber eq 'b'",
        "(serialNumber eq 'a')",
        "serialNumber eq 'unterminated",
        "model eq 'x'",
        "serialNumber eq 'a' and",
        "timeIntervalInSeconds eq 3.5",
    ],
)
def test_richer_filters_are_refused(expr: str) -> None:
    with pytest.raises(GraphError) as caught:
        parse_filter(expr, ALLOWED)
    assert caught.value.status == 400 and caught.value.inner_code == "invalidQueryOption"
