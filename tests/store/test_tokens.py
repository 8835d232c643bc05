"""The token repository: all-or-nothing imports, idempotence, conflicts, moves, listing, counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from oathdesk.domain import HashAlgorithm, OtpKind, Secret, SeedRecord
from oathdesk.otp import OtpState
from oathdesk.store import (
    Database,
    NewBatch,
    NotFound,
    Sealer,
    SealError,
    SerialConflict,
    StateConflict,
    StoreError,
    Token,
    TokenFilter,
    TokenState,
    UnitOfWork,
)
from oathdesk.store.models import AuditEntry, Batch
from tests.store.support import make_records

FILE = NewBatch(file_name="vendor.csv", format="entra-csv", content_hash="a" * 64)


def _import(db: Database, sealer: Sealer, records: list[SeedRecord], new: NewBatch = FILE) -> int:
    with UnitOfWork(db) as uow:
        return uow.tokens.add_batch(new, records, sealer, actor="admin").added


def _counts(db: Database) -> tuple[int, int, int]:
    with UnitOfWork(db, write=False) as uow:
        s = uow.session
        return (
            s.execute(select(func.count()).select_from(Token)).scalar_one(),
            s.execute(select(func.count()).select_from(Batch)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        )


def test_import_seals_every_seed_and_records_the_batch(db: Database, sealer: Sealer) -> None:
    records = [
        *make_records(5),
        SeedRecord(
            serial="HOTP-1",
            secret=Secret(b"12345678901234567890"),
            kind=OtpKind.HOTP,
            counter=7,
            digits=8,
            algorithm=HashAlgorithm.SHA256,
        ),
    ]
    with UnitOfWork(db) as uow:
        result = uow.tokens.add_batch(FILE, records, sealer, actor="admin")
    assert (result.added, result.conflicts, result.already_imported) == (6, [], False)
    with UnitOfWork(db, write=False) as uow:
        for record in records:
            token = uow.tokens.get(record.serial)
            assert token.state is TokenState.IN_STOCK and token.batch_id == result.batch.id
            assert token.key_id == sealer.ring.current_id
            assert token.sealed_secret is not None
            assert record.secret.reveal() not in token.sealed_secret
            assert uow.tokens.seed_record(token, sealer) == record
        hotp = uow.tokens.get("HOTP-1")
        assert uow.tokens.otp_state(hotp) == OtpState(last_step=6)
        batch = uow.batches.get(result.batch.id)
        assert (batch.token_count, batch.conflict_count, batch.actor) == (6, 0, "admin")
        assert uow.batches.find_by_hash(FILE.content_hash) is not None
        (entry,) = list(uow.audit.entries())
        assert entry.action == "batch.import" and entry.details_dict["added"] == 6


def test_same_file_twice_changes_nothing(db: Database, sealer: Sealer) -> None:
    records = make_records(4)
    assert _import(db, sealer, records) == 4
    before = _counts(db)
    with UnitOfWork(db) as uow:
        again = uow.tokens.add_batch(FILE, records, sealer, actor="someone")
    assert again.already_imported and again.added == 0
    assert _counts(db) == before


def test_conflicting_serials_fail_the_whole_file(db: Database, sealer: Sealer) -> None:
    _import(db, sealer, make_records(3))
    before = _counts(db)
    second = NewBatch(file_name="b.csv", format="entra-csv", content_hash="b" * 64)
    mixed = make_records(2, start=2) + make_records(2, prefix="NEW")
    with pytest.raises(SerialConflict) as caught, UnitOfWork(db) as uow:
        uow.tokens.add_batch(second, mixed, sealer, actor="admin")
    assert caught.value.code == "inventory.serial_conflict"
    assert caught.value.serials == ["SN000002"]
    assert _counts(db) == before


def test_conflicts_can_be_skipped_and_are_listed(db: Database, sealer: Sealer) -> None:
    _import(db, sealer, make_records(3))
    second = NewBatch(file_name="b.csv", format="entra-csv", content_hash="b" * 64)
    repeated = make_records(1, prefix="NEW")
    mixed = make_records(2, start=2) + repeated + repeated
    with UnitOfWork(db) as uow:
        result = uow.tokens.add_batch(second, mixed, sealer, actor="admin", on_conflict="skip")
    assert (result.added, result.conflicts) == (2, ["SN000002", "NEW000000"])
    with UnitOfWork(db, write=False) as uow:
        assert uow.tokens.get("SN000003").batch_id == result.batch.id
        assert uow.tokens.get("SN000002").batch_id != result.batch.id
        assert uow.batches.get(result.batch.id).conflict_count == 2


def test_batch_failing_on_its_last_row_leaves_nothing(db: Database, sealer: Sealer) -> None:
    records = make_records(1200)  # more than one insert chunk
    records[-1] = records[-1].with_(digits=9)  # breaks a database rule, on the last row only
    with pytest.raises(StoreError) as caught, UnitOfWork(db) as uow:
        uow.tokens.add_batch(FILE, records, sealer, actor="admin")
    assert caught.value.code == "store.constraint"
    assert "ck_tokens_digits" in caught.value.message
    assert _counts(db) == (0, 0, 0)


def test_reader_failing_on_its_last_row_leaves_nothing(db: Database, sealer: Sealer) -> None:
    def rows() -> Iterator[SeedRecord]:
        yield from make_records(10)
        raise ValueError("the file ends in the middle of a row")

    with pytest.raises(ValueError), UnitOfWork(db) as uow:
        uow.tokens.add_batch(FILE, rows(), sealer, actor="admin")
    assert _counts(db) == (0, 0, 0)


def test_moves_follow_the_lifecycle(db: Database, sealer: Sealer) -> None:
    _import(db, sealer, make_records(1))
    with UnitOfWork(db) as uow:
        token = uow.tokens.get_for_update("SN000000")
        assert uow.tokens.move(token, TokenState.AVAILABLE) is TokenState.IN_STOCK
        uow.tokens.move(token, TokenState.ASSIGNED, expect=[TokenState.AVAILABLE])
        uow.tokens.move(token, TokenState.ACTIVATED)
    with UnitOfWork(db, write=False) as uow:
        token = uow.tokens.get("SN000000")
        assert token.state is TokenState.ACTIVATED
        assert token.assigned_at is not None and token.activated_at is not None
        assert token.version == 2  # one committed change since the insert
    with pytest.raises(StateConflict) as refused, UnitOfWork(db) as uow:
        uow.tokens.move(uow.tokens.get_for_update("SN000000"), TokenState.IN_STOCK)
    assert refused.value.code == "inventory.state_conflict"
    assert refused.value.details == {
        "serial": "SN000000",
        "state": "activated",
        "target": "in_stock",
    }
    with pytest.raises(StateConflict), UnitOfWork(db) as uow:
        token = uow.tokens.get_for_update("SN000000")
        uow.tokens.move(token, TokenState.DEACTIVATED, expect=[TokenState.ASSIGNED])


def test_unknown_serial_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound) as caught, UnitOfWork(db) as uow:
        uow.tokens.get_for_update("nope")
    assert caught.value.code == "inventory.not_found"


def test_destroyed_seed_is_gone_and_recorded(db: Database, sealer: Sealer) -> None:
    _import(db, sealer, make_records(2))
    with UnitOfWork(db) as uow:
        token = uow.tokens.get_for_update("SN000001")
        uow.tokens.destroy_seed(token, actor="admin", reason="Entra holds it")
    with UnitOfWork(db, write=False) as uow:
        token = uow.tokens.get("SN000001")
        assert token.sealed_secret is None and token.key_id is None
        assert token.seed_destroyed_at is not None
        with pytest.raises(SealError) as caught:
            uow.tokens.open_secret(token, sealer)
        assert caught.value.code == "store.seed_destroyed"
        assert uow.tokens.count(TokenFilter(has_seed=False)) == 1
        actions = [(e.action, e.subject, e.reason) for e in uow.audit.entries()]
        assert actions[-1] == ("token.seed_destroyed", "SN000001", "Entra holds it")
        assert uow.audit.verify().ok


def test_sealed_value_copied_to_another_row_does_not_open(db: Database, sealer: Sealer) -> None:
    _import(db, sealer, make_records(2))
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE tokens SET sealed_secret = (SELECT t.sealed_secret FROM tokens t "
            "WHERE t.serial = 'SN000000') WHERE serial = 'SN000001'"
        )
    with UnitOfWork(db, write=False) as uow:
        with pytest.raises(SealError) as caught:
            uow.tokens.open_secret(uow.tokens.get("SN000001"), sealer)
        assert caught.value.code == "store.seal_invalid"
        assert uow.tokens.open_secret(uow.tokens.get("SN000000"), sealer)


def test_otp_state_round_trips(db: Database, sealer: Sealer) -> None:
    _import(db, sealer, make_records(1))
    with UnitOfWork(db) as uow:
        token = uow.tokens.get_for_update("SN000000")
        uow.tokens.save_otp_state(token, OtpState(last_step=59_000_123, drift=-2))
    with UnitOfWork(db, write=False) as uow:
        state = uow.tokens.otp_state(uow.tokens.get("SN000000"))
    assert state == OtpState(last_step=59_000_123, drift=-2)


def test_a_change_from_a_stale_read_is_a_conflict(db: Database, sealer: Sealer) -> None:
    _import(db, sealer, make_records(1))
    with UnitOfWork(db, write=False) as reader:
        stale = reader.tokens.get("SN000000")  # read, not locked
    with UnitOfWork(db) as uow:
        uow.tokens.move(uow.tokens.get_for_update("SN000000"), TokenState.AVAILABLE)
    with pytest.raises(StateConflict) as caught, UnitOfWork(db) as uow:
        uow.session.add(stale)
        uow.tokens.move(stale, TokenState.LOST)  # fits the stale state, not the real one
    assert caught.value.code == "inventory.concurrent_change"
    with UnitOfWork(db, write=False) as uow:
        assert uow.tokens.get("SN000000").state is TokenState.AVAILABLE


def test_locking_needs_a_writing_unit_of_work(db: Database, sealer: Sealer) -> None:
    _import(db, sealer, make_records(1))
    with pytest.raises(StoreError) as caught, UnitOfWork(db, write=False) as uow:
        uow.tokens.get_for_update("SN000000")
    assert caught.value.code == "store.read_only"
