"""Held uploads (``service.ImportDesk``), rows in the database on SQLite and PostgreSQL: bound to
their session, gone after their time on the injected clock (no sleeping), capped in bytes, taken
once, the bytes and password sealed at rest and never shown in a repr; a second inventory on the
same database (as a second server process has) sees the same uploads, and puts or takes from
several processes at the same moment keep the cap and give an upload to one taker."""

from __future__ import annotations

import multiprocessing
import queue
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import FixedClock, Secret
from oathdesk.service import HeldUpload, ImportDesk, ImportRefused, Inventory
from oathdesk.store import HeldUploadRow, SealError
from tests.service.import_workers import put_at_once, take_at_once

START = 1_800_000_000.0
RACERS = 3
SPAWN = multiprocessing.get_context("spawn")
FILE = b"upn,serial number,secret key\n,TOKEN-PLAINTEXT-0001,JBSWY3DPEHPK3PXP\n"


def upload(
    owner: str = "session-a", size: int = 10, password: bytes | None = b"zip-pw-1"
) -> HeldUpload:
    secret = Secret(password) if password is not None else None
    return HeldUpload(owner, "delivery.zip", b"x" * size, None, secret, False)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def desk_inv(cfg: Config, clock: FixedClock) -> Iterator[Inventory]:
    """The inventory (migrated, on each backend) on a fixed clock."""
    inventory = build_inventory(cfg, clock=clock)
    try:
        yield inventory
    finally:
        inventory.close()


def test_an_upload_is_held_until_its_time_is_up(desk_inv: Inventory, clock: FixedClock) -> None:
    desk = ImportDesk(desk_inv, hold_seconds=900)
    held = upload()
    key = desk.put(held)
    assert len(key) >= 40
    clock.advance(900)  # the last second of its time
    assert desk.get(key, "session-a") == held
    clock.advance(1)
    with pytest.raises(ImportRefused) as caught:
        desk.get(key, "session-a")
    assert caught.value.code == "import.upload_expired"
    assert desk.purge() == 1
    assert desk.purge() == 0


def test_only_the_session_that_uploaded_may_use_it(desk_inv: Inventory) -> None:
    desk = ImportDesk(desk_inv)
    key = desk.put(upload("session-a"))
    for owner, wanted in (
        ("session-b", key),
        ("session-a", "no-such-key"),
        ("session-a", "nul\x00in-it"),
        ("session-a", "\udcff"),
    ):
        with pytest.raises(ImportRefused) as caught:
            desk.get(wanted, owner)
        assert caught.value.code == "import.upload_expired"  # unknown and foreign alike
    assert desk.take(key, "session-b") is None
    assert desk.get(key, "session-a").name == "delivery.zip"


def test_take_removes_it_once(desk_inv: Inventory) -> None:
    desk = ImportDesk(desk_inv)
    held = upload(password=None)
    key = desk.put(held)
    assert desk.take(key, "session-a") == held
    assert desk.take(key, "session-a") is None
    with pytest.raises(ImportRefused) as caught:
        desk.get(key, "session-a")
    assert caught.value.code == "import.upload_expired"


def test_the_chosen_member_of_a_zip_is_held_with_the_upload(desk_inv: Inventory) -> None:
    """The confirm must open the member the preview read (a ZIP holding several seed files)."""
    desk = ImportDesk(desk_inv)
    held = HeldUpload("session-a", "two.zip", b"PK", None, None, False, "tokens-b.csv")
    key = desk.put(held)
    assert desk.get(key, "session-a").member == "tokens-b.csv"
    assert desk.take(key, "session-a") == held


def test_the_waiting_bytes_are_capped_and_expired_uploads_make_room(
    desk_inv: Inventory, clock: FixedClock
) -> None:
    desk = ImportDesk(desk_inv, hold_seconds=60, max_bytes=100)
    first = desk.put(upload(size=60))
    with pytest.raises(ImportRefused) as caught:
        desk.put(upload(size=41))
    assert caught.value.code == "import.busy"
    second = desk.put(upload(size=40))  # exactly the cap
    clock.advance(61)
    third = desk.put(upload(size=100))  # the first two expired and were dropped
    assert len({first, second, third}) == 3
    assert desk.get(third, "session-a").data == b"x" * 100


