"""A token's whole life against the HTTPS emulator, on SQLite and PostgreSQL: import, push,
assign, activate (code checked locally first, with replay protection), deactivate, resync,
replace, unassign, delete; then the audit chain, the report and reconcile agree. Then the one
dispatch (``perform``) and mark-lost for the help desk and for a holder's own report."""

from __future__ import annotations

import time
from typing import Any

import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import UsageError
from oathdesk.graph import Device, GraphClient
from oathdesk.service import (
    Action,
    ActionRequest,
    CodeRejected,
    Inventory,
    ServiceError,
    activate,
    assign,
    deactivate,
    delete,
    identify,
    import_seeds,
    inventory_report,
    mark_lost,
    perform,
    push,
    reconcile,
    replace,
    resync,
    show_token,
    unassign,
    verify_audit,
)
from oathdesk.service.lifecycle import NotHolder
from oathdesk.store import StateConflict
from tests.service.fixtures import Emu
from tests.service.support import entra_csv, secret_for, serial, totp, upn, user_id, wrong_code

WHO: dict[str, Any] = {"actor": "helpdesk:bob", "reason": "ticket 42"}
ACTOR = {"actor": "helpdesk:bob"}


def _entra(client: GraphClient, sn: str) -> Device | None:
    found = client.find_serial(sn)
    assert len(found) <= 1, f"{sn} is in Entra {len(found)} times"
    return found[0] if found else None


def _state(inv: Inventory, sn: str) -> str:
    return str(show_token(inv, sn)["state"])


@pytest.mark.usefixtures("switched")
def test_full_life_from_import_to_retirement(inv: Inventory, emu: Emu) -> None:
    t0, t1, t2, t3 = (serial("F", n) for n in range(4))
    import_seeds(inv, entra_csv("F", 4), "f.csv", actor="admin:ann")
    pushed = push(inv, actor="admin:ann")
    assert (pushed.created, pushed.failed, pushed.progress["done"]) == (4, [], 4)
    client = emu.client()
    try:
        assert all(_state(inv, s) == "available" for s in (t0, t1, t2, t3))
        assert {d.status for d in client.list_devices()} == {"available"}

        assign(inv, t0, upn("ada"), **WHO)
        device = _entra(client, t0)
        assert device and (device.status, device.assigned_to_id) == ("assigned", user_id("ada"))

        # a wrong code is refused here: Entra is never asked, so the token is not failedActivation
        with pytest.raises(CodeRejected) as refused:
            activate(inv, t0, wrong_code(secret_for("F", 0)), **WHO)
        assert refused.value.code == "service.code_rejected"
        assert _entra(client, t0).status == "assigned"  # type: ignore[union-attr]
        assert _state(inv, t0) == "assigned"

        done = activate(inv, t0, totp(secret_for("F", 0)), display_name="Ada's key", **WHO)
        assert done.token["state"] == "activated" and "code checked locally" in done.steps
        assert _entra(client, t0).status == "activated"  # type: ignore[union-attr]

        # replay: the code that activated t1 cannot activate it again after a deactivation
        code1 = totp(secret_for("F", 1))
        activate(inv, t1, code1, user=upn("grace"), **WHO)  # assign and activate in one action
        assert _entra(client, t1).assigned_to_id == user_id("grace")  # type: ignore[union-attr]
        deactivate(inv, t1, **WHO)
        assert _entra(client, t1).status == "assigned"  # type: ignore[union-attr]
        with pytest.raises(CodeRejected) as replayed:
            activate(inv, t1, code1, **WHO)
        assert replayed.value.code == "service.code_replayed"
        assert _state(inv, t1) == "deactivated"

        # a drifted clock: two consecutive codes four steps ahead; Entra re-learns it
        secret0 = secret_for("F", 0)
        first, second = (totp(secret0, step_offset=k) for k in (4, 5))
        synced = resync(inv, t0, first, second, **WHO)
        assert synced.token["state"] == "activated"
        assert _entra(client, t0).status == "activated"  # type: ignore[union-attr]

        # identify: the code t3 shows now names t3
        found = identify(inv, [totp(secret_for("F", 3))])
        assert t3 in [c["serial"] for c in found]

        # ada loses t0: it is deactivated and marked lost; the oldest stock (t2) replaces it
        swapped = replace(inv, t0, totp(secret_for("F", 2)), why="lost", **WHO)
        assert swapped.token["state"] == "lost"
        assert swapped.extra["replacement"]["serial"] == t2
        assert _entra(client, t0).status == "assigned"  # type: ignore[union-attr]
        new = _entra(client, t2)
        assert new and (new.status, new.assigned_to_id) == ("activated", user_id("ada"))

        assert reconcile(inv, actor="t")["findings"] == []  # a lost token still in Entra is fine

        unassign(inv, t1, **WHO)
        assert _entra(client, t1).status == "available"  # type: ignore[union-attr]
        assert show_token(inv, t1)["user_upn"] is None

        retired = delete(inv, t0, **WHO)
        assert retired.token["state"] == "retired" and not retired.token["has_seed"]
        assert _entra(client, t0) is None
        with pytest.raises(StateConflict):
            assign(inv, t0, upn("ada"), **WHO)
    finally:
        client.close()

    assert verify_audit(inv).ok
    history = [e["action"] for e in show_token(inv, t0)["history"]]
    assert history == [
        "token.sync",
        "token.assign",
        "token.activation_failed",
        "token.activate",
        "token.resync",
        "token.activate",
        "token.replace",
        "token.delete",
        "token.seed_destroyed",
    ]
    report = inventory_report(inv)
    assert report["by_state"]["retired"] == 1 and report["by_state"]["activated"] == 1
    assert report["by_state"]["available"] == 2 and report["by_state"]["lost"] == 0
    assert report["failed_activations"]["events"] == 2  # the wrong code and the replay
    assert report["import_to_activation"]["count"] == 1
    assert reconcile(inv, actor="t")["findings"] == []


