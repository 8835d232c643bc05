"""Retry, Retry-After, backoff, error mapping and paging, against ``httpx.MockTransport``."""

from __future__ import annotations

import random
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oathdesk.graph import (
    GraphAuthError,
    GraphConflict,
    GraphNotFound,
    GraphOutcomeUnknown,
    GraphRequestError,
    GraphThrottled,
    GraphUnavailable,
    RetryPolicy,
    parse_retry_after,
)
from oathdesk.graph.client import DEVICES
from oathdesk.graph.session import odata_query
from tests.graph.mock import BASE, FakeTime, Scripted, graph_error, sequence

DEVICE = {"id": "d1", "serialNumber": "SN-1", "status": "available", "secretKey": None}
HTTP_DATE = "Wed, 21 Oct 2015 07:28:10 GMT"  # Unix time 1445412490


def test_429_waits_the_fractional_retry_after_then_succeeds() -> None:
    mock = Scripted(
        sequence(
            graph_error(429, "TooManyRequests", headers={"Retry-After": "2.128"}),
            graph_error(429, "TooManyRequests", headers={"Retry-After": "0.5"}),
            httpx.Response(200, json=DEVICE),
        )
    )
    device = mock.client().get_device("d1")
    assert device.serial_number == "SN-1"
    assert len(mock.requests) == 3
    assert mock.time.sleeps == pytest.approx([2.128, 0.5])


def test_retry_after_as_http_date_and_garbage() -> None:
    assert parse_retry_after(HTTP_DATE, now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon", 0.0) is None and parse_retry_after(None, 0.0) is None
    assert parse_retry_after("nan", 0.0) is None and parse_retry_after("-3", 0.0) == 0.0


def test_retry_after_date_is_counted_from_the_session_clock() -> None:
    mock = Scripted(
        sequence(
            graph_error(429, "TooManyRequests", headers={"Retry-After": HTTP_DATE}),
            httpx.Response(200, json=DEVICE),
        ),
        time=FakeTime(at=1445412480.0),  # ten seconds before HTTP_DATE
    )
    assert mock.client().get_device("d1").id == "d1"
    assert mock.time.sleeps == pytest.approx([10.0])


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_reads_retry_5xx_with_growing_jittered_backoff(status: int) -> None:
    mock = Scripted(
        sequence(
            *[graph_error(status, "serviceNotAvailable")] * 3, httpx.Response(200, json=DEVICE)
        )
    )
    assert mock.client().get_device("d1").id == "d1"
    waits = mock.time.sleeps
    assert len(waits) == 3
    policy = RetryPolicy(attempts=4, throttle_attempts=5)
    for n, wait in enumerate(waits, 1):  # equal jitter: between half and all of the ceiling
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (n - 1))
        assert ceiling / 2 <= wait <= ceiling


def test_backoff_is_jittered_not_fixed() -> None:
    policy = RetryPolicy()
    values = {policy.backoff(3, random.Random(seed)) for seed in range(20)}
    assert len(values) > 10 and max(values) <= policy.base_delay * 4


def test_reads_give_up_after_the_attempt_budget() -> None:
    mock = Scripted(sequence(*[graph_error(503, "serviceNotAvailable", request_id="r9")] * 4))
    with pytest.raises(GraphUnavailable) as info:
        mock.client().get_device("d1")
    assert len(mock.requests) == 4
    assert info.value.status == 503 and info.value.request_id == "r9"
    assert info.value.code == "graph.unavailable" and "r9" in info.value.message


def test_throttling_that_never_ends_is_graph_throttled_with_retry_after() -> None:
    mock = Scripted(
        sequence(*[graph_error(429, "TooManyRequests", headers={"Retry-After": "1"})] * 5)
    )
    with pytest.raises(GraphThrottled) as info:
        mock.client().count_devices()
    assert info.value.retry_after == 1.0 and info.value.code == "graph.throttled"
    assert len(mock.requests) == 5


def test_connection_failures_are_retried_for_reads() -> None:
    mock = Scripted(
        sequence(
            httpx.ConnectError,
            httpx.ReadTimeout,
            httpx.RemoteProtocolError,
            httpx.Response(200, json=DEVICE),
        )
    )
    assert mock.client().get_device("d1").id == "d1"
    assert len(mock.requests) == 4


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
def test_a_write_cut_off_mid_flight_is_outcome_unknown_and_not_resent(
    failure: type[Exception],
) -> None:
    mock = Scripted(sequence(failure, httpx.Response(201, json={"value": []})))
    with pytest.raises(GraphOutcomeUnknown) as info:
        mock.client().bulk_create([{"serialNumber": "SN-1"}])
    assert len(mock.requests) == 1
    assert info.value.code == "graph.outcome_unknown"


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_write_answered_with_5xx_is_outcome_unknown(status: int) -> None:
    mock = Scripted(sequence(graph_error(status, "gatewayTimeout")))
    with pytest.raises(GraphOutcomeUnknown):
        mock.client().create_device({"serialNumber": "SN-1"})
    assert len(mock.requests) == 1


def test_a_write_is_retried_when_graph_certainly_did_not_act() -> None:
    mock = Scripted(
        sequence(
            httpx.ConnectError,  # never reached the server
            graph_error(429, "TooManyRequests", headers={"Retry-After": "0.25"}),
            graph_error(503, "serviceNotAvailable", headers={"Retry-After": "1.5"}),
            httpx.Response(201, json=DEVICE),
        )
    )
    assert mock.client().create_device({"serialNumber": "SN-1"}).id == "d1"
    assert len(mock.requests) == 4
    assert mock.time.sleeps[1:] == pytest.approx([0.25, 1.5])


