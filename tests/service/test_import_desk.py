"""Held uploads (``service.ImportDesk``): bound to their session, gone after their time on the
injected clock (no sleeping), capped in bytes, never shown in a repr."""

from __future__ import annotations

import pytest

from oathdesk.domain import FixedClock, Secret
from oathdesk.service import HeldUpload, ImportDesk, ImportRefused

START = 1_800_000_000.0


def upload(owner: str = "session-a", size: int = 10, password: bytes = b"zip-pw-1") -> HeldUpload:
    return HeldUpload(owner, "delivery.zip", b"x" * size, None, Secret(password), False)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def test_an_upload_is_held_until_its_time_is_up(clock: FixedClock) -> None:
    desk = ImportDesk(clock, hold_seconds=900)
    held = upload()
    key = desk.put(held)
    assert len(key) >= 40
    clock.advance(900)  # the last second of its time
    assert desk.get(key, "session-a") is held
    clock.advance(1)
    with pytest.raises(ImportRefused) as caught:
        desk.get(key, "session-a")
    assert caught.value.code == "import.upload_expired"
    assert desk.purge() == 1
    assert desk.purge() == 0


def test_only_the_session_that_uploaded_may_use_it(clock: FixedClock) -> None:
    desk = ImportDesk(clock)
    key = desk.put(upload("session-a"))
    for owner, wanted in (("session-b", key), ("session-a", "no-such-key")):
        with pytest.raises(ImportRefused) as caught:
            desk.get(wanted, owner)
        assert caught.value.code == "import.upload_expired"  # unknown and foreign alike
    assert desk.take(key, "session-b") is None
    assert desk.get(key, "session-a").name == "delivery.zip"


def test_take_removes_it_once(clock: FixedClock) -> None:
    desk = ImportDesk(clock)
    held = upload()
    key = desk.put(held)
    assert desk.take(key, "session-a") is held
    assert desk.take(key, "session-a") is None
    with pytest.raises(ImportRefused) as caught:
        desk.get(key, "session-a")
    assert caught.value.code == "import.upload_expired"


def test_the_waiting_bytes_are_capped_and_expired_uploads_make_room(clock: FixedClock) -> None:
    desk = ImportDesk(clock, hold_seconds=60, max_bytes=100)
    first = desk.put(upload(size=60))
    with pytest.raises(ImportRefused) as caught:
        desk.put(upload(size=41))
    assert caught.value.code == "import.busy"
    second = desk.put(upload(size=40))  # exactly the cap
    clock.advance(61)
    third = desk.put(upload(size=100))  # the first two expired and were dropped
    assert len({first, second, third}) == 3
    assert desk.get(third, "session-a").data == b"x" * 100


def test_a_held_upload_never_shows_its_bytes_or_password() -> None:
    text = repr(upload(password=b"zip-pw-secret"))
    assert "zip-pw-secret" not in text and "xxxx" not in text and "session-a" not in text
    assert "delivery.zip" in text
