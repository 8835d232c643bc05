"""Two OS processes race to assign one token through the service and Entra: one wins, the
other gets a conflict and Entra shows only the winner (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import queue

from oathdesk.config import Config
from oathdesk.service import Inventory, import_seeds, push, show_token, verify_audit
from tests.service.fixtures import Emu
from tests.service.support import entra_csv, serial, upn, user_id
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
