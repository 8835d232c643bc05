"""The Oct-2025 per-method permissions (``UserAuthMethod-HardwareOATH.*``) and
``Policy.Read.AuthenticationMethod``: each operation takes the least-privileged permission
Microsoft lists, the broad ones still work, and what is not listed is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from tests.emulator.helpers import B32, DEV, TENANT, Lab, device_body, method_of, totp, uid
from tests.emulator.wide_seed import app_id, token, widened

METHODS = "/authentication/hardwareOathMethods"
POLICY = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath"


@pytest.fixture
def wide(lab: Lab) -> Iterator[Lab]:
    yield from widened(lab)


def _device(lab: Lab, serial: str) -> dict[str, Any]:
    r = lab.call("POST", DEV, json=device_body(serial))
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def test_narrow_app_permissions_are_issued_in_the_token(wide: Lab) -> None:
    claims = jwt.decode(token(wide, "hw_create"), options={"verify_signature": False})
    assert claims["tid"] == TENANT and claims["appid"] == app_id("hw_create")
    assert sorted(claims["roles"]) == [
        "Policy.ReadWrite.AuthenticationMethod",
        "UserAuthMethod-HardwareOATH.ReadWrite.All",
    ]


def test_delegated_only_permissions_cannot_be_app_roles(lab: Lab) -> None:
    seed = {
        "apps": [
            {"clientId": "x", "clientSecret": "y", "roles": ["UserAuthMethod-HardwareOATH.Read"]}
        ]
    }
    r = lab.http.post(f"{lab.url}/_emulator/seed", json={**seed, "tenant": {"id": "t-other"}})
    assert r.status_code == 400 and "UserAuthMethod-HardwareOATH.Read" in r.text


def test_hardware_oath_read_all_reads_methods_but_cannot_change_them(wide: Lab) -> None:
    device = _device(wide, "NR-1")
    assert (
        wide.call(
            "POST", f"/users/{uid('ada')}{METHODS}", json={"device": {"id": device["id"]}}
        ).status_code
        == 201
    )
    mid = method_of(wide, "ada", device["id"])
    reader = token(wide, "hw_read")
    listed = wide.call("GET", f"/users/{uid('ada')}{METHODS}", token=reader)
    assert listed.status_code == 200
    assert [(m["id"], m["device"]["id"]) for m in listed.json()["value"]] == [(mid, device["id"])]
    got = wide.call("GET", f"/users/{uid('ada')}{METHODS}/{mid}", token=reader)
    assert got.status_code == 200 and got.json()["device"]["id"] == device["id"]
    r = wide.call("DELETE", f"/users/{uid('ada')}{METHODS}/{mid}", token=reader)
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    assert "UserAuthMethod-HardwareOATH.ReadWrite.All" in r.json()["error"]["message"]
    # reading methods is not reading the inventory: that stays a policy permission
    assert wide.call("GET", DEV, token=reader).status_code == 403


def test_hardware_oath_read_write_all_assigns_activates_and_unassigns(wide: Lab) -> None:
    device = _device(wide, "NR-2")
    writer = token(wide, "hw_write")
    base = f"/users/{uid('grace')}{METHODS}"
    assert (
        wide.call("POST", base, token=writer, json={"device": {"id": device["id"]}}).status_code
        == 201
    )
    # the writer finds its method by device id, as the product client does
    listed = wide.call("GET", base, token=writer).json()["value"]
    (mid,) = [m["id"] for m in listed if m["device"]["id"] == device["id"]]
    code = totp(B32, wide.state.now())
    r = wide.call("POST", f"{base}/{mid}/activate", token=writer, json={"verificationCode": code})
    assert r.status_code == 204, r.text
    (held,) = wide.call("GET", base, token=writer).json()["value"]
    assert held["id"] == mid and held["device"]["status"] == "activated"
    assert wide.call("DELETE", f"{base}/{mid}", token=writer).status_code == 204
    assert wide.call("GET", base, token=writer).json()["value"] == []


def test_create_with_assign_to_takes_the_narrow_write_permission(wide: Lab) -> None:
    r = wide.call(
        "POST",
        DEV,
        token=token(wide, "hw_create"),
        json=device_body("NR-3", assignTo={"id": uid("ada")}),
    )
    assert r.status_code == 201 and r.json()["assignedTo"]["id"] == uid("ada")


def test_delegated_narrow_scopes_for_ones_own_methods(wide: Lab) -> None:
    device = _device(wide, "NR-4")
    reads = wide.user_token("ada", "UserAuthMethod-HardwareOATH.Read")
    writes = wide.user_token("ada", "UserAuthMethod-HardwareOATH.ReadWrite")
    body = {"device": {"id": device["id"]}}
    r = wide.call("POST", f"/me{METHODS}", token=reads, json=body)
    assert (
        r.status_code == 403
        and "UserAuthMethod-HardwareOATH.ReadWrite" in r.json()["error"]["message"]
    )
    assert wide.call("POST", f"/me{METHODS}", token=writes, json=body).status_code == 201
    mine = wide.call("GET", f"/me{METHODS}", token=reads).json()["value"]
    assert [m["device"]["id"] for m in mine] == [device["id"]]
    assert [m["id"] for m in mine] == [method_of(wide, "ada", device["id"])]
    # a delegated .Read scope covers oneself only, not another user
    assert wide.call("GET", f"/users/{uid('grace')}{METHODS}", token=reads).status_code == 403


def test_policy_is_read_with_policy_read_authentication_method_not_policy_read_all(
    wide: Lab,
) -> None:
    narrow = token(wide, "policy_reader")
    r = wide.call("GET", POLICY, token=narrow)
    assert r.status_code == 200 and r.json()["id"] == "HardwareOath"
    assert wide.call("PATCH", POLICY, token=narrow, json={"state": "disabled"}).status_code == 403
    broad = token(wide, "broad_reader")
    refused = wide.call("GET", POLICY, token=broad)
    assert refused.status_code == 403
    assert "Policy.Read.AuthenticationMethod" in refused.json()["error"]["message"]
    assert wide.call("GET", DEV, token=broad).status_code == 200  # the inventory's own listing
    assert wide.call("GET", DEV, token=narrow).status_code == 403
