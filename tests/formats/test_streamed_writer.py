"""The entra-json writer streams: ``write_seeds_to`` writes, a chunk at a time, exactly the bytes
``write_seeds`` returns (and ``json.dumps`` would), refuses before writing a byte, and never
names a secret when it refuses. Also: reading pauses the cyclic collector and always restores
it. The CLI's use of the stream is in tests/cli/test_convert_streamed.py."""

from __future__ import annotations

import gc
import io
import json
import os
import random

import pytest

from oathdesk.domain import (
    HashAlgorithm,
    OtpKind,
    Secret,
    SeedFileError,
    SeedFileInvalid,
    SeedRecord,
)
from oathdesk.formats import entra_json, read_seeds, write_seeds, write_seeds_to
from oathdesk.formats._fast import _repeated_plan, gc_paused, secret_values

GRAPH = {HashAlgorithm.SHA1: "hmacsha1", HashAlgorithm.SHA256: "hmacsha256"}


def _records(count: int, seed: int) -> list[SeedRecord]:
    rng = random.Random(seed)
    return [
        SeedRecord(
            serial=f"{rng.randrange(10**9)}-{i}",
            secret=Secret(rng.randbytes(rng.choice([20, 20, 20, 16, 32]))),
            period=rng.choice([30, 60]),
            algorithm=rng.choice(list(GRAPH)),
            manufacturer=rng.choice(["Token2", 'Fé"itian', ""]),
            model=rng.choice(["C202", "c200\\x"]),
            display_name=rng.choice(["", "", "Desk 4 ☎"]),
            user=rng.choice(["", "u@example.com", "12345678-1234-1234-1234-123456789abc"]),
        )
        for i in range(count)
    ]


def _dumps(records: list[SeedRecord]) -> bytes:
    """The document as the writer before the fast lane made it: ``json.dumps`` of dicts."""
    value = []
    for number, r in enumerate(records, start=1):
        item: dict[str, object] = {
            "@contentId": str(number),
            "serialNumber": r.serial,
            "manufacturer": r.manufacturer,
            "model": r.model,
            "secretKey": r.secret.to_base32(),
            "timeIntervalInSeconds": r.period,
            "hashFunction": GRAPH[r.algorithm],
        }
        if r.display_name:
            item["displayName"] = r.display_name
        if r.user and entra_json.GUID.match(r.user):
            item["assignTo"] = {"id": r.user}
        value.append(item)
    return (
        json.dumps({"@context": "#$delta", "value": value}, indent=2, ensure_ascii=False) + "\n"
    ).encode()


class _Recording(io.BytesIO):
    """A stream that remembers how many writes it took and the largest."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.sizes.append(len(data))
        return super().write(data)


@pytest.mark.parametrize("count", [0, 1, entra_json._CHUNK, entra_json._CHUNK + 1, 20_000])
def test_the_stream_is_byte_for_byte_the_document(count: int) -> None:
    records = _records(count, seed=count)
    stream = _Recording()
    write_seeds_to(records, "entra-json", stream)
    expected = _dumps(records)
    assert stream.getvalue() == write_seeds(records, "entra-json") == expected
    if count > 2 * entra_json._CHUNK:  # in pieces: no write holds the whole document
        assert len(stream.sizes) > 3 and max(stream.sizes) < len(expected) / 2


def test_the_secrets_read_through_the_slot_are_what_reveal_gives() -> None:
    records = _records(50, seed=2)
    assert list(secret_values(records)) == [r.secret.reveal() for r in records]
    assert list(secret_values([])) == []


def test_an_empty_file_is_the_empty_body() -> None:
    stream = io.BytesIO()
    write_seeds_to([], "entra-json", stream)
    assert json.loads(stream.getvalue()) == {"@context": "#$delta", "value": []}
    assert stream.getvalue() == write_seeds([], "entra-json")


def test_the_kept_masks_are_dropped_once_written() -> None:
    write_seeds_to(_records(3, seed=1), "entra-json", io.BytesIO())
    assert _repeated_plan.cache_info().currsize == 0


def test_a_refusal_comes_before_any_byte_and_names_no_secret() -> None:
    secret = os.urandom(20)
    records = [
        SeedRecord(serial="1", secret=Secret(os.urandom(20))),
        SeedRecord(serial="2", secret=Secret(secret), kind=OtpKind.HOTP, digits=8),
    ]
    stream = io.BytesIO()
    with pytest.raises(SeedFileInvalid) as raised:
        write_seeds_to(records, "entra-json", stream)
    assert stream.getvalue() == b""
    said = str(raised.value) + repr(raised.value) + repr(raised.value.problems)
    for spelling in (Secret(secret).to_base32(), secret.hex()):
        assert spelling.lower() not in said.lower()
    assert "token 2" in said and "HOTP" in said


def test_a_writer_that_cannot_stream_writes_its_bytes_once() -> None:
    records = _records(5, seed=7)
    stream = _Recording()
    write_seeds_to(records, "pskc", stream)
    assert len(stream.sizes) == 1
    assert read_seeds(stream.getvalue(), "x.pskc").records == records


def test_reading_pauses_the_collector_and_restores_it_even_on_error() -> None:
    assert gc.isenabled()
    seen: list[bool] = []
    with pytest.raises(RuntimeError), gc_paused():
        seen.append(gc.isenabled())
        raise RuntimeError("boom")
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # off before, left off
    finally:
        gc.enable()
    data = write_seeds(_records(10, seed=3), "entra-json")
    assert len(read_seeds(data, "t.json").records) == 10 and gc.isenabled()
    with pytest.raises(SeedFileError):
        read_seeds(b"not a seed file at all", "t.txt")
    assert gc.isenabled()
