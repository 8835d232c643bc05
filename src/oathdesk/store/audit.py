"""The append-only, hash-chained audit log: append in the caller's transaction, verify, export.

Why: audits need proof that nobody edited history. Each entry stores the SHA-256 of its previous
entry's hash and its own canonical JSON content (sequence number included), so changing, removing,
inserting or reordering a row through SQL breaks the chain at that row. Appends lock the single
chain-head row (``FOR UPDATE`` on PostgreSQL; on SQLite the write transaction's ``BEGIN
IMMEDIATE`` already serializes writers), so two writers can never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from oathdesk.domain import Clock, Secret
from oathdesk.store.errors import AuditChainBroken, StoreError
from oathdesk.store.models import DEFAULT_TENANT, GENESIS_HASH, AuditEntry, AuditHead, utcnow

_HEAD_ID = 1


def canonical_details(details: Mapping[str, Any] | None) -> str:
    """Details as canonical JSON text; a Secret (or anything not JSON) is refused outright."""

    def refuse(value: object) -> Any:
        if isinstance(value, Secret):
            raise StoreError("a secret cannot go into the audit log", code="store.audit_secret")
        raise StoreError(
            f"audit details must be JSON values, not {type(value).__name__}",
            code="store.audit_bad_details",
        )

    return json.dumps(
        dict(details or {}),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=refuse,
    )


def _iso(at: datetime) -> str:
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
) -> str:
    content = {
        "seq": seq,
        "at": _iso(at),
        "tenant": tenant,
        "actor": actor,
        "action": action,
        "subject": subject,
        "reason": reason,
        "details": details,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical.encode("utf-8")).hexdigest()


def _rehash(entry: AuditEntry) -> str:
    return entry_hash(
        prev_hash=entry.prev_hash,
        seq=entry.seq,
        at=entry.at,
        tenant=entry.tenant,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        reason=entry.reason,
        details=entry.details,
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of a walk: ``ok``, how many entries were checked and, if not ok, where."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    seq: int | None = None  # the first bad sequence number
    problem: str | None = None  # missing | altered | unlinked | truncated | extra
    message: str = "the audit chain verifies"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "seq": self.seq,
            "problem": self.problem,
            "message": self.message,
        }

    def raise_if_broken(self) -> None:
        if not self.ok:
            raise AuditChainBroken(self.message, details=self.to_dict())


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries a reader wants: every field set must match (``action`` is a prefix, so
    ``token.`` finds every token action; ``since``/``until`` are inclusive and timezone-aware)."""

    tenant: str | None = None
    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[AuditEntry]) -> Select[AuditEntry]:
        if self.tenant is not None and self.subject:
            # ``tenant || ''`` keeps the (tenant, seq) index out, so the planner takes the
            # subject index: a serial has a few entries, a big log has millions
            query = query.where((AuditEntry.tenant + "") == self.tenant)
        elif self.tenant is not None:
            query = query.where(AuditEntry.tenant == self.tenant)
        if self.actor:
            query = query.where(AuditEntry.actor == self.actor)
        if self.action:
            query = query.where(AuditEntry.action.startswith(self.action, autoescape=True))
        if self.subject:
            query = query.where(AuditEntry.subject == self.subject)
        if self.since is not None:
            query = query.where(AuditEntry.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEntry.at <= self.until)
        return query

    def to_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "since": _iso(self.since) if self.since else None,
            "until": _iso(self.until) if self.until else None,
        }


def page_query(flt: AuditFilter, *, before: int | None, limit: int) -> Select[AuditEntry]:
    """Newest first from an index: (tenant, seq) walked backwards, or the subject index."""
    query = flt.apply(select(AuditEntry))
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    return query.order_by(AuditEntry.seq.desc()).limit(limit)


