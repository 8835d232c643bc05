"""The hardware-OATH method policy is enforced: switched off, or aimed at groups a user is not in
(or excluded from), it refuses assignment and activation; ``DELETE`` reverts it to the default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.helpers import B32, DEV, READ_APP, Lab, device_body, method_of, totp, uid
from tests.emulator.wide_seed import BLOCKED, BO, PIA, PILOTS, widened

METHODS = "/authentication/hardwareOathMethods"
POLICY = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath"


@pytest.fixture
def wide(lab: Lab) -> Iterator[Lab]:
    yield from widened(lab)


def _device(lab: Lab, serial: str, **extra: Any) -> dict[str, Any]:
    r = lab.call("POST", DEV, json=device_body(serial, **extra))
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def _refused(r: Any) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "badRequest"
    assert "AuthMethodType [HardwareOath]" in r.json()["error"]["message"]


def _policy(lab: Lab, **body: Any) -> None:
    assert lab.call("PATCH", POLICY, json=body).status_code == 204


def test_disabled_policy_refuses_assigning_and_activating(lab: Lab) -> None:
    held = _device(lab, "PE-1")
    base = f"/users/{uid('ada')}{METHODS}"
    assert lab.call("POST", base, json={"device": {"id": held["id"]}}).status_code == 201
    held_method = method_of(lab, "ada", held["id"])
    free = _device(lab, "PE-2")
    _policy(lab, state="disabled")
    _refused(lab.call("POST", base, json={"device": {"id": free["id"]}}))
    code = totp(B32, lab.state.now())
    _refused(lab.call("POST", f"{base}/{held_method}/activate", json={"verificationCode": code}))
    body = {"device": {"id": free["id"]}, "verificationCode": code}
    _refused(lab.call("POST", f"{base}/assignAndActivate", json=body))
    serial = {"serialNumber": "PE-2", "verificationCode": code}
    _refused(lab.call("POST", f"{base}/assignAndActivateBySerialNumber", json=serial))
    _refused(lab.call("POST", DEV, json=device_body("PE-3", assignTo={"id": uid("ada")})))
    assert lab.call("GET", f"{DEV}/{free['id']}").json()["status"] == "available"
    assert lab.call("GET", f"{DEV}/{held['id']}").json()["status"] == "assigned"
    # creating without assigning, and unassigning, are inventory work the policy leaves alone
    assert lab.call("POST", DEV, json=device_body("PE-4")).status_code == 201
    assert lab.call("DELETE", f"{base}/{held_method}").status_code == 204
    assert lab.call("GET", f"{DEV}/{held['id']}").json()["status"] == "available"
    _policy(lab, state="enabled")
    assert lab.call("POST", base, json={"device": {"id": free["id"]}}).status_code == 201


def test_include_and_exclude_targets_follow_group_membership(wide: Lab) -> None:
    _policy(
        wide,
        includeTargets=[{"targetType": "group", "id": PILOTS}],
        excludeTargets=[{"targetType": "group", "id": BLOCKED}],
    )
    shown = wide.call("GET", POLICY).json()
    assert shown["includeTargets"] == [
        {"targetType": "group", "id": PILOTS, "isRegistrationRequired": False}
    ]
    assert shown["excludeTargets"] == [{"targetType": "group", "id": BLOCKED}]
    pia, bo, ada = _device(wide, "PT-1"), _device(wide, "PT-2"), _device(wide, "PT-3")
    ok = wide.call("POST", f"/users/{PIA['id']}{METHODS}", json={"device": {"id": pia["id"]}})
    assert ok.status_code == 201
    excluded = wide.call("POST", f"/users/{BO['id']}{METHODS}", json={"device": {"id": bo["id"]}})
    _refused(excluded)
    assert "excludes" in excluded.json()["error"]["message"]
    outside = wide.call("POST", f"/users/{uid('ada')}{METHODS}", json={"device": {"id": ada["id"]}})
    _refused(outside)
    assert "includes" in outside.json()["error"]["message"]
    # bulk create: the item for a user outside the policy fails alone
    items = [
        device_body("PT-4", assignTo={"id": PIA["id"]}) | {"@contentId": "1"},
        device_body("PT-5", assignTo={"id": uid("ada")}) | {"@contentId": "2"},
    ]
    r = wide.call("PATCH", DEV, json={"@context": "#$delta", "value": items})
    assert r.status_code == 201, r.text
    values = r.json()["value"]
    # created entries echo no @contentId: they are matched by serial, failures keep theirs
    (created,) = [v for v in values if "@Core.DataModificationException" not in v]
    assert created["device"]["serialNumber"] == "PT-4"
    assert created["device"]["assignedTo"]["id"] == PIA["id"]
    assert created["id"] == method_of(wide, PIA["id"], created["device"]["id"])
    (failed,) = [v for v in values if "@Core.DataModificationException" in v]
    assert failed["@contentId"] == "2" and failed["serialNumber"] == "PT-5"
    failure = failed["@Core.DataModificationException"]
    assert failure["responseCode"] == 400 and "HardwareOath" in failure["info"]["message"]


def test_delete_reverts_the_policy_to_the_default(lab: Lab) -> None:
    _policy(lab, excludeTargets=[{"targetType": "group", "id": "some-group"}])
    assert lab.call("DELETE", POLICY, token=lab.app_token(READ_APP)).status_code == 403
    assert lab.call("DELETE", POLICY).status_code == 204
    shown = lab.call("GET", POLICY).json()
    assert shown["state"] == "disabled" and shown["excludeTargets"] == []
    assert shown["includeTargets"] == [
        {"targetType": "group", "id": "all_users", "isRegistrationRequired": False}
    ]
    free = _device(lab, "PD-1")
    base = f"/users/{uid('ada')}{METHODS}"
    _refused(lab.call("POST", base, json={"device": {"id": free["id"]}}))
    _policy(lab, state="enabled")
    assert lab.call("POST", base, json={"device": {"id": free["id"]}}).status_code == 201


def test_invalid_targets_are_refused_and_change_nothing(lab: Lab) -> None:
    bodies: list[dict[str, Any]] = [
        {"state": "disabled", "includeTargets": [{"targetType": "user", "id": uid("ada")}]},
        {"includeTargets": "all_users"},
        {"excludeTargets": [{"targetType": "group"}]},
        {"includeTargets": []},
    ]
    for body in bodies:
        assert lab.call("PATCH", POLICY, json=body).status_code == 400
    shown = lab.call("GET", POLICY).json()
    assert shown["state"] == "enabled" and shown["includeTargets"][0]["id"] == "all_users"


def test_a_policy_saved_before_enforcement_still_lets_everyone_in(lab: Lab) -> None:
    """State saved by an older emulator holds ``includeTargets: []`` (the API refuses it now)."""
    lab.state.directory.policy = {"state": "enabled", "includeTargets": [], "excludeTargets": []}
    free = _device(lab, "PO-1")
    r = lab.call("POST", f"/users/{uid('ada')}{METHODS}", json={"device": {"id": free["id"]}})
    assert r.status_code == 201
