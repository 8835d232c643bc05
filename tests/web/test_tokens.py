"""The token detail page, its lifecycle forms, the inventory's bulk actions, and their API twins
over HTTPS against the real HTTPS Entra emulator: our record beside Entra's, the audited
history, every action with a reason, readable refusals, a mixed bulk selection with per-serial
outcomes, Entra unreachable, roles, CSRF, a constant number of queries per inventory page, and
no seed in any answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

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

STAFF = {"ada", "hal", "aud"}
ROLE_ROUTES: list[tuple[str, str, set[str], str]] = [
    ("GET", "/tokens/RO00001", STAFF, "page"),
    ("GET", "/api/v1/tokens/RO00001", STAFF, "api"),
]
COVERED: set[tuple[str, str]] = {
    ("GET", "/tokens/{serial}"),
    ("POST", "/tokens/{serial}/{action}"),
    ("POST", "/inventory/bulk"),
    ("GET", "/api/v1/tokens/{serial}"),
    ("POST", "/api/v1/tokens/{serial}/{action}"),
    ("POST", "/api/v1/tokens/bulk"),
}


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def hal(app_url: str, server: Server, accounts: dict[str, list[str]]) -> Iterator[httpx.Client]:
    with new_client(app_url, server) as client:
        yield signed_in(client, "hal")


def act(
    client: httpx.Client, serial: str, action: str, seen: Seen, **fields: str
) -> httpx.Response:
    """Submit one of the token page's forms, as a browser would."""
    body = {
        "reason": "INC-2001 desk",
        **fields,
        "csrf_token": page_csrf(client, f"/tokens/{serial}"),
    }
    return seen(client.post(f"/tokens/{serial}/{action}", data=body))


def api_act(
    client: httpx.Client, serial: str, action: str, seen: Seen, **body: Any
) -> httpx.Response:
    payload = {"reason": "INC-2002 api", **body}
    return seen(
        client.post(f"/api/v1/tokens/{serial}/{action}", json=payload, headers=api_csrf(client))
    )


def detail(client: httpx.Client, serial: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"/api/v1/tokens/{serial}").json()
    return answer


