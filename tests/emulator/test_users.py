"""``GET /users`` with ``eq`` filters and paging, and ``GET /users/{id or UPN}``."""

from __future__ import annotations

from tests.emulator.helpers import DOMAIN, USERS, Lab, uid


def test_list_users_pages_through_everyone(lab: Lab) -> None:
    first = lab.call("GET", "/users", params={"$top": "3"}).json()
    assert len(first["value"]) == 3 and first["@odata.context"].endswith("$metadata#users")
    seen = [u["id"] for u in first["value"]]
    url = first.get("@odata.nextLink")
    while url:
        page = lab.http.get(url, headers={"Authorization": f"Bearer {lab.app_token()}"}).json()
        seen += [u["id"] for u in page["value"]]
        url = page.get("@odata.nextLink")
    assert sorted(seen) == sorted(uid(k) for k in USERS)


def test_filter_by_upn_is_case_insensitive_and_select_trims(lab: Lab) -> None:
    r = lab.call(
        "GET",
        "/users",
        params={
            "$filter": f"userPrincipalName eq 'ADA@{DOMAIN.upper()}'",
            "$select": "id,displayName",
        },
    )
    assert r.status_code == 200
    assert r.json()["value"] == [{"id": uid("ada"), "displayName": "Ada Example"}]
    r = lab.call("GET", "/users", params={"$filter": "accountEnabled eq 'true'"})
    assert r.status_code == 400
    r = lab.call("GET", "/users", params={"$filter": "displayName eq 'ada example'"})
    assert [u["id"] for u in r.json()["value"]] == [uid("ada")]


def test_get_user_by_id_or_upn(lab: Lab) -> None:
    by_id = lab.call("GET", f"/users/{uid('guest')}").json()
    assert by_id["userType"] == "Guest"
    by_upn = lab.call("GET", f"/users/guest@{DOMAIN}").json()
    assert by_upn["id"] == uid("guest")
    missing = lab.call("GET", f"/users/nobody@{DOMAIN}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "itemNotFound"
