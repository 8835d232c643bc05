"""Fidelity round 2 over HTTPS: a legacy CSV copy beside a Graph copy and its documented clean-up,
the five-method cap counting authenticator apps, the full method list, and the method's device
navigation (``/device``, ``$expand=device``) as the SDK calls it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oathdesk.emulator import EmulatorState
from oathdesk.emulator.software import PASSWORD_METHOD_ID
from tests.emulator.helpers import B32, B32_2, DEV, DOMAIN, SEED, Lab, device_body, uid

HW = "#microsoft.graph.hardwareOathAuthenticationMethod"
SW = "#microsoft.graph.softwareOathAuthenticationMethod"
APP = "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"


def methods(who: str) -> str:
    return f"/users/{uid(who)}/authentication/hardwareOathMethods"


def new_device(lab: Lab, serial: str, secret: str = B32, **extra: Any) -> str:
    r = lab.call("POST", DEV, json=device_body(serial, secret, **extra))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def held(lab: Lab, who: str) -> list[dict[str, Any]]:
    r = lab.call("GET", methods(who))
    assert r.status_code == 200, r.text
    return list(r.json()["value"])


@pytest.fixture
def apps(lab: Lab) -> Iterator[Lab]:
    """Grace holds two software OATH apps and one Authenticator; the suite's seed is restored."""
    seed = copy.deepcopy(SEED)
    grace = next(u for u in seed["users"] if u["userPrincipalName"].startswith("grace@"))
    grace["softwareMethods"] = [
        {"type": "softwareOath", "id": "sw-1"},
        {"type": "softwareOath"},
        {"type": "microsoftAuthenticator", "displayName": "Grace's phone"},
    ]
    assert lab.http.post(f"{lab.url}/_emulator/seed", json=seed).status_code == 200
    try:
        yield lab
    finally:
        assert lab.http.post(f"{lab.url}/_emulator/seed", json=SEED).status_code == 200


def test_legacy_copy_unassigned_keeps_its_device_until_the_documented_delete(lab: Lab) -> None:
    (legacy,) = held(lab, "lena")
    legacy_device = legacy["device"]["id"]
    new_device(lab, "LEG-1", B32_2, assignTo={"id": uid("lena")})
    graph_copy = next(m for m in held(lab, "lena") if m["device"]["id"] != legacy_device)
    assert graph_copy["id"] != graph_copy["device"]["id"]  # a method id of its own
    # the how-to's status after a create with assignTo (assignToStatus's default)
    assert graph_copy["device"]["status"] == "available"
    assert graph_copy["device"]["assignedTo"]["id"] == uid("lena")
    # still assigned: the device cannot be deleted yet
    r = lab.call("DELETE", f"{DEV}/{legacy_device}")
    assert r.status_code == 400 and "unassign" in r.json()["error"]["message"]
    assert lab.call("DELETE", f"{methods('lena')}/{legacy['id']}").status_code == 204
    assert [m["id"] for m in held(lab, "lena")] == [graph_copy["id"]]
    # the record is kept, outside the inventory listing and the serial lookup
    assert lab.call("GET", f"{DEV}/{legacy_device}").status_code == 404
    listed = lab.call("GET", DEV, params={"$filter": "serialNumber eq 'LEG-1'"}).json()["value"]
    assert [d["id"] for d in listed] == [graph_copy["device"]["id"]]
    kept = lab.http.get(f"{lab.url}/_emulator/state").json()["legacyTokens"]
    assert [k["device"]["id"] for k in kept] == [legacy_device]
    assert kept[0]["device"]["status"] == "available"
    # nor can it be handed to anyone: it is not in the inventory
    r = lab.call("POST", methods("ada"), json={"device": {"id": legacy_device}})
    assert r.status_code == 404
    # the documented clean-up's second step, then it is gone for good
    assert lab.call("DELETE", f"{DEV}/{legacy_device}").status_code == 204
    assert lab.call("DELETE", f"{DEV}/{legacy_device}").status_code == 404
    assert lab.http.get(f"{lab.url}/_emulator/state").json()["legacyTokens"] == []
    # the Graph copy never moved
    device = lab.call("GET", f"{DEV}/{graph_copy['device']['id']}").json()
    assert device["assignedTo"]["id"] == uid("lena") and device["status"] == "available"
    assert [m["id"] for m in held(lab, "lena")] == [graph_copy["id"]]


