"""The audit chains against someone who can write the database: hashes recomputed with
oathdesk's own (unkeyed) function, the end cut off with the head moved back, the keyed start
moved, a checkpoint file edited, the audit key missing. Every test runs on both chains and on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from oathdesk.domain import FixedClock
from oathdesk.store import AuditKey, Database, UnitOfWork
from oathdesk.store import checkpoint as checkpoints
from oathdesk.store.audit import ChainReport
from oathdesk.store.chain import HASHED, entry_hash
from oathdesk.store.checkpoint import Checkpoint
from oathdesk.store.errors import AuditChainBroken, AuditKeyError, CheckpointError
from tests.store.test_audit import LOGS, Log, _fill, _sql, _verify


@pytest.fixture(params=sorted(LOGS))
def log(request: pytest.FixtureRequest) -> Log:
    return LOGS[request.param]


def _recompute(
    db: Database, log: Log, *, edit: dict[int, str], keyed_from: int | None = None
) -> None:
    """Edit reasons and recompute every hash and the head with the project's own unkeyed
    function, as someone with the database (and the source code) but not the key would."""
    _sql(db, log)  # drop the append-only triggers
    with db.engine.begin() as conn:
        rows = conn.execute(text(log.sql("SELECT * FROM audit_entries ORDER BY seq"))).mappings()
        prev = "0" * 64
        for row in list(rows):
            content = {name: row[name] for name in HASHED}
            content["reason"] = edit.get(row["seq"], content["reason"])
            content["at"] = _aware(content["at"])
            digest = entry_hash(prev_hash=prev, **content)
            conn.execute(
                text(
                    log.sql(
                        "UPDATE audit_entries SET reason = :r, prev_hash = :p, hash = :h "
                        "WHERE seq = :s"
                    )
                ),
                {"r": content["reason"], "p": prev, "h": digest, "s": row["seq"]},
            )
            prev = digest
        conn.execute(text(log.sql("UPDATE audit_head SET hash = :h")), {"h": prev})
        if keyed_from is not None:
            conn.execute(text(log.sql("UPDATE audit_head SET keyed_from = :k")), {"k": keyed_from})


def _aware(value: object) -> object:
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _checkpoint(db: Database, log: Log, path: Path) -> Checkpoint:
    assert db.audit_key is not None
    previous = checkpoints.latest(path, db.audit_key, log.chain)
    with UnitOfWork(db, write=False, clock=FixedClock(1_800_000_000)) as uow:
        _, made = log.of(uow).checkpoint(previous)
    checkpoints.append(path, made, db.audit_key)
    return made


def _verify_against(db: Database, log: Log, path: Path) -> ChainReport:
    assert db.audit_key is not None
    anchor = checkpoints.latest(path, db.audit_key, log.chain)
    with UnitOfWork(db, write=False) as uow:
        return log.of(uow).verify(anchor)


def test_a_chain_recomputed_without_the_key_is_broken(db: Database, log: Log) -> None:
    _fill(db, log)
    _recompute(db, log, edit={3: "nothing to see"})
    report = _verify(db, log)
    assert (report.ok, report.problem) == (False, "altered")
    assert report.seq == 1  # the first entry no longer carries the keyed hash


def test_truncation_with_the_head_moved_back_is_found_against_the_checkpoint(
    db: Database, log: Log, tmp_path: Path
) -> None:
    path = tmp_path / "anchor" / "checkpoints.jsonl"
    _fill(db, log, 4)
    made = _checkpoint(db, log, path)
    assert (made.chain, made.seq, made.keyed_from) == (log.chain, 4, 1)
    assert path.stat().st_mode & 0o777 == 0o600
    _fill(db, log, 2)
    assert _verify_against(db, log, path).ok
    _sql(
        db,
        log,
        "DELETE FROM audit_entries WHERE seq >= 3",
        "UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_entries WHERE seq = 2)",
    )
    assert _verify(db, log).ok  # without the anchor, a shorter chain is still a chain
    report = _verify_against(db, log, path)
    assert (report.ok, report.seq, report.problem) == (False, 3, "rolled_back")
    assert report.checkpoint_seq == 4
    with pytest.raises(AuditChainBroken):
        report.raise_if_broken()


def test_a_downgrade_to_unkeyed_hashes_is_found_against_the_checkpoint(
    db: Database, log: Log, tmp_path: Path
) -> None:
    path = tmp_path / "checkpoints.jsonl"
    _fill(db, log, 3)
    _checkpoint(db, log, path)
    # pass every entry off as written before the key: keyed hashing "starts" past the head
    _recompute(db, log, edit={2: "rewritten"}, keyed_from=4)
    assert _verify(db, log).ok  # the database alone can no longer tell
    report = _verify_against(db, log, path)
    assert (report.ok, report.seq, report.problem) == (False, 3, "rewritten")


def test_checkpoints_refuse_a_broken_chain(db: Database, log: Log, tmp_path: Path) -> None:
    _fill(db, log, 3)
    _sql(db, log, "UPDATE audit_entries SET reason = 'x' WHERE seq = 2")
    with pytest.raises(AuditChainBroken):
        _checkpoint(db, log, tmp_path / "c.jsonl")
    assert not (tmp_path / "c.jsonl").exists()


def test_an_edited_checkpoint_file_is_refused(db: Database, log: Log, tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.jsonl"
    _fill(db, log, 4)
    _checkpoint(db, log, path)
    line = json.loads(path.read_text())
    line["seq"] = 2  # someone lowers the anchor to match a truncated chain
    line["hash"] = "0" * 64
    path.write_text(json.dumps(line) + "\n")
    assert db.audit_key is not None
    with pytest.raises(CheckpointError) as caught:
        checkpoints.latest(path, db.audit_key, log.chain)
    assert caught.value.code == "store.checkpoint_invalid"
    path.write_text("not json\n")
    with pytest.raises(CheckpointError):
        checkpoints.latest(path, db.audit_key, log.chain)


def test_a_checkpoint_signed_with_another_key_is_refused(
    db: Database, log: Log, tmp_path: Path
) -> None:
    path = tmp_path / "checkpoints.jsonl"
    _fill(db, log, 2)
    _checkpoint(db, log, path)
    other = AuditKey.generate()
    with pytest.raises(CheckpointError) as caught:
        checkpoints.latest(path, other, log.chain)
    assert "another audit key" in caught.value.message


def test_the_key_missing_is_a_coded_error(db_url: str, db: Database, log: Log) -> None:
    _fill(db, log, 2)
    keyless = Database(db_url)
    try:
        with pytest.raises(AuditKeyError) as caught, UnitOfWork(keyless) as uow:
            log.of(uow).append("token.assign", actor="a")
        assert caught.value.code == "store.audit_key_missing"
        with pytest.raises(AuditKeyError) as missing, UnitOfWork(keyless, write=False) as uow:
            log.of(uow).verify()
        assert missing.value.code == "store.audit_key_missing"
        assert "OATHDESK_AUDIT_KEY_FILE" in missing.value.message
    finally:
        keyless.dispose()


def test_the_wrong_key_breaks_verification(db_url: str, db: Database, log: Log) -> None:
    _fill(db, log, 2)
    other = Database(db_url, audit_key=AuditKey.generate())
    try:
        with UnitOfWork(other, write=False) as uow:
            report = log.of(uow).verify()
        assert (report.ok, report.seq, report.problem) == (False, 1, "altered")
        assert "audit key file" in report.message
    finally:
        other.dispose()