class AuditLog:
    """The audit log seen through one session; appends join that session's transaction."""

    def __init__(
        self, session: Session, *, clock: Clock | None = None, writable: bool = True
    ) -> None:
        self.session = session
        self._clock = clock
        self.writable = writable

    def _now(self) -> datetime:
        if self._clock is None:
            return utcnow()
        return datetime.fromtimestamp(self._clock.now(), tz=UTC)

    def append(
        self,
        action: str,
        *,
        actor: str,
        subject: str | None = None,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
        tenant: str = DEFAULT_TENANT,
    ) -> AuditEntry:
        """Add one entry after the current head; it commits or rolls back with the caller."""
        if not self.writable:
            raise StoreError(
                "audit entries are written only inside a writing unit of work",
                code="store.read_only",
            )
        text = canonical_details(details)
        head = self.session.execute(
            select(AuditHead).where(AuditHead.id == _HEAD_ID).with_for_update()
        ).scalar_one_or_none()
        if head is None:
            raise StoreError(
                "the audit chain head is missing; run the migrations (oathdesk db upgrade)",
                code="store.audit_head_missing",
            )
        seq = head.seq + 1
        at = self._now()
        digest = entry_hash(
            prev_hash=head.hash,
            seq=seq,
            at=at,
            tenant=tenant,
            actor=actor,
            action=action,
            subject=subject,
            reason=reason,
            details=text,
        )
        entry = AuditEntry(
            seq=seq,
            at=at,
            tenant=tenant,
            actor=actor,
            action=action,
            subject=subject,
            reason=reason,
            details=text,
            prev_hash=head.hash,
            hash=digest,
        )
        self.session.add(entry)
        head.seq, head.hash = seq, digest
        self.session.flush()
        return entry

    def entries(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        tenant: str | None = None,
        subject: str | None = None,
    ) -> Generator[AuditEntry, None, None]:
        """Entries in sequence order, streamed (fit for millions of rows). Exhaust the iterator
        or ``close()`` it: on PostgreSQL it holds a server-side cursor."""
        query = select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq)
        if until is not None:
            query = query.where(AuditEntry.seq <= until)
        if tenant is not None:
            query = query.where(AuditEntry.tenant == tenant)
        if subject is not None:
            query = query.where(AuditEntry.subject == subject)
        result = self.session.scalars(query.execution_options(yield_per=1000))
        try:
            yield from result
        finally:
            result.close()

    def search(
        self, flt: AuditFilter, *, before: int | None = None, limit: int = 50
    ) -> list[AuditEntry]:
        """One page of matching entries, newest first; ``before`` is the keyset cursor (the
        last ``seq`` of the previous page), so a page costs the same deep in a big log."""
        return list(self.session.scalars(page_query(flt, before=before, limit=limit)))

    def matching(self, flt: AuditFilter) -> Generator[AuditEntry, None, None]:
        """Every matching entry in sequence order, streamed (``close()`` it if not exhausted)."""
        query = flt.apply(select(AuditEntry)).order_by(AuditEntry.seq)
        result = self.session.scalars(query.execution_options(yield_per=1000))
        try:
            yield from result
        finally:
            result.close()

    def verify(self) -> ChainReport:
        """Walk the whole chain; report the first missing, altered or unlinked entry."""
        head = self.session.get(AuditHead, _HEAD_ID)
        if head is None:
            raise StoreError(
                "the audit chain head is missing; run the migrations (oathdesk db upgrade)",
                code="store.audit_head_missing",
            )
        head_seq, head_hash = head.seq, head.hash
        with closing(self.entries(until=head_seq)) as walk:
            report = self._walk(walk, head_seq, head_hash)
        if not report.ok:
            return report
        # Entries past the head we read are fine only as appends committed since: they link to it.
        query = select(AuditEntry).where(AuditEntry.seq > head_seq).order_by(AuditEntry.seq)
        beyond = self.session.execute(query.limit(1)).scalar_one_or_none()
        if beyond is not None and (beyond.seq != head_seq + 1 or beyond.prev_hash != head_hash):
            return ChainReport(
                False,
                report.checked,
                head_seq,
                head_hash,
                beyond.seq,
                "extra",
                f"audit entry {beyond.seq} lies past the chain head and does not follow it "
                "(written outside oathdesk)",
            )
        return report

    @staticmethod
    def _walk(walk: Iterator[AuditEntry], head_seq: int, head_hash: str) -> ChainReport:
        expected, prev, checked = 1, GENESIS_HASH, 0

        def broken(seq: int, problem: str, message: str) -> ChainReport:
            return ChainReport(False, checked, head_seq, head_hash, seq, problem, message)

        for entry in walk:
            if entry.seq != expected:
                return broken(expected, "missing", f"audit entry {expected} is missing (deleted)")
            if entry.prev_hash != prev:
                return broken(
                    entry.seq,
                    "unlinked",
                    f"audit entry {entry.seq} does not follow entry {entry.seq - 1} "
                    "(entries reordered, inserted or replaced)",
                )
            if _rehash(entry) != entry.hash:
                return broken(
                    entry.seq, "altered", f"audit entry {entry.seq} was edited after it was written"
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
        return ChainReport(True, checked, head_seq, head_hash)

    def export(self, *, after: int = 0, tenant: str | None = None) -> Iterator[str]:
        """JSON lines for a SIEM, one per entry, hashes included so the chain can be re-checked."""
        with closing(self.entries(after=after, tenant=tenant)) as walk:
            for entry in walk:
                yield json.dumps(export_record(entry), sort_keys=True, ensure_ascii=False)


def export_record(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": _iso(entry.at),
        "tenant": entry.tenant,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "reason": entry.reason,
        "details": entry.details_dict,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def verify_export(lines: Iterator[str] | list[str], *, prev_hash: str = GENESIS_HASH) -> int:
    """Re-check exported JSON lines offline; returns the count or raises at the first bad line."""
    count = 0
    for line in lines:
        rec = json.loads(line)
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
        )
        if rec["prev_hash"] != prev_hash or digest != rec["hash"]:
            raise AuditChainBroken(
                f"exported audit entry {rec['seq']} does not verify",
                details={"seq": rec["seq"]},
            )
        prev_hash, count = rec["hash"], count + 1
    return count