@pytest.mark.parametrize(
    ("status", "code", "kind", "ours"),
    [
        (400, "badRequest", GraphRequestError, "graph.request"),
        (401, "InvalidAuthenticationToken", GraphAuthError, "graph.auth"),
        (403, "Authorization_RequestDenied", GraphAuthError, "graph.auth"),
        (404, "itemNotFound", GraphNotFound, "graph.not_found"),
        (409, "conflict", GraphConflict, "graph.conflict"),
    ],
)
def test_graph_errors_map_to_typed_errors_with_code_and_request_id(
    status: int, code: str, kind: type[Exception], ours: str
) -> None:
    mock = Scripted(lambda request: graph_error(status, code, request_id="req-42"))
    with pytest.raises(kind) as info:
        mock.client().get_device("d1")
    error = info.value
    assert error.code == ours and error.graph_code == code  # type: ignore[attr-defined]
    assert error.request_id == "req-42" and error.status == status  # type: ignore[attr-defined]
    # 401 is retried once with a fresh token, nothing else is retried
    assert len(mock.requests) == (2 if status == 401 else 1)


def test_request_id_from_header_wins_and_non_json_errors_still_map() -> None:
    mock = Scripted(
        lambda request: httpx.Response(
            502, text="<html>bad gateway</html>", headers={"request-id": "hdr-1"}
        )
    )
    with pytest.raises(GraphUnavailable) as info:
        mock.client().count_devices()
    assert info.value.request_id == "hdr-1" and info.value.graph_code is None


def test_every_request_carries_bearer_and_client_request_id() -> None:
    mock = Scripted(sequence(graph_error(503, "x"), httpx.Response(200, json=DEVICE)))
    mock.client().get_device("d1")
    ids = [r.headers["client-request-id"] for r in mock.requests]
    assert all(r.headers["authorization"] == "Bearer test-token" for r in mock.requests)
    assert len(set(ids)) == 2


def _pages(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params.get("$skiptoken", "0"))
    items = [
        {**DEVICE, "id": f"d{page * 3 + k}", "serialNumber": f"SN-{page * 3 + k}"} for k in range(3)
    ]
    body: dict[str, object] = {"value": items}
    if page < 3:
        body["@odata.nextLink"] = f"{BASE}/{DEVICES}?$filter=x&$skiptoken={page + 1}"
    return httpx.Response(200, json=body)


def test_listing_follows_next_link_exactly_to_the_end() -> None:
    mock = Scripted(_pages)
    devices = list(mock.client().list_devices(status="available"))
    assert [d.id for d in devices] == [f"d{n}" for n in range(12)]
    assert len(mock.requests) == 4
    assert "status%20eq%20'available'" in str(mock.requests[0].url)
    assert str(mock.requests[1].url).endswith("$filter=x&$skiptoken=1")


def test_listing_refuses_a_next_link_to_another_host() -> None:
    mock = Scripted(
        lambda r: httpx.Response(
            200,
            json={"value": [DEVICE], "@odata.nextLink": "https://evil.example/beta/x?$skiptoken=1"},
        )
    )
    with pytest.raises(GraphRequestError) as info:
        list(mock.client().list_devices())
    assert info.value.code == "graph.request.foreign_link"
    assert len(mock.requests) == 1


def test_listing_unwraps_the_nested_docs_shape() -> None:
    nested = {"id": "m1", "device": {**DEVICE, "assignedTo": {"id": "u1", "displayName": "A"}}}
    mock = Scripted(lambda r: httpx.Response(200, json={"value": [nested]}))
    [device] = mock.client().list_devices()
    assert device.serial_number == "SN-1" and device.assigned_to_id == "u1"


def test_entity_wrapped_in_value_is_unwrapped() -> None:
    mock = Scripted(lambda r: httpx.Response(200, json={"value": DEVICE}))
    assert mock.client().get_device("d1").serial_number == "SN-1"


def test_serial_filter_quotes_and_encodes() -> None:
    mock = Scripted(lambda r: httpx.Response(200, json={"value": []}))
    assert mock.client().find_serial("O'Brien +1/2") == []
    query = mock.requests[0].url.query.decode()
    assert query == "$filter=serialNumber%20eq%20'O''Brien%20%2B1/2'"
    assert odata_query({"$top": 5}) == "$top=5"


def test_a_create_error_that_echoes_the_seed_does_not_carry_it() -> None:
    seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    body = {"error": {"code": "badRequest", "message": f"secretKey {seed.lower()} is odd"}}
    mock = Scripted(lambda r: httpx.Response(400, json=body))
    with pytest.raises(GraphRequestError) as info:
        mock.client().create_device({"serialNumber": "SN-1", "secretKey": seed})
    assert seed.lower() not in str(info.value).lower() and "[secret]" in str(info.value)


@given(st.text(min_size=1, max_size=40))
def test_any_serial_survives_the_filter_encoding(serial: str) -> None:
    mock = Scripted(lambda r: httpx.Response(200, json={"value": []}))
    mock.client().find_serial(serial)
    query = unquote(mock.requests[0].url.query.decode())
    prefix = "$filter=serialNumber eq '"
    assert query.startswith(prefix) and query.endswith("'")
    assert query[len(prefix) : -1].replace("''", "'") == serial


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_any_numeric_retry_after_is_honoured_exactly(seconds: float) -> None:
    assert parse_retry_after(repr(seconds), 0.0) == pytest.approx(seconds)
