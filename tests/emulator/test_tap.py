"""Temporary Access Passes over HTTPS: the pass only in the creation's answer, one per user (a
new one replaces the old), the policy's lifetime bounds, usability by the emulator's clock
(not yet valid, expired, spent by a one-time sign-in), beta and v1.0 paths, and permissions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.emulator.helpers import READ_APP, Lab, uid

TAP = "/authentication/temporaryAccessPassMethods"


def _path(who: str) -> str:
    return f"/users/{uid(who)}{TAP}"


def _issue(lab: Lab, who: str, **body: object) -> dict[str, object]:
    r = lab.call("POST", _path(who), json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _listed(lab: Lab, who: str) -> list[dict[str, object]]:
    r = lab.call("GET", _path(who))
    assert r.status_code == 200, r.text
    return list(r.json()["value"])


def _offset(lab: Lab, seconds: float) -> None:
    r = lab.http.patch(f"{lab.url}/_emulator/config", json={"clockOffsetSeconds": seconds})
    assert r.status_code == 200, r.text


def test_the_pass_is_shown_on_creation_only_and_one_per_user(lab: Lab) -> None:
    first = _issue(lab, "ada", lifetimeInMinutes=60, isUsableOnce=True)
    assert first["@odata.type"] == "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
    assert isinstance(first["temporaryAccessPass"], str) and len(first["temporaryAccessPass"]) >= 8
    assert (first["isUsable"], first["methodUsabilityReason"]) == (True, "EnabledByPolicy")
    assert (first["lifetimeInMinutes"], first["isUsableOnce"]) == (60, True)
    (listed,) = _listed(lab, "ada")
    assert listed["id"] == first["id"] and listed["temporaryAccessPass"] is None
    one = lab.call("GET", f"{_path('ada')}/{first['id']}").json()
    assert one["temporaryAccessPass"] is None and one["lifetimeInMinutes"] == 60
    second = _issue(lab, "ada")  # defaults: 60 minutes, reusable
    assert second["temporaryAccessPass"] != first["temporaryAccessPass"]
    assert (second["lifetimeInMinutes"], second["isUsableOnce"]) == (60, False)
    assert [t["id"] for t in _listed(lab, "ada")] == [second["id"]]  # the new one replaced it
    assert lab.call("GET", f"{_path('ada')}/{first['id']}").status_code == 404
    assert _listed(lab, "grace") == []
    v1 = lab.http.get(
        f"{lab.url}/v1.0/users/{uid('ada')}{TAP}",
        headers={"Authorization": f"Bearer {lab.app_token()}"},
    )
    assert v1.status_code == 200 and v1.json()["value"][0]["id"] == second["id"]
    assert lab.call("DELETE", f"{_path('ada')}/{second['id']}").status_code == 204
    assert _listed(lab, "ada") == []


def test_lifetime_bounds_and_fields(lab: Lab) -> None:
    for minutes in (9, 43_201, "60", True):
        r = lab.call("POST", _path("ada"), json={"lifetimeInMinutes": minutes})
        assert r.status_code == 400, (minutes, r.text)
        assert "lifetimeInMinutes" in r.json()["error"]["message"]
    assert _issue(lab, "ada", lifetimeInMinutes=10)["lifetimeInMinutes"] == 10
    assert _issue(lab, "ada", lifetimeInMinutes=43_200)["lifetimeInMinutes"] == 43_200
    bad = lab.call("POST", _path("ada"), json={"temporaryAccessPass": "chosen-by-me"})
    assert bad.status_code == 400
    assert lab.call("POST", "/users/nobody@nowhere.example" + TAP, json={}).status_code == 404


def test_usability_follows_the_emulator_clock(lab: Lab) -> None:
    start = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = _issue(lab, "grace", lifetimeInMinutes=15, startDateTime=start)
    assert (later["isUsable"], later["methodUsabilityReason"]) == (False, "NotYetValid")
    _offset(lab, 31 * 60)
    assert _listed(lab, "grace")[0]["methodUsabilityReason"] == "EnabledByPolicy"
    _offset(lab, 46 * 60)  # start + 15 minutes has passed
    (expired,) = _listed(lab, "grace")
    assert (expired["isUsable"], expired["methodUsabilityReason"]) == (False, "Expired")
    signin = lab.http.post(
        f"{lab.url}/_emulator/signin",
        json={"user": uid("grace"), "temporaryAccessPass": later["temporaryAccessPass"]},
    )
    assert signin.json() == {"success": False}


def test_a_one_time_pass_is_spent_by_one_sign_in(lab: Lab) -> None:
    issued = _issue(lab, "ada", lifetimeInMinutes=60, isUsableOnce=True)
    url = f"{lab.url}/_emulator/signin"
    assert lab.http.post(url, json={"user": uid("ada"), "temporaryAccessPass": "wrong"}).json() == {
        "success": False
    }
    body = {"user": uid("ada"), "temporaryAccessPass": issued["temporaryAccessPass"]}
    assert lab.http.post(url, json=body).json() == {"success": True}
    assert lab.http.post(url, json=body).json() == {"success": False}
    assert _listed(lab, "ada")[0]["methodUsabilityReason"] == "OneTimeUsed"


def test_permissions(lab: Lab) -> None:
    reader = lab.app_token(READ_APP)  # UserAuthenticationMethod.Read.All: may read, not write
    assert lab.call("GET", _path("ada"), reader).status_code == 200
    assert lab.call("POST", _path("ada"), reader, json={}).status_code == 403
    issued = _issue(lab, "ada")
    assert lab.call("DELETE", f"{_path('ada')}/{issued['id']}", reader).status_code == 403
    helpdesk = lab.user_token("authadmin")
    assert lab.call("POST", _path("ada"), helpdesk, json={}).status_code == 201
    assert lab.call("POST", _path("admin"), helpdesk, json={}).status_code == 403  # an admin
    nobody = lab.user_token("grace")
    assert lab.call("POST", _path("ada"), nobody, json={}).status_code == 403
