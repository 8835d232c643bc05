"""Key rotation over the database: everything re-sealed, old key usable until retired, audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from oathdesk.store import (
    Database,
    KeyFileError,
    KeyRing,
    NewBatch,
    SealedValue,
    Sealer,
    SealError,
    UnitOfWork,
    key_usage,
    reseal_all,
    retire_key,
    rotate,
)
from tests.store.support import make_records

RECORDS = make_records(23)


def _stock(db: Database, sealer: Sealer) -> None:
    with UnitOfWork(db) as uow:
        uow.tokens.add_batch(NewBatch("a", "entra-csv", "a" * 64), RECORDS, sealer, actor="admin")
    with UnitOfWork(db, tenant="other") as uow:
        uow.tokens.add_batch(
            NewBatch("b", "entra-csv", "b" * 64), RECORDS[:2], sealer, actor="admin"
        )


def test_rotate_reseals_everything_and_old_key_opens_until_retired(
    db: Database, ring: KeyRing, key_file: Path
) -> None:
    _stock(db, Sealer(ring))
    old_id = ring.current_id
    with UnitOfWork(db, write=False) as uow:
        token = uow.tokens.get("SN000005")
        assert token.key_id is not None and token.sealed_secret is not None
        old_value = SealedValue(token.key_id, token.sealed_secret)
    report = rotate(db, ring, actor="admin", batch_size=10)
    new_id = ring.current_id
    assert new_id != old_id
    assert (report.key_id, report.resealed, report.failed) == (new_id, 25, [])
    assert report.by_old_key == {old_id: 25}
    assert key_usage(db) == {new_id: 25}
    on_disk = KeyRing.load(key_file)
    assert on_disk.key_ids == [old_id, new_id]
    sealer = Sealer(on_disk)
    with UnitOfWork(db, write=False) as uow:
        for record in RECORDS:
            assert uow.tokens.open_secret(uow.tokens.get(record.serial), sealer) == record.secret
        actions = [e.action for e in uow.audit.entries()]
        assert actions.count("keys.reseal") == 3  # 25 values (both tenants) in batches of 10
        assert "keys.rotate" in actions and uow.audit.verify().ok
    # a value sealed under the old key (a backup, say) still opens until the key is retired
    assert sealer.open(old_value, serial="SN000005", tenant="default") == RECORDS[5].secret
    retire_key(db, on_disk, old_id, actor="admin")
    assert KeyRing.load(key_file).key_ids == [new_id]
    with pytest.raises(SealError) as caught:
        Sealer(KeyRing.load(key_file)).open(old_value, serial="SN000005", tenant="default")
    assert caught.value.code == "store.key_unknown"


def test_rotation_again_is_a_no_op_for_current_values(db: Database, ring: KeyRing) -> None:
    _stock(db, Sealer(ring))
    rotate(db, ring, actor="admin")
    assert reseal_all(db, Sealer(ring), actor="admin").resealed == 0


def test_a_key_still_in_use_cannot_be_retired(db: Database, ring: KeyRing) -> None:
    _stock(db, Sealer(ring))
    old_id = ring.current_id
    ring.add_key()
    ring.save()
    with pytest.raises(KeyFileError) as caught:
        retire_key(db, ring, old_id, actor="admin")
    assert caught.value.code == "store.key_in_use"
    assert caught.value.details == {"key_id": old_id, "count": 25}
    assert old_id in KeyRing.load(ring.path or Path()).key_ids


def test_values_that_do_not_open_are_reported_not_lost(db: Database, ring: KeyRing) -> None:
    _stock(db, Sealer(ring))
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE tokens SET sealed_secret = (SELECT t.sealed_secret FROM tokens t "
            "WHERE t.serial = 'SN000000' AND t.tenant = 'default') "
            "WHERE serial = 'SN000001' AND tenant = 'default'"
        )
    report = rotate(db, ring, actor="admin")
    assert (report.resealed, report.failed) == (24, ["SN000001"])
