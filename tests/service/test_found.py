"""A lost token found again, against the HTTPS emulator on SQLite and PostgreSQL: it returns to
its holder in the state Entra holds it in (never switched back on without a code), or to stock;
a token Entra gave to someone else meanwhile is refused; each return is audited ``token.found``.
"""

from __future__ import annotations

from typing import Any

import pytest

from oathdesk.graph import Device, GraphClient
from oathdesk.service import (
    Action,
    ActionRequest,
    Inventory,
    ServiceError,
    activate,
    assign,
    import_seeds,
    mark_lost,
    perform,
    push,
    replace,
    show_token,
    verify_audit,
)
from oathdesk.service.lifecycle import found
from oathdesk.store import StateConflict
from tests.service.fixtures import Emu
from tests.service.support import entra_csv, secret_for, serial, totp, upn, user_id

WHO: dict[str, Any] = {"actor": "helpdesk:bob", "reason": "ticket 42"}


def _device(client: GraphClient, sn: str) -> Device:
    (device,) = client.find_serial(sn)
    return device


def _history(inv: Inventory, sn: str) -> list[str]:
    return [e["action"] for e in show_token(inv, sn)["history"]]


def test_an_activated_token_found_returns_deactivated_to_its_holder(
    inv: Inventory, emu: Emu
) -> None:
    """Lost while activated (deactivated in Entra), found: back with Ada, deactivated, and the
    answer says a code re-activates it; it then activates like any deactivated token."""
    sn = serial("Q", 0)
    import_seeds(inv, entra_csv("Q", 1), "q.csv", actor="admin:ann")
    push(inv, actor="admin:ann")
    activate(inv, sn, totp(secret_for("Q", 0)), user=upn("ada"), **WHO)
    mark_lost(inv, sn, **WHO)
    done = perform(inv, sn, Action.FOUND, ActionRequest("in her coat"), actor="helpdesk:bob")
    assert (done.before, done.token["state"], done.token["user_upn"]) == (
        "lost",
        "deactivated",
        upn("ada"),
    )
    assert done.extra["next"] == (
        f"activate it with the code it shows to let {upn('ada')} sign in with it again"
    )
    entry = show_token(inv, sn)["history"][-1]
    assert (entry["action"], entry["reason"], entry["details"]["state"]) == (
        "token.found",
        "in her coat",
        "deactivated",
    )
    client = emu.client()
    try:
        device = _device(client, sn)
        assert (device.status, device.assigned_to_id) == ("assigned", user_id("ada"))
    finally:
        client.close()
    again = activate(inv, sn, totp(secret_for("Q", 0), step_offset=1), **WHO)
    assert again.token["state"] == "activated"
    assert verify_audit(inv).ok


def test_a_token_never_activated_returns_assigned_and_stock_returns_to_stock(
    inv: Inventory, emu: Emu
) -> None:
    """Assigned but never activated: back ``assigned``. A lost token nobody held goes back to
    stock: ``available`` when Entra lists it, ``in_stock`` when it was never pushed."""
    held, spare, unpushed = serial("W", 0), serial("W", 1), serial("W", 2)
    import_seeds(inv, entra_csv("W", 2), "w.csv", actor="admin:ann")
    push(inv, actor="admin:ann")
    import_seeds(inv, entra_csv("W", 1, start=2), "w3.csv", actor="admin:ann")
    assign(inv, held, upn("grace"), **WHO)
    for sn in (held, spare, unpushed):
        mark_lost(inv, sn, **WHO)
    assert found(inv, held, **WHO).token["state"] == "assigned"
    assert show_token(inv, held)["user_upn"] == upn("grace")
    assert found(inv, spare, **WHO).token["state"] == "available"
    back = found(inv, unpushed, **WHO)
    assert (back.token["state"], back.extra["next"]) == (
        "in_stock",
        "it is back in stock, ready to be handed over",
    )
    assert all(_history(inv, sn)[-1] == "token.found" for sn in (held, spare, unpushed))


