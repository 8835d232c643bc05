"""Contract tests for users' hardware-OATH methods (B1–B9): the status machine, activation with
Entra's window, the five-method cap, guests, conflicts and the ``/me`` variants."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.helpers import (
    B32,
    B32_2,
    DEV,
    Lab,
    device_body,
    method_of,
    totp,
    uid,
    wrong_code,
)


def new_device(lab: Lab, serial: str, secret: str = B32, **extra: Any) -> str:
    r = lab.call("POST", DEV, json=device_body(serial, secret, **extra))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def methods(who: str) -> str:
    return f"/users/{uid(who)}/authentication/hardwareOathMethods"


def status(lab: Lab, device_id: str) -> str:
    return str(lab.call("GET", f"{DEV}/{device_id}").json()["status"])


def test_assign_list_get_and_unassign(lab: Lab) -> None:
    device = new_device(lab, "M-1")
    r = lab.call("POST", methods("ada"), json={"device": {"id": device}})
    assert r.status_code == 201
    created = r.json()
    mid = created["id"]  # the method's own id, as in Microsoft's reference example
    assert mid != device and r.headers["Location"] == lab.graph(f"{methods('ada')}/{mid}")
    assert set(created) == {"@odata.context", "@odata.type", "id", "createdDateTime"}
    assert created["@odata.type"] == "#microsoft.graph.hardwareOathAuthenticationMethod"
    assert created["createdDateTime"].endswith("Z")
    assert status(lab, device) == "assigned"
    listed = lab.call("GET", methods("ada")).json()["value"]
    assert [m["id"] for m in listed] == [mid]
    assert listed[0]["device"]["id"] == device and listed[0]["device"]["secretKey"] is None
    assert listed[0]["@odata.type"] == "#microsoft.graph.hardwareOathAuthenticationMethod"
    upn_path = f"/users/ada@lab.example.com/authentication/hardwareOathMethods/{mid}"
    got = lab.call("GET", upn_path, params={"$expand": "device"}).json()
    assert got["device"]["assignedTo"]["id"] == uid("ada") and got["device"]["id"] == device
    assert lab.call("GET", f"{methods('ada')}/{device}").status_code == 404  # not a method id
    assert lab.call("DELETE", f"{methods('ada')}/{device}").status_code == 404
    assert lab.call("DELETE", f"{methods('ada')}/{mid}").status_code == 204
    device_now = lab.call("GET", f"{DEV}/{device}").json()
    assert device_now["status"] == "available" and device_now["assignedTo"] is None
    assert lab.call("GET", methods("ada")).json()["value"] == []
    assert lab.call("GET", f"{methods('ada')}/{mid}").status_code == 404


def test_bare_id_body_is_accepted_and_reassigning_same_user_is_idempotent(lab: Lab) -> None:
    device = new_device(lab, "M-2")
    first = lab.call("POST", methods("ada"), json={"id": device})
    again = lab.call("POST", methods("ada"), json={"device": {"id": device}})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] != device  # the same method both times
    r = lab.call("POST", methods("grace"), json={"device": {"id": device}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert lab.call("POST", methods("ada"), json={"device": {}}).status_code == 400
    assert lab.call("POST", methods("ada"), json={"device": {"id": "nope"}}).status_code == 404


def test_guest_and_unknown_user(lab: Lab) -> None:
    device = new_device(lab, "M-3")
    r = lab.call("POST", methods("guest"), json={"device": {"id": device}})
    assert r.status_code == 400 and "guest" in r.json()["error"]["message"]
    r = lab.call("GET", "/users/nobody@lab.example.com/authentication/hardwareOathMethods")
    assert r.status_code == 404


def test_sixth_method_is_refused(lab: Lab) -> None:
    for n in range(5):
        assert (
            lab.call(
                "POST", methods("ada"), json={"device": {"id": new_device(lab, f"CAP-{n}")}}
            ).status_code
            == 201
        )
    sixth = new_device(lab, "CAP-5")
    r = lab.call("POST", methods("ada"), json={"device": {"id": sixth}})
    assert r.status_code == 400 and "5" in r.json()["error"]["message"]
    r = lab.call("POST", DEV, json=device_body("CAP-6", assignTo={"id": uid("ada")}))
    assert r.status_code == 400
    assert status(lab, sixth) == "available"


def test_status_machine_wrong_code_then_right_code_then_deactivate(lab: Lab) -> None:
    device = new_device(lab, "S-1", assignTo={"id": uid("ada")})
    mid = method_of(lab, "ada", device)
    now = lab.state.now()
    r = lab.call(
        "POST",
        f"{methods('ada')}/{mid}/activate",
        json={"verificationCode": wrong_code(B32, now)},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "badRequest"
    assert "verification code" in r.json()["error"]["message"]
    assert status(lab, device) == "failedActivation"
    r = lab.call(
        "POST",
        f"{methods('ada')}/{mid}/activate",
        json={"verificationCode": totp(B32, lab.state.now()), "displayName": "Mine"},
    )
    assert r.status_code == 204
    got = lab.call("GET", f"{DEV}/{device}").json()
    assert (got["status"], got["displayName"]) == ("activated", "Mine")
    assert lab.call("POST", f"{methods('ada')}/{mid}/deactivate").status_code == 204
    assert status(lab, device) == "assigned"
    assert lab.call("DELETE", f"{methods('ada')}/{mid}").status_code == 204
    assert status(lab, device) == "available"


@pytest.mark.parametrize("code", ["12345", "1234567", 123456, "abcdef", None])
def test_malformed_codes_are_400_and_leave_status(lab: Lab, code: object) -> None:
    device = new_device(lab, "S-2", assignTo={"id": uid("ada")})
    mid = method_of(lab, "ada", device)
    before = status(lab, device)
    r = lab.call("POST", f"{methods('ada')}/{mid}/activate", json={"verificationCode": code})
    assert r.status_code == 400 and "6-digit" in r.json()["error"]["message"]
    assert status(lab, device) == before


def test_activation_accepts_drift_within_a_day_but_not_beyond(lab: Lab) -> None:
    device = new_device(lab, "S-3", assignTo={"id": uid("ada")})
    mid = method_of(lab, "ada", device)
    late = totp(B32, lab.state.now() - 20 * 3600)  # token clock 20 hours behind
    assert (
        lab.call(
            "POST", f"{methods('ada')}/{mid}/activate", json={"verificationCode": late}
        ).status_code
        == 204
    )
    other = new_device(lab, "S-4", B32_2, assignTo={"id": uid("ada")})
    other_mid = method_of(lab, "ada", other)
    now = lab.state.now()
    # A 6-digit code from 26 hours ago can also be the code of some step inside the ±1 day
    # window (about 0.6% of the time); take the first later hour whose code is not.
    in_window = {totp(B32_2, now + k * 30) for k in range(-2885, 2886)}
    too_late = next(
        code
        for code in (totp(B32_2, now - hours * 3600) for hours in range(26, 60))
        if code not in in_window
    )
    r = lab.call(
        "POST", f"{methods('ada')}/{other_mid}/activate", json={"verificationCode": too_late}
    )
    assert r.status_code == 400 and status(lab, other) == "failedActivation"


def test_sha256_sixty_second_token_activates(lab: Lab) -> None:
    device = new_device(
        lab,
        "S-5",
        B32_2,
        timeIntervalInSeconds=60,
        hashFunction="hmacsha256",
        assignTo={"id": uid("ada")},
    )
    mid = method_of(lab, "ada", device)
    code = totp(B32_2, lab.state.now(), period=60, sha256=True)
    assert (
        lab.call(
            "POST", f"{methods('ada')}/{mid}/activate", json={"verificationCode": code}
        ).status_code
        == 204
    )


def test_activate_a_method_the_user_does_not_hold_is_404(lab: Lab) -> None:
    device = new_device(lab, "S-6", assignTo={"id": uid("grace")})
    mid = method_of(lab, "grace", device)  # grace's method, asked for under ada
    r = lab.call(
        "POST",
        f"{methods('ada')}/{mid}/activate",
        json={"verificationCode": totp(B32, lab.state.now())},
    )
    assert r.status_code == 404


def test_assign_and_activate_by_device_id(lab: Lab) -> None:
    device = new_device(lab, "AA-1")
    body = {
        "device": {"id": device},
        "verificationCode": totp(B32, lab.state.now()),
        "displayName": "Desk",
    }
    assert lab.call("POST", f"{methods('ada')}/assignAndActivate", json=body).status_code == 204
    got = lab.call("GET", f"{DEV}/{device}").json()
    assert got["status"] == "activated" and got["assignedTo"]["id"] == uid("ada")
    r = lab.call("POST", f"{methods('grace')}/assignAndActivate", json=body)
    assert r.status_code == 409


def test_assign_and_activate_wrong_code_assigns_nothing(lab: Lab) -> None:
    device = new_device(lab, "AA-2")
    body = {"device": {"id": device}, "verificationCode": wrong_code(B32, lab.state.now())}
    assert lab.call("POST", f"{methods('ada')}/assignAndActivate", json=body).status_code == 400
    got = lab.call("GET", f"{DEV}/{device}").json()
    assert got["status"] == "available" and got["assignedTo"] is None


def test_assign_and_activate_by_serial_available_or_already_mine(lab: Lab) -> None:
    new_device(lab, "SER-1")
    held = new_device(lab, "SER-2", B32_2, assignTo={"id": uid("ada")})
    path = f"{methods('ada')}/assignAndActivateBySerialNumber"
    code = totp(B32, lab.state.now())
    assert (
        lab.call("POST", path, json={"serialNumber": "SER-1", "verificationCode": code}).status_code
        == 204
    )
    code2 = totp(B32_2, lab.state.now())
    assert (
        lab.call(
            "POST", path, json={"serialNumber": "SER-2", "verificationCode": code2}
        ).status_code
        == 204
    )
    assert status(lab, held) == "activated"
    other = f"{methods('grace')}/assignAndActivateBySerialNumber"
    assert (
        lab.call(
            "POST", other, json={"serialNumber": "SER-2", "verificationCode": code2}
        ).status_code
        == 409
    )
    assert (
        lab.call("POST", path, json={"serialNumber": "NOPE", "verificationCode": code}).status_code
        == 404
    )


def test_assign_via_ref_on_the_method_path(lab: Lab) -> None:
    device = new_device(lab, "REF-1")
    ref = {"@odata.id": f"https://graph.microsoft.com/beta/users/{uid('ada')}"}
    r = lab.call("PUT", f"{methods('ada')}/{device}/device/assignTo/$ref", json=ref)
    assert r.status_code == 204 and status(lab, device) == "assigned"
    assert (
        lab.call(
            "PUT", f"{methods('ada')}/{device}/device/assignTo/$ref", json={"@odata.id": "nonsense"}
        ).status_code
        == 400
    )


def test_me_endpoints_for_a_plain_member(lab: Lab) -> None:
    token = lab.user_token("ada", "UserAuthenticationMethod.ReadWrite")
    device = new_device(lab, "ME-1")
    base = "/me/authentication/hardwareOathMethods"
    assert lab.call("POST", base, token, json={"device": {"id": device}}).status_code == 201
    mid = method_of(lab, "ada", device, token)
    r = lab.call(
        "POST",
        f"{base}/{mid}/activate",
        token,
        json={"verificationCode": totp(B32, lab.state.now())},
    )
    assert r.status_code == 204 and status(lab, device) == "activated"
    assert lab.call("DELETE", f"{base}/{mid}", token).status_code == 204
    assert lab.call("GET", "/me", token).status_code == 403  # no User.Read scope
    profile = lab.user_token("ada", "User.Read UserAuthenticationMethod.Read")
    assert lab.call("GET", "/me", profile).json()["id"] == uid("ada")
    r = lab.call("POST", base, profile, json={"device": {"id": device}})
    assert r.status_code == 403 and "UserAuthenticationMethod.ReadWrite" in r.text


def test_user_methods_paging_and_filter(lab: Lab) -> None:
    devices = [new_device(lab, f"PG-{n}", assignTo={"id": uid("ada")}) for n in range(3)]
    ids = [method_of(lab, "ada", d) for d in devices]
    first = lab.call("GET", methods("ada"), params={"$top": "2"}).json()
    assert len(first["value"]) == 2
    rest = lab.http.get(
        first["@odata.nextLink"], headers={"Authorization": f"Bearer {lab.app_token()}"}
    ).json()
    assert sorted(m["id"] for m in first["value"] + rest["value"]) == sorted(ids)
    only = lab.call("GET", methods("ada"), params={"$filter": f"id eq '{ids[1]}'"}).json()
    assert [m["id"] for m in only["value"]] == [ids[1]]
    assert lab.call("GET", methods("ada"), params={"$expand": "owner"}).status_code == 400


def test_assignment_propagation_delay_hides_fresh_methods(lab: Lab) -> None:
    lab.http.patch(f"{lab.url}/_emulator/config", json={"assignmentDelaySeconds": 3600})
    device = new_device(lab, "LAG-1", assignTo={"id": uid("ada")})
    assert lab.call("GET", methods("ada")).json()["value"] == []
    mid = lab.state.directory.devices[device].method_key
    r = lab.call(
        "POST",
        f"{methods('ada')}/{mid}/activate",
        json={"verificationCode": totp(B32, lab.state.now())},
    )
    assert r.status_code == 404
    lab.http.patch(f"{lab.url}/_emulator/config", json={"assignmentDelaySeconds": 0})
    assert [m["id"] for m in lab.call("GET", methods("ada")).json()["value"]] == [mid]


def test_simulated_sign_in_uses_the_drift_and_refuses_replays(lab: Lab) -> None:
    device = new_device(lab, "SIGN-1", assignTo={"id": uid("ada")})
    mid = method_of(lab, "ada", device)
    now = lab.state.now()
    ours = int(now // 30)

    def found_first(drift: int) -> bool:
        """Activation takes the nearest step showing the code: no nearer step (with a margin
        for a step boundary crossed meanwhile) may show it, or the drift learnt would be
        another one (a 6-digit code repeats within ±722 steps about 0.14% of the time)."""
        step = int((now + drift - 60) // 30)
        reach = abs(step - ours) + 2
        return all(
            totp(B32, (ours + k) * 30) != totp(B32, step * 30)
            for k in range(-reach, reach + 1)
            if ours + k != step
        )

    # the token's clock is about six hours behind
    drift = next(d for d in range(-6 * 3600, -7 * 3600, -30) if found_first(d))
    assert (
        lab.call(
            "POST",
            f"{methods('ada')}/{mid}/activate",
            json={"verificationCode": totp(B32, now + drift - 60)},
        ).status_code
        == 204
    )
    signin = f"{lab.url}/_emulator/signin"
    code = totp(B32, lab.state.now() + drift)
    first = lab.http.post(signin, json={"user": uid("ada"), "code": code}).json()
    assert first == {"success": True, "methodId": mid}
    assert lab.http.post(signin, json={"user": uid("ada"), "code": code}).json()["success"] is False
    # without the drift the current wall-clock code is far outside the sign-in window
    wall = totp(B32, lab.state.now() + 90)
    assert lab.http.post(signin, json={"user": uid("ada"), "code": wall}).json()["success"] is False
    used = lab.call("GET", f"{DEV}/{device}").json()["lastUsedDateTime"]
    assert used is not None and used.endswith("Z")


def test_legacy_csv_tokens_are_user_methods_outside_the_inventory(lab: Lab) -> None:
    (legacy,) = lab.call("GET", methods("lena")).json()["value"]
    assert legacy["device"]["serialNumber"] == "LEG-1" and legacy["device"]["status"] == "activated"
    found = lab.call("GET", DEV, params={"$filter": "serialNumber eq 'LEG-1'"}).json()
    assert found["value"] == []
    assert lab.call("GET", f"{DEV}/{legacy['id']}").status_code == 404
    # the Learn troubleshooting case: a Graph copy with the same serial, held by the same user
    copy = new_device(lab, "LEG-1", B32_2, assignTo={"id": uid("lena")})
    serials = [
        m["device"]["serialNumber"] for m in lab.call("GET", methods("lena")).json()["value"]
    ]
    assert serials == ["LEG-1", "LEG-1"]
    assert lab.call("DELETE", f"{methods('lena')}/{legacy['id']}").status_code == 204
    assert [m["id"] for m in lab.call("GET", methods("lena")).json()["value"]] == [
        method_of(lab, "lena", copy)
    ]
    # the legacy record outlives its method until the documented DELETE of its device id
    snapshot = lab.http.get(f"{lab.url}/_emulator/state").json()
    (kept,) = snapshot["legacyTokens"]
    assert kept["device"]["assignedTo"] is None and B32_2 not in str(snapshot)
    assert lab.call("DELETE", f"{DEV}/{legacy['device']['id']}").status_code == 204
    assert lab.http.get(f"{lab.url}/_emulator/state").json()["legacyTokens"] == []
    assert lab.http.post(f"{lab.url}/_emulator/reset").status_code == 204
    assert len(lab.http.get(f"{lab.url}/_emulator/state").json()["legacyTokens"]) == 1
