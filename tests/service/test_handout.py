"""Rosters and the bulk hand-out against the HTTPS emulator, on SQLite and PostgreSQL: each
refusal its own code, assign and activate from the sealed seed exactly once, under injected
429s and 503s, after a crash between Entra's answer and our record, and the database refusing
a second token for one user in a job."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from oathdesk.formats.roster import RosterFile
from oathdesk.service import (
    Inventory,
    RosterInvalid,
    RosterPlan,
    ServiceError,
    assign,
    handout_outcomes,
    handout_status,
    import_seeds,
    mark_lost,
    plan_handout,
    roster_from_batch,
    roster_from_file,
    run_handout,
    show_token,
    start_handout,
    verify_audit,
)
from oathdesk.service.handout_send import Row, claim
from oathdesk.store import JobItem
from tests.service.fixtures import Emu
from tests.service.handout_support import (
    OFF,
    ON,
    assert_once,
    people,
    roster,
    stock,
    tenant,
)
from tests.service.support import SEED, b32, secret_for, serial, upn, user_id

WHO = {"actor": "admin:ann", "reason": "roster RITM-42"}


def _plan(inv: Inventory, data: bytes, *, activate: bool = True) -> tuple[RosterFile, RosterPlan]:
    source = roster_from_file(data, "roster.csv")
    return source, plan_handout(inv, source, activate=activate, workers=4)


def test_every_refusal_has_its_own_code_and_line(inv: Inventory, emu: Emu) -> None:
    tenant(emu, 8, capped="full")
    sns = stock(inv, "V", 9)
    assign_to_grace = sns[2]
    assign(inv, assign_to_grace, upn("grace"), **WHO)
    assign(inv, sns[7], upn("p006"), **WHO)
    mark_lost(inv, sns[3], **WHO)
    with inv.uow() as uow:  # a seed destroyed: no code can be made from it
        uow.tokens.destroy_seed(uow.tokens.get_for_update(sns[4]), actor="t", reason="test")
    p = [upn(k) for k in people(8)]
    lines = [
        f"{sns[0]},{p[0]},First",  # 2 fine
        f"NOPE-1,{p[1]}",  # 3 unknown serial
        f"{sns[1]},nobody@{upn('x').split('@')[1]}",  # 4 unknown user
        f"{sns[5]},{upn('gus')}",  # 5 guest
        f"{assign_to_grace},{p[2]}",  # 6 held by someone else
        f"{sns[6]},{upn('full')}",  # 7 five methods already
        f"{sns[0]},{p[3]}",  # 8 serial twice
        f"{sns[8]},{p[0].upper()}",  # 9 user twice (any case)
        f"{sns[3]},{p[4]}",  # 10 lost: not a state to hand out
        f"{sns[4]},{p[5]}",  # 11 no seed to make the code from
        f",{p[6]}",  # 12 no serial
        f"{sns[7]},{p[6]}",  # 13 already p006's: a warning, skipped
    ]
    data = ("serial,upn,display name\n" + "\n".join(lines) + "\n").encode()
    _, plan = _plan(inv, data)
    found = {(int(q.locator.rsplit(":", 1)[1]), q.code, q.severity.value) for q in plan.problems}
    assert found == {
        (3, "roster.unknown_serial", "error"),
        (4, "roster.unknown_user", "error"),
        (5, "roster.guest_user", "error"),
        (6, "roster.token_held", "error"),
        (7, "roster.user_at_cap", "error"),
        (8, "roster.duplicate_serial", "error"),
        (9, "roster.duplicate_user", "error"),
        (10, "roster.token_state", "error"),
        (11, "roster.no_seed", "error"),
        (12, "roster.missing_field", "error"),
        (13, "roster.already_held", "warning"),
    }
    for q in plan.problems:
        assert q.message[0].isupper() and q.message.endswith("."), q.message
    assert [r.line for r in plan.rows] == [2]
    with pytest.raises(RosterInvalid) as refused:
        start_handout(inv, plan, settings=ON, **WHO)
    assert refused.value.code == "roster.invalid" and "nothing was sent" in refused.value.message
    assert show_token(inv, sns[0])["state"] == "available"  # nothing was sent


def test_hand_out_assigns_and_activates_from_the_seed_exactly_once(
    inv: Inventory, emu: Emu
) -> None:
    tenant(emu, 12)
    sns = stock(inv, "A", 12)
    pairs = list(zip(sns, (upn(k) for k in people(12)), strict=True))
    _, plan = _plan(inv, roster(pairs, header=False))
    job = start_handout(inv, plan, settings=ON, **WHO)
    seen: list[dict[str, int]] = []
    report = run_handout(inv, job, actor="admin:ann", settings=ON, progress=seen.append)
    assert report.state == "done", handout_outcomes(inv, job)[:3]
    assert report.progress["done"] == 12
    assert seen[-1]["done"] == 12 and len(seen) == 12
    client = emu.client()
    try:
        assert_once(client, pairs, "activated")
    finally:
        client.close()
    token = show_token(inv, sns[0])
    assert (token["state"], token["user_upn"]) == ("activated", pairs[0][1])
    activation = next(e for e in token["history"] if e["action"] == "token.activate")
    assert activation["details"]["code"] == "from the sealed seed"
    assert activation["details"]["job"] == job
    with inv.uow(write=False) as uow:
        started = [e for e in uow.audit.entries() if e.action == "handout.start"]
    assert started[0].details_dict["activate_from_seed"] is True
    rows = handout_outcomes(inv, job)
    assert [r["outcome"] for r in rows] == ["activated"] * 12
    assert handout_status(inv, job)["state"] == "done"
    assert verify_audit(inv).ok


def test_activation_from_the_seed_is_refused_while_the_setting_is_off(
    inv: Inventory, emu: Emu
) -> None:
    tenant(emu, 2)
    sns = stock(inv, "B", 2)
    _, plan = _plan(inv, roster([(sns[0], upn("p000"))]))
    with pytest.raises(ServiceError) as refused:
        start_handout(inv, plan, settings=OFF, **WHO)
    assert refused.value.code == "handout.from_seed_off"
    assert "[handout] activate_from_seed" in refused.value.message
    _, plain = _plan(inv, roster([(sns[0], upn("p000"))]), activate=False)
    job = start_handout(inv, plain, settings=OFF, **WHO)
    assert run_handout(inv, job, actor="t", settings=OFF).progress["done"] == 1
    assert show_token(inv, sns[0])["state"] == "assigned"  # assigned, not activated


def test_exactly_once_under_injected_429s_and_503s(inv: Inventory, emu: Emu) -> None:
    tenant(emu, 30)
    sns = stock(inv, "T", 30, pushed=False)  # in stock: the hand-out creates them in Entra too
    pairs = list(zip(sns, (upn(k) for k in people(30)), strict=True))
    _, plan = _plan(inv, roster(pairs))
    rules = [
        {
            "method": "POST",
            "path": "assignAndActivate",
            "status": 429,
            "retryAfter": 0.05,
            "probability": 0.3,
        },
        {"method": "POST", "path": "assignAndActivate", "status": 503, "count": 4},  # unknown
        {
            "method": "POST",
            "path": "assignAndActivate",
            "status": 503,
            "retryAfter": 0.05,
            "count": 4,
        },
        {
            "method": "POST",
            "path": "hardwareOathDevices$",
            "status": 429,
            "retryAfter": 0.05,
            "probability": 0.2,
        },
    ]
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": rules}).status_code == 200
    job = start_handout(inv, plan, settings=ON, **WHO)
    report = run_handout(inv, job, actor="t", settings=ON)
    while report.state == "pending":  # rows whose answer was lost settle on a resume
        report = run_handout(inv, job, actor="t", settings=ON)
    emu.control.delete(f"{emu.url}/_emulator/faults")
    assert report.progress["done"] == 30, handout_outcomes(inv, job)
    client = emu.client()
    try:
        assert_once(client, pairs, "activated")
    finally:
        client.close()


def test_a_crash_after_entras_answer_is_settled_without_a_second_send(
    inv: Inventory, emu: Emu
) -> None:
    tenant(emu, 3)
    sns = stock(inv, "C", 3)
    pairs = list(zip(sns, (upn(k) for k in people(3)), strict=True))
    _, plan = _plan(inv, roster(pairs))
    job = start_handout(inv, plan, settings=ON, **WHO)
    with inv.uow(write=False) as uow:
        item = uow.session.query(JobItem).filter_by(job_id=job, serial=sns[0]).one()
        row = Row(item.id, job, sns[0], item.user_id or "", item.user or "", "")
    got = claim(inv, row, activate=True, actor="t")  # the worker claimed the row...
    assert not isinstance(got, str) and got.code and got.device_id
    client = emu.client()
    try:  # ...Entra took it, and the process died before recording it
        client.assign_and_activate(row.user_id, got.device_id, got.code)
        report = run_handout(inv, job, actor="t", settings=ON)
        assert report.resumed is False and report.settled == 1
        assert report.progress["done"] == 3
        assert_once(client, pairs, "activated")
    finally:
        client.close()
    assert show_token(inv, sns[0])["state"] == "activated"


def test_the_database_refuses_a_second_token_for_one_user_and_a_serial_sent_twice(
    inv: Inventory, emu: Emu
) -> None:
    tenant(emu, 2)
    sns = stock(inv, "D", 3)
    _, plan = _plan(inv, roster([(sns[0], upn("p000")), (sns[1], upn("p001"))]))
    job = start_handout(inv, plan, settings=ON, **WHO)
    with pytest.raises(IntegrityError), inv.uow() as uow:
        uow.session.add(
            JobItem(job_id=job, serial=sns[2], user_id=user_id("p000"), updated_at=inv.now())
        )
        uow.session.flush()
    other = start_handout(
        inv,
        plan_handout(  # a second job for the same token
            inv, roster_from_file(roster([(sns[0], upn("p001"))]), "r2.csv"), activate=True
        ),
        settings=ON,
        **WHO,
    )
    with pytest.raises(IntegrityError), inv.uow() as uow:
        for item in uow.session.query(JobItem).filter(JobItem.serial == sns[0]).all():
            item.state = "sending"
        uow.session.flush()
    assert other != job


def test_the_seed_files_own_upn_column_is_the_roster(inv: Inventory, emu: Emu) -> None:
    tenant(emu, 2)
    lines = ["upn,serial number,secret key,time interval,manufacturer,model"]
    for n, who in enumerate(("p000", "p001", "")):
        lines.append(f"{upn(who) if who else ''},{serial('U', n)},{b32(secret_for('U', n))},30,X,Y")
    batch = import_seeds(inv, ("\n".join(lines) + "\n").encode(), "u.csv", actor="t").batch_id
    assert show_token(inv, serial("U", 0))["planned_user"] == upn("p000")
    source = roster_from_batch(inv, batch)
    assert [(r.serial, r.user) for r in source.rows] == [
        (serial("U", 0), upn("p000")),
        (serial("U", 1), upn("p001")),
    ]
    plan = plan_handout(inv, source, activate=True)
    job = start_handout(inv, plan, settings=ON, **WHO)
    assert run_handout(inv, job, actor="t", settings=ON).progress["done"] == 2
    assert show_token(inv, serial("U", 1))["user_upn"] == upn("p001")
    assert show_token(inv, serial("U", 2))["state"] == "in_stock"  # nobody named: left alone
    assert SEED  # the base tenant is untouched by the extra users