def test_entra_refusing_a_locally_good_code_leaves_failed_activation(cfg: Config, emu: Emu) -> None:
    sn, secret = serial("G", 0), secret_for("G", 0)
    emu.configure(clockOffsetSeconds=-3 * 86400)  # Entra's clock is three days behind
    # Entra searches ±1 day around its own clock: take a code of ours (a few steps ahead, well
    # inside our window) that no step of Entra's window shows; the code of now alone is one of
    # those 5,761 codes about 0.6% of the time.
    entra_sees = {totp(secret, time.time() - 3 * 86400, step_offset=k) for k in range(-2900, 2901)}
    ahead = next(k for k in range(50) if totp(secret, step_offset=k) not in entra_sees)
    with build_inventory(cfg) as inv:
        import_seeds(inv, entra_csv("G", 1), "g.csv", actor="t")
        assign(inv, sn, upn("alan"), **WHO)
        with pytest.raises(ServiceError) as caught:
            activate(inv, sn, totp(secret, step_offset=ahead), **WHO)
        assert caught.value.code == "service.entra_refused_code"
        assert _state(inv, sn) == "failed_activation"
        assert verify_audit(inv).ok
    emu.configure(clockOffsetSeconds=0)
    with build_inventory(cfg) as inv:  # a new sign-in: the old token was minted 3 days back
        activate(inv, sn, totp(secret, step_offset=ahead + 1), **WHO)
        assert _state(inv, sn) == "activated"


def test_actions_need_a_reason_and_the_right_state(inv: Inventory, emu: Emu) -> None:
    sn = serial("H", 0)
    import_seeds(inv, entra_csv("H", 1), "h.csv", actor="t")
    with pytest.raises(ServiceError) as caught:
        assign(inv, sn, upn("ada"), actor="t", reason="  ")
    assert caught.value.code == "service.reason_required"
    for bad in ("ticket\x00 42", "x" * 2001):  # NUL would be a database error on PostgreSQL
        with pytest.raises(ServiceError) as refused:
            assign(inv, sn, upn("ada"), actor="t", reason=bad)
        assert refused.value.code == "service.reason_invalid"
    with pytest.raises(StateConflict):
        deactivate(inv, sn, **WHO)  # in stock: nothing to deactivate, Entra untouched
    client = emu.client()
    try:
        assert _entra(client, sn) is None
    finally:
        client.close()