def test_another_inventory_on_the_same_database_sees_the_upload(
    cfg: Config, desk_inv: Inventory, clock: FixedClock
) -> None:
    """What a second server process does: its own engine and key ring object, the same rows."""
    key = ImportDesk(desk_inv).put(upload(password=b"pw-across"))
    other = build_inventory(cfg, clock=clock)
    try:
        got = ImportDesk(other).get(key, "session-a")
        assert got.password == Secret(b"pw-across") and got.data == b"x" * 10
        assert ImportDesk(other).take(key, "session-a") is not None
    finally:
        other.close()
    assert ImportDesk(desk_inv).take(key, "session-a") is None


def test_the_bytes_and_password_are_sealed_in_the_row(desk_inv: Inventory) -> None:
    desk = ImportDesk(desk_inv)
    key = desk.put(
        HeldUpload("session-raw", "plain.csv", FILE, "entra-csv", Secret(b"pw-in-clear"), False)
    )
    with desk_inv.db.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM held_uploads"))]
    assert len(rows) == 1
    raw = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in rows[0]
    )
    for needle in (b"TOKEN-PLAINTEXT-0001", b"JBSWY3DPEHPK3PXP", b"pw-in-clear"):
        assert needle not in raw
    assert key.encode() not in raw and b"session-raw" not in raw  # only their hashes
    assert b"plain.csv" in raw  # the file name is no secret: the check can fail
    assert desk.get(key, "session-raw").data == FILE


def test_a_sealed_value_moved_onto_another_row_does_not_open(desk_inv: Inventory) -> None:
    desk = ImportDesk(desk_inv)
    one = desk.put(upload("session-a", size=10, password=b"first-pw"))
    desk.put(upload("session-a", size=12, password=b"second-pw"))
    with desk_inv.db.engine.begin() as conn:
        pasted = conn.execute(
            text("SELECT sealed_password FROM held_uploads WHERE size = 12")
        ).scalar_one()
        conn.execute(
            text("UPDATE held_uploads SET sealed_password = :b WHERE size = 10"),
            {"b": bytes(pasted)},
        )
    with pytest.raises(SealError):
        desk.get(one, "session-a")


def test_a_held_upload_never_shows_its_bytes_or_password(desk_inv: Inventory) -> None:
    held = upload(password=b"zip-pw-secret")
    shown = repr(held)
    assert "zip-pw-secret" not in shown and "xxxx" not in shown and "session-a" not in shown
    assert "delivery.zip" in shown
    key = ImportDesk(desk_inv).put(held)
    with desk_inv.uow(write=False) as uow:
        row = uow.session.scalars(select(HeldUploadRow)).one()
        shown = repr(row)
    assert "delivery.zip" in shown
    assert key not in shown and row.key_hash not in shown and "x" * 10 not in shown


def _race(target: Callable[..., None], args: list[tuple[Any, ...]]) -> Counter[str]:
    """Run ``target`` in one spawned process per argument tuple, released together by a barrier
    (appended with the answer queue); what each reported."""
    barrier, out = SPAWN.Barrier(len(args)), SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*a, barrier, out)) for a in args]
    for p in procs:
        p.start()
    try:
        return Counter(out.get(timeout=120) for _ in procs)
    except queue.Empty:
        raise AssertionError("a racing process did not report back") from None
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()


def test_puts_from_several_processes_at_once_never_pass_the_cap(
    cfg: Config, desk_inv: Inventory
) -> None:
    answers = _race(put_at_once, [(cfg.sections, 40, 100)] * RACERS)
    assert answers == Counter({"held": 2, "import.busy": RACERS - 2}), answers
    with desk_inv.uow(write=False) as uow:
        assert uow.held_uploads.waiting_bytes() == 80


def test_takes_from_several_processes_at_once_give_the_upload_to_one(
    cfg: Config, desk_inv: Inventory
) -> None:
    key = ImportDesk(desk_inv).put(HeldUpload("session-a", "d.csv", b"z" * 20, None, None, False))
    answers = _race(take_at_once, [(cfg.sections, key)] * RACERS)
    assert answers == Counter({"taken": 1, "none": RACERS - 1}), answers


def test_a_very_long_file_name_is_held_cut_to_its_column(desk_inv: Inventory) -> None:
    desk = ImportDesk(desk_inv)
    key = desk.put(HeldUpload("session-a", "n" * 400 + ".csv", b"x", None, None, False))
    assert desk.get(key, "session-a").name == "n" * 255
