"""Users as Graph serves them: ``startswith`` (and ``or``) filters, the basic profile that
``User.ReadBasic.All`` allows, ``assignTo`` by object id only, and JSON bodies that must say so."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.emulator.helpers import DEV, DOMAIN, Lab, device_body, uid
from tests.emulator.wide_seed import token, widened

BASIC = {"id", "displayName", "givenName", "surname", "mail", "userPrincipalName", "photo"}


@pytest.fixture
def wide(lab: Lab) -> Iterator[Lab]:
    yield from widened(lab)


def _ids(lab: Lab, expr: str) -> list[str]:
    r = lab.call("GET", "/users", params={"$filter": expr})
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["value"]]


def test_startswith_on_names_and_upns_with_or(lab: Lab) -> None:
    assert _ids(lab, "startswith(displayName,'ad')") == [uid("ada"), uid("admin")]
    assert _ids(lab, "startsWith(userPrincipalName,'GRA')") == [uid("grace")]
    both = "startswith(displayName,'Rita') or startswith(userPrincipalName,'lena')"
    assert sorted(_ids(lab, both)) == sorted([uid("reader"), uid("lena")])
    mixed = "startswith(displayName,'A') and userType eq 'Member' or userType eq 'Guest'"
    assert set(_ids(lab, mixed)) == {uid("ada"), uid("admin"), uid("authadmin"), uid("guest")}
    quoted = "startswith(displayName,'O''Brien')"
    assert _ids(lab, quoted) == []
    for refused in ("startswith(userType,'M')", "startswith(displayName,'A'", "endswith(mail,'x')"):
        r = lab.call("GET", "/users", params={"$filter": refused})
        assert (
            r.status_code == 400 and r.json()["error"]["innerError"]["code"] == "invalidQueryOption"
        )
    # the inventory keeps its documented eq/and only
    r = lab.call("GET", DEV, params={"$filter": "startswith(serialNumber,'A')"})
    assert r.status_code == 400


def test_read_basic_all_shows_others_only_the_basic_profile(wide: Lab) -> None:
    delegated = wide.user_token("ada", "User.ReadBasic.All")
    other = wide.call("GET", f"/users/{uid('guest')}", token=delegated)
    assert other.status_code == 200 and set(other.json()) - {"@odata.context"} <= BASIC
    assert "userType" not in other.json() and other.json()["displayName"] == "Gus Guest"
    asked = wide.call(
        "GET", f"/users/{uid('guest')}", token=delegated, params={"$select": "id,userType"}
    )
    assert set(asked.json()) - {"@odata.context"} == {"id"}
    listed = wide.call("GET", "/users", token=delegated).json()["value"]
    others = [u for u in listed if u["id"] != uid("ada")]
    assert len(others) == len(listed) - 1 and all(set(u) <= BASIC for u in others)
    mine = wide.call("GET", "/me", token=delegated).json()  # one's own profile stays whole
    assert mine["userType"] == "Member" and mine["accountEnabled"] is True
    app = token(wide, "basic_users")
    seen = wide.call("GET", f"/users/guest@{DOMAIN}", token=app)
    assert seen.status_code == 200 and "userType" not in seen.json()
    full = wide.call("GET", f"/users/{uid('guest')}", params={"$select": "id,userType"})
    assert full.json()["userType"] == "Guest"  # User.Read.All sees it


def test_assign_to_takes_an_object_id_not_a_upn(lab: Lab) -> None:
    r = lab.call("POST", DEV, json=device_body("UPN-1", assignTo={"id": f"ada@{DOMAIN}"}))
    assert r.status_code == 400 and r.json()["error"]["code"] == "badRequest"
    assert "Invalid object identifier" in r.json()["error"]["message"]
    assert lab.call("GET", f"{DEV}/$count").text == "0"
    items = [device_body("UPN-2", assignTo={"id": f"ada@{DOMAIN}"}) | {"@contentId": "1"}]
    bulk = lab.call("PATCH", DEV, json={"@context": "#$delta", "value": items}).json()["value"]
    assert (
        "Invalid object identifier" in bulk[0]["@Core.DataModificationException"]["info"]["message"]
    )
    ok = lab.call("POST", DEV, json=device_body("UPN-3", assignTo={"id": uid("ada")}))
    assert ok.status_code == 201 and ok.json()["assignedTo"]["id"] == uid("ada")


def test_a_body_without_json_content_type_is_refused(lab: Lab) -> None:
    raw = json.dumps(device_body("CT-1"))
    for headers in (
        {},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
    ):
        r = lab.call("POST", DEV, content=raw, headers=headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"
        assert "Content-Type header is set" in r.json()["error"]["message"]
    assert lab.call("GET", f"{DEV}/$count").text == "0"
    charset = {"Content-Type": "application/json; charset=utf-8"}
    assert lab.call("POST", DEV, content=raw, headers=charset).status_code == 201
    # the control plane is not Graph and does not ask
    r = lab.http.patch(f"{lab.url}/_emulator/config", content=json.dumps({"pageSize": 50}))
    assert r.status_code == 200
