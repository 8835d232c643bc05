"""Sealing: AES-GCM round trips, and every wrong key, altered byte or moved value is refused."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oathdesk.domain import Secret
from oathdesk.store import KEY_FILE_ENV, KeyFileError, KeyRing, SealedValue, Sealer, SealError
from oathdesk.store.sealing import describe_key_file, resolve_key_file

SECRET = Secret(bytes.fromhex("3132333435363738393031323334353637383930"))  # RFC 4226 key
RING = KeyRing.generate()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@given(body=st.binary(min_size=1, max_size=128), serial=st.text(min_size=1, max_size=40))
def test_round_trip_any_secret_and_serial(body: bytes, serial: str) -> None:
    sealer = Sealer(RING)
    sealed = sealer.seal(Secret(body), serial=serial, tenant="t")
    assert sealed.key_id == RING.current_id
    if len(body) >= 16:  # long enough that a chance match cannot happen
        assert body not in sealed.blob
    assert sealer.open(sealed, serial=serial, tenant="t") == Secret(body)


def test_two_seals_of_one_secret_differ(sealer: Sealer) -> None:
    a = sealer.seal(SECRET, serial="A", tenant="t")
    b = sealer.seal(SECRET, serial="A", tenant="t")
    assert a.blob != b.blob  # fresh nonce every time


def test_key_file_is_created_owner_only(key_file: Path) -> None:
    ring = KeyRing.load_or_create(key_file)
    assert _mode(key_file) == 0o600
    assert _mode(key_file.parent) == 0o700
    again = KeyRing.load_or_create(key_file)  # second use opens the same key
    assert again.key_ids == ring.key_ids
    sealed = Sealer(ring).seal(SECRET, serial="S", tenant="t")
    assert Sealer(again).open(sealed, serial="S", tenant="t") == SECRET


def test_key_file_readable_by_others_is_refused(key_file: Path) -> None:
    KeyRing.load_or_create(key_file)
    key_file.chmod(0o644)
    with pytest.raises(KeyFileError) as caught:
        KeyRing.load(key_file)
    assert caught.value.code == "store.key_file_permissions"
    assert "chmod 600" in caught.value.message
    assert KeyRing.load(key_file, strict_permissions=False).current_id


def test_missing_and_malformed_key_files_are_typed(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as missing:
        KeyRing.load(tmp_path / "nope.json")
    assert missing.value.code == "store.key_file_missing"
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "keys": [{"id": "k1", "key": "c2hvcnQ=", "created": "x"}]}')
    bad.chmod(0o600)
    with pytest.raises(KeyFileError) as short:
        KeyRing.load(bad)
    assert short.value.code == "store.key_file_bad"
    bad.write_text("not json")
    with pytest.raises(KeyFileError) as garbage:
        KeyRing.load(bad)
    assert garbage.value.code == "store.key_file_bad"


def test_wrong_key_with_the_same_id_fails(key_file: Path, sealer: Sealer) -> None:
    sealed = sealer.seal(SECRET, serial="S1", tenant="t")
    raw = json.loads(key_file.read_text())
    raw["keys"][0]["key"] = base64.b64encode(os.urandom(32)).decode()
    key_file.write_text(json.dumps(raw))
    impostor = Sealer(KeyRing.load(key_file))
    assert impostor.ring.current_id == sealed.key_id
    with pytest.raises(SealError) as caught:
        impostor.open(sealed, serial="S1", tenant="t")
    assert caught.value.code == "store.seal_invalid"


def test_value_sealed_under_an_unknown_key_names_the_key(sealer: Sealer) -> None:
    sealed = Sealer(KeyRing.generate()).seal(SECRET, serial="S1", tenant="t")
    with pytest.raises(SealError) as caught:
        sealer.open(sealed, serial="S1", tenant="t")
    assert caught.value.code == "store.key_unknown"
    assert sealed.key_id in caught.value.message


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_any_altered_byte_is_refused(sealer: Sealer, position: int) -> None:
    sealed = sealer.seal(SECRET, serial="S1", tenant="t")
    blob = bytearray(sealed.blob)
    blob[position] ^= 0x01
    with pytest.raises(SealError) as caught:
        sealer.open(SealedValue(sealed.key_id, bytes(blob)), serial="S1", tenant="t")
    assert caught.value.code == "store.seal_invalid"


def test_truncated_value_is_refused(sealer: Sealer) -> None:
    sealed = sealer.seal(SECRET, serial="S1", tenant="t")
    with pytest.raises(SealError):
        sealer.open(SealedValue(sealed.key_id, sealed.blob[:20]), serial="S1", tenant="t")


@pytest.mark.parametrize(("serial", "tenant"), [("S2", "t"), ("S1", "other"), ("s1", "t")])
def test_value_moved_to_another_serial_or_tenant_fails(
    sealer: Sealer, serial: str, tenant: str
) -> None:
    sealed = sealer.seal(SECRET, serial="S1", tenant="t")
    with pytest.raises(SealError) as caught:
        sealer.open(sealed, serial=serial, tenant=tenant)
    assert caught.value.code == "store.seal_invalid"


def test_rotation_in_the_ring_keeps_old_values_open(key_file: Path, ring: KeyRing) -> None:
    old_id = ring.current_id
    old = Sealer(ring).seal(SECRET, serial="S1", tenant="t")
    new_id = ring.add_key()
    ring.save()
    reloaded = KeyRing.load(key_file)
    assert reloaded.key_ids == [old_id, new_id] and reloaded.current_id == new_id
    sealer = Sealer(reloaded)
    assert sealer.seal(SECRET, serial="S1", tenant="t").key_id == new_id
    assert sealer.open(old, serial="S1", tenant="t") == SECRET
    assert sealer.needs_reseal(old_id) and not sealer.needs_reseal(new_id)
    with pytest.raises(KeyFileError) as in_use:
        reloaded.retire(new_id)
    assert in_use.value.code == "store.key_in_use"
    reloaded.retire(old_id)
    with pytest.raises(SealError):
        Sealer(reloaded).open(old, serial="S1", tenant="t")


def test_key_file_resolution_order(tmp_path: Path) -> None:
    env = {KEY_FILE_ENV: str(tmp_path / "from-env.json")}
    assert resolve_key_file(tmp_path / "given.json", env=env) == tmp_path / "given.json"
    assert resolve_key_file(None, env=env, data_dir=tmp_path) == tmp_path / "from-env.json"
    assert resolve_key_file(None, env={}, data_dir=tmp_path) == tmp_path / "keys" / (
        "store-keys.json"
    )
    with pytest.raises(KeyFileError):
        resolve_key_file(None, env={})


def test_nothing_secret_in_reprs_or_descriptions(key_file: Path, ring: KeyRing) -> None:
    sealed = Sealer(ring).seal(SECRET, serial="S1", tenant="t")
    material = base64.b64decode(json.loads(key_file.read_text())["keys"][0]["key"])
    shown = " ".join(
        [repr(ring), repr(Sealer(ring)), repr(sealed), json.dumps(describe_key_file(key_file))]
    )
    for needle in (material.hex(), base64.b64encode(material).decode(), SECRET.to_hex()):
        assert needle not in shown
    assert ring.current_id in shown


def test_seal_takes_only_a_secret(sealer: Sealer) -> None:
    with pytest.raises(TypeError):
        sealer.seal(b"raw bytes", serial="S", tenant="t")  # type: ignore[arg-type]