def test_found_after_entra_unassigned_it_gives_it_back_and_refuses_another_holder(
    inv: Inventory, emu: Emu
) -> None:
    """Someone unassigned the lost token in the portal: found assigns it to its holder again.
    Entra gave it to another user: refused with our code, nothing changed."""
    mine, theirs = serial("E", 0), serial("E", 1)
    import_seeds(inv, entra_csv("E", 2), "e.csv", actor="admin:ann")
    push(inv, actor="admin:ann")
    for sn, n in ((mine, 0), (theirs, 1)):
        activate(inv, sn, totp(secret_for("E", n)), user=upn("ada"), **WHO)
        mark_lost(inv, sn, **WHO)
    client = emu.client()
    try:
        for sn in (mine, theirs):
            device = _device(client, sn)
            client.unassign(user_id("ada"), client.method_id_for(user_id("ada"), device))
        client.assign(user_id("alan"), _device(client, theirs).id)

        back = found(inv, mine, **WHO)
        assert back.token["state"] == "assigned"
        assert f"assigned to {upn('ada')} again in Entra" in back.steps
        assert _device(client, mine).assigned_to_id == user_id("ada")

        with pytest.raises(ServiceError) as elsewhere:
            found(inv, theirs, **WHO)
        assert elsewhere.value.code == "service.found_held_elsewhere"
        assert show_token(inv, theirs)["state"] == "lost"
        assert _history(inv, theirs)[-1] == "token.lost"
    finally:
        client.close()


def test_found_needs_a_lost_token_and_a_reason_and_follows_a_replacement(
    inv: Inventory, emu: Emu
) -> None:
    """Only a lost token can be found, with a reason. A token replaced as lost and then found
    returns to its holder beside the replacement."""
    old, new = serial("Z", 0), serial("Z", 1)
    import_seeds(inv, entra_csv("Z", 2), "z.csv", actor="admin:ann")
    push(inv, actor="admin:ann")
    activate(inv, old, totp(secret_for("Z", 0)), user=upn("ada"), **WHO)
    with pytest.raises(StateConflict):
        found(inv, old, **WHO)
    replace(inv, old, totp(secret_for("Z", 1)), why="lost", new_serial=new, **WHO)
    with pytest.raises(ServiceError) as no_reason:
        found(inv, old, actor="helpdesk:bob", reason=" ")
    assert no_reason.value.code == "service.reason_required"
    assert found(inv, old, **WHO).token["state"] == "deactivated"
    assert {show_token(inv, s)["user_upn"] for s in (old, new)} == {upn("ada")}
    assert [show_token(inv, s)["state"] for s in (old, new)] == ["deactivated", "activated"]


def test_the_preview_names_the_token_replace_then_uses_and_changes_nothing(
    inv: Inventory, emu: Emu
) -> None:
    """``plan_replacement`` names the next from stock that ``replace`` then takes, refuses what
    ``replace`` refuses, and writes nothing; ``consequences`` says what a delete takes."""
    from oathdesk.service.lifecycle.preview import consequences, plan_replacement

    old, spare = serial("V", 0), serial("V", 1)
    import_seeds(inv, entra_csv("V", 2), "v.csv", actor="admin:ann")
    push(inv, actor="admin:ann")
    activate(inv, old, totp(secret_for("V", 0)), user=upn("ada"), **WHO)
    before = _history(inv, old)
    plan = plan_replacement(inv, old, why="lost", reason="INC-9")
    assert (plan["new"]["serial"], plan["picked"], plan["old"]["holder"]) == (
        spare,
        True,
        upn("ada"),
    )
    assert plan["losses"] == [
        f"{old} is marked lost.",
        f"{upn('ada')} can no longer sign in with {old}.",
    ]
    with pytest.raises(StateConflict):  # the new token must be free, not the old one itself
        plan_replacement(inv, old, why="lost", reason="x", new_serial=old)
    with pytest.raises(ServiceError):
        plan_replacement(inv, old, why="lost", reason="  ")
    takes = consequences(inv, old, "delete", reason="end of life")
    assert takes["holder"] == upn("ada") and takes["losses"][-1] == (
        "The token is retired for good: this cannot be undone."
    )
    assert _history(inv, old) == before and show_token(inv, spare)["state"] == "available"
    done = replace(inv, old, totp(secret_for("V", 1)), why="lost", **WHO)
    assert done.extra["replacement"]["serial"] == plan["new"]["serial"]
