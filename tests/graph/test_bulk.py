"""The bulk upload's rules against a scripted Graph: chunking, per-item results, the
unknown-outcome rule (look up before re-sending), present serials, splitting, dry runs."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from oathdesk.graph import GraphAuthError, Uploader, UploadOptions
from tests.graph.mock import Scripted, graph_error
from tests.graph.support import b32, record, records

_SERIAL_FILTER = re.compile(r"serialNumber eq '((?:[^']|'')*)'")


class FakeGraph:
    """An inventory that can be told to fail the next bulk requests in chosen ways."""

    def __init__(self) -> None:
        self.devices: dict[str, dict[str, Any]] = {}
        self.faults: list[str] = []  # "timeout-after" (created, answer lost), "drop", "400"...
        self.users = {"ada@x.test": ("u-ada", "Member"), "gus@x.test": ("u-gus", "Guest")}
        self.log: list[tuple[str, str]] = []
        self.echo_secret = False
        self.refuse: set[str] = set()
        self.reads_fail_after_patch = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path)
        query = unquote(request.url.query.decode())
        self.log.append((request.method, f"{path}?{query}" if query else path))
        if path.startswith("/beta/users/"):
            key = path.rsplit("/", 1)[1]
            if key not in self.users:
                return graph_error(404, "Request_ResourceNotFound")
            uid, kind = self.users[key]
            return httpx.Response(200, json={"id": uid, "userPrincipalName": key, "userType": kind})
        if request.method == "GET":
            if self.reads_fail_after_patch and any(m == "PATCH" for m, _ in self.log):
                return graph_error(503, "serviceNotAvailable")
            match = _SERIAL_FILTER.search(query)
            items = list(self.devices.values())
            if match:
                items = [d for d in items if d["serialNumber"] == match.group(1).replace("''", "'")]
            return httpx.Response(200, json={"value": items})
        body = json.loads(request.content)
        fault = self.faults.pop(0) if self.faults else None
        if fault == "drop":
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        if fault == "400":
            return graph_error(400, "badRequest")
        if fault == "429":
            return graph_error(429, "TooManyRequests", headers={"Retry-After": "0.5"})
        out = []
        for item in body["value"]:
            serial = item["serialNumber"]
            if serial in self.refuse or any(
                d["serialNumber"] == serial for d in self.devices.values()
            ):
                status, code = (400, "badRequest") if serial in self.refuse else (409, "conflict")
                message = f"refused {item['secretKey']}" if self.echo_secret else "refused"
                out.append(
                    {
                        "@contentId": item["@contentId"],
                        "@Core.DataModificationException": {
                            "failedOperation": "insert",
                            "responseCode": status,
                            "info": {"code": code, "message": message},
                        },
                    }
                )
                continue
            device = {
                "id": str(uuid.uuid4()),
                "serialNumber": serial,
                "status": "available",
                "assignedTo": item.get("assignTo"),
            }
            self.devices[device["id"]] = device
            out.append({"@contentId": item["@contentId"], **device})
        if fault == "timeout-after":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(201, json={"value": out})

    def bulk_bodies(self, mock: Scripted) -> list[dict[str, Any]]:
        return [b for b, r in zip(mock.bodies(), mock.requests, strict=True) if r.method == "PATCH"]

    def serials(self) -> list[str]:
        return [d["serialNumber"] for d in self.devices.values()]


def _upload(fake: FakeGraph, recs: list[Any], **options: Any) -> tuple[Any, Scripted]:
    mock = Scripted(fake)
    opts = UploadOptions(**{"chunk_size": 50, "concurrency": 1, "unknown_grace": 0.5, **options})
    uploader = Uploader(mock.client(), opts, sleep=mock.time.sleep)
    return uploader.upload(recs), mock


def test_chunks_carry_content_ids_base32_secrets_and_the_delta_context() -> None:
    fake = FakeGraph()
    report, mock = _upload(fake, records(120))
    bodies = fake.bulk_bodies(mock)
    assert [len(b["value"]) for b in bodies] == [50, 50, 20]
    assert all(b["@context"] == "#$delta" for b in bodies)
    first = bodies[0]["value"][0]
    assert first["@contentId"] == "1" and first["secretKey"] == b32(record(0).secret)
    assert first["timeIntervalInSeconds"] == 30 and first["hashFunction"] == "hmacsha1"
    assert report.counts()["created"] == 120 and sorted(fake.serials()) == sorted(
        r.serial for r in records(120)
    )


def test_per_item_failures_are_reported_per_serial_without_the_secret() -> None:
    fake = FakeGraph()
    fake.refuse = {"SN-000003"}
    fake.echo_secret = True
    report, _ = _upload(fake, records(5))
    [failed] = report.of("failed")
    assert failed.serial == "SN-000003" and failed.code == "graph.item.badRequest"
    assert b32(record(3).secret) not in failed.reason and "[secret]" in failed.reason
    assert report.counts()["created"] == 4


def test_unknown_outcome_is_looked_up_before_anything_is_sent_again() -> None:
    fake = FakeGraph()
    fake.faults = ["timeout-after"]  # Graph created the chunk but the answer was lost
    report, mock = _upload(fake, records(10))
    patches = [n for n, (method, _) in enumerate(fake.log) if method == "PATCH"]
    assert len(patches) == 1  # never re-sent: every serial was found by lookup
    lookups = [p for m, p in fake.log[patches[0] + 1 :] if m == "GET"]
    assert len(lookups) == 10 and all("serialNumber eq" in p for p in lookups)
    assert report.counts()["created"] == 10 and len(fake.serials()) == 10
    assert report.unknown_outcomes == 1
    assert 0.5 in mock.time.sleeps  # the grace period before looking


def test_a_dropped_request_resends_only_the_serials_that_are_missing() -> None:
    fake = FakeGraph()
    fake.faults = ["drop"]
    report, mock = _upload(fake, records(6))
    bodies = fake.bulk_bodies(mock)
    assert len(bodies) == 2 and len(bodies[1]["value"]) == 6
    assert report.counts()["created"] == 6 and len(fake.serials()) == 6


def test_serials_already_in_the_inventory_are_present_not_sent() -> None:
    fake = FakeGraph()
    _upload(fake, records(3))
    report, mock = _upload(fake, records(5))
    assert [r.serial for r in report.of("present")] == [f"SN-00000{n}" for n in range(3)]
    assert [r.serial for r in report.of("created")] == ["SN-000003", "SN-000004"]
    [body] = fake.bulk_bodies(mock)
    assert [i["serialNumber"] for i in body["value"]] == ["SN-000003", "SN-000004"]
    assert len(fake.serials()) == 5


def test_a_conflict_is_looked_up_and_reported_present() -> None:
    fake = FakeGraph()
    mock = Scripted(fake)
    uploader = Uploader(mock.client(), UploadOptions(concurrency=1), sleep=mock.time.sleep)
    # the serial appears between the pre-check and the send (another admin, say)
    original = uploader.client.find_serials
    calls = {"n": 0}

    def racing(serials: Any, **kw: Any) -> Any:
        calls["n"] += 1
        found = original(serials, **kw)
        if calls["n"] == 1:
            fake.devices["other"] = {"id": "other", "serialNumber": "SN-000001"}
        return found

    uploader.client.find_serials = racing  # type: ignore[method-assign]
    report = uploader.upload(records(3))
    assert {r.serial: r.outcome for r in report.results.values()} == {
        "SN-000000": "created",
        "SN-000001": "present",
        "SN-000002": "created",
    }
    assert report.results["SN-000001"].device_id == "other"


def test_a_whole_request_refused_with_400_is_split_until_it_fits() -> None:
    fake = FakeGraph()
    fake.faults = ["400", "400"]
    report, mock = _upload(fake, records(8))
    sizes = [len(b["value"]) for b in fake.bulk_bodies(mock)]
    assert sizes == [8, 4, 2, 2, 4]  # halves until Graph takes them
    assert report.counts()["created"] == 8 and len(fake.serials()) == 8


def test_throttled_bulk_requests_are_retried_after_retry_after() -> None:
    fake = FakeGraph()
    fake.faults = ["429", "429"]
    report, mock = _upload(fake, records(4))
    assert report.counts()["created"] == 4 and len(fake.bulk_bodies(mock)) == 3
    assert mock.time.sleeps.count(0.5) >= 2


def test_users_resolve_to_object_ids_and_unknown_or_guest_users_fail_their_tokens() -> None:
    fake = FakeGraph()
    recs = [
        record(1, user="ada@x.test"),
        record(2, user="nobody@x.test"),
        record(3, user="gus@x.test"),
        record(4),
    ]
    report, mock = _upload(fake, recs)
    [body] = fake.bulk_bodies(mock)
    assert [(i["serialNumber"], i.get("assignTo")) for i in body["value"]] == [
        ("SN-000001", {"id": "u-ada"}),
        ("SN-000004", None),
    ]
    codes = {r.serial: r.code for r in report.of("failed")}
    assert codes == {"SN-000002": "graph.user_not_found", "SN-000003": "graph.user_is_guest"}


def test_dry_run_sends_nothing_and_plans_the_rest() -> None:
    fake = FakeGraph()
    _upload(fake, records(2))
    report, mock = _upload(fake, records(4), dry_run=True)
    assert not fake.bulk_bodies(mock)
    assert report.counts() == {"created": 0, "present": 2, "failed": 0, "planned": 2}


def test_concurrent_chunks_create_each_serial_once_despite_faults() -> None:
    fake = FakeGraph()
    fake.faults = ["drop", "timeout-after", "429", "400", "timeout-after", "drop"]
    report, _ = _upload(fake, records(500), chunk_size=25, concurrency=4)
    assert report.counts()["created"] == 500
    assert sorted(fake.serials()) == sorted(r.serial for r in records(500))


def test_a_refused_credential_stops_the_upload() -> None:
    mock = Scripted(lambda r: graph_error(403, "Authorization_RequestDenied"))
    with pytest.raises(GraphAuthError):
        Uploader(mock.client(), UploadOptions(), sleep=mock.time.sleep).upload(records(3))


def test_when_lookups_keep_failing_unknown_tokens_fail_and_are_never_resent() -> None:
    fake = FakeGraph()
    fake.faults = ["drop"]
    fake.reads_fail_after_patch = True
    report, mock = _upload(fake, records(4))
    assert len(fake.bulk_bodies(mock)) == 1  # not re-sent blindly
    assert {r.code for r in report.of("failed")} == {"graph.outcome_unknown"}
    assert len(report.of("failed")) == 4 and "run the same upload again" in (
        report.of("failed")[0].reason
    )


def test_a_serial_that_never_gets_a_definite_answer_is_given_up_after_max_rounds() -> None:
    fake = FakeGraph()
    fake.faults = ["drop"] * 10
    report, mock = _upload(fake, records(2), max_rounds=3)
    assert len(fake.bulk_bodies(mock)) == 3
    assert {r.code for r in report.of("failed")} == {"graph.gave_up"}


class ReorderingGraph(FakeGraph):
    """Answers bulk creates as Entra documents them: user-method entries with the device
    nested, no @contentId, in reverse order; one entry it leaves out entirely (``drop_one``)."""

    drop_one = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        if request.method != "PATCH" or response.status_code >= 400:
            return response
        entries = []
        for entry in reversed(response.json()["value"]):
            device = {k: v for k, v in entry.items() if k != "@contentId"}
            entries.append(
                {
                    "@odata.type": "#microsoft.graph.hardwareOathAuthenticationMethod",
                    "id": f"method-{device['id']}",
                    "device": device,
                }
            )
        if self.drop_one:
            entries = entries[1:]
        return httpx.Response(201, json={"value": entries})


def test_results_are_matched_by_the_nested_serial_never_by_position() -> None:
    fake = ReorderingGraph()
    report, _ = _upload(fake, records(4))
    by_serial = {d["serialNumber"]: d["id"] for d in fake.devices.values()}
    assert {r.serial: r.device_id for r in report.of("created")} == by_serial


def test_a_result_left_out_is_looked_up_not_guessed_from_its_position() -> None:
    fake = ReorderingGraph()
    fake.drop_one = True  # the answer for the last serial sent is missing
    report, mock = _upload(fake, records(3))
    assert len(fake.bulk_bodies(mock)) == 1  # found by lookup, never sent twice
    by_serial = {d["serialNumber"]: d["id"] for d in fake.devices.values()}
    assert {r.serial: r.device_id for r in report.of("created")} == by_serial
    lookups = [p for m, p in fake.log if m == "GET" and "SN-000002" in p]
    assert len(lookups) == 2  # before the upload, and after: the missing one by its serial
