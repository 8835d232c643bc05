"""What every delivery use case takes: the inventory (database, sealer, clock, accounts) and the
delivery settings; plus the transaction helper and the delivery audit chain.

Why one object: use cases stay plain functions with explicit dependencies, so the CLI, the
delivery web app and the tests build one :class:`Delivery` and pass it in (no module state).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from oathdesk.delivery.models import DeliveryAuditEntry, DeliveryAuditHead, create_schema
from oathdesk.delivery.settings import DeliverySettings
from oathdesk.domain import OathdeskError
from oathdesk.service import Inventory
from oathdesk.store.audit import canonical_details, entry_hash
from oathdesk.store.models import GENESIS_HASH

SEAL_TENANT = "delivery"


class DeliveryError(OathdeskError):
    """A delivery step cannot be done as asked (``delivery.*``)."""

    code = "delivery.error"


@dataclass
class Delivery:
    """The delivery service over one database: the inventory's pieces plus its own settings."""

    inv: Inventory
    settings: DeliverySettings

    def now(self) -> datetime:
        return self.inv.now()

    def create_schema(self) -> None:
        create_schema(self.inv.db.engine)
        self.settings.storage_dir.mkdir(parents=True, mode=0o700, exist_ok=True)

    @contextmanager
    def tx(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: commits on success, rolls back on error (SQLite write lock first)."""
        session = self.inv.db.session(write=write)
        try:
            session.begin()
            session.connection()
            yield session
            if write:
                session.commit()
        except OperationalError as exc:
            session.rollback()
            raise DeliveryError(
                "the database stayed busy; try again in a moment", code="store.busy"
            ) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def audit(
        self,
        session: Session,
        action: str,
        *,
        actor: str,
        subject: str | None = None,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> DeliveryAuditEntry:
        """Append one entry to the delivery audit chain inside ``session``'s transaction."""
        text = canonical_details(details)
        head = session.execute(
            select(DeliveryAuditHead).where(DeliveryAuditHead.id == 1).with_for_update()
        ).scalar_one()
        seq, at = head.seq + 1, self.now()
        digest = entry_hash(
            prev_hash=head.hash,
            seq=seq,
            at=at,
            tenant=SEAL_TENANT,
            actor=actor[:200],
            action=action,
            subject=subject,
            reason=reason,
            details=text,
        )
        entry = DeliveryAuditEntry(
            seq=seq,
            at=at,
            actor=actor[:200],
            action=action,
            subject=subject,
            reason=reason,
            details=text,
            prev_hash=head.hash,
            hash=digest,
        )
        session.add(entry)
        head.seq, head.hash = seq, digest
        session.flush()
        return entry


def verify_audit(dl: Delivery) -> tuple[bool, int]:
    """Walk the delivery audit chain: (intact, entries checked)."""
    with dl.tx(write=False) as session:
        prev, checked = GENESIS_HASH, 0
        for entry in session.scalars(select(DeliveryAuditEntry).order_by(DeliveryAuditEntry.seq)):
            digest = entry_hash(
                prev_hash=prev,
                seq=entry.seq,
                at=entry.at.astimezone(UTC),
                tenant=SEAL_TENANT,
                actor=entry.actor,
                action=entry.action,
                subject=entry.subject,
                reason=entry.reason,
                details=entry.details,
            )
            if entry.prev_hash != prev or entry.hash != digest or entry.seq != checked + 1:
                return False, checked
            prev, checked = digest, checked + 1
        head = session.get(DeliveryAuditHead, 1)
        return head is not None and head.hash == prev and head.seq == checked, checked


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
