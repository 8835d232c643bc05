"""The self-service portal over HTTP (real uvicorn over TLS, real HTTPS Entra emulator with
groups): enroll by serial, name and code (page and API), the refusals a person must understand
(wrong code, replay, a stranger's or unknown serial, a group they are not in, too many tries),
rename, report lost, nobody seeing anyone else's tokens, roles and CSRF on every route."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import Secret
from oathdesk.graph import Device
from oathdesk.service import Inventory, assign, push
from oathdesk.service.accounts import create_account
from oathdesk.store import upgrade
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.service.selfservice_seed import PILOTS, code, far_step, grouped_seed, stock
from tests.service.support import secret_for, serial, upn, user_id, wrong_code
from tests.web.conftest import CSRF_RE, PASSWORD, Server, new_client, signed_in

__all__ = ["emu", "emu_session"]  # the emulator fixtures, used by ``inv`` below

ADA, GRACE, ALAN = upn("ada"), upn("grace"), upn("alan")
EVERYONE = {"ada", "hal", "aud", "joe"}
ROLE_ROUTES: list[tuple[str, str, set[str], str]] = [
    ("GET", "/me", EVERYONE, "page"),
    ("GET", "/api/v1/me/tokens", EVERYONE, "api"),
]
COVERED: set[tuple[str, str]] = {
    ("GET", "/me"),
    ("GET", "/me/resume"),  # every role and anonymous: tests/web/test_selfservice_reauth.py
    ("GET", "/me/reauth"),  # the same
    ("POST", "/me/tokens"),
    ("POST", "/me/tokens/{serial}/rename"),
    ("POST", "/me/tokens/{serial}/lost"),
    ("POST", "/me/tokens/{serial}/found"),
    ("GET", "/api/v1/me/tokens"),
    ("POST", "/api/v1/me/tokens"),
    ("PATCH", "/api/v1/me/tokens/{serial}"),
    ("POST", "/api/v1/me/tokens/{serial}/lost"),
    ("POST", "/api/v1/me/tokens/{serial}/found"),
}
CONTRACT = {"serial", "display_name", "state", "kind", "period", "digits", "manufacturer", "model"}


@pytest.fixture
def inv(tmp_path: Path, sqlite_url: str, emu: Emu) -> Iterator[Inventory]:
    """A migrated SQLite inventory whose Entra is the emulator, its tenant with groups."""
    emu.seed(grouped_seed())
    upgrade(sqlite_url)
    inventory = build_inventory(support.config(sqlite_url, tmp_path, emu.url, emu.ca))
    yield inventory
    inventory.close()


@pytest.fixture
def people(inv: Inventory) -> list[str]:
    """Local accounts named by the emulator users' UPNs, with no console role."""
    for name in (ADA, GRACE, ALAN):
        create_account(inv, name, Secret(PASSWORD.encode()), [], actor="test")
    return [ADA, GRACE, ALAN]


