"""Import: all or nothing, conflicts listed, the same file twice changes nothing, envelopes
removed; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from oathdesk.containers.zipwrite import wrap_zip
from oathdesk.domain import DecryptionError, Secret, SeedFileInvalid
from oathdesk.formats import ReadOptions
from oathdesk.service import Inventory, SeedFileOptions, TokenFilter, import_seeds, list_tokens
from oathdesk.store import AuditEntry, Batch, SerialConflict, Token
from tests.service.support import entra_csv, secret_for, serial


def _counts(inv: Inventory) -> tuple[int, int, int]:
    with inv.uow(write=False) as uow:
        s = uow.session
        return (
            s.execute(select(func.count()).select_from(Token)).scalar_one(),
            s.execute(select(func.count()).select_from(Batch)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        )


def test_import_makes_one_batch_in_stock_with_sealed_seeds(inv: Inventory) -> None:
    report = import_seeds(inv, entra_csv("A", 5), "a.csv", actor="test:ann", note="PO 7")
    assert (report.added, report.conflicts, report.already_imported) == (5, [], False)
    assert report.format == "entra-csv" and report.tokens_in_file == 5
    page = list_tokens(inv, TokenFilter(batch_id=report.batch_id), with_total=True)
    assert page.total == 5 and {t["state"] for t in page.items} == {"in_stock"}
    with inv.uow(write=False) as uow:
        token = uow.tokens.get(serial("A", 3))
        assert token.sealed_secret is not None
        assert secret_for("A", 3).reveal() not in token.sealed_secret  # sealed, not stored
        assert uow.tokens.open_secret(token, inv.sealer) == secret_for("A", 3)
        (entry,) = list(uow.audit.entries())
        assert entry.action == "batch.import" and entry.actor == "test:ann"
    assert _counts(inv) == (5, 1, 1)


def test_failure_on_the_last_row_leaves_nothing_behind(inv: Inventory) -> None:
    with pytest.raises(SeedFileInvalid) as caught:
        import_seeds(inv, entra_csv("B", 50, bad_last=True), "b.csv", actor="t")
    assert any(p.serial == serial("B", 49) for p in caught.value.problems)
    assert _counts(inv) == (0, 0, 0)


def test_same_file_twice_changes_nothing(inv: Inventory) -> None:
    data = entra_csv("C", 4)
    first = import_seeds(inv, data, "c.csv", actor="t")
    before = _counts(inv)
    again = import_seeds(inv, data, "renamed.csv", actor="t")
    assert again.already_imported and again.added == 0 and again.batch_id == first.batch_id
    assert _counts(inv) == before == (4, 1, 1)


def test_serials_already_held_are_listed_and_nothing_is_imported(inv: Inventory) -> None:
    import_seeds(inv, entra_csv("D", 3), "d1.csv", actor="t")
    overlapping = entra_csv("D", 4, start=2)  # D00002 is already in the inventory
    with pytest.raises(SerialConflict) as caught:
        import_seeds(inv, overlapping, "d2.csv", actor="t")
    assert caught.value.serials == [serial("D", 2)]
    assert caught.value.code == "inventory.serial_conflict"
    assert _counts(inv) == (3, 1, 1)
    skipped = import_seeds(inv, overlapping, "d2.csv", actor="t", on_conflict="skip")
    assert skipped.added == 3 and skipped.conflicts == [serial("D", 2)]
    assert _counts(inv) == (6, 2, 2)


def test_an_encrypted_zip_is_opened_with_its_password(inv: Inventory) -> None:
    password = Secret(b"zip-pass-42")
    wrapped = wrap_zip(entra_csv("E", 3), "tokens.csv", password)
    with pytest.raises(DecryptionError):
        import_seeds(inv, wrapped, "delivery.zip", actor="t")
    report = import_seeds(
        inv, wrapped, "delivery.zip", actor="t", opening=SeedFileOptions(password=password)
    )
    assert report.added == 3 and report.layers == ["zip-aes"]
    assert report.file_name == "delivery.zip"
    # a PSKC passphrase given alone is tried on the ZIP too: one password serves both
    as_passphrase = SeedFileOptions(read=ReadOptions(passphrase=password))
    again = import_seeds(inv, wrapped, "delivery.zip", actor="t", opening=as_passphrase)
    assert again.already_imported


def test_rows_entra_would_refuse_are_imported_with_a_warning(inv: Inventory) -> None:
    data = entra_csv("T", 2).replace(b",30,", b",45,", 1)  # token 0: a 45 s step
    report = import_seeds(inv, data, "t.csv", actor="t")
    assert report.added == 2
    (warning,) = report.warnings
    assert warning["code"] == "entra.period" and warning["locator"] == "t.csv:2"
    assert warning["note"] == "Entra will refuse this token when it is pushed"
