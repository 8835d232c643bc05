"""Destructive single-token actions ask first, the replacement names its new token before the
code, and a lost token can be found: over HTTPS against the real Entra emulator. Each first
POST changes nothing (checked in our record and in Entra); only ``confirmed=yes`` or the code
step acts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from oathdesk.service import Inventory, push
from tests.service.fixtures import Emu
from tests.web.conftest import Server, add_tokens, new_client, signed_in
from tests.web.lifecycle_helpers import (
    ALAN,
    GRACE,
    Seen,
    api_csrf,
    code,
    emu,
    emu_session,
    entra_device,
    inv,
    page_csrf,
    wrong_code,
)

__all__ = ["emu", "emu_session", "inv"]


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def hal(app_url: str, server: Server, accounts: dict[str, list[str]]) -> Iterator[httpx.Client]:
    with new_client(app_url, server) as client:
        yield signed_in(client, "hal")


def token(client: httpx.Client, serial: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"/api/v1/tokens/{serial}").json()["token"]
    return answer


def post(client: httpx.Client, path: str, seen: Seen, back: str, **fields: str) -> httpx.Response:
    body = {"reason": "INC-4001", **fields, "csrf_token": page_csrf(client, back)}
    return seen(client.post(path, data=body))


def act(
    client: httpx.Client, serial: str, action: str, seen: Seen, **fields: str
) -> httpx.Response:
    return post(client, f"/tokens/{serial}/{action}", seen, f"/tokens/{serial}", **fields)


def hand_over(client: httpx.Client, serial: str, seen: Seen, upn: str = GRACE) -> None:
    given = act(client, serial, "activate", seen, user=upn, code=code(serial))
    assert given.status_code == 303, given.text


def test_delete_lost_and_unassign_ask_first_and_say_what_is_lost(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    """The first POST renders the confirmation (holder, what they lose, a danger button, a
    cancel link) and changes nothing; ``confirmed=yes`` acts."""
    add_tokens(inv, ["DC00001", "DC00002"])
    hand_over(hal, "DC00001", seen)
    page = seen(hal.get("/tokens/DC00001")).text
    assert 'id="delete-form"' in page and 'class="stack danger-zone"' in page
    assert "Delete and retire…" in page and "/static/actions.css" in page

    for action, heading, lines in [
        (
            "delete",
            "delete and retire",
            [
                f"{GRACE} loses this token: it is taken from them in Entra.",
                f"{GRACE} can no longer sign in with it.",
                "Its seed is destroyed: the token can never be activated again.",
                "The token is retired for good: this cannot be undone.",
            ],
        ),
        (
            "lost",
            "mark lost",
            [f"{GRACE} can no longer sign in with it: it is deactivated in Entra."],
        ),
        ("unassign", "unassign", ["It goes back to stock, to be handed to someone else."]),
    ]:
        asked = act(hal, "DC00001", action, seen, reason=f"INC-40 {action}")
        assert asked.status_code == 200, asked.text
        assert f"Confirm: {heading} token <code>DC00001</code>" in asked.text
        assert f"Token DC00001 is held by {GRACE} (activated)." in asked.text
        for line in lines:
            assert line in asked.text, line
        assert 'name="confirmed" value="yes"' in asked.text
        assert 'name="reason" value="INC-40 ' + action + '"' in asked.text
        assert f'class="danger">Yes, {heading} token DC00001</button>' in asked.text
        assert 'href="/tokens/DC00001" id="cancel">Cancel: nothing is done' in asked.text
        now = token(hal, "DC00001")  # nothing happened before confirming
        assert (now["state"], now["user_upn"], now["has_seed"]) == ("activated", GRACE, True)
        assert now["history"][-1]["action"] == "token.activate"
        device = entra_device(emu, "DC00001")
        assert device is not None and device.status == "activated"

    done = act(hal, "DC00001", "delete", seen, reason="INC-41", confirmed="yes")
    assert done.status_code == 303 and done.headers["location"] == "/tokens/DC00001?done=delete"
    gone = token(hal, "DC00001")
    assert gone["state"] == "retired" and not gone["has_seed"]
    assert entra_device(emu, "DC00001") is None

    # a token nobody holds: the confirmation says so; a missing reason is refused at once
    stock = act(hal, "DC00002", "delete", seen)
    assert "Token DC00002 is in_stock and held by nobody." in stock.text
    assert "Its seed is destroyed" in stock.text and token(hal, "DC00002")["state"] == "in_stock"
    no_reason = act(hal, "DC00002", "lost", seen, reason=" ")
    assert (
        no_reason.status_code == 400 and "Every lifecycle action needs a reason" in no_reason.text
    )
    # an action the state does not offer is refused as before, not confirmed
    retired = act(hal, "DC00001", "lost", seen)
    assert retired.status_code == 409 and "Confirm:" not in retired.text
    seen.assert_clean(["DC00001", "DC00002"])


def test_replace_names_the_new_token_before_asking_its_code(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    """Step 1 (no code) shows the serial picked from stock, or the one typed, and what the
    holder gives up, and changes nothing; step 2 replaces with exactly that token. A wrong code
    asks again on the same step."""
    serials = ["RP00001", "RP00002", "RP00003", "RP00004"]
    add_tokens(inv, serials)
    push(inv, actor="test")
    hand_over(hal, "RP00001", seen)
    user = f"/users/{quote(GRACE, safe='@')}"
    first = post(hal, f"{user}/replace", seen, user, old_serial="RP00001", why="lost")
    assert first.status_code == 200, first.text
    assert "New token: <code>RP00002</code>" in first.text
    assert "Picked from stock (the oldest token with a seed)" in first.text
    assert "RP00001 is marked lost." in first.text
    assert f"{GRACE} can no longer sign in with RP00001." in first.text
    assert 'name="new_serial" value="RP00002"' in first.text
    assert 'name="step" value="code"' in first.text and 'id="replace-code"' in first.text
    assert 'class="danger">Replace RP00001 (lost) with RP00002</button>' in first.text
    assert [token(hal, s)["state"] for s in ("RP00001", "RP00002")] == ["activated", "available"]

    typed = act(hal, "RP00001", "replace", seen, why="broken", new_serial="RP00003")
    assert typed.status_code == 200 and "New token: <code>RP00003</code>" in typed.text
    assert "The serial you typed or scanned." in typed.text
    assert 'action="/tokens/RP00001/replace"' in typed.text

    wrong = post(
        hal,
        f"{user}/replace",
        seen,
        user,
        old_serial="RP00001",
        why="lost",
        new_serial="RP00002",
        step="code",
        code=wrong_code("RP00002"),
    )
    assert wrong.status_code == 400 and "Replacement refused." in wrong.text
    assert "New token: <code>RP00002</code>" in wrong.text  # the same step, the same token
    assert token(hal, "RP00001")["state"] == "activated"

    done = post(
        hal,
        f"{user}/replace",
        seen,
        user,
        old_serial="RP00001",
        why="lost",
        new_serial="RP00002",
        step="code",
        code=code("RP00002"),
    )
    assert done.status_code == 303, done.text
    assert [token(hal, s)["state"] for s in ("RP00001", "RP00002")] == ["lost", "activated"]

    # not hers, or a new token nobody may use: refused on the first step, on the user's page
    foreign = post(hal, f"/users/{quote(ALAN, safe='@')}/replace", seen, user, old_serial="RP00002")
    assert foreign.status_code == 409 and f"Token RP00002 is assigned to {GRACE}" in foreign.text
    taken = post(hal, f"{user}/replace", seen, user, old_serial="RP00002", new_serial="RP00001")
    assert taken.status_code == 409 and "a replacement needs a token that is" in taken.text
    seen.assert_clean(serials)


def test_a_lost_token_found_goes_back_to_its_holder(
    hal: httpx.Client, inv: Inventory, emu: Emu, seen: Seen
) -> None:
    """The token page offers "Found it" for a lost token; it returns to its holder deactivated,
    the page says a code re-activates it, and the API runs the same action."""
    add_tokens(inv, ["FD00001", "FD00002"])
    hand_over(hal, "FD00001", seen)
    hand_over(hal, "FD00002", seen)
    for sn in ("FD00001", "FD00002"):
        assert act(hal, sn, "lost", seen, confirmed="yes").status_code == 303
    page = seen(hal.get("/tokens/FD00001?done=lost")).text
    assert "If it turns up again, use Found it below." in page
    assert 'id="found-form"' in page and 'action="/tokens/FD00001/found"' in page
    found = act(hal, "FD00001", "found", seen, reason="INC-4002 in the car")
    assert found.status_code == 303 and found.headers["location"].endswith("?done=found")
    shown = seen(hal.get(found.headers["location"])).text
    assert "Done: token FD00001 found." in shown
    assert f"It is back with {GRACE}: activate it with the code it shows" in shown
    now = token(hal, "FD00001")
    assert (now["state"], now["user_upn"]) == ("deactivated", GRACE)
    assert now["history"][-1]["action"] == "token.found"

    api = seen(
        hal.post(
            "/api/v1/tokens/FD00002/found",
            json={"reason": "INC-4003"},
            headers=api_csrf(hal),
        )
    )
    assert api.status_code == 200, api.text
    assert (
        api.json()["state"] == "deactivated" and "activate it with the code" in api.json()["next"]
    )
    again = act(hal, "FD00002", "found", seen)
    assert again.status_code == 409 and "found needs a token that is lost" in again.text
    seen.assert_clean(["FD00001", "FD00002"])
