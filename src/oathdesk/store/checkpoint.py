"""Checkpoints: a chain's head (seq, hash, where keyed hashing starts, time) signed with the audit
key and kept outside the database, in an append-only file of JSON lines (and, if asked, syslog).

Why: a keyed chain stops a database writer from rewriting entries, but not from cutting the end
off and moving the head back to an earlier entry: what is left is a valid chain. A checkpoint
taken earlier remembers how far the chain had got and what its hash was there, so ``verify``
against it reports a head moved back below it, or any entry up to it rewritten. The signature
(HMAC under the audit key) makes an edited checkpoint file refused rather than believed.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from oathdesk.store.audit_key import AuditKey
from oathdesk.store.chain import ChainReport
from oathdesk.store.errors import CheckpointError, StoreError

FORMAT_VERSION = 1
_PREFIX = b"oathdesk-audit-checkpoint-v1\n"
_FIELDS = ("version", "chain", "seq", "hash", "keyed_from", "at", "key_id")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One chain's head as it was at ``at`` (UTC ISO 8601)."""

    chain: str
    seq: int
    hash: str
    keyed_from: int
    at: str
    key_id: str

    def body(self) -> dict[str, Any]:
        return {"version": FORMAT_VERSION, **asdict(self)}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(checkpoint: Checkpoint, key: AuditKey) -> str:
    """The checkpoint as one JSON line with its ``mac``."""
    body = checkpoint.body()
    return json.dumps(body | {"mac": key.mac(_PREFIX + _canonical(body))}, sort_keys=True)


def parse(line: str, key: AuditKey, *, where: str = "checkpoint") -> Checkpoint:
    """A signed line back as a Checkpoint; anything edited or signed with another key is refused."""
    try:
        raw = json.loads(line)
        body = {name: raw[name] for name in _FIELDS}
        mac = str(raw["mac"])
        if set(raw) != {*_FIELDS, "mac"} or body["version"] != FORMAT_VERSION:
            raise ValueError("fields")
        checkpoint = Checkpoint(
            chain=str(body["chain"]),
            seq=int(body["seq"]),
            hash=str(body["hash"]),
            keyed_from=int(body["keyed_from"]),
            at=str(body["at"]),
            key_id=str(body["key_id"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CheckpointError(
            f"{where} is not an oathdesk audit checkpoint; it was edited or damaged.",
            code="store.checkpoint_invalid",
        ) from None
    if key.mac(_PREFIX + _canonical(body)) != mac:
        raise CheckpointError(
            f"{where} does not verify under the audit key: it was edited, or it was signed "
            "with another audit key file.",
            code="store.checkpoint_invalid",
        )
    return checkpoint


def latest(path: Path, key: AuditKey, chain: str) -> Checkpoint | None:
    """The last checkpoint of ``chain`` in the file (None if there is no file or none of it).
    Every line must verify: one edited line makes the whole file refused."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        raise CheckpointError(
            f"{path}: the checkpoint file cannot be read.", code="store.checkpoint_invalid"
        ) from None
    found: Checkpoint | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        checkpoint = parse(line, key, where=f"{path} line {number}")
        if checkpoint.chain == chain:
            found = checkpoint
    return found


def append(path: Path, checkpoint: Checkpoint, key: AuditKey) -> str:
    """Add the signed line to the file (created 0600, its folder 0700) and sync it to disk."""
    line = sign(checkpoint, key)
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise StoreError(
            f"{path}: the checkpoint cannot be written ({exc.strerror}).",
            code="store.checkpoint_unwritable",
        ) from None
    return line


def to_syslog(line: str) -> None:
    """Send the signed line to the local syslog (facility AUTH), for a copy off this machine."""
    import syslog

    syslog.openlog("oathdesk", 0, syslog.LOG_AUTH)
    syslog.syslog(syslog.LOG_NOTICE, f"audit checkpoint {line}")


def against(report: ChainReport, checkpoint: Checkpoint | None, hash_at: str | None) -> ChainReport:
    """Judge a walked chain against the checkpoint: the head moved back below it, the entry it
    anchors rewritten, or the keyed start moved, are each reported as broken. ``hash_at`` is
    the stored hash of the entry at ``checkpoint.seq`` (None if there is none)."""
    if checkpoint is None:
        return report
    report = replace(report, checkpoint_seq=checkpoint.seq)
    if not report.ok:
        return report

    def broken(seq: int, problem: str, message: str) -> ChainReport:
        return replace(report, ok=False, seq=seq, problem=problem, message=message)

    if checkpoint.seq > report.head_seq:
        return broken(
            report.head_seq + 1,
            "rolled_back",
            f"the chain ends at entry {report.head_seq}, but checkpoint {checkpoint.at} saw "
            f"entry {checkpoint.seq}: entries were removed and the head moved back",
        )
    if hash_at != checkpoint.hash:
        return broken(
            checkpoint.seq,
            "rewritten",
            f"audit entry {checkpoint.seq} is not the one checkpoint {checkpoint.at} saw: "
            "the chain up to it was rewritten",
        )
    if checkpoint.keyed_from != report.keyed_from:
        return broken(
            min(checkpoint.keyed_from, report.keyed_from),
            "unkeyed",
            f"keyed hashing starts at entry {report.keyed_from}, but checkpoint "
            f"{checkpoint.at} saw it start at {checkpoint.keyed_from}: the head row was edited",
        )
    return report