@pytest.fixture
def user(app_url: str, server: Server, people: list[str]) -> Iterator[Any]:
    """``user(upn)``: a signed-in client for that person (closed at the end)."""
    made: list[httpx.Client] = []

    def make(name: str) -> httpx.Client:
        client = signed_in(new_client(app_url, server), name)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def csrf(client: httpx.Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/v1/me").json()["csrf_token"]}


def page_csrf(client: httpx.Client) -> str:
    found = CSRF_RE.search(client.get("/me").text)
    assert found
    return found.group(1)


def api_enroll(
    client: httpx.Client, sn: str, name: str, value: str, next_code: str | None = None
) -> httpx.Response:
    body = {"serial": sn, "display_name": name, "code": value}
    body |= {"next_code": next_code} if next_code is not None else {}
    return client.post("/api/v1/me/tokens", json=body, headers=csrf(client))


def entra(emu: Emu, sn: str) -> Device | None:
    with emu.client() as client:
        found = client.find_serial(sn)
    return found[0] if found else None


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    assert set(body) == {"code", "message", "details"}
    return body


def test_a_user_enrolls_on_the_page_and_entra_shows_it_activated_for_them(
    user: Any, inv: Inventory, emu: Emu
) -> None:
    stock(inv, "WE", 2)
    ada = user(ADA)
    empty = ada.get("/me")
    assert empty.status_code == 200 and 'id="no-tokens"' in empty.text
    for field in ("serial", "display_name", "code", "next_code"):
        assert f'<label for="{field}">' in empty.text and f'id="{field}"' in empty.text
    sn = serial("WE", 0)
    form = {
        "csrf_token": page_csrf(ada),
        "serial": sn,
        "display_name": "Blue key fob",
        "code": code("WE", 0, time.time()),
    }
    done = ada.post("/me/tokens", data=form)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/me?done=enrolled&serial={sn}"
    page = ada.get(done.headers["location"])
    assert f"Token {sn} is enrolled" in page.text and 'role="status"' in page.text
    assert "Blue key fob" in page.text and "state-activated" in page.text
    device = entra(emu, sn)
    assert device is not None
    assert (device.status, device.assigned_to_id, device.display_name) == (
        "activated",
        user_id("ada"),
        "Blue key fob",
    )
    # a forged notice for a token that is not hers is not shown
    other = ada.get(f"/me?done=enrolled&serial={serial('WE', 1)}")
    assert f"Token {serial('WE', 1)} is enrolled" not in other.text


def test_the_api_enrolls_lists_renames_and_reports_lost(
    user: Any, inv: Inventory, emu: Emu
) -> None:
    stock(inv, "WA", 1)
    ada = user(ADA)
    assert ada.get("/api/v1/me/tokens").json() == {"items": []}
    sn = serial("WA", 0)
    created = api_enroll(ada, sn, "Desk token", code("WA", 0, time.time()))
    assert created.status_code == 201, created.text
    assert set(created.json()) == CONTRACT
    assert created.json()["state"] == "activated"
    assert ada.get("/api/v1/me/tokens").json() == {"items": [created.json()]}
    renamed = ada.patch(
        f"/api/v1/me/tokens/{sn}", json={"display_name": "Spare"}, headers=csrf(ada)
    )
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "Spare"
    lost = ada.post(f"/api/v1/me/tokens/{sn}/lost", json={"reason": "lost"}, headers=csrf(ada))
    assert lost.status_code == 200 and lost.json()["state"] == "lost"
    device = entra(emu, sn)
    assert device is not None and device.status == "assigned"  # deactivated in Entra
    again = ada.post(f"/api/v1/me/tokens/{sn}/lost", json={"reason": "x"}, headers=csrf(ada))
    assert again.status_code == 409 and error(again)["code"] == "selfservice.state_conflict"
    blank = ada.patch(f"/api/v1/me/tokens/{sn}", json={"display_name": ""}, headers=csrf(ada))
    assert blank.status_code == 422 and error(blank)["code"] == "request.invalid"


def test_wrong_code_replay_and_strangers_serials_are_refused_clearly(
    user: Any, inv: Inventory, emu: Emu
) -> None:
    batch = stock(inv, "WR", 3)
    push(inv, actor="test", batch_id=batch)
    ada, grace = user(ADA), user(GRACE)
    sn = serial("WR", 0)
    wrong = api_enroll(ada, sn, "Mine", wrong_code(secret_for("WR", 0)))
    assert wrong.status_code == 400
    assert error(wrong)["code"] == "service.code_rejected"
    assert "does not match" in error(wrong)["message"]
    assert "nothing was sent to Entra" in error(wrong)["message"]
    device = entra(emu, sn)
    assert device is not None and (device.status, device.assigned_to_id) == ("available", "")
    # Entra refuses once: the code was used, so sending it again is a replay
    rule = {"method": "POST", "path": "/activate$", "status": 400, "count": 1}
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": [rule]}).is_success
    shown = code("WR", 0, time.time())
    refused = api_enroll(ada, sn, "Mine", shown)
    assert refused.status_code == 400 and error(refused)["code"] == "service.entra_refused_code"
    replay = api_enroll(ada, sn, "Mine", shown)
    assert replay.status_code == 400 and error(replay)["code"] == "service.code_replayed"
    assert "already used" in error(replay)["message"]
    # a stranger's serial (Ada holds it now) and an unknown one: the same answer
    assign(inv, serial("WR", 1), ADA, actor="helpdesk:bob", reason="ticket 9")
    stranger = api_enroll(grace, serial("WR", 1), "Mine", code("WR", 1, time.time()))
    unknown = api_enroll(grace, "ZZ-NOT-OURS", "Mine", "123456")
    assert stranger.status_code == unknown.status_code == 404, (stranger.text, unknown.text)
    one, two = error(stranger), error(unknown)
    assert one["code"] == two["code"] == "selfservice.not_claimable"
    assert one["message"].replace(serial("WR", 1), "S") == two["message"].replace(
        "ZZ-NOT-OURS", "S"
    )
    device = entra(emu, serial("WR", 1))
    assert device is not None and device.status == "assigned"  # untouched, still Ada's


def test_an_old_code_alone_is_refused_two_consecutive_ones_are_not(
    user: Any, inv: Inventory
) -> None:
    stock(inv, "WO", 2)
    ada, now = user(ADA), time.time()
    back = far_step("WO", 0, now)  # 12 to 30 minutes ago: within Entra's day, not near now
    form = {"csrf_token": page_csrf(ada), "serial": serial("WO", 0), "display_name": "Old"}
    alone = ada.post("/me/tokens", data=form | {"code": code("WO", 0, now, -back)})
    assert alone.status_code == 400 and "service.code_rejected" in alone.text
    assert "the next one" in alone.text and 'role="alert"' in alone.text
    pair = {"code": code("WO", 0, now, -back), "next_code": code("WO", 0, now, 1 - back)}
    assert ada.post("/me/tokens", data=form | pair).status_code == 303
    back = far_step("WO", 1, now)
    skipped = api_enroll(ada, serial("WO", 1), "x", code("WO", 1, now, -back), "12345x")
    assert skipped.status_code == 400 and error(skipped)["code"] == "service.code_malformed"
    first, second = code("WO", 1, now, -back), code("WO", 1, now, 1 - back)
    assert api_enroll(ada, serial("WO", 1), "x", first, second).status_code == 201


def test_a_group_restricted_batch_admits_members_only(user: Any, inv: Inventory, emu: Emu) -> None:
    stock(inv, "WG", 2, group=PILOTS)
    grace = user(GRACE)
    refused = api_enroll(grace, serial("WG", 0), "Mine", code("WG", 0, time.time()))
    assert refused.status_code == 404 and error(refused)["code"] == "selfservice.not_claimable"
    assert entra(emu, serial("WG", 0)) is None  # in stock, never pushed for her
    ada = user(ADA)
    ok = api_enroll(ada, serial("WG", 0), "Pilot", code("WG", 0, time.time()))
    assert ok.status_code == 201, ok.text
    # users named on the batch
    stock(inv, "WU", 1, users=[ALAN])
    assert api_enroll(grace, serial("WU", 0), "x", code("WU", 0, time.time())).status_code == 404
    alan = user(ALAN)
    assert api_enroll(alan, serial("WU", 0), "x", code("WU", 0, time.time())).status_code == 201


def test_too_many_wrong_codes_are_rate_limited(user: Any, inv: Inventory) -> None:
    stock(inv, "WL", 2)
    ada = user(ADA)
    bad = wrong_code(secret_for("WL", 0))
    for _ in range(5):
        assert api_enroll(ada, serial("WL", 0), "x", bad).status_code == 400
    limited = api_enroll(ada, serial("WL", 1), "x", code("WL", 1, time.time()))
    assert limited.status_code == 429
    body = error(limited)
    assert body["code"] == "selfservice.rate_limited" and body["details"]["retry_after"] > 0
    assert limited.headers["Retry-After"] == str(body["details"]["retry_after"])
    page = ada.post(
        "/me/tokens",
        data={"csrf_token": page_csrf(ada), "serial": serial("WL", 1), "display_name": "x"}
        | {"code": code("WL", 1, time.time())},
    )
    assert page.status_code == 429 and 'role="alert"' in page.text
    assert "wait" in page.text and "selfservice.rate_limited" in page.text
    grace = user(GRACE)  # the token is locked for everyone, Grace included
    locked = api_enroll(grace, serial("WL", 0), "x", code("WL", 0, time.time()))
    assert locked.status_code == 429


def test_nobody_sees_or_touches_another_persons_tokens(user: Any, inv: Inventory, emu: Emu) -> None:
    stock(inv, "WO", 1)
    ada, grace = user(ADA), user(GRACE)
    sn = serial("WO", 0)
    assert api_enroll(ada, sn, "Ada's", code("WO", 0, time.time())).status_code == 201
    assert grace.get("/api/v1/me/tokens").json() == {"items": []}
    assert sn not in grace.get("/me").text
    patch = grace.patch(f"/api/v1/me/tokens/{sn}", json={"display_name": "x"}, headers=csrf(grace))
    lost = grace.post(f"/api/v1/me/tokens/{sn}/lost", json={"reason": "x"}, headers=csrf(grace))
    for answer in (patch, lost):
        assert answer.status_code == 404 and error(answer)["code"] == "selfservice.not_found"
    token = page_csrf(grace)
    for action, field in (("rename", "display_name"), ("lost", "reason")):
        page = grace.post(f"/me/tokens/{sn}/{action}", data={"csrf_token": token, field: "x"})
        assert page.status_code == 404 and "You have no token with serial" in page.text
    mine = ada.get("/api/v1/me/tokens").json()["items"]
    assert [(t["display_name"], t["state"]) for t in mine] == [("Ada's", "activated")]
    device = entra(emu, sn)
    assert device is not None and device.status == "activated"


def test_page_errors_keep_what_was_typed_except_the_code(user: Any, inv: Inventory) -> None:
    stock(inv, "WP", 1)
    ada = user(ADA)
    bad = wrong_code(secret_for("WP", 0))
    form = {"csrf_token": page_csrf(ada), "serial": serial("WP", 0), "display_name": "Blue"}
    page = ada.post("/me/tokens", data={**form, "code": bad})
    assert page.status_code == 400
    assert 'role="alert"' in page.text and "The token was not added." in page.text
    assert "service.code_rejected" in page.text and "does not match" in page.text
    assert f'value="{serial("WP", 0)}"' in page.text and 'value="Blue"' in page.text
    assert bad not in page.text
    unknown = ada.post("/me/tokens", data={**form, "serial": "NOPE-1", "code": "123456"})
    assert unknown.status_code == 404 and "can be enrolled by you" in unknown.text
    rename = ada.post(f"/me/tokens/{serial('WP', 0)}/rename", data={**form, "display_name": "N"})
    assert rename.status_code == 404  # not hers (yet): the same answer as for anyone's token
    assert "The token was not renamed." in rename.text


@pytest.fixture
def clients(
    app_url: str, server: Server, accounts: dict[str, list[str]]
) -> Iterator[dict[str, httpx.Client]]:
    made = {name: signed_in(new_client(app_url, server), name) for name in sorted(EVERYONE)}
    made["anonymous"] = new_client(app_url, server)
    yield made
    for client in made.values():
        client.close()


def test_every_role_against_every_self_service_page_and_api(
    clients: dict[str, httpx.Client],
) -> None:
    for method, path, allowed, kind in ROLE_ROUTES:
        for who, client in clients.items():
            response = client.request(method, path)
            where = f"{who} {method} {path}"
            if who == "anonymous":
                if kind == "page":
                    assert response.status_code == 303, where
                    assert response.headers["location"].startswith("/signin?next="), where
                else:
                    assert response.status_code == 401, where
                    assert error(response)["code"] == "auth.required", where
            else:
                assert who in allowed, where  # every signed-in person may use self-service
                assert response.status_code == 200, where


WRITES = [  # (method, path, body, page or api, the answer a signed-in caller gets)
    ("POST", "/me/tokens", {"serial": "NOPE", "display_name": "x", "code": "1"}, "page", 404),
    ("POST", "/me/tokens/NOPE/rename", {"display_name": "x"}, "page", 404),
    ("POST", "/me/tokens/NOPE/lost", {"reason": "x"}, "page", 404),
    ("POST", "/me/tokens/NOPE/found", {}, "page", 404),
    ("POST", "/api/v1/me/tokens", {"serial": "NOPE", "display_name": "x", "code": "1"}, "api", 404),
    ("PATCH", "/api/v1/me/tokens/NOPE", {"display_name": "x"}, "api", 404),
    ("POST", "/api/v1/me/tokens/NOPE/lost", {"reason": "x"}, "api", 404),
    ("POST", "/api/v1/me/tokens/NOPE/found", {}, "api", 404),
]


def test_every_write_needs_a_session_and_its_csrf_token(
    clients: dict[str, httpx.Client],
) -> None:
    for method, path, body, kind, signed_in_answer in WRITES:
        for who, client in clients.items():
            where = f"{who} {method} {path}"
            if kind == "page":
                bare = client.request(method, path, data=body)
            else:
                bare = client.request(method, path, json=body)
            if who == "anonymous":
                if kind == "page":
                    assert bare.status_code == 303, where
                else:
                    assert bare.status_code == 401 and error(bare)["code"] == "auth.required"
                continue
            assert bare.status_code == 403, where  # no CSRF token
            if kind == "api":
                assert error(bare)["code"] == "auth.csrf", where
            else:
                assert "did not come from this site" in bare.text, where
            foreign = clients["ada" if who != "ada" else "hal"]
            wrong = {"X-CSRF-Token": foreign.get("/api/v1/me").json()["csrf_token"]}
            if kind == "page":
                other = client.request(
                    method, path, data={**body, "csrf_token": wrong["X-CSRF-Token"]}
                )
            else:
                other = client.request(method, path, json=body, headers=wrong)
            assert other.status_code == 403, where  # another session's token
            if kind == "page":
                token = CSRF_RE.search(client.get("/me").text)
                assert token
                ok = client.request(method, path, data={**body, "csrf_token": token.group(1)})
            else:
                ok = client.request(method, path, json=body, headers=csrf(client))
            assert ok.status_code == signed_in_answer, f"{where}: {ok.text[:300]}"


def test_the_api_twins_are_in_openapi(client: httpx.Client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/api/v1/me/tokens"]) >= {"get", "post"}
    assert "patch" in paths["/api/v1/me/tokens/{serial}"]
    assert "post" in paths["/api/v1/me/tokens/{serial}/lost"]
    assert "post" in paths["/api/v1/me/tokens/{serial}/found"]
    assert "201" in paths["/api/v1/me/tokens"]["post"]["responses"]


def test_covered_is_every_route_the_module_registers() -> None:
    from fastapi.routing import APIRoute

    from oathdesk.web import routes_self

    registered = {
        (method, route.path)
        for router in (routes_self.pages, routes_self.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or set()
    }
    assert registered == COVERED
