"""The hash chain itself: how an entry is hashed, how a walk over entries is judged, and how an
export is re-checked offline. Pure functions over ``AuditRecord`` rows, shared by every chain.

Why: each entry stores a hash of its previous entry's hash and its own canonical JSON content
(sequence number included), so changing, removing, inserting or reordering a row through SQL
breaks the chain at that row; one definition keeps the inventory's and the delivery's chains
verifiable by the same code and the same offline tools. From the chain head's ``keyed_from``
on, the hash is an HMAC under the audit key (``store.audit_key``), which the database never
holds: someone who can write the database cannot recompute it. Entries before ``keyed_from``
were written before the key existed and keep their plain SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from oathdesk.domain import Secret
from oathdesk.store.audit_key import AuditKey, missing_key
from oathdesk.store.errors import AuditChainBroken, StoreError
from oathdesk.store.models import GENESIS_HASH, AuditRecord


def canonical_details(details: Mapping[str, Any] | None) -> str:
    """Details as canonical JSON text; a Secret (or anything not JSON) is refused outright."""

    def refuse(value: object) -> Any:
        if isinstance(value, Secret):
            raise StoreError("A secret cannot go into the audit log.", code="store.audit_secret")
        raise StoreError(
            f"Audit details must be JSON values, not {type(value).__name__}.",
            code="store.audit_bad_details",
        )

    return json.dumps(
        dict(details or {}),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=refuse,
    )


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    tenant: str,
    actor: str,
    action: str,
    subject: str | None,
    reason: str,
    details: str,
    key: AuditKey | None = None,
) -> str:
    """The entry's hash: SHA-256 without ``key`` (entries written before the audit key
    existed), HMAC-SHA-256 under it otherwise."""
    content = {
        "seq": seq,
        "at": iso(at),
        "tenant": tenant,
        "actor": actor,
        "action": action,
        "subject": subject,
        "reason": reason,
        "details": details,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    message = prev_hash.encode("ascii") + b"\n" + canonical.encode("utf-8")
    if key is not None:
        return key.mac(KEYED_PREFIX + message)
    return hashlib.sha256(message).hexdigest()


KEYED_PREFIX = b"oathdesk-audit-hmac-v1\n"
HASHED = ("seq", "at", "tenant", "actor", "action", "subject", "reason", "details")


def rehash(entry: AuditRecord, key: AuditKey | None = None) -> str:
    """The hash the entry's stored content gives (equal to ``entry.hash`` unless edited)."""
    content = {name: getattr(entry, name) for name in HASHED}
    return entry_hash(prev_hash=entry.prev_hash, key=key, **content)


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of a walk: ``ok``, how many entries were checked and, if not ok, where."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    seq: int | None = None  # the first bad sequence number
    # missing | altered | unlinked | truncated | extra | unkeyed | rolled_back | rewritten
    problem: str | None = None
    message: str = "the audit chain verifies"
    keyed_from: int = 1  # the first entry hashed under the audit key
    checkpoint_seq: int | None = None  # the checkpoint verified against, if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def raise_if_broken(self) -> None:
        if not self.ok:
            raise AuditChainBroken(self.message, details=self.to_dict())


def walk(
    entries: Iterable[AuditRecord],
    head_seq: int,
    head_hash: str,
    *,
    keyed_from: int = 1,
    key: AuditKey | None = None,
) -> ChainReport:
    """Judge entries 1..``head_seq`` in order against the head: the first problem, or ok.
    Entries from ``keyed_from`` on must carry the HMAC under ``key``; without the key a chain
    holding such entries cannot be judged (``store.audit_key_missing``)."""
    expected, prev, checked = 1, GENESIS_HASH, 0

    def broken(seq: int, problem: str, message: str) -> ChainReport:
        return ChainReport(
            False, checked, head_seq, head_hash, seq, problem, message, keyed_from=keyed_from
        )

    if keyed_from < 1 or keyed_from > head_seq + 1:
        return broken(
            head_seq,
            "unkeyed",
            f"the chain head says keyed hashing starts at entry {keyed_from}, past the head "
            f"({head_seq}): the head row was edited to pass off rewritten entries",
        )
    if key is None and head_seq >= keyed_from:
        raise missing_key("verifying the audit chain")
    for entry in entries:
        if entry.seq != expected:
            return broken(expected, "missing", f"audit entry {expected} is missing (deleted)")
        if entry.prev_hash != prev:
            return broken(
                entry.seq,
                "unlinked",
                f"audit entry {entry.seq} does not follow entry {entry.seq - 1} "
                "(entries reordered, inserted or replaced)",
            )
        if rehash(entry, key if entry.seq >= keyed_from else None) != entry.hash:
            return broken(
                entry.seq,
                "altered",
                f"audit entry {entry.seq} was edited or rehashed after it was written (or the "
                "audit key file is not the one the chain was written with)",
            )
        prev, expected, checked = entry.hash, expected + 1, checked + 1
    last = expected - 1
    if last < head_seq:
        return broken(
            last + 1,
            "truncated",
            f"audit entries {last + 1} to {head_seq} are missing (the end of the log was cut)",
        )
    if prev != head_hash:
        return broken(
            last,
            "extra",
            "the audit chain head does not name the last entry (the head row was edited)",
        )
    return ChainReport(True, checked, head_seq, head_hash, keyed_from=keyed_from)


def beyond_head(first: AuditRecord | None, report: ChainReport) -> ChainReport:
    """Entries past the head a walk read are fine only as appends committed since: the first of
    them must follow the head."""
    if first is None or (first.seq == report.head_seq + 1 and first.prev_hash == report.head_hash):
        return report
    return ChainReport(
        False,
        report.checked,
        report.head_seq,
        report.head_hash,
        first.seq,
        "extra",
        f"audit entry {first.seq} lies past the chain head and does not follow it "
        "(written outside oathdesk)",
        keyed_from=report.keyed_from,
    )


def export_record(entry: AuditRecord) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": iso(entry.at),
        "tenant": entry.tenant,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "reason": entry.reason,
        "details": entry.details_dict,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def verify_export(
    lines: Iterable[str],
    *,
    prev_hash: str = GENESIS_HASH,
    key: AuditKey | None = None,
    keyed_from: int | None = None,
) -> int:
    """Re-check exported JSON lines offline; returns the count or raises at the first bad line.
    Entries from ``keyed_from`` on (from the first, when a ``key`` is given and ``keyed_from``
    is not; ``audit verify --json`` tells the chain's) are checked under the audit key."""
    if keyed_from is None:
        keyed_from = 1 if key is not None else 2**63
    count = 0
    for line in lines:
        rec = json.loads(line)
        keyed = rec["seq"] >= keyed_from
        if keyed and key is None:
            raise missing_key("checking a keyed audit export")
        details = canonical_details(rec["details"])
        at = datetime.fromisoformat(rec["at"])
        digest = entry_hash(
            prev_hash=rec["prev_hash"],
            seq=rec["seq"],
            at=at,
            tenant=rec["tenant"],
            actor=rec["actor"],
            action=rec["action"],
            subject=rec["subject"],
            reason=rec["reason"],
            details=details,
            key=key if keyed else None,
        )
        if rec["prev_hash"] != prev_hash or digest != rec["hash"]:
            raise AuditChainBroken(
                f"Exported audit entry {rec['seq']} does not verify.",
                details={"seq": rec["seq"]},
            )
        prev_hash, count = rec["hash"], count + 1
    return count