def test_perform_is_the_one_dispatch_and_mark_lost_records_who_reported(
    inv: Inventory, emu: Emu
) -> None:
    """``perform`` runs each action's use case and names a missing field; mark-lost is one use
    case for the help desk (one ``token.lost`` entry) and for the holder's own report (checked to
    be theirs; the deactivation its own entry, the reporter named)."""
    t0, t1, t2, t3 = (serial("P", n) for n in range(4))
    import_seeds(inv, entra_csv("P", 4), "p.csv", actor="t")
    for action, asked, message in [
        (Action.ASSIGN, ActionRequest("r"), "Assign needs a user."),
        (Action.ACTIVATE, ActionRequest("r", code=" "), "Activate needs the code the token shows."),
        (Action.REPLACE, ActionRequest("r", code="123456"), "Replace needs why: lost or broken."),
        (
            Action.RESYNC,
            ActionRequest("r", code="1"),
            "Resync needs the next code the token shows.",
        ),
    ]:
        with pytest.raises(UsageError) as missing:
            perform(inv, t0, action, asked, actor="t")
        assert (missing.value.code, missing.value.message) == ("usage.field_required", message)
    pushed = perform(inv, t0, Action.PUSH, ActionRequest("stock"), **ACTOR)
    assert (pushed.before, pushed.token["state"]) == ("in_stock", "available")
    for sn, n in ((t0, 0), (t1, 1)):
        given = ActionRequest("new starter", user=upn("ada"), code=totp(secret_for("P", n)))
        assert perform(inv, sn, Action.ACTIVATE, given, **ACTOR).token["state"] == "activated"
    new = totp(secret_for("P", 2))
    foreign = ActionRequest("x", user=upn("grace"), code=new, why="lost", new_serial=t2)
    with pytest.raises(NotHolder):
        perform(inv, t0, Action.REPLACE, foreign, **ACTOR)  # t0 is Ada's, not Grace's

    lost = perform(inv, t0, Action.LOST, ActionRequest("INC-7"), **ACTOR)
    assert lost.steps == ["deactivated in Entra", "marked lost"]
    assert [e["action"] for e in show_token(inv, t0)["history"]][-2:] == [
        "token.activate",
        "token.lost",
    ]
    with pytest.raises(NotHolder):
        mark_lost(inv, t1, actor="grace", reason="not hers", reported_by=upn("grace"))
    with pytest.raises(NotHolder):  # in stock: held by nobody, so nobody's own to report
        mark_lost(inv, t3, actor="ada", reason="x", reported_by=upn("ada"))
    by_ada = mark_lost(inv, t1, actor="ada", reason="on the train", reported_by=upn("ada"))
    assert by_ada.token["state"] == "lost"
    history = show_token(inv, t1)["history"]
    assert [e["action"] for e in history][-2:] == ["token.deactivate", "token.lost"]
    assert history[-1]["details"]["reported_by"] == upn("ada")
    client = emu.client()
    try:
        devices = [_entra(client, s) for s in (t0, t1)]
        assert [d.status if d else None for d in devices] == ["assigned", "assigned"]
    finally:
        client.close()
    with pytest.raises(StateConflict):
        mark_lost(inv, t1, actor="ada", reason="again", reported_by=upn("ada"))
    assert verify_audit(inv).ok


def test_resync_of_a_deactivated_token_learns_the_clock_and_keeps_it_deactivated(
    inv: Inventory, emu: Emu
) -> None:
    """A deactivated token was switched off on purpose: a resync must not switch it back on in
    Entra (it did, through the deactivate-then-activate that re-teaches Entra the clock)."""
    sn = serial("R", 0)
    import_seeds(inv, entra_csv("R", 1), "r.csv", actor="admin:ann")
    push(inv, actor="admin:ann")
    activate(inv, sn, totp(secret_for("R", 0)), user=upn("ada"), **WHO)
    deactivate(inv, sn, **WHO)
    first, second = (totp(secret_for("R", 0), step_offset=k) for k in (3, 4))
    synced = resync(inv, sn, first, second, **WHO)
    assert synced.token["state"] == "deactivated"
    assert "drift recorded; the token stays deactivated" in synced.steps
    client = emu.client()
    try:
        assert _entra(client, sn).status == "assigned"  # type: ignore[union-attr]
    finally:
        client.close()
    history = [e for e in show_token(inv, sn)["history"] if e["action"] == "token.resync"]
    assert [e["details"]["drift"] for e in history] == [4]  # the second code's step


def test_a_display_name_given_at_hand_over_is_kept_and_compared_with_entra(
    inv: Inventory, emu: Emu
) -> None:
    """The name given at hand-over reached Entra but not our record, and the token page still
    said Entra agreed: now both hold it, and a different name in Entra is a difference."""
    from oathdesk.service.users import token_detail

    sn = serial("N", 0)
    import_seeds(inv, entra_csv("N", 1), "n.csv", actor="admin:ann")
    push(inv, actor="admin:ann")
    done = activate(
        inv, sn, totp(secret_for("N", 0)), user=upn("ada"), display_name="Ada's fob", **WHO
    )
    assert done.token["display_name"] == "Ada's fob"
    detail = token_detail(inv, sn)
    assert detail["entra"][0]["display_name"] == "Ada's fob" and detail["agrees"] is True
    activations = [e for e in show_token(inv, sn)["history"] if e["action"] == "token.activate"]
    assert activations[-1]["details"]["display_name"] == "Ada's fob"

    with inv.uow() as uow:  # our record renamed apart from Entra
        uow.tokens.get_for_update(sn).display_name = "Someone else's"
    differs = token_detail(inv, sn)
    assert differs["agrees"] is False
    assert differs["differences"] == ['display name: ours "Someone else\'s", Entra "Ada\'s fob"']