def test_the_detail_page_shows_our_record_entras_view_and_the_history(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    add_tokens(inv, ["TD00001", "TD00002"])
    stock = seen(hal.get("/tokens/TD00002"))
    assert stock.status_code == 200
    assert "<h1>Token <code>TD00002</code></h1>" in stock.text
    assert "Entra has no token with this serial." in stock.text
    assert "Entra agrees with our record." in stock.text
    assert 'action="/tokens/TD00002/push"' in stock.text
    assert 'action="/tokens/TD00002/deactivate"' not in stock.text

    assert (
        act(hal, "TD00001", "activate", seen, user=GRACE, code=code("TD00001")).status_code == 303
    )
    page = seen(hal.get("/tokens/TD00001"))
    assert '<dl class="facts" id="entra">' in page.text
    entra_part = page.text.split('id="entra"')[1].split("</dl>")[0]
    assert "<dt>Status</dt><dd>activated</dd>" in entra_part and "Grace Example" in entra_part
    assert "<dt>State</dt><dd>activated</dd>" in page.text
    assert f'href="/users/{GRACE.replace("@", "%40")}"' in page.text
    assert "<code>token.activate</code>" in page.text and "INC-2001 desk" in page.text
    api = seen(hal.get("/api/v1/tokens/TD00001")).json()
    assert api["token"]["state"] == "activated" and api["agrees"] is True
    assert [d["status"] for d in api["entra"]] == ["activated"]
    assert api["entra_error"] is None
    assert {"token.assign", "token.activate"} <= {e["action"] for e in api["token"]["history"]}
    assert all("secret" not in key and "sealed" not in key for key in api["token"])
    missing = seen(hal.get("/tokens/NOPE"))
    assert missing.status_code == 404 and "No token with serial NOPE" in missing.text
    assert seen(hal.get("/api/v1/tokens/NOPE")).json()["error"]["code"] == "inventory.not_found"
    seen.assert_clean(["TD00001", "TD00002"])


def test_every_lifecycle_form_on_the_token_page(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    serials = ["LC00001", "LC00002"]
    add_tokens(inv, serials)
    pushed = act(hal, "LC00001", "push", seen)
    assert pushed.status_code == 303 and pushed.headers["location"] == "/tokens/LC00001?done=push"
    assert "Done: token LC00001 pushed to Entra." in seen(hal.get(pushed.headers["location"])).text
    device = entra_device(emu, "LC00001")
    assert device is not None and device.status == "available"

    assert (
        act(hal, "LC00001", "activate", seen, user=GRACE, code=code("LC00001")).status_code == 303
    )
    assert act(hal, "LC00001", "deactivate", seen).status_code == 303
    assert detail(hal, "LC00001")["token"]["state"] == "deactivated"
    page = seen(hal.get("/tokens/LC00001"))
    assert (
        'action="/tokens/LC00001/activate"' in page.text and "Deactivate</button>" not in page.text
    )
    again = act(hal, "LC00001", "activate", seen, code=code("LC00001", steps=1))
    assert again.status_code == 303, again.text
    assert detail(hal, "LC00001")["entra"][0]["status"] == "activated"

    now = time.time()  # two codes in a row, from one instant
    resynced = act(
        hal,
        "LC00001",
        "resync",
        seen,
        code=code("LC00001", steps=3, at=now),
        second_code=code("LC00001", steps=4, at=now),
    )
    assert resynced.status_code == 303, resynced.text
    history = detail(hal, "LC00001")["token"]["history"]
    drifts = [e["details"].get("drift") for e in history if e["action"] == "token.resync"]
    assert drifts in ([4], [3])  # the second code's step (3 if a step began on the way)
    assert detail(hal, "LC00001")["token"]["state"] == "activated"

    assert act(hal, "LC00001", "unassign", seen, confirmed="yes").status_code == 303
    after = detail(hal, "LC00001")
    assert after["token"]["state"] == "available" and after["entra"][0]["status"] == "available"

    lost = act(hal, "LC00002", "lost", seen, reason="INC-2003 never arrived", confirmed="yes")
    assert lost.status_code == 303
    assert detail(hal, "LC00002")["token"]["state"] == "lost"

    deleted = act(hal, "LC00001", "delete", seen, reason="INC-2004 end of life", confirmed="yes")
    assert deleted.status_code == 303
    gone = detail(hal, "LC00001")
    assert gone["token"]["state"] == "retired" and not gone["token"]["has_seed"]
    assert gone["entra"] == [] and entra_device(emu, "LC00001") is None
    retired = seen(hal.get("/tokens/LC00001"))
    assert "Done" not in retired.text and 'action="/tokens/LC00001/' not in retired.text
    seen.assert_clean(serials)


def test_refusals_are_readable_on_the_page_and_in_the_envelope(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    add_tokens(inv, ["RF00001"])
    push(inv, actor="test")
    wrong_state = act(hal, "RF00001", "deactivate", seen)
    assert wrong_state.status_code == 409
    assert 'role="alert"' in wrong_state.text and "Deactivate refused." in wrong_state.text
    assert "Token RF00001 is available; deactivate needs a token that is activated" in (
        wrong_state.text
    )
    no_reason = act(hal, "RF00001", "lost", seen, reason="  ")
    assert (
        no_reason.status_code == 400 and "Every lifecycle action needs a reason" in no_reason.text
    )

    wrong = act(hal, "RF00001", "activate", seen, user=GRACE, code=wrong_code("RF00001"))
    assert wrong.status_code == 400 and "Hand-over refused." in wrong.text
    assert "nothing was sent to Entra" in wrong.text
    assert f'value="{GRACE}"' in wrong.text  # the user typed is kept for the next try
    device = entra_device(emu, "RF00001")
    assert device is not None and device.status == "available" and not device.assigned_to_id

    api = api_act(hal, "RF00001", "activate", seen, code="123456")
    assert api.status_code == 400 and api.json()["error"]["code"] == "usage.user_required"
    no_user = api_act(hal, "RF00001", "assign", seen)
    assert no_user.json()["error"]["message"] == "Assign needs a user."
    unknown_action = api_act(hal, "RF00001", "explode", seen)
    assert unknown_action.status_code == 422
    assert unknown_action.json()["error"]["code"] == "request.invalid"
    unknown_user = api_act(hal, "RF00001", "assign", seen, user="nobody@inventory.example.com")
    assert (
        unknown_user.status_code == 404
        and unknown_user.json()["error"]["code"] == "graph.not_found"
    )
    assigned = api_act(hal, "RF00001", "assign", seen, user=GRACE)
    assert assigned.status_code == 200 and assigned.json()["state"] == "assigned"
    activated = api_act(hal, "RF00001", "activate", seen, code=code("RF00001"))
    assert activated.status_code == 200 and activated.json()["state"] == "activated"
    assert activated.json()["steps"] == ["code checked locally", "activated in Entra"]
    replay = api_act(hal, "RF00001", "activate", seen, code=code("RF00001"))
    assert replay.status_code == 409  # activated already: the state is checked first
    seen.assert_clean(["RF00001"])


def bulk_form(
    client: httpx.Client, serials: list[str], action: str, seen: Seen, reason: str = "INC-3001"
) -> httpx.Response:
    token = page_csrf(client, "/inventory")
    body: dict[str, Any] = {"serial": serials, "action": action, "reason": reason}
    return seen(client.post("/inventory/bulk", data={**body, "csrf_token": token}))


def test_bulk_actions_on_a_mixed_selection(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    serials = ["BK00001", "BK00002", "BK00003", "BK00004"]
    add_tokens(inv, serials, states={"activated": ["BK00004"]})
    listing = seen(hal.get("/inventory"))
    assert '<form method="post" action="/inventory/bulk" id="bulk"' in listing.text
    assert '<a href="/tokens/BK00001"><code>BK00001</code></a>' in listing.text
    assert (
        'aria-label="Select BK00003"' in listing.text
        and '<label for="bulk-reason">' in listing.text
    )

    result = bulk_form(hal, ["BK00001", "BK00002", "BK00004", "NOPE-9"], "push", seen)
    assert result.status_code == 200, result.text
    assert "2 token(s) pushed to Entra, 2 refused. Reason: INC-3001" in result.text
    rows = result.text.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")
    outcome = {r.split("<code>")[1].split("</code>")[0]: r for r in rows if "<code>" in r}
    assert "<td>done</td>" in outcome["BK00001"] and "available" in outcome["BK00001"]
    assert (
        "<td>refused</td>" in outcome["BK00004"]
        and "push to Entra needs a token" in outcome["BK00004"]
    )
    assert "No token with serial NOPE-9" in outcome["NOPE-9"]
    assert entra_device(emu, "BK00002") is not None and entra_device(emu, "BK00003") is None

    api = seen(
        hal.post(
            "/api/v1/tokens/bulk",
            json={"serials": ["BK00001", "BK00003", "BK00004"], "action": "lost", "reason": "r"},
            headers=api_csrf(hal),
        )
    )
    assert api.status_code == 200, api.text
    body = api.json()
    assert (body["done"], body["refused"]) == (3, 0)
    assert {r["serial"]: r["state"] for r in body["results"]} == dict.fromkeys(
        ["BK00001", "BK00003", "BK00004"], "lost"
    )
    delete = seen(
        hal.post(
            "/api/v1/tokens/bulk",
            json={"serials": ["BK00001", "BK00002"], "action": "delete", "reason": "end"},
            headers=api_csrf(hal),
        )
    ).json()
    assert [r["outcome"] for r in delete["results"]] == ["done", "done"]
    assert entra_device(emu, "BK00001") is None and entra_device(emu, "BK00002") is None
    unassign = seen(
        hal.post(
            "/api/v1/tokens/bulk",
            json={"serials": ["BK00002"], "action": "unassign", "reason": "x"},
            headers=api_csrf(hal),
        )
    ).json()
    assert unassign["results"][0]["code"] == "inventory.state_conflict"

    no_reason = bulk_form(hal, ["BK00003"], "deactivate", seen, reason=" ")
    assert no_reason.status_code == 400 and "Nothing was done." in no_reason.text
    nothing = bulk_form(hal, [], "deactivate", seen)
    assert nothing.status_code == 400 and "Select at least one token" in nothing.text
    too_many = seen(
        hal.post(
            "/api/v1/tokens/bulk",
            json={"serials": [f"S{i}" for i in range(501)], "action": "lost", "reason": "x"},
            headers=api_csrf(hal),
        )
    )
    assert too_many.status_code == 422
    seen.assert_clean(serials)


def test_the_inventory_page_costs_the_same_queries_for_25_or_100_rows(
    app_url: str, server: Server, accounts: dict[str, list[str]], inv: Inventory
) -> None:
    """No per-row query: the page for 100 tokens runs exactly the statements of the page for 25
    (keyset paging and one count), so it stays fast at 100,000 tokens."""
    add_tokens(inv, [f"PF{i:05d}" for i in range(150)], states={"activated": ["PF00003"]})
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    with new_client(app_url, server) as client:
        signed_in(client, "hal")
        event.listen(inv.db.engine, "before_cursor_execute", count)
        try:
            sizes = {}
            for limit in (25, 100):
                statements.clear()
                page = client.get("/inventory", params={"limit": limit})
                assert page.status_code == 200 and page.text.count('class="pick"') == limit
                sizes[limit] = len(statements)
        finally:
            event.remove(inv.db.engine, "before_cursor_execute", count)
    # the list's statements plus two for the filter's choices (makers and models; batches)
    assert sizes[25] == sizes[100] and sizes[25] <= 9, sizes


def test_the_auditor_sees_no_forms(
    app_url: str, server: Server, accounts: dict[str, list[str]], inv: Inventory, emu: Emu
) -> None:
    add_tokens(inv, ["AU00001"])
    with new_client(app_url, server) as client:
        signed_in(client, "aud")
        token = client.get("/tokens/AU00001")
        assert token.status_code == 200 and '<h2 id="ours-h">Our record</h2>' in token.text
        assert '<form method="post" action="/tokens/' not in token.text
        listing = client.get("/inventory")
        assert 'href="/tokens/AU00001"' in listing.text and 'id="bulk"' not in listing.text


def test_roles_on_every_token_route(
    app_url: str, server: Server, accounts: dict[str, list[str]], inv: Inventory, emu: Emu
) -> None:
    add_tokens(inv, ["RO00001", "RO00002", "RO00003"])
    clients = role_clients(app_url, server)
    try:
        check_get_roles(clients, ROLE_ROUTES)
        writes: list[tuple[str, bool, dict[str, Any]]] = [
            ("/tokens/RO00001/lost", False, {"reason": "x"}),
            ("/inventory/bulk", False, {"serial": ["RO00001"], "action": "lost", "reason": "x"}),
            ("/api/v1/tokens/RO00001/lost", True, {"reason": "x"}),
            (
                "/api/v1/tokens/bulk",
                True,
                {"serials": ["RO00001"], "action": "lost", "reason": "x"},
            ),
        ]
        for path, api, body in writes:
            for who in ("aud", "joe"):
                refused = refused_write(clients[who], path, api=api, body=body)
                assert refused.status_code == 403, f"{who} {path}"
                if api:
                    assert refused.json()["error"]["code"] == "auth.forbidden"
                else:
                    assert "Your account does not have the role this needs" in refused.text
            anonymous = (
                clients["anonymous"].post(path, json=body)
                if api
                else clients["anonymous"].post(path, data=body)
            )
            assert anonymous.status_code == (401 if api else 303), path
        assert detail(clients["ada"], "RO00001")["token"]["state"] == "in_stock"
        allowed: list[tuple[str, str, bool, dict[str, Any], int]] = [
            ("hal", "/tokens/RO00001/lost", False, {"reason": "ok", "confirmed": "yes"}, 303),
            (
                "ada",
                "/inventory/bulk",
                False,
                {"serial": ["RO00002"], "action": "push", "reason": "ok"},
                200,
            ),
            ("hal", "/api/v1/tokens/RO00002/lost", True, {"reason": "ok"}, 200),
            (
                "ada",
                "/api/v1/tokens/bulk",
                True,
                {"serials": ["RO00003"], "action": "lost", "reason": "ok"},
                200,
            ),
        ]
        for who, path, api, sent, status in allowed:
            answer = refused_write(clients[who], path, api=api, body=sent)
            assert answer.status_code == status, f"{who} {path}: {answer.text[:300]}"
        states = {
            s: detail(clients["aud"], s)["token"]["state"]
            for s in ("RO00001", "RO00002", "RO00003")
        }
        assert states == {"RO00001": "lost", "RO00002": "lost", "RO00003": "lost"}
    finally:
        for client in clients.values():
            client.close()


def test_writes_without_the_csrf_token_are_refused(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    add_tokens(inv, ["CF00001"])
    page = seen(hal.post("/tokens/CF00001/push", data={"reason": "x"}))
    assert page.status_code == 403 and "This form has expired" in page.text
    bulk = seen(
        hal.post("/inventory/bulk", data={"serial": "CF00001", "action": "push", "reason": "x"})
    )
    assert bulk.status_code == 403
    api = seen(hal.post("/api/v1/tokens/CF00001/push", json={"reason": "x"}))
    assert api.status_code == 403 and api.json()["error"]["code"] == "auth.csrf"
    other = seen(
        hal.post(
            "/api/v1/tokens/bulk", json={"serials": ["CF00001"], "action": "push", "reason": "x"}
        )
    )
    assert other.status_code == 403
    assert detail(hal, "CF00001")["token"]["state"] == "in_stock"
    assert entra_device(emu, "CF00001") is None


@pytest.mark.parametrize("where", ["not configured", "unreachable"])
def test_without_entra_the_token_page_shows_our_record_and_a_notice(
    server: Server, settings: WebSettings, tmp_path: Path, where: str
) -> None:
    url = f"sqlite:///{tmp_path / 'offline.db'}"
    upgrade(url)
    graph = (
        ("https://127.0.0.1:9", tmp_path / "none.pem") if where == "unreachable" else (None, None)
    )
    if where == "unreachable":
        (tmp_path / "none.pem").write_text(server.ca.read_text())
    offline = build_inventory(support.config(url, tmp_path, graph[0], graph[1]))
    try:
        create_account(offline, "hal", Secret(PASSWORD.encode()), ["helpdesk"], actor="test")
        add_tokens(offline, ["OF00001", "OF00002"], states={"activated": ["OF00001"]})
        server.holder.app = create_app(offline, settings)
        with new_client(server.url, server) as client:
            signed_in(client, "hal")
            page = client.get("/tokens/OF00001")
            assert page.status_code == 200, page.text
            assert "Entra could not be asked about this token" in page.text
            assert "Showing our record only" in page.text and "Traceback" not in page.text
            assert "<dt>State</dt><dd>activated</dd>" in page.text
            api = client.get("/api/v1/tokens/OF00001").json()
            assert api["entra"] is None and api["token"]["serial"] == "OF00001"
            expected = "graph.unavailable" if where == "unreachable" else "config.graph_missing"
            assert api["entra_error"]["code"] == expected
            token = page_csrf(client, "/inventory")
            result = client.post(
                "/inventory/bulk",
                data={
                    "serial": ["OF00001", "OF00002"],
                    "action": "deactivate",
                    "reason": "x",
                    "confirmed": "yes",  # held tokens: the confirmation step is answered
                    "csrf_token": token,
                },
            )
            assert result.status_code == 200
            assert "0 token(s) deactivated, 2 refused." in result.text
            assert "Not tried: Entra stopped answering" in result.text
    finally:
        server.holder.app = None
        offline.close()


def test_replace_and_resync_through_the_api_and_the_token_page(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    serials = ["RA00001", "RA00002", "RA00003"]
    add_tokens(inv, serials)
    given = api_act(hal, "RA00001", "activate", seen, user=GRACE, code=code("RA00001"))
    assert given.status_code == 200 and given.json()["state"] == "activated"
    assert given.json()["steps"] == [
        "code checked locally",
        "assigned in Entra",
        "activated in Entra",
    ]
    bad = api_act(hal, "RA00001", "resync", seen, code="000000", second_code="000001")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "service.code_rejected"
    half = api_act(hal, "RA00001", "resync", seen, code=code("RA00001", steps=2))
    assert half.status_code == 400 and half.json()["error"]["code"] == "usage.field_required"
    no_why = api_act(hal, "RA00001", "replace", seen, code=code("RA00002"), new_serial="RA00002")
    assert no_why.status_code == 400 and "Replace needs why" in no_why.json()["error"]["message"]

    replaced = api_act(
        hal, "RA00001", "replace", seen, why="lost", code=code("RA00002"), new_serial="RA00002"
    )
    assert replaced.status_code == 200, replaced.text
    answer = replaced.json()
    assert answer["state"] == "lost" and answer["replacement"]["serial"] == "RA00002"
    assert answer["replacement"]["state"] == "activated"
    assert answer["replacement"]["user_upn"] == GRACE

    page = act(hal, "RA00002", "replace", seen, why="broken", code=code("RA00003"), step="code")
    assert page.status_code == 303, page.text
    assert detail(hal, "RA00002")["token"]["state"] == "broken"
    new = detail(hal, "RA00003")
    assert new["token"]["state"] == "activated" and new["entra"][0]["status"] == "activated"
    seen.assert_clean(serials)


def test_a_bulk_action_that_takes_tokens_from_people_asks_first(
    hal: httpx.Client, inv: Inventory, seen: Seen
) -> None:
    """Bulk delete, lost, unassign and deactivate on tokens people hold show who holds what and
    ask for a confirmation; only the confirmed form acts (it acted at once before)."""
    add_tokens(inv, ["BC00001", "BC00002"], states={"activated": ["BC00002"]})
    asked = bulk_form(hal, ["BC00001", "BC00002"], "lost", seen)
    assert asked.status_code == 200, asked.text
    assert "Confirm: lost 2 token(s)" in asked.text
    assert "1 of the selected token(s) are held by people." in asked.text
    held = asked.text.split('id="bulk-held"')[1].split("</table>")[0]
    assert "BC00002" in held and "user-bc00002@contoso.com" in held and "BC00001" not in held
    assert 'name="confirmed" value="yes"' in asked.text and 'class="danger"' in asked.text
    assert detail(hal, "BC00002")["token"]["state"] == "activated"  # nothing done yet

    token = page_csrf(hal, "/inventory")
    body = {"serial": ["BC00001", "BC00002"], "action": "lost", "reason": "INC-3001"}
    done = seen(hal.post("/inventory/bulk", data={**body, "confirmed": "yes", "csrf_token": token}))
    assert done.status_code == 200 and 'id="bulk-summary"' in done.text
    assert detail(hal, "BC00002")["token"]["state"] == "lost"

    # a selection nobody holds runs at once, as before
    stock = bulk_form(hal, ["BC00001"], "deactivate", seen)
    assert 'id="bulk-summary"' in stock.text and "Confirm:" not in stock.text
    seen.assert_clean(["BC00001", "BC00002"])
