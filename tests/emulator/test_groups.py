"""Group membership: ``POST /users/{id or UPN}/checkMemberGroups`` and ``/me/...``, its
permission check, body rules, and groups in the seed (validated, snapshotted, saved, reset)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oathdesk.emulator import EmulatorState
from tests.emulator.helpers import DOMAIN, READ_APP, SEED, TENANT, USERS, Lab, uid

STAFF = "0a0a0a0a-0000-4000-8000-00000000000a"
LAB = "0b0b0b0b-0000-4000-8000-00000000000b"
NOBODY = "0c0c0c0c-0000-4000-8000-00000000000c"
GROUP_APP = "11111111-aaaa-4aaa-8aaa-0000000000a1"
DIRECTORY_APP = "11111111-aaaa-4aaa-8aaa-0000000000a2"


def grouped_seed() -> dict[str, Any]:
    seed = copy.deepcopy(SEED)
    seed["groups"] = [
        {"id": STAFF, "displayName": "Staff"},
        {"id": LAB, "displayName": "Lab"},
        {"id": NOBODY, "displayName": "Empty"},
    ]
    for user in seed["users"]:
        if user["userPrincipalName"] == f"ada@{DOMAIN}":
            user["groups"] = [STAFF, LAB]
        elif user["userPrincipalName"] == f"grace@{DOMAIN}":
            user["groups"] = [LAB]
    seed["apps"] += [
        {
            "clientId": GROUP_APP,
            "clientSecret": "group-secret",
            "roles": ["User.Read.All", "GroupMember.Read.All"],
        },
        {"clientId": DIRECTORY_APP, "clientSecret": "dir-secret", "roles": ["Directory.Read.All"]},
    ]
    return seed


@pytest.fixture
def grouped(lab: Lab) -> Iterator[Lab]:
    """The lab tenant with three groups; the plain seed is back for the next test."""
    r = lab.http.post(f"{lab.url}/_emulator/seed", json=grouped_seed())
    assert r.status_code == 200, r.text
    yield lab
    assert lab.http.post(f"{lab.url}/_emulator/seed", json=SEED).status_code == 200


def token_for(lab: Lab, client_id: str, secret: str) -> str:
    r = lab.http.post(
        f"{lab.url}/{TENANT}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def check(lab: Lab, who: str, ids: Any, token: str) -> Any:
    return lab.call("POST", f"/users/{who}/checkMemberGroups", token, json={"groupIds": ids})


def test_the_answer_is_the_groups_asked_about_that_the_user_is_in(grouped: Lab) -> None:
    token = token_for(grouped, GROUP_APP, "group-secret")
    asked = [NOBODY, LAB, STAFF, "ffffffff-0000-4000-8000-000000000000"]
    by_upn = check(grouped, f"ada@{DOMAIN}", asked, token)
    assert by_upn.status_code == 200, by_upn.text
    assert by_upn.json()["value"] == [LAB, STAFF]  # in the order asked; unknown ids left out
    by_id = check(grouped, uid("grace"), asked, token)
    assert by_id.json()["value"] == [LAB]
    assert check(grouped, f"reader@{DOMAIN}", asked, token).json() == {"value": []}
    upper = check(grouped, f"ADA@{DOMAIN.upper()}", [STAFF.upper()], token)
    assert upper.json()["value"] == [STAFF.upper()]


def test_directory_read_all_alone_is_enough(grouped: Lab) -> None:
    token = token_for(grouped, DIRECTORY_APP, "dir-secret")
    r = check(grouped, f"ada@{DOMAIN}", [STAFF], token)
    assert r.status_code == 200 and r.json()["value"] == [STAFF]


def test_an_app_without_a_group_permission_is_refused(grouped: Lab) -> None:
    # the lab's main app reads users (User.Read.All) but holds no group permission
    r = check(grouped, f"ada@{DOMAIN}", [STAFF], grouped.app_token())
    assert r.status_code == 403
    error = r.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert "GroupMember.Read.All" in error["message"]
    # and one that cannot even read users is refused for that
    r = check(grouped, f"ada@{DOMAIN}", [STAFF], grouped.app_token(READ_APP))
    assert r.status_code == 403 and "User.Read.All" in r.json()["error"]["message"]


def test_body_rules_and_unknown_user(grouped: Lab) -> None:
    token = token_for(grouped, GROUP_APP, "group-secret")
    for bad in ([], "not-a-list", [""], [1], [f"g{i}" for i in range(21)]):
        r = check(grouped, f"ada@{DOMAIN}", bad, token)
        assert r.status_code == 400, bad
        assert r.json()["error"]["code"] == "badRequest"
    r = grouped.call("POST", f"/users/ada@{DOMAIN}/checkMemberGroups", token, json={})
    assert r.status_code == 400
    assert check(grouped, f"ada@{DOMAIN}", [f"g{i}" for i in range(20)], token).status_code == 200
    missing = check(grouped, f"nobody@{DOMAIN}", [STAFF], token)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "itemNotFound"
    assert grouped.call("GET", f"/users/ada@{DOMAIN}/checkMemberGroups", token).status_code == 405


def test_me_with_a_user_token_and_refused_to_an_app(grouped: Lab) -> None:
    token = grouped.user_token("ada", "User.Read GroupMember.Read.All")
    r = grouped.call("POST", "/me/checkMemberGroups", token, json={"groupIds": [STAFF, NOBODY]})
    assert r.status_code == 200, r.text
    assert r.json()["value"] == [STAFF]
    bare = grouped.user_token("ada", "User.Read")
    r = grouped.call("POST", "/me/checkMemberGroups", bare, json={"groupIds": [STAFF]})
    assert r.status_code == 403
    app = token_for(grouped, GROUP_APP, "group-secret")
    r = grouped.call("POST", "/me/checkMemberGroups", app, json={"groupIds": [STAFF]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"


def test_groups_are_in_the_snapshot_and_survive_a_reset(grouped: Lab) -> None:
    state = grouped.http.get(f"{grouped.url}/_emulator/state").json()
    assert {g["id"]: g["displayName"] for g in state["groups"]}[STAFF] == "Staff"
    ada = next(u for u in state["users"] if u["id"] == uid("ada"))
    assert ada["groups"] == [STAFF, LAB]
    assert grouped.http.post(f"{grouped.url}/_emulator/reset").status_code == 204
    token = token_for(grouped, GROUP_APP, "group-secret")
    assert check(grouped, f"ada@{DOMAIN}", [STAFF], token).json()["value"] == [STAFF]


def test_a_seed_naming_an_undeclared_group_is_refused(lab: Lab) -> None:
    seed = grouped_seed()
    seed["users"][0]["groups"] = ["undeclared-group"]
    r = lab.http.post(f"{lab.url}/_emulator/seed", json=seed)
    assert r.status_code == 400
    assert "users[0]" in r.json()["error"]["message"]
    seed = grouped_seed()
    seed["groups"].append({"id": STAFF.upper(), "displayName": "Twice"})
    assert lab.http.post(f"{lab.url}/_emulator/seed", json=seed).status_code == 400
    seed = grouped_seed()
    seed["groups"] = [{"id": STAFF}]
    r = lab.http.post(f"{lab.url}/_emulator/seed", json=seed)
    assert r.status_code == 400 and "displayName" in r.json()["error"]["message"]
    assert lab.state.directory.tenant.id == TENANT  # nothing was installed
    assert all(not u.groups for u in lab.state.directory.users.values())
    assert USERS["ada"]["id"] in lab.state.directory.users


def test_groups_are_saved_and_loaded_with_the_state(tmp_path: Path) -> None:
    EmulatorState(grouped_seed(), data_dir=tmp_path).save()
    reopened = EmulatorState.open(tmp_path)
    assert [g.display_name for g in reopened.directory.tenant.groups] == ["Staff", "Lab", "Empty"]
    assert reopened.directory.user(f"ada@{DOMAIN}").groups == [STAFF, LAB]
