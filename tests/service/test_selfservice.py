"""Self-service use cases against the HTTPS emulator, on SQLite and PostgreSQL: who may claim
which token (state, holder, batch restricted to users or to an Entra group), the code checked
before Entra, rate limits in the shared throttle table, rename, report lost, restrict_batch, and
the import CLI's restriction flags."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from oathdesk.cli.main import main
from oathdesk.config import Config
from oathdesk.domain import FixedClock, OathdeskError
from oathdesk.graph import Device
from oathdesk.otp import OtpState
from oathdesk.service import (
    CodeRejected,
    Inventory,
    ServiceError,
    activate,
    assign,
    push,
    show_token,
)
from oathdesk.service.selfservice import (
    SelfServiceError,
    enroll,
    my_tokens,
    rename,
    report_lost,
    restrict_batch,
)
from oathdesk.store import NotFound, StateConflict
from tests.service import support
from tests.service.fixtures import Emu
from tests.service.selfservice_seed import PILOTS, code, far_step, grouped_seed, stock
from tests.service.support import secret_for, serial, upn, user_id, wrong_code

ADA, GRACE, ALAN = upn("ada"), upn("grace"), upn("alan")


def actor(who: str) -> str:
    return f"local:{who}"


def entra(emu: Emu, sn: str) -> Device | None:
    with emu.client() as client:
        found = client.find_serial(sn)
    return found[0] if found else None


def refuse(inv: Inventory, who: str, sn: str, value: str = "000000") -> SelfServiceError:
    with pytest.raises(SelfServiceError) as caught:
        enroll(inv, who, sn, "Mine", value, actor=actor(who))
    return caught.value


@pytest.fixture
def grouped(emu: Emu) -> Emu:
    emu.seed(grouped_seed())
    return emu


@pytest.mark.usefixtures("switched")
def test_enroll_pushes_assigns_and_activates_with_the_name(inv: Inventory, emu: Emu) -> None:
    stock(inv, "SE", 2)
    now = time.time()
    token = enroll(
        inv, ADA, f" {serial('SE', 0)} ", "  Blue   fob ", code("SE", 0, now), actor=actor(ADA)
    )
    assert token == {
        "serial": serial("SE", 0),
        "display_name": "Blue fob",
        "state": "activated",
        "kind": "totp",
        "period": 30,
        "digits": 6,
        "manufacturer": "Token2",
        "model": "C200",
    }
    device = entra(emu, serial("SE", 0))
    assert device is not None
    assert (device.status, device.assigned_to_id, device.display_name) == (
        "activated",
        user_id("ada"),
        "Blue fob",
    )
    assert my_tokens(inv, ADA.upper()) == [token]
    assert my_tokens(inv, GRACE) == []
    history = show_token(inv, serial("SE", 0))["history"]
    actions = [(e["action"], e["actor"]) for e in history]
    assert ("token.assign", actor(ADA)) in actions and ("token.activate", actor(ADA)) in actions
    assert entra(emu, serial("SE", 1)) is None  # only the claimed token went to Entra


def test_a_wrong_code_is_refused_before_entra_and_a_replay_after(inv: Inventory, emu: Emu) -> None:
    batch = stock(inv, "SW", 1)
    push(inv, actor="test", batch_id=batch)
    sn = serial("SW", 0)
    with pytest.raises(CodeRejected) as wrong:
        enroll(inv, ADA, sn, "Mine", wrong_code(secret_for("SW", 0)), actor=actor(ADA))
    assert wrong.value.code == "service.code_rejected" and "nothing was sent" in wrong.value.message
    device = entra(emu, sn)
    assert device is not None and (device.status, device.assigned_to_id) == ("available", "")
    assert show_token(inv, sn)["state"] == "available"
    # Entra refuses once (a fault): the token stays Ada's, and the same code is now a replay
    rule = {"method": "POST", "path": "/activate$", "status": 400, "count": 1}
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": [rule]}).is_success
    shown = code("SW", 0, time.time())
    with pytest.raises(ServiceError) as refused:
        enroll(inv, ADA, sn, "Mine", shown, actor=actor(ADA))
    assert refused.value.code == "service.entra_refused_code"
    assert my_tokens(inv, ADA)[0]["state"] == "failed_activation"
    with pytest.raises(CodeRejected) as replay:
        enroll(inv, ADA, sn, "Mine", shown, actor=actor(ADA))
    assert replay.value.code == "service.code_replayed"
    token = enroll(inv, ADA, sn, "Mine", code("SW", 0, time.time(), 1), actor=actor(ADA))
    assert token["state"] == "activated"


def test_only_the_users_a_batch_names_may_claim_it(inv: Inventory, emu: Emu) -> None:
    stock(inv, "SU", 2, users=[ALAN.upper()])
    unknown = refuse(inv, GRACE, "NO-SUCH-1")
    stranger = refuse(inv, GRACE, serial("SU", 0), code("SU", 0, time.time()))
    assert (stranger.code, unknown.code) == ("selfservice.not_claimable",) * 2
    assert stranger.message.replace(serial("SU", 0), "X") == unknown.message.replace(
        "NO-SUCH-1", "X"
    )
    assert entra(emu, serial("SU", 0)) is None  # refused before Entra
    assert enroll(inv, ALAN, serial("SU", 0), "A", code("SU", 0, time.time()), actor=actor(ALAN))


def test_a_group_restricted_batch_asks_entra_for_membership(inv: Inventory, grouped: Emu) -> None:
    stock(inv, "SG", 2, group=PILOTS)
    refused = refuse(inv, GRACE, serial("SG", 0), code("SG", 0, time.time()))
    assert refused.code == "selfservice.not_claimable"
    token = enroll(inv, ADA, serial("SG", 0), "Pilot", code("SG", 0, time.time()), actor=actor(ADA))
    assert token["state"] == "activated"
    # listed users pass without a group check; others must be in the group
    batch = stock(inv, "SH", 1, users=[GRACE], group=PILOTS)
    assert restrict_batch(inv, batch, users=[GRACE], group_id=PILOTS, actor="test")["users"]
    ok = enroll(inv, GRACE, serial("SH", 0), "G", code("SH", 0, time.time()), actor=actor(GRACE))
    assert ok["state"] == "activated"


def test_someone_elses_token_answers_like_an_unknown_serial(inv: Inventory, emu: Emu) -> None:
    stock(inv, "SS", 2)
    enroll(inv, ADA, serial("SS", 0), "Ada's", code("SS", 0, time.time()), actor=actor(ADA))
    taken = refuse(inv, GRACE, serial("SS", 0), code("SS", 0, time.time(), 1))
    assert taken.code == "selfservice.not_claimable" and taken.details == {
        "serial": serial("SS", 0)
    }
    # a token the help desk gave Ada: she may activate it, Grace may not
    assign(inv, serial("SS", 1), ADA, actor="helpdesk:bob", reason="ticket 7")
    assert refuse(inv, GRACE, serial("SS", 1), code("SS", 1, time.time())).code == (
        "selfservice.not_claimable"
    )
    mine = enroll(inv, ADA, serial("SS", 1), "Spare", code("SS", 1, time.time()), actor=actor(ADA))
    assert mine["state"] == "activated"
    with pytest.raises(StateConflict) as again:  # already activated: nothing left to claim
        enroll(inv, ADA, serial("SS", 1), "S", code("SS", 1, time.time(), 1), actor=actor(ADA))
    assert (
        again.value.code == "selfservice.state_conflict" and "already yours" in again.value.message
    )
    audit = show_token(inv, serial("SS", 0))["history"]
    refusals = [e for e in audit if e["action"] == "selfservice.refused"]
    assert refusals and refusals[0]["details"]["why"] == "held"


def test_wrong_codes_and_unknown_serials_are_rate_limited(inv: Inventory, emu: Emu) -> None:
    stock(inv, "SR", 3)
    sn = serial("SR", 0)
    bad = wrong_code(secret_for("SR", 0))
    for _ in range(5):
        with pytest.raises(CodeRejected):
            enroll(inv, ADA, sn, "Mine", bad, actor=actor(ADA))
    limited = refuse(inv, ADA, serial("SR", 1), code("SR", 1, time.time()))  # right code, too
    assert limited.code == "selfservice.rate_limited"
    assert 800 < limited.details["retry_after"] <= 900
    # the token itself is locked for everyone after five wrong codes
    assert refuse(inv, GRACE, sn, code("SR", 0, time.time())).code == "selfservice.rate_limited"
    # Grace's own counter: four unknown serials, then a fifth locks her out too
    for n in range(5):
        assert refuse(inv, GRACE, f"NOPE-{n}").code == "selfservice.not_claimable"
    assert refuse(inv, GRACE, serial("SR", 2), code("SR", 2, time.time())).code == (
        "selfservice.rate_limited"
    )
    ok = enroll(inv, ALAN, serial("SR", 2), "Alan", code("SR", 2, time.time()), actor=actor(ALAN))
    assert ok["state"] == "activated"


def test_rename_and_report_lost_only_my_own(inv: Inventory, emu: Emu) -> None:
    stock(inv, "SL", 2)
    sn = serial("SL", 0)
    enroll(inv, ADA, sn, "Old", code("SL", 0, time.time()), actor=actor(ADA))
    assert rename(inv, ADA, sn, "New name", actor=actor(ADA))["display_name"] == "New name"
    device = entra(emu, sn)
    assert device is not None and device.display_name == "Old"  # Entra keeps its own name
    calls: list[Callable[[], object]] = [
        lambda: rename(inv, GRACE, sn, "Mine now", actor=actor(GRACE)),
        lambda: report_lost(inv, GRACE, sn, "gone", actor=actor(GRACE)),
        lambda: rename(inv, ADA, "NO-SUCH", "x", actor=actor(ADA)),
    ]
    for call in calls:
        with pytest.raises(SelfServiceError) as caught:
            call()
        assert caught.value.code == "selfservice.not_found"
    with pytest.raises(SelfServiceError) as empty:
        report_lost(inv, ADA, sn, "   ", actor=actor(ADA))
    assert empty.value.code == "selfservice.reason_required"
    lost = report_lost(inv, ADA, sn, "left on the train", actor=actor(ADA))
    assert lost["state"] == "lost"
    device = entra(emu, sn)
    assert device is not None and device.status == "assigned"  # deactivated, still Ada's
    history = show_token(inv, sn)["history"]
    assert [e["action"] for e in history][-2:] == ["token.deactivate", "token.lost"]
    assert history[-1]["reason"] == "self-service: left on the train"
    assert history[-1]["actor"] == actor(ADA)
    with pytest.raises(StateConflict) as twice:
        report_lost(inv, ADA, sn, "again", actor=actor(ADA))
    assert twice.value.code == "selfservice.state_conflict"


def test_restrict_batch_sets_clears_and_audits(inv: Inventory) -> None:
    batch = stock(inv, "SB", 1)
    got = restrict_batch(inv, batch, users=[" a@x.example ", "b@y.example", ""], actor="cli:ann")
    assert got == {"batch_id": batch, "users": ["a@x.example", "b@y.example"], "group_id": None}
    assert restrict_batch(inv, batch, group_id=PILOTS, actor="cli:ann")["group_id"] == PILOTS
    assert restrict_batch(inv, batch, actor="cli:ann") == {
        "batch_id": batch,
        "users": None,
        "group_id": None,
    }
    with pytest.raises(SelfServiceError) as bad:
        restrict_batch(inv, batch, users=["not-a-upn"], actor="cli:ann")
    assert bad.value.code == "selfservice.bad_user"
    with pytest.raises(NotFound):
        restrict_batch(inv, 999, users=["a@x.example"], actor="cli:ann")
    with inv.uow(write=False) as uow:
        entries = [e for e in uow.audit.entries() if e.action == "batch.restrict"]
    assert len(entries) == 3 and entries[0].actor == "cli:ann"


def test_the_import_command_restricts_the_batch(
    cfg: Config,
    inv: Inventory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in support.environment(cfg).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OATHDESK_CONFIG", raising=False)
    users_file, group_file = tmp_path / "u.csv", tmp_path / "g.csv"
    users_file.write_bytes(support.entra_csv("CU", 2))
    group_file.write_bytes(support.entra_csv("CG", 2))
    assert (
        main(["tokens", "import", str(users_file), "--restrict-to-users", f"{ADA}, {GRACE}"]) == 0
    )
    assert main(["tokens", "import", str(group_file), "--restrict-to-group", PILOTS]) == 0
    assert main(["tokens", "import", str(group_file), "--restrict-to-users", "nobody"]) != 0
    err = capsys.readouterr().err
    assert "--restrict-to-users takes UPNs" in err
    with inv.uow(write=False) as uow:
        batches = {b.file_name: b for b in uow.batches.list()}
        assert batches["u.csv"].restrict_users == [ADA, GRACE]
        assert batches["u.csv"].restrict_group_id is None
        assert batches["g.csv"].restrict_group_id == PILOTS
        assert batches["g.csv"].restrict_users is None


def test_the_graph_client_checks_membership_twenty_ids_at_a_time(grouped: Emu) -> None:
    others = [f"00000000-0000-4000-8000-{n:012d}" for n in range(45)]
    with grouped.client() as client:
        assert client.check_member_groups(ADA, [*others, PILOTS, PILOTS]) == [PILOTS]
        assert client.check_member_groups(user_id("grace"), [PILOTS]) == []


def test_a_group_check_the_app_may_not_make_fails_loudly(inv: Inventory, emu: Emu) -> None:
    """The plain test tenant's app holds no group permission: Graph's 403 is reported as such,
    never turned into a quiet "not claimable", and nothing reaches the token."""
    stock(inv, "SN", 1, group=PILOTS)
    with pytest.raises(OathdeskError) as caught:
        enroll(inv, ADA, serial("SN", 0), "x", code("SN", 0, time.time()), actor=actor(ADA))
    assert caught.value.code == "graph.auth"
    assert "GroupMember.Read.All" in caught.value.message
    assert entra(emu, serial("SN", 0)) is None
    assert show_token(inv, serial("SN", 0))["state"] == "in_stock"


def test_control_characters_never_reach_the_database(inv: Inventory, emu: Emu) -> None:
    """PostgreSQL refuses NUL in text: such input is unknown or cleaned, never a crash."""
    stock(inv, "SC", 1)
    sn = serial("SC", 0)
    assert refuse(inv, ADA, f"{sn}\x00").code == "selfservice.not_claimable"
    token = enroll(inv, ADA, sn, "Blue\x00 fob\x07", code("SC", 0, time.time()), actor=actor(ADA))
    assert token["display_name"] == "Blue fob"
    with pytest.raises(SelfServiceError) as caught:
        rename(inv, ADA, f"{sn}\x00", "x", actor=actor(ADA))
    assert caught.value.code == "selfservice.not_found"
    assert rename(inv, ADA, sn, "\x00Red", actor=actor(ADA))["display_name"] == "Red"
    assert report_lost(inv, ADA, sn, "gone\x00 away", actor=actor(ADA))["state"] == "lost"
    assert show_token(inv, sn)["history"][-1]["reason"] == "self-service: gone away"
    with pytest.raises(SelfServiceError):
        restrict_batch(inv, 1, users=["a\x00@x.example"], actor="cli:ann")


def test_self_service_needs_a_code_near_now_the_help_desk_takes_a_day(
    inv: Inventory, emu: Emu
) -> None:
    now = time.time()
    inv.clock = FixedClock(now)
    stock(inv, "SN", 1)
    sn, back = serial("SN", 0), far_step("SN", 0, now)
    old = code("SN", 0, now, -back)  # shown 12 to 30 minutes ago: inside Entra's ±1 day
    with pytest.raises(CodeRejected) as refused:
        enroll(inv, ADA, sn, "Mine", old, actor=actor(ADA))
    assert refused.value.code == "service.code_rejected"
    assert "the next one" in refused.value.message  # the way out: two consecutive codes
    assert entra(emu, sn) is None and my_tokens(inv, ADA) == []
    # the help desk, token in hand, hands it over with the same code: the wide window holds
    done = activate(inv, sn, old, actor="local:hd", reason="hand-over", user=ADA)
    assert done.token["state"] == "activated"
    device = entra(emu, sn)
    assert device is not None and (device.status, device.assigned_to_id) == (
        "activated",
        user_id("ada"),
    )


def test_a_claim_is_checked_around_the_tokens_recorded_drift(inv: Inventory, emu: Emu) -> None:
    now = time.time()
    inv.clock = FixedClock(now)
    stock(inv, "SD", 1)
    sn = serial("SD", 0)
    drift = next(
        d
        for d in range(20, 60)
        if code("SD", 0, now) not in {code("SD", 0, now, d + j) for j in range(-3, 4)}
    )
    with inv.uow() as uow:
        uow.tokens.save_otp_state(uow.tokens.get_for_update(sn), OtpState(None, drift))
    with pytest.raises(CodeRejected) as ours:  # our clock's code: `drift` steps off the token's
        enroll(inv, ADA, sn, "Mine", code("SD", 0, now), actor=actor(ADA))
    assert ours.value.code == "service.code_rejected" and entra(emu, sn) is None
    token = enroll(inv, ADA, sn, "Mine", code("SD", 0, now, drift + 1), actor=actor(ADA))
    assert token["state"] == "activated"


def test_two_consecutive_codes_prove_a_token_whose_clock_is_off(inv: Inventory, emu: Emu) -> None:
    now = time.time()
    inv.clock = FixedClock(now)
    stock(inv, "SP", 1)
    sn, back = serial("SP", 0), far_step("SP", 0, now)
    first, third = code("SP", 0, now, -back), code("SP", 0, now, 2 - back)
    shown = [code("SP", 0, now, k) for k in range(-2881, 2882)]
    assert (first, third) not in set(pairwise(shown))  # never consecutive
    with pytest.raises(CodeRejected) as skipped:
        enroll(inv, ADA, sn, "Mine", first, actor=actor(ADA), next_code=third)
    assert skipped.value.code == "service.code_rejected" and entra(emu, sn) is None
    second = code("SP", 0, now, 1 - back)
    token = enroll(inv, ADA, sn, "Mine", first, actor=actor(ADA), next_code=second)
    assert token["state"] == "activated"
    device = entra(emu, sn)
    assert device is not None and device.status == "activated"
    with inv.uow(write=False) as uow:  # the drift found is kept for the next check
        assert uow.tokens.otp_state(uow.tokens.get(sn)) == OtpState(
            int(now // 30) + 1 - back, 1 - back
        )