def test_authenticator_apps_count_towards_the_five_method_cap(apps: Lab) -> None:
    lab = apps
    first, second = new_device(lab, "APPCAP-1"), new_device(lab, "APPCAP-2")
    for device in (first, second):
        r = lab.call("POST", methods("grace"), json={"device": {"id": device}})
        assert r.status_code == 201, r.text
    third = new_device(lab, "APPCAP-3")
    r = lab.call("POST", methods("grace"), json={"device": {"id": third}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "badRequest"
    assert "authenticator apps" in r.json()["error"]["message"]
    r = lab.call("POST", DEV, json=device_body("APPCAP-4", assignTo={"id": uid("grace")}))
    assert r.status_code == 400
    r = lab.call(
        "POST",
        f"{methods('grace')}/assignAndActivate",
        json={"device": {"id": third}, "verificationCode": "123456"},
    )
    assert r.status_code == 400
    assert lab.call("GET", f"{DEV}/{third}").json()["status"] == "available"
    # Ada, with no apps, still takes five
    for n in range(5):
        device = new_device(lab, f"APPCAP-ADA-{n}")
        assert lab.call("POST", methods("ada"), json={"device": {"id": device}}).status_code == 201


def test_the_method_list_shows_every_kind_with_its_odata_type(apps: Lab) -> None:
    lab = apps
    device = new_device(lab, "ALL-1", assignTo={"id": uid("grace")})
    r = lab.call("GET", f"/users/grace@{DOMAIN}/authentication/methods")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["@odata.context"].endswith(f"users('{uid('grace')}')/authentication/methods")
    types = [m["@odata.type"] for m in body["value"]]
    assert types == ["#microsoft.graph.passwordAuthenticationMethod", SW, SW, APP, HW]
    password, sw1, _, app, hardware = body["value"]
    assert password["id"] == PASSWORD_METHOD_ID and password["password"] is None
    assert sw1 == {"@odata.type": SW, "id": "sw-1", "secretKey": None}
    assert app["displayName"] == "Grace's phone"
    assert hardware["id"] == held(lab, "grace")[0]["id"] and "device" not in hardware
    assert held(lab, "grace")[0]["device"]["id"] == device
    # legacy copies are methods too; paging follows the usual nextLink
    lena = lab.call("GET", f"/users/{uid('lena')}/authentication/methods").json()["value"]
    assert [m["@odata.type"] for m in lena][1:] == [HW]
    page = lab.call("GET", f"/users/{uid('grace')}/authentication/methods", params={"$top": 2})
    assert len(page.json()["value"]) == 2 and "@odata.nextLink" in page.json()
    rest = lab.http.get(
        page.json()["@odata.nextLink"], headers={"Authorization": f"Bearer {lab.app_token()}"}
    ).json()["value"]
    assert [m["@odata.type"] for m in rest] == [SW, APP]  # $top is carried along


def test_the_method_list_needs_a_method_read_permission(apps: Lab) -> None:
    lab = apps
    bare = lab.app_token("11111111-aaaa-4aaa-8aaa-000000000003")
    r = lab.call("GET", f"/users/{uid('grace')}/authentication/methods", token=bare)
    assert r.status_code == 403
    mine = lab.user_token("grace", "UserAuthenticationMethod.Read")
    r = lab.call("GET", "/me/authentication/methods", token=mine)
    assert r.status_code == 200 and len(r.json()["value"]) == 4
    r = lab.call("GET", f"/users/{uid('ada')}/authentication/methods", token=mine)
    assert r.status_code == 403
    r = lab.call("GET", "/users/nobody@x.example/authentication/methods")
    assert r.status_code == 404


def test_method_device_navigation_and_expand_as_the_sdk_sends_them(lab: Lab) -> None:
    device = new_device(lab, "NAV-1", displayName="Desk token", assignTo={"id": uid("ada")})
    (method,) = held(lab, "ada")
    r = lab.call("GET", f"{methods('ada')}/{method['id']}/device")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["@odata.type"] == "#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice"
    assert got["id"] == device and got["serialNumber"] == "NAV-1" and got["secretKey"] is None
    assert got["assignedTo"]["id"] == uid("ada") and got["@odata.context"].endswith("$entity")
    assert got == {**lab.call("GET", f"{DEV}/{device}").json(), "@odata.context": ANY}
    r = lab.call("GET", f"{methods('ada')}/{method['id']}/device", params={"$select": "model"})
    assert set(r.json()) == {"@odata.context", "@odata.type", "id", "model"}
    assert lab.call("GET", f"{methods('ada')}/nope/device").status_code == 404
    assert lab.call("GET", f"{methods('grace')}/{method['id']}/device").status_code == 404
    # the SDK percent-encodes the dollar; $select with $expand keeps the expanded device
    url = lab.graph(f"{methods('ada')}/{method['id']}?%24select=id&%24expand=device")
    r = lab.http.get(url, headers={"Authorization": f"Bearer {lab.app_token()}"})
    assert r.status_code == 200, r.text
    assert r.json()["device"]["serialNumber"] == "NAV-1" and "createdDateTime" not in r.json()
    r = lab.call("GET", methods("ada"), params={"$select": "id", "$expand": "device"})
    assert r.json()["value"][0]["device"]["id"] == device
    r = lab.call("GET", methods("ada"), params={"$expand": "assignTo"})
    assert r.status_code == 400
    # a legacy method's device resolves through the method, though not in the inventory
    (legacy,) = held(lab, "lena")
    r = lab.call("GET", f"{methods('lena')}/{legacy['id']}/device")
    assert r.status_code == 200 and r.json()["serialNumber"] == "LEG-1"


class _Any:
    def __eq__(self, other: object) -> bool:
        return True


ANY = _Any()


def test_software_methods_are_checked_and_survive_a_restart(tmp_path: Path) -> None:
    seed = copy.deepcopy(SEED)
    seed["users"][0]["softwareMethods"] = [{"type": "sms"}]
    with pytest.raises(Exception, match=r"users\[0\]\.softwareMethods\[0\]"):
        EmulatorState(seed)
    seed["users"][0]["softwareMethods"] = [
        {"type": "microsoftAuthenticator", "id": "a-1"},
        {"type": "softwareOath", "id": "a-1"},
    ]
    with pytest.raises(Exception, match="share an id"):
        EmulatorState(seed)
    seed["users"][0]["softwareMethods"] = [{"type": "microsoftAuthenticator", "id": "a-1"}]
    state = EmulatorState.open(tmp_path, seed=seed)
    state.save()
    again = EmulatorState.open(tmp_path)
    user = again.directory.users[seed["users"][0]["id"]]
    assert [(m.id, m.kind) for m in user.software_methods] == [("a-1", "microsoftAuthenticator")]
