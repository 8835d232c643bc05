"""Races on one token (SQLite and PostgreSQL): two OS processes assigning it (one wins, the
other gets a conflict and Entra shows only the winner); a hand-over that waits for another
agent's assignment (refused: the holder is checked on the locked row); two pushes at once."""

from __future__ import annotations

import multiprocessing
import queue
import threading

import pytest
from sqlalchemy.orm import Session

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.graph import User
from oathdesk.service import (
    Action,
    ActionRequest,
    Inventory,
    assign,
    import_seeds,
    perform,
    push,
    show_token,
    verify_audit,
)
from oathdesk.service.lifecycle import NotHolder
from tests.service.fixtures import Emu
from tests.service.support import entra_csv, secret_for, serial, totp, upn, user_id
from tests.service.workers import push_once, race_assign

SPAWN = multiprocessing.get_context("spawn")


def test_two_processes_racing_to_assign_one_token(inv: Inventory, emu: Emu, cfg: Config) -> None:
    sn = serial("Z", 0)
    import_seeds(inv, entra_csv("Z", 1), "z.csv", actor="t")
    push(inv, actor="t")
    barrier, out = SPAWN.Barrier(2), SPAWN.Queue()
    procs = [
        SPAWN.Process(target=race_assign, args=(cfg.sections, sn, upn(who), barrier, out))
        for who in ("ada", "grace")
    ]
    for p in procs:
        p.start()
    try:
        results = [out.get(timeout=120) for _ in procs]
    except queue.Empty:
        raise AssertionError("a racing process did not report back") from None
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    outcomes = sorted(r[1] for r in results)
    assert outcomes == ["inventory.state_conflict", "won"], results
    winner = next(r[0] for r in results if r[1] == "won")
    token = show_token(inv, sn)
    assert (token["state"], token["user_upn"]) == ("assigned", winner)
    assert [e["actor"] for e in token["history"] if e["action"] == "token.assign"] == [
        f"race:{winner}"
    ]
    client = emu.client()
    try:
        (device,) = client.find_serial(sn)
    finally:
        client.close()
    assert device.assigned_to_id == user_id(winner.split("@")[0])
    assert verify_audit(inv).ok


def test_a_hand_over_that_waited_for_another_agent_sees_the_new_holder(
    inv: Inventory, emu: Emu, cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent's assignment of a token to Alan holds the token's lock (paused inside it, at its
    call to Entra) when a hand-over of the same token to Grace starts. The hand-over waits for
    the lock, then finds Alan holding the token and is refused: nothing of Grace's reaches the
    token, its OTP state or Entra. Had the holder been checked before the hand-over's own write
    transaction, it would have seen a free token, then activated Alan's token."""
    sn = serial("Y", 0)
    import_seeds(inv, entra_csv("Y", 1), "y.csv", actor="t")
    push(inv, actor="t")
    locked, writing = threading.Event(), threading.Event()
    outcome: list[BaseException | None] = []
    open_session = inv.db.session

    def session_seen(*, write: bool = False) -> Session:
        if write:
            writing.set()  # the hand-over's write transaction begins (any read came before)
        return open_session(write=write)

    monkeypatch.setattr(inv.db, "session", session_seen)
    with build_inventory(cfg) as agent:
        entra = agent.entra()
        real_get_user = entra.get_user

        def paused_get_user(user: str) -> User:
            locked.set()  # inside assign's transaction, the token row locked
            # go on only once the hand-over opens its write transaction: a holder check done
            # before it (without the lock) would have read the token as free by now
            assert writing.wait(timeout=60), "the hand-over never began to write"
            return real_get_user(user)

        monkeypatch.setattr(entra, "get_user", paused_get_user)

        def assign_to_alan() -> None:
            try:
                assign(agent, sn, upn("alan"), actor="helpdesk:hal", reason="INC-1 for Alan")
                outcome.append(None)
            except BaseException as exc:  # reported to the test below
                outcome.append(exc)

        worker = threading.Thread(target=assign_to_alan)
        worker.start()
        try:
            assert locked.wait(timeout=60), "the assignment never reached Entra"
            code = totp(secret_for("Y", 0))
            asked = ActionRequest("INC-2 for Grace", user=upn("grace"), code=code)
            with pytest.raises(NotHolder) as refused:
                perform(inv, sn, Action.ACTIVATE, asked, actor="helpdesk:bob")
        finally:
            writing.set()
            worker.join(timeout=60)
    assert outcome == [None], outcome
    assert refused.value.code == "inventory.state_conflict"
    assert refused.value.message.startswith(f"Token {sn} is assigned to {upn('alan')}, not ")
    token = show_token(inv, sn)
    assert (token["state"], token["user_upn"]) == ("assigned", upn("alan"))
    assert [(e["action"], e["actor"]) for e in token["history"]] == [
        ("token.sync", "t"),
        ("token.assign", "helpdesk:hal"),
    ]
    client = emu.client()
    try:
        (device,) = client.find_serial(sn)
    finally:
        client.close()
    assert (device.status, device.assigned_to_id) == ("assigned", user_id("alan"))
    # the code was never checked for Grace's hand-over, so it is not spent: Alan can use it
    done = perform(inv, sn, Action.ACTIVATE, ActionRequest("INC-3", code=code), actor="hal")
    assert done.token["state"] == "activated" and done.token["user_upn"] == upn("alan")
    assert verify_audit(inv).ok


def test_two_pushes_at_once_share_one_job_and_send_each_token_once(
    inv: Inventory, emu: Emu, cfg: Config
) -> None:
    emu.configure(rejectDuplicateSerials=False)  # Entra would take a second copy: we must not send
    import_seeds(inv, entra_csv("W", 12), "w.csv", actor="t")
    barrier, out = SPAWN.Barrier(2), SPAWN.Queue()
    procs = [SPAWN.Process(target=push_once, args=(cfg.sections, barrier, out)) for _ in range(2)]
    for p in procs:
        p.start()
    try:
        results = [out.get(timeout=120) for _ in procs]
    except queue.Empty:
        raise AssertionError("a pushing process did not report back") from None
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    outcomes = sorted(r[0] for r in results)
    # the second either waits its turn and finds nothing left, or is told a push is running
    assert outcomes in (["ok", "ok"], ["ok", "service.push_running"]), results
    assert sum(r[1] for r in results) == 12 and sum(r[2] for r in results) == 0
    client = emu.client()
    try:
        serials = [d.serial_number for d in client.list_devices()]
    finally:
        client.close()
    assert sorted(serials) == [serial("W", n) for n in range(12)]
    assert verify_audit(inv).ok
