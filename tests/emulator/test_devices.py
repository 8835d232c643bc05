"""Contract tests for the inventory endpoints (A1–A8) and the policy (C1), over real HTTPS."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.helpers import B32, DEV, READ_APP, Lab, device_body, uid


def create(lab: Lab, serial: str, **extra: Any) -> dict[str, Any]:
    r = lab.call("POST", DEV, json=device_body(serial, **extra))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    assert r.headers["Location"] == lab.graph(f"{DEV}/{body['id']}")
    return body


def test_create_returns_the_device_with_secret_nulled_and_status_available(lab: Lab) -> None:
    body = create(lab, "SN-1", displayName="Lab token", hashFunction="HMACSHA256")
    assert body["@odata.context"].endswith("hardwareOathDevices/$entity")
    assert body["secretKey"] is None and B32 not in str(body)
    assert body["status"] == "available" and body["assignedTo"] is None
    assert body["hashFunction"] == "hmacsha256"  # any casing in, lower case out
    assert body["displayName"] == "Lab token" and body["lastUsedDateTime"] is None
    assert lab.http.get(lab.graph(f"{DEV}/{body['id']}")).status_code == 401
    got = lab.call("GET", f"{DEV}/{body['id']}").json()
    assert got["serialNumber"] == "SN-1" and got["secretKey"] is None
    assert got["@odata.type"] == "#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice"


@pytest.mark.parametrize("switch", ["available", "assigned", None])
def test_create_with_assign_to_names_the_user_with_the_switched_status(
    lab: Lab, switch: str | None
) -> None:
    """Learn's how-to shows "available" with assignedTo filled (our default); the reference
    shows "assigned". Either way the user holds a method with its own id."""
    if switch is not None:
        r = lab.http.patch(f"{lab.url}/_emulator/config", json={"assignToStatus": switch})
        assert r.status_code == 200
    body = create(lab, "SN-2", assignTo={"id": uid("ada")})
    assert body["status"] == (switch or "available")
    assert body["assignedTo"] == {"id": uid("ada"), "displayName": "Ada Example"}
    listed = lab.call("GET", f"/users/{uid('ada')}/authentication/hardwareOathMethods").json()
    (method,) = listed["value"]
    assert method["device"]["id"] == body["id"] != method["id"]
    assert method["device"]["status"] == body["status"]
    user = lab.call("GET", f"{DEV}/{body['id']}/assignTo").json()
    assert user["userPrincipalName"].startswith("ada@")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"serialNumber": None}, "serialNumber"),
        ({"manufacturer": None}, "manufacturer"),
        ({"model": ""}, "model"),
        ({"secretKey": None}, "secretKey"),
        ({"timeIntervalInSeconds": 45}, "30 or 60"),
        ({"timeIntervalInSeconds": "abc"}, "30 or 60"),
        ({"hashFunction": "md5"}, "hashFunction"),
        ({"secretKey": "C2dE3fH4iJ5kL6mN7oP1qR2sT3uV4w"}, "Base32"),  # '1' is not Base32
        ({"secretKey": "JBSWY3DPEHPK3PXP===="}, "padding"),
        ({"secretKey": "A" * 136}, "128"),
        ({"status": "activated"}, "unknown properties"),
    ],
)
def test_create_validation_errors_are_400_bad_request(
    lab: Lab, change: dict[str, Any], fragment: str
) -> None:
    body = device_body("SN-BAD")
    body.update(change)
    r = lab.call("POST", DEV, json=body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "badRequest" and fragment in error["message"]
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])
    assert lab.call("GET", f"{DEV}/$count").text == "0"


def test_numeric_string_interval_and_spaced_secret_are_accepted(lab: Lab) -> None:
    body = create(lab, "SN-3", timeIntervalInSeconds="60", secretKey="JBSW Y3DP EHPK 3PXP")
    assert body["timeIntervalInSeconds"] == 60


def test_duplicate_serial_is_409_unless_allowed(lab: Lab) -> None:
    create(lab, "SN-DUP")
    r = lab.call("POST", DEV, json=device_body("SN-DUP"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    lab.http.patch(f"{lab.url}/_emulator/config", json={"rejectDuplicateSerials": False})
    assert lab.call("POST", DEV, json=device_body("SN-DUP")).status_code == 201
    listed = lab.call("GET", DEV, params={"$filter": "serialNumber eq 'SN-DUP'"}).json()
    assert len(listed["value"]) == 2


def test_unknown_device_is_404_and_client_request_id_is_echoed(lab: Lab) -> None:
    r = lab.call("GET", f"{DEV}/nope", headers={"client-request-id": "abc-123"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "itemNotFound"
    assert r.headers["client-request-id"] == "abc-123"
    assert r.json()["error"]["innerError"]["client-request-id"] == "abc-123"


def test_update_is_204_and_only_for_unassigned_devices(lab: Lab) -> None:
    free = create(lab, "SN-U1")
    r = lab.call(
        "PATCH",
        f"{DEV}/{free['id']}",
        json={"model": "New", "hashFunction": "hmacsha256", "displayName": "x"},
    )
    assert r.status_code == 204 and r.content == b""
    got = lab.call("GET", f"{DEV}/{free['id']}").json()
    assert (got["model"], got["hashFunction"], got["displayName"]) == ("New", "hmacsha256", "x")
    assert lab.call("PATCH", f"{DEV}/{free['id']}", json={"serialNumber": "X"}).status_code == 400
    assert lab.call("PATCH", f"{DEV}/{free['id']}", json={"secretKey": B32}).status_code == 400
    held = create(lab, "SN-U2", assignTo={"id": uid("ada")})
    r = lab.call("PATCH", f"{DEV}/{held['id']}", json={"model": "New"})
    assert r.status_code == 400 and "unassign" in r.json()["error"]["message"]


def test_delete_only_when_unassigned(lab: Lab) -> None:
    held = create(lab, "SN-D1", assignTo={"id": uid("ada")})
    assert lab.call("DELETE", f"{DEV}/{held['id']}").status_code == 400
    path = f"/users/{uid('ada')}/authentication/hardwareOathMethods"
    (method,) = lab.call("GET", path).json()["value"]
    assert lab.call("DELETE", f"{path}/{method['id']}").status_code == 204
    assert lab.call("DELETE", f"{DEV}/{held['id']}").status_code == 204
    assert lab.call("GET", f"{DEV}/{held['id']}").status_code == 404
    assert lab.call("DELETE", f"{DEV}/{held['id']}").status_code == 404


def test_paging_follows_next_link_with_top_and_page_size(lab: Lab) -> None:
    for n in range(7):
        create(lab, f"SN-P{n}")
    seen: list[str] = []
    url: str | None = lab.graph(DEV) + "?$top=3&$select=serialNumber"
    pages = 0
    while url:
        body = lab.http.get(url, headers={"Authorization": f"Bearer {lab.app_token()}"}).json()
        assert all(set(v) == {"id", "@odata.type", "serialNumber"} for v in body["value"])
        seen += [v["serialNumber"] for v in body["value"]]
        url = body.get("@odata.nextLink")
        pages += 1
    assert pages == 3 and sorted(seen) == [f"SN-P{n}" for n in range(7)]
    lab.http.patch(f"{lab.url}/_emulator/config", json={"pageSize": 5})
    first = lab.call("GET", DEV).json()
    assert len(first["value"]) == 5 and "$skiptoken=" in first["@odata.nextLink"]
    assert lab.call("GET", DEV, params={"$skiptoken": "garbage!"}).status_code == 400


def test_filters_eq_and_combinations(lab: Lab) -> None:
    lab.http.patch(f"{lab.url}/_emulator/config", json={"assignToStatus": "assigned"})
    create(lab, "SN-F1")
    create(lab, "SN-F2", timeIntervalInSeconds=60, assignTo={"id": uid("ada")})
    create(lab, "SN-F'3")

    def serials(expr: str) -> list[str]:
        r = lab.call("GET", DEV, params={"$filter": expr})
        assert r.status_code == 200, r.text
        return sorted(v["serialNumber"] for v in r.json()["value"])

    assert serials("status eq 'assigned'") == ["SN-F2"]
    assert serials("timeIntervalInSeconds eq 30") == ["SN-F'3", "SN-F1"]
    assert serials(f"assignedTo/id eq '{uid('ada')}'") == ["SN-F2"]
    assert serials("serialNumber eq 'SN-F''3'") == ["SN-F'3"]
    assert serials("status eq 'available' and timeIntervalInSeconds eq 30") == ["SN-F'3", "SN-F1"]
    assert serials("manufacturer eq 'examplevendor' and model eq 'nope'") == []
    assert lab.call("GET", f"{DEV}/$count", params={"$filter": "status eq 'available'"}).text == "2"


@pytest.mark.parametrize(
    "expr",
    [
        "status ne 'assigned'",
        "startswith(serialNumber,'SN')",
        "status eq 'a' or status eq 'b'",
        "secretKey eq 'X'",
        "timeIntervalInSeconds eq '30'",
        "status eq",
    ],
)
def test_unsupported_filters_are_400_invalid_query_option(lab: Lab, expr: str) -> None:
    r = lab.call("GET", DEV, params={"$filter": expr})
    assert r.status_code == 400
    assert r.json()["error"]["innerError"]["code"] == "invalidQueryOption"


def test_unsupported_query_options_are_400(lab: Lab) -> None:
    for option in ("$orderby", "$search", "$skip"):
        assert lab.call("GET", DEV, params={option: "x"}).status_code == 400


def test_bulk_create_by_patch_and_post_answers_the_documented_user_method_shape(
    lab: Lab,
) -> None:
    """201, ``value[]`` of hardwareOathAuthenticationMethod entries with the device nested
    (authenticationmethoddevice-update); no @contentId echo, so only the serial matches."""
    for verb, prefix in (("PATCH", "A"), ("POST", "B")):
        body = {
            "@context": "#$delta",
            "value": [
                {"@contentId": "1", **device_body(f"{prefix}-1")},
                {"@contentId": "2", **device_body(f"{prefix}-2", assignTo={"id": uid("grace")})},
            ],
        }
        r = lab.call(verb, DEV, json=body)
        assert r.status_code == 201, r.text
        values = r.json()["value"]
        assert all("@contentId" not in v for v in values)
        assert {v["@odata.type"] for v in values} == {
            "#microsoft.graph.hardwareOathAuthenticationMethod"
        }
        devices = [v["device"] for v in values]
        assert [d["serialNumber"] for d in devices] == [f"{prefix}-1", f"{prefix}-2"]
        assert [d["status"] for d in devices] == ["available", "available"]  # assignToStatus
        assert devices[1]["assignedTo"]["id"] == uid("grace")
        assert all(d["secretKey"] is None for d in devices)
        assert values[0]["id"] == devices[0]["id"]  # no method yet: the device's id
        assert values[1]["id"] != devices[1]["id"]  # grace's method has its own id
    assert lab.call("GET", f"{DEV}/$count").text == "4"


def test_bulk_partial_failure_marks_items_and_keeps_the_good_ones(lab: Lab) -> None:
    create(lab, "TAKEN")
    body = {
        "@context": "#$delta",
        "value": [
            {"@contentId": "ok", **device_body("NEW-1")},
            {"@contentId": "nosecret", **device_body("testingCreateFail", secret="")},
            {"@contentId": "dup", **device_body("TAKEN")},
            {"@contentId": "guest", **device_body("NEW-2", assignTo={"id": uid("guest")})},
            {"@contentId": "twice", **device_body("NEW-1")},
        ],
    }
    r = lab.call("PATCH", DEV, json=body)
    assert r.status_code == 201
    values = r.json()["value"]
    (good,) = [v for v in values if "@Core.DataModificationException" not in v]
    assert good["device"]["serialNumber"] == "NEW-1" and good["device"]["status"] == "available"
    by_id = {v["@contentId"]: v for v in values if "@contentId" in v}
    codes = {k: v["@Core.DataModificationException"]["responseCode"] for k, v in by_id.items()}
    assert codes == {"nosecret": 400, "dup": 409, "guest": 400, "twice": 409}
    assert by_id["dup"]["serialNumber"] == "TAKEN"
    assert lab.call("GET", f"{DEV}/$count").text == "2"


def test_bulk_envelope_errors_and_item_cap(lab: Lab) -> None:
    lab.http.patch(f"{lab.url}/_emulator/config", json={"maxBulk": 2})
    items = [device_body(f"C-{n}") for n in range(3)]
    assert lab.call("PATCH", DEV, json={"@context": "#$delta", "value": items}).status_code == 400
    assert lab.call("PATCH", DEV, json={"value": items[:2]}).status_code == 400
    assert lab.call("PATCH", DEV, json={"@context": "#$delta", "value": []}).status_code == 400
    dup_ids = [{"@contentId": "1", **items[0]}, {"@contentId": "1", **items[1]}]
    assert lab.call("PATCH", DEV, json={"@context": "#$delta", "value": dup_ids}).status_code == 400
    r = lab.call("PATCH", DEV, json={"@context": "#$delta", "value": [device_body("Z", "")]})
    assert r.status_code == 200 and "@Core.DataModificationException" in r.json()["value"][0]
    assert lab.call("GET", f"{DEV}/$count").text == "0"


def test_assign_ref_alias_on_the_device_path(lab: Lab) -> None:
    device = create(lab, "SN-R")
    ref = {"@odata.id": f"https://graph.microsoft.com/beta/users/{uid('grace')}"}
    assert lab.call("PUT", f"{DEV}/{device['id']}/assignTo/$ref", json=ref).status_code == 204
    assert lab.call("GET", f"{DEV}/{device['id']}").json()["assignedTo"]["id"] == uid("grace")
    assert lab.call("GET", f"{DEV}/{create(lab, 'SN-R2')['id']}/assignTo").status_code == 404


def test_directory_root_policy_and_wrong_method(lab: Lab) -> None:
    assert lab.call("GET", "/directory/authenticationMethodDevices").status_code == 200
    r = lab.call("DELETE", "/directory/authenticationMethodDevices")
    assert r.status_code == 405 and r.json()["error"]["code"] == "methodNotAllowed"
    path = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath"
    assert lab.call("GET", path).json()["state"] == "enabled"
    assert lab.call("PATCH", path, json={"state": "disabled"}).status_code == 204
    assert lab.call("GET", path).json()["id"] == "HardwareOath"
    assert lab.call("GET", path).json()["state"] == "disabled"
    assert lab.call("PATCH", path, json={"state": "on"}).status_code == 400
    assert (
        lab.call(
            "PATCH", path, json={"state": "enabled"}, token=lab.app_token(READ_APP)
        ).status_code
        == 403
    )


@pytest.mark.parametrize("order", ["request", "shuffled", "reversed"])
def test_bulk_result_order_switch(lab: Lab, order: str) -> None:
    """Entra documents no order for bulk results: the switch lets client tests prove they match
    entries by ``device.serialNumber``, never by position."""
    r = lab.http.patch(f"{lab.url}/_emulator/config", json={"bulkResultOrder": order})
    assert r.status_code == 200
    sent = [f"ORD-{n}" for n in range(6)]
    body = {"@context": "#$delta", "value": [device_body(s) for s in sent]}
    r = lab.call("PATCH", DEV, json=body)
    assert r.status_code == 201
    got = [v["device"]["serialNumber"] for v in r.json()["value"]]
    assert sorted(got) == sorted(sent)
    if order == "request":
        assert got == sent
    elif order == "reversed":
        assert got == sent[::-1]
    else:
        assert got != sent
    bad = lab.http.patch(f"{lab.url}/_emulator/config", json={"bulkResultOrder": "random"})
    assert bad.status_code == 400 and "bulkResultOrder" in bad.text
