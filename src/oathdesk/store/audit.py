"""The append-only, hash-chained audit logs: append in the caller's transaction, search, verify,
export. One implementation serves every chain: the inventory's (``audit_entries``) and the
delivery service's (``delivery_audit``); the hashing itself is in ``store.chain``, the
checkpoints that anchor a head outside the database in ``store.checkpoint``.

Why: audits need proof that nobody edited history (see ``store.chain``), and two chains written
by two pieces of code would drift apart. Appends lock the chain's single head row (``FOR
UPDATE`` on PostgreSQL; on SQLite the write transaction's ``BEGIN IMMEDIATE`` already serializes
writers), so two writers can never fork a chain; the database refuses to change or remove an
entry (triggers from migrations ``0002`` and ``0006``). Appends and verification need the audit
key (``store.audit_key``), which only the process holds, never the database.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from oathdesk.domain import Clock
from oathdesk.store import checkpoint as checkpoints
from oathdesk.store.audit_key import AUDIT_KEY_ENV, AuditKey, missing_key
from oathdesk.store.chain import (
    ChainReport,
    beyond_head,
    canonical_details,
    entry_hash,
    export_record,
    iso,
    verify_export,
    walk,
)
from oathdesk.store.checkpoint import Checkpoint
from oathdesk.store.delivery_models import DELIVERY_TENANT, DeliveryAuditEntry, DeliveryAuditHead
from oathdesk.store.engine import Database
from oathdesk.store.errors import AuditKeyError, StoreError
from oathdesk.store.models import (
    DEFAULT_TENANT,
    GENESIS_HASH,
    AuditEntry,
    AuditHead,
    AuditRecord,
    ChainHead,
)

__all__ = [
    "DELIVERY",
    "INVENTORY",
    "AuditFilter",
    "AuditLog",
    "Chain",
    "ChainReport",
    "Checkpoint",
    "canonical_details",
    "entry_hash",
    "export_record",
    "open_audit_key",
    "page_query",
    "verify_export",
]

_HEAD_ID = 1


@dataclass(frozen=True, slots=True)
class Chain:
    """One hash-chained log: its entry table, its head row and the tenant entries default to."""

    name: str
    entry: type[AuditRecord]
    head: type[ChainHead]
    tenant: str


INVENTORY = Chain("inventory", AuditEntry, AuditHead, DEFAULT_TENANT)
DELIVERY = Chain("delivery", DeliveryAuditEntry, DeliveryAuditHead, DELIVERY_TENANT)


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

    def apply(self, query: Select[Any], entry: type[AuditRecord] = AuditEntry) -> Select[Any]:
        if self.tenant is not None and self.subject:
            # ``tenant || ''`` keeps the (tenant, seq) index out, so the planner takes the
            # subject index: a serial has a few entries, a big log has millions
            query = query.where((entry.tenant + "") == self.tenant)
        elif self.tenant is not None:
            query = query.where(entry.tenant == self.tenant)
        if self.actor:
            query = query.where(entry.actor == self.actor)
        if self.action:
            query = query.where(entry.action.startswith(self.action, autoescape=True))
        if self.subject:
            query = query.where(entry.subject == self.subject)
        if self.since is not None:
            query = query.where(entry.at >= self.since)
        if self.until is not None:
            query = query.where(entry.at <= self.until)
        return query

    def to_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "since": iso(self.since) if self.since else None,
            "until": iso(self.until) if self.until else None,
        }


def page_query(
    flt: AuditFilter, *, before: int | None, limit: int, entry: type[AuditRecord] = AuditEntry
) -> Select[Any]:
    """Newest first from an index: (tenant, seq) walked backwards, or the subject index."""
    query = flt.apply(select(entry), entry)
    if before is not None:
        query = query.where(entry.seq < before)
    return query.order_by(entry.seq.desc()).limit(limit)


class AuditLog:
    """One chain seen through one session; appends join that session's transaction and take
    their time from the injected clock; ``key`` (the audit key) keys their hashes."""

    def __init__(
        self,
        session: Session,
        *,
        clock: Clock,
        writable: bool = True,
        chain: Chain = INVENTORY,
        key: AuditKey | None = None,
    ) -> None:
        self.session = session
        self.chain = chain
        self._clock = clock
        self.writable = writable
        self._key = key
        # (chain, exported entry) of each append, for the SIEM stream once the unit commits
        self.appended: list[tuple[str, dict[str, Any]]] = []

    def _head(self, *, lock: bool) -> ChainHead:
        query = select(self.chain.head).where(self.chain.head.id == _HEAD_ID)
        head = self.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
        if head is None:
            raise StoreError(
                f"The {self.chain.name} audit chain head is missing; run the migrations "
                "(oathdesk db upgrade).",
                code="store.audit_head_missing",
            )
        return head

    def append(
        self,
        action: str,
        *,
        actor: str,
        subject: str | None = None,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
        tenant: str | None = None,
    ) -> AuditRecord:
        """Add one entry after the current head; it commits or rolls back with the caller."""
        if not self.writable:
            raise StoreError(
                "Audit entries are written only inside a writing unit of work.",
                code="store.read_only",
            )
        text = canonical_details(details)
        head = self._head(lock=True)
        if self._key is None and head.seq + 1 >= head.keyed_from:
            raise missing_key(f"writing to the {self.chain.name} audit log")
        content: dict[str, Any] = {
            "seq": head.seq + 1,
            "at": datetime.fromtimestamp(self._clock.now(), tz=UTC),
            "tenant": tenant or self.chain.tenant,
            "actor": actor[:200],
            "action": action,
            "subject": subject[:200] if subject is not None else None,
            "reason": reason,
            "details": text,
        }
        keyed = content["seq"] >= head.keyed_from
        digest = entry_hash(prev_hash=head.hash, key=self._key if keyed else None, **content)
        entry = self.chain.entry(**content, prev_hash=head.hash, hash=digest)
        self.session.add(entry)
        head.seq, head.hash = content["seq"], digest
        self.session.flush()
        self.appended.append((self.chain.name, export_record(entry)))
        return entry

    def entries(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        tenant: str | None = None,
        subject: str | None = None,
    ) -> Generator[AuditRecord, None, None]:
        """Entries in sequence order, streamed (fit for millions of rows). Exhaust the iterator
        or ``close()`` it: on PostgreSQL it holds a server-side cursor."""
        entry = self.chain.entry
        query = select(entry).where(entry.seq > after).order_by(entry.seq)
        if until is not None:
            query = query.where(entry.seq <= until)
        if tenant is not None:
            query = query.where(entry.tenant == tenant)
        if subject is not None:
            query = query.where(entry.subject == subject)
        yield from self._stream(query)

    def _stream(self, query: Select[Any]) -> Generator[AuditRecord, None, None]:
        result = self.session.scalars(query.execution_options(yield_per=1000))
        try:
            yield from result
        finally:
            result.close()

    def search(
        self, flt: AuditFilter, *, before: int | None = None, limit: int = 50
    ) -> list[AuditRecord]:
        """One page of matching entries, newest first; ``before`` is the keyset cursor (the
        last ``seq`` of the previous page), so a page costs the same deep in a big log."""
        query = page_query(flt, before=before, limit=limit, entry=self.chain.entry)
        return list(self.session.scalars(query))

    def matching(self, flt: AuditFilter) -> Generator[AuditRecord, None, None]:
        """Every matching entry in sequence order, streamed (``close()`` it if not exhausted)."""
        entry = self.chain.entry
        yield from self._stream(flt.apply(select(entry), entry).order_by(entry.seq))

    def verify(self, anchor: Checkpoint | None = None) -> ChainReport:
        """Walk the whole chain; report the first missing, altered or unlinked entry, and, given
        a checkpoint, a head moved back below it or an entry up to it rewritten. Appends
        committed while it walks (past the head it read first) are not mistaken for tampering."""
        head = self._head(lock=False)
        head_seq, head_hash, keyed_from = head.seq, head.hash, head.keyed_from
        with closing(self.entries(until=head_seq)) as entries:
            report = walk(entries, head_seq, head_hash, keyed_from=keyed_from, key=self._key)
        if report.ok:
            entry = self.chain.entry
            query = select(entry).where(entry.seq > head_seq).order_by(entry.seq).limit(1)
            report = beyond_head(self.session.execute(query).scalar_one_or_none(), report)
        if anchor is None:
            return report
        return checkpoints.against(report, anchor, self._hash_at(anchor.seq))

    def _hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return GENESIS_HASH
        entry = self.chain.entry
        found = self.session.execute(select(entry.hash).where(entry.seq == seq))
        return found.scalar_one_or_none()

    def checkpoint(self, previous: Checkpoint | None = None) -> tuple[ChainReport, Checkpoint]:
        """Verify the chain (against ``previous``, the last checkpoint) and, if it holds, the
        head to anchor outside the database; a broken chain raises instead of being anchored."""
        if self._key is None:
            raise missing_key(f"a checkpoint of the {self.chain.name} audit chain")
        report = self.verify(previous)
        report.raise_if_broken()
        made = Checkpoint(
            chain=self.chain.name,
            seq=report.head_seq,
            hash=report.head_hash,
            keyed_from=report.keyed_from,
            at=iso(datetime.fromtimestamp(self._clock.now(), tz=UTC)),
            key_id=self._key.key_id,
        )
        return report, made

    def export(self, *, after: int = 0, tenant: str | None = None) -> Iterator[str]:
        """JSON lines for a SIEM, one per entry, hashes included so the chain can be re-checked."""
        with closing(self.entries(after=after, tenant=tenant)) as entries:
            for entry in entries:
                yield json.dumps(export_record(entry), sort_keys=True, ensure_ascii=False)


def open_audit_key(path: Path, db: Database) -> AuditKey | None:
    """The audit key from its file; made (owner-only) only while no chain of ``db`` holds a keyed
    entry. A lost key file is ``store.audit_key_missing``, never silently replaced by a new key
    that would break the chain; a database not yet migrated (or unreachable) gets no key now."""
    if path.exists():
        return AuditKey.load(path)
    try:
        with db.engine.connect() as conn:
            keyed = any(
                conn.execute(select(c.head.seq >= c.head.keyed_from)).scalar()
                for c in (INVENTORY, DELIVERY)
            )
    except SQLAlchemyError:
        return None
    if keyed:
        raise AuditKeyError(
            f"{path}: audit key file not found, but the audit chains hold entries keyed with "
            f"it; restore it from your backup or point {AUDIT_KEY_ENV} at it.",
            code="store.audit_key_missing",
        )
    return AuditKey.load_or_create(path)
