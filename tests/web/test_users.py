"""The help desk's users pages and their API twins over HTTPS, against the real HTTPS Entra
emulator: search, a user's page, hand over a token (assign and activate in one form, the code
checked locally before Entra is called), wrong, replayed and foreign codes and serials refused
with a readable message, replace lost or broken tokens, roles, CSRF, no seed in any answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import Secret
from oathdesk.service import Inventory, push
from oathdesk.service.accounts import create_account
from oathdesk.store import upgrade
from oathdesk.web import WebSettings, create_app
from tests.service import support
from tests.service.fixtures import Emu
from tests.web.conftest import PASSWORD, Server, add_tokens, new_client, signed_in
from tests.web.lifecycle_helpers import (
    ALAN,
    GRACE,
    Seen,
    api_csrf,
    check_get_roles,
    code,
    emu,
    emu_session,
    entra_device,
    inv,
    page_csrf,
    refused_write,
    role_clients,
    wrong_code,
)

__all__ = ["emu", "emu_session", "inv"]

HELPDESK = {"ada", "hal"}
ROLE_ROUTES: list[tuple[str, str, set[str], str]] = [
    ("GET", "/users", HELPDESK, "page"),
    ("GET", "/users?q=gra", HELPDESK, "page"),
    ("GET", f"/users/{GRACE}", HELPDESK, "page"),
    ("GET", "/api/v1/users?q=gra", HELPDESK, "api"),
    ("GET", f"/api/v1/users/{GRACE}", HELPDESK, "api"),
]
COVERED: set[tuple[str, str]] = {
    ("GET", "/users"),
    ("GET", "/users/{upn}"),
    ("POST", "/users/{upn}/handover"),
    ("POST", "/users/{upn}/replace"),
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/users/{upn}"),
}


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def hal(app_url: str, server: Server, accounts: dict[str, list[str]]) -> Iterator[httpx.Client]:
    with new_client(app_url, server) as client:
        yield signed_in(client, "hal")


def user_path(upn: str) -> str:
    return f"/users/{quote(upn, safe='@')}"


def hand_over(
    client: httpx.Client, upn: str, serial: str, the_code: str, seen: Seen, **extra: str
) -> httpx.Response:
    fields = {"serial": serial, "code": the_code, "reason": "INC-1001 new starter", **extra}
    fields["csrf_token"] = page_csrf(client, user_path(upn))
    return seen(client.post(f"{user_path(upn)}/handover", data=fields))


def state_of(client: httpx.Client, serial: str) -> str:
    state: str = client.get(f"/api/v1/tokens/{serial}").json()["token"]["state"]
    return state


def test_search_finds_entra_users_on_the_page_and_in_the_api(hal: httpx.Client, seen: Seen) -> None:
    empty = seen(hal.get("/users"))
    assert empty.status_code == 200
    assert '<label for="q">Name or UPN</label>' in empty.text
    assert "Users in Entra, page 1" in empty.text, "the directory is listed on open"
    assert 'id="result-count"' not in empty.text
    page = seen(hal.get("/users", params={"q": "Grace"}))
    assert page.status_code == 200, page.text
    assert "1 user(s) found." in page.text
    assert f'href="/users/{quote(GRACE, safe="")}"' in page.text and "Grace Example" in page.text
    api = seen(hal.get("/api/v1/users", params={"q": "al"}))
    assert api.status_code == 200
    assert {u["user_principal_name"] for u in api.json()["items"]} == {ALAN}
    whole = hal.get("/api/v1/users", params={"q": GRACE}).json()["items"]
    assert [u["id"] for u in whole] == [support.user_id("grace")]
    none = seen(hal.get("/users", params={"q": "nobody-here"}))
    assert "0 user(s) found." in none.text
    unknown = seen(hal.get("/api/v1/users/nobody@inventory.example.com"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "graph.not_found"


def test_hand_over_assigns_and_activates_in_one_action(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    add_tokens(inv, ["HD00001", "HD00002"])
    page = seen(hal.get(user_path(GRACE)))
    assert page.status_code == 200
    assert "Our inventory has no token for this user." in page.text
    assert "Entra lists no hardware OATH token for this user." in page.text
    for field in ("handover-serial", "handover-code", "handover-name", "handover-reason"):
        assert f'<label for="{field}">' in page.text and f'id="{field}"' in page.text

    done = hand_over(hal, GRACE, "HD00001", code("HD00001"), seen, display_name="Grace's key")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{user_path(GRACE)}?done=handover&serial=HD00001"
    after = seen(hal.get(done.headers["location"]))
    assert "Done: token HD00001 handed over and activated." in after.text
    assert 'href="/tokens/HD00001"' in after.text
    device = entra_device(emu, "HD00001")
    assert device is not None and device.status == "activated"
    assert device.assigned_to_id == support.user_id("grace")
    assert device.display_name == "Grace's key"

    api = seen(hal.get(f"/api/v1/users/{GRACE}")).json()
    assert api["user"]["display_name"] == "Grace Example"
    assert [(t["serial"], t["state"]) for t in api["tokens"]] == [("HD00001", "activated")]
    assert [(m["serial_number"], m["status"]) for m in api["entra_methods"]] == [
        ("HD00001", "activated")
    ]
    history = seen(hal.get("/api/v1/tokens/HD00001")).json()["token"]["history"]
    actions = [(e["action"], e["actor"], e["reason"]) for e in history]
    assert ("token.assign", "local:hal", "INC-1001 new starter") in actions
    assert ("token.activate", "local:hal", "INC-1001 new starter") in actions
    assert state_of(hal, "HD00002") == "in_stock"
    seen.assert_clean(["HD00001", "HD00002"])


def test_a_wrong_code_is_refused_before_entra_is_called(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    add_tokens(inv, ["WC00001"])
    push(inv, actor="test")
    before = entra_device(emu, "WC00001")
    assert before is not None and before.status == "available"
    refused = hand_over(hal, GRACE, "WC00001", wrong_code("WC00001"), seen)
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text and "Hand-over refused." in refused.text
    assert "The code does not match token WC00001; nothing was sent to Entra" in refused.text
    assert "service.code_rejected" in refused.text
    assert 'value="WC00001"' in refused.text  # the serial typed stays in the form
    after = entra_device(emu, "WC00001")
    assert after is not None and after.status == "available" and not after.assigned_to_id
    token = seen(hal.get("/api/v1/tokens/WC00001")).json()["token"]
    assert token["state"] == "available" and token["user_upn"] is None
    failed = [e for e in token["history"] if e["action"] == "token.activation_failed"]
    assert failed and failed[-1]["details"]["where"] == "local"
    malformed = hand_over(hal, GRACE, "WC00001", "12ab", seen)
    assert malformed.status_code == 400 and "The code must be the 6 digits" in malformed.text
    seen.assert_clean(["WC00001"])


def test_a_replayed_code_is_refused(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    add_tokens(inv, ["RP00001"])
    used = code("RP00001")
    assert hand_over(hal, GRACE, "RP00001", used, seen).status_code == 303
    off = seen(
        hal.post(
            "/api/v1/tokens/RP00001/deactivate",
            json={"reason": "INC-1002 testing"},
            headers=api_csrf(hal),
        )
    )
    assert off.status_code == 200 and off.json()["state"] == "deactivated"
    again = hand_over(hal, GRACE, "RP00001", used, seen)
    assert again.status_code == 400
    assert "This code was already used for token RP00001; wait for the next code" in again.text
    assert "service.code_replayed" in again.text
    assert state_of(hal, "RP00001") == "deactivated"
    device = entra_device(emu, "RP00001")
    assert device is not None and device.status != "activated"
    fresh = hand_over(hal, GRACE, "RP00001", code("RP00001", steps=1), seen)
    assert fresh.status_code == 303, fresh.text
    assert state_of(hal, "RP00001") == "activated"
    seen.assert_clean(["RP00001"])


def test_unknown_serial_wrong_state_and_someone_elses_token_are_explained(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    add_tokens(inv, ["US00001", "US00002"])
    unknown = hand_over(hal, GRACE, "NOPE-1", "123456", seen)
    assert unknown.status_code == 404
    assert "No token with serial NOPE-1 in the inventory" in unknown.text
    assert 'role="alert"' in unknown.text and "<h1>Grace Example</h1>" in unknown.text
    assert hand_over(hal, GRACE, "US00001", code("US00001"), seen).status_code == 303
    foreign = hand_over(hal, ALAN, "US00001", code("US00001", steps=1), seen)
    assert foreign.status_code == 409
    assert f"Token US00001 is assigned to {GRACE}, not {ALAN}" in foreign.text
    twice = hand_over(hal, GRACE, "US00001", code("US00001", steps=1), seen)
    assert twice.status_code == 409
    assert "Token US00001 is activated; activation needs a token that is" in twice.text
    no_reason = hand_over(hal, GRACE, "US00002", code("US00002"), seen, reason=" ")
    assert (
        no_reason.status_code == 400 and "Every lifecycle action needs a reason" in no_reason.text
    )
    no_serial = hand_over(hal, GRACE, " ", "123456", seen)
    assert no_serial.status_code == 400 and "Type the serial printed on the token" in no_serial.text
    assert entra_device(emu, "US00002") is None
    assert state_of(hal, "US00002") == "in_stock"
    seen.assert_clean(["US00001", "US00002"])


def replace_form(client: httpx.Client, upn: str, seen: Seen, **fields: str) -> httpx.Response:
    """The replacement's second step (the new token's code), as its form posts it."""
    body = {
        "reason": "INC-1003 lost on the train",
        "step": "code",
        "csrf_token": page_csrf(client, user_path(upn)),
    }
    return seen(client.post(f"{user_path(upn)}/replace", data={**body, **fields}))


def test_replace_a_lost_then_a_broken_token(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    serials = ["RL00001", "RL00002", "RL00003"]
    add_tokens(inv, serials)
    assert hand_over(hal, GRACE, "RL00001", code("RL00001"), seen).status_code == 303
    page = seen(hal.get(user_path(GRACE)))
    assert '<option value="RL00001" >RL00001 (activated)</option>' in page.text

    wrong = replace_form(
        hal,
        GRACE,
        seen,
        old_serial="RL00001",
        why="lost",
        new_serial="RL00002",
        code=wrong_code("RL00002"),
    )
    assert wrong.status_code == 400 and "Replacement refused." in wrong.text
    assert "The code does not match token RL00002" in wrong.text
    assert state_of(hal, "RL00001") == "activated" and state_of(hal, "RL00002") == "in_stock"

    lost = replace_form(
        hal,
        GRACE,
        seen,
        old_serial="RL00001",
        why="lost",
        new_serial="RL00002",
        code=code("RL00002"),
    )
    assert lost.status_code == 303, lost.text
    assert lost.headers["location"] == (
        f"{user_path(GRACE)}?done=replace&serial=RL00002&old=RL00001"
    )
    shown = hal.get(lost.headers["location"]).text  # it named the new token as the replaced one
    assert "Done: token RL00001 replaced by RL00002, now activated for this user." in shown
    assert state_of(hal, "RL00001") == "lost" and state_of(hal, "RL00002") == "activated"
    old = entra_device(emu, "RL00001")
    assert old is not None and old.status != "activated"

    # the last token in stock is picked when no new serial is typed
    broken = replace_form(
        hal,
        GRACE,
        seen,
        old_serial="RL00002",
        why="broken",
        code=code("RL00003"),
        reason="INC-1004 cracked",
    )
    assert broken.status_code == 303, broken.text
    assert state_of(hal, "RL00002") == "broken" and state_of(hal, "RL00003") == "activated"
    new = entra_device(emu, "RL00003")
    assert new is not None and new.status == "activated"
    assert new.assigned_to_id == support.user_id("grace")
    history = hal.get("/api/v1/tokens/RL00002").json()["token"]["history"]
    replaced = [e for e in history if e["action"] == "token.replace"]
    assert (
        replaced[-1]["details"]["why"] == "broken" and replaced[-1]["reason"] == "INC-1004 cracked"
    )

    foreign = replace_form(
        hal, ALAN, seen, old_serial="RL00003", why="lost", code=code("RL00003", steps=1)
    )
    assert foreign.status_code == 409 and f"Token RL00003 is assigned to {GRACE}" in foreign.text
    seen.assert_clean(serials)


def test_roles_on_every_users_route(
    app_url: str, server: Server, accounts: dict[str, list[str]], inv: Inventory, emu: Emu
) -> None:
    add_tokens(inv, ["RO00001", "RO00002", "RO00003"])
    clients = role_clients(app_url, server)
    try:
        check_get_roles(clients, ROLE_ROUTES)
        writes = [
            (f"{user_path(GRACE)}/handover", {"serial": "RO00001", "code": code("RO00001")}),
            (
                f"{user_path(GRACE)}/replace",
                {"old_serial": "RO00001", "code": code("RO00002"), "step": "code"},
            ),
        ]
        for path, body in writes:
            body = {**body, "reason": "INC-9 roles"}
            for who in ("aud", "joe"):
                refused = refused_write(clients[who], path, api=False, body=body)
                assert refused.status_code == 403, f"{who} {path}"
                assert "Your account does not have the role this needs" in refused.text
            anonymous = clients["anonymous"].post(path, data=body)
            assert anonymous.status_code == 303
            assert anonymous.headers["location"].startswith("/signin?next=")
        assert state_of(clients["ada"], "RO00001") == "in_stock"
        for who, path, body in [
            ("hal", writes[0][0], writes[0][1]),
            ("ada", writes[1][0], {**writes[1][1], "new_serial": "RO00002"}),
        ]:
            allowed = refused_write(clients[who], path, api=False, body={**body, "reason": "ok"})
            assert allowed.status_code == 303, f"{who} {path}: {allowed.text[:300]}"
        assert state_of(clients["ada"], "RO00001") == "lost"
        assert state_of(clients["ada"], "RO00002") == "activated"
    finally:
        for client in clients.values():
            client.close()


def test_a_write_without_the_csrf_token_is_refused(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    add_tokens(inv, ["CS00001"])
    body = {"serial": "CS00001", "code": code("CS00001"), "reason": "INC-5"}
    forged = seen(hal.post(f"{user_path(GRACE)}/handover", data=body))
    assert forged.status_code == 403 and "This form has expired" in forged.text
    wrong = seen(hal.post(f"{user_path(GRACE)}/handover", data={**body, "csrf_token": "0" * 64}))
    assert wrong.status_code == 403
    assert state_of(hal, "CS00001") == "in_stock" and entra_device(emu, "CS00001") is None


def test_without_entra_the_user_page_shows_our_tokens_and_a_notice(
    server: Server, settings: WebSettings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'offline.db'}"
    upgrade(url)
    offline = build_inventory(support.config(url, tmp_path, None, None))
    try:
        create_account(offline, "hal", Secret(PASSWORD.encode()), ["helpdesk"], actor="test")
        add_tokens(offline, ["OF00001"], states={"activated": ["OF00001"]})
        server.holder.app = create_app(offline, settings)
        with new_client(server.url, server) as client:
            signed_in(client, "hal")
            upn = "user-of00001@contoso.com"  # the holder add_tokens records
            page = client.get(user_path(upn))
            assert page.status_code == 200, page.text
            assert "Entra could not be asked about this user" in page.text
            assert "Graph is not configured" in page.text and "Traceback" not in page.text
            assert 'href="/tokens/OF00001"' in page.text and 'id="handover"' not in page.text
            api = client.get(f"/api/v1/users/{upn}").json()
            assert api["user"] is None and api["entra_error"]["code"] == "config.graph_missing"
            assert [t["serial"] for t in api["tokens"]] == ["OF00001"]
            search = client.get("/users", params={"q": "gra"})
            assert search.status_code == 200 and "Entra could not be searched." in search.text
    finally:
        server.holder.app = None
        offline.close()


def test_a_guest_is_flagged_and_refused_a_token_with_our_code(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    """Hand-over to a guest was offered, then failed with Graph's raw message: the page now
    flags the guest and offers no hand-over, and any other way in is refused with our code
    before Entra is changed."""
    guest = support.upn("gus")
    add_tokens(inv, ["GU00001"])
    page = seen(hal.get(user_path(guest)))
    assert page.status_code == 200 and 'id="guest-note"' in page.text
    assert 'id="handover"' not in page.text
    listed = seen(hal.get("/users", params={"q": "Gus"}))
    assert '<strong class="guest">Guest</strong>' in listed.text

    refused = hand_over(hal, guest, "GU00001", code("GU00001"), seen)
    assert refused.status_code == 400 and "is a guest account" in refused.text
    assert "service.guest_user" in refused.text
    api = seen(
        hal.post(
            "/api/v1/tokens/GU00001/activate",
            json={"reason": "INC-1", "user": guest, "code": code("GU00001")},
            headers=api_csrf(hal),
        )
    )
    assert api.status_code == 400 and api.json()["error"]["code"] == "service.guest_user"
    assert state_of(hal, "GU00001") == "in_stock"  # nothing was kept
    device = entra_device(emu, "GU00001")
    assert device is None or device.assigned_to_id in (None, "")
