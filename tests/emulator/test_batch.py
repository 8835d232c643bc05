"""JSON batching: per-request statuses, 424 for failed dependencies, the 20-request cap, and
throttling applied to each request inside a batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from tests.emulator.helpers import DEV, Lab, device_body, uid


def batch(lab: Lab, requests: Sequence[Mapping[str, Any]]) -> httpx.Response:
    return lab.call("POST", "/$batch", json={"requests": list(requests)})


def test_batch_runs_each_request_and_marks_dependencies(lab: Lab) -> None:
    json_header = {"Content-Type": "application/json"}
    r = batch(
        lab,
        [
            {
                "id": "1",
                "method": "POST",
                "url": DEV,
                "headers": json_header,
                "body": device_body("B-1"),
            },
            {"id": "2", "method": "GET", "url": f"/users/{uid('ada')}"},
            {"id": "3", "method": "GET", "url": f"{DEV}/nope"},
            {"id": "4", "method": "GET", "url": f"{DEV}/$count", "dependsOn": ["1"]},
            {"id": "5", "method": "GET", "url": "/users", "dependsOn": ["3"]},
        ],
    )
    assert r.status_code == 200
    by_id = {x["id"]: x for x in r.json()["responses"]}
    assert by_id["1"]["status"] == 201 and by_id["1"]["body"]["serialNumber"] == "B-1"
    assert by_id["2"]["body"]["displayName"] == "Ada Example"
    assert by_id["3"]["status"] == 404 and by_id["3"]["body"]["error"]["code"] == "itemNotFound"
    assert by_id["4"]["status"] == 200 and by_id["4"]["body"] == "1"
    assert by_id["5"]["status"] == 424


def test_batch_envelope_errors(lab: Lab) -> None:
    many = [{"id": str(n), "method": "GET", "url": "/users"} for n in range(21)]
    assert batch(lab, many).status_code == 400
    assert batch(lab, []).status_code == 400
    no_type = [{"id": "1", "method": "POST", "url": DEV, "body": device_body("B-2")}]
    assert batch(lab, no_type).status_code == 400
    dup = [{"id": "1", "method": "GET", "url": "/users"}] * 2
    assert batch(lab, dup).status_code == 400
    forward: list[dict[str, Any]] = [
        {"id": "1", "method": "GET", "url": "/users", "dependsOn": ["2"]},
        {"id": "2", "method": "GET", "url": "/users"},
    ]
    assert batch(lab, forward).status_code == 400
    assert lab.http.post(lab.graph("/$batch"), json={"requests": many[:1]}).status_code == 401


def test_each_batched_request_is_throttled(lab: Lab) -> None:
    lab.http.patch(f"{lab.url}/_emulator/config", json={"throttle": "2/60"})
    r = batch(lab, [{"id": str(n), "method": "GET", "url": "/users"} for n in range(3)])
    statuses = [x["status"] for x in r.json()["responses"]]
    assert statuses == [200, 200, 429]
    assert float(r.json()["responses"][2]["headers"]["retry-after"]) > 0
