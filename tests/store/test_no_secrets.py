"""No seed or key leaks into logs, reprs, exceptions or exports during a whole store workflow."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from oathdesk.domain import OathdeskError, SeedRecord
from oathdesk.store import (
    AuditKey,
    Database,
    KeyRing,
    NewBatch,
    SealedValue,
    Sealer,
    TokenFilter,
    TokenState,
    UnitOfWork,
    rotate,
    upgrade,
)
from tests.store.support import make_records


def _needles(records: list[SeedRecord], key_file: Path) -> list[str]:
    out: list[str] = []
    for record in records:
        raw = record.secret.reveal()
        out += [raw.hex(), raw.hex().upper(), record.secret.to_base32(), record.secret.to_base64()]
        out.append(repr(raw)[2:-1])
    for key in json.loads(key_file.read_text())["keys"]:
        material = base64.b64decode(key["key"])
        out += [key["key"], material.hex(), repr(material)[2:-1]]
    return out


def test_whole_workflow_leaks_nothing(
    db_url: str,
    key_file: Path,
    audit_key: AuditKey,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # SQLAlchemy logs every statement and its parameters
    upgrade(db_url)
    db = Database(db_url, echo=True, audit_key=audit_key)
    ring = KeyRing.load_or_create(key_file)
    sealer = Sealer(ring)
    records = make_records(6)
    seen: list[str] = []
    try:
        with UnitOfWork(db) as uow:
            result = uow.tokens.add_batch(
                NewBatch("v.csv", "entra-csv", "c" * 64), records, sealer, actor="admin"
            )
            seen += [repr(result), json.dumps(result.to_dict())]
        failures: list[OathdeskError] = []
        for attempt in range(4):
            try:
                with UnitOfWork(db) as uow:
                    token = uow.tokens.get_for_update("SN000001")
                    seen += [repr(token), json.dumps(token.describe())]
                    if attempt == 0:
                        uow.tokens.add_batch(
                            NewBatch("w.csv", "pskc", "d" * 64), records, sealer, actor="x"
                        )
                    elif attempt == 1:
                        uow.tokens.move(token, TokenState.RETIRED)
                        uow.tokens.move(token, TokenState.ACTIVATED)
                    elif attempt == 2:
                        assert token.key_id is not None and token.sealed_secret is not None
                        Sealer(KeyRing.generate()).open(
                            SealedValue(token.key_id, token.sealed_secret),
                            serial=token.serial,
                            tenant=token.tenant,
                        )
                    else:
                        bad = [records[0].with_(serial="NEW1", digits=9)]
                        uow.tokens.add_batch(NewBatch("z", "x", "e" * 64), bad, sealer, actor="x")
            except OathdeskError as exc:
                failures.append(exc)
        assert [f.code for f in failures] == [
            "inventory.serial_conflict",
            "inventory.state_conflict",
            "store.key_unknown",
            "store.constraint",
        ]
        for failure in failures:
            seen += [str(failure), repr(failure), json.dumps(failure.to_dict())]
        with UnitOfWork(db) as uow:
            token = uow.tokens.get_for_update("SN000002")
            uow.tokens.destroy_seed(token, actor="admin", reason="in Entra")
            seen += [repr(p) for p in uow.tokens.list(TokenFilter(), limit=100).items]
            seen += [repr(uow.tokens.seed_record(uow.tokens.get("SN000003"), sealer))]
        seen.append(repr(rotate(db, ring, actor="admin")))
        with UnitOfWork(db, write=False) as uow:
            seen += list(uow.audit.export())
            seen += [repr(e) for e in uow.audit.entries()]
            seen.append(repr(uow.audit.verify()))
    finally:
        db.dispose()
    captured = capsys.readouterr()
    haystack = "\n".join([*seen, caplog.text, captured.out, captured.err])
    assert "INSERT INTO tokens" in haystack  # the statement log really was captured
    assert "SN000001" in haystack
    assert audit_key.path is not None
    audit_material = json.loads(audit_key.path.read_text())["key"]
    for needle in [*_needles(records, key_file), audit_material]:
        assert needle not in haystack
