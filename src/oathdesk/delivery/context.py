"""What every delivery use case takes: the inventory (database, sealer, clock, accounts) and the
delivery settings; the store's unit of work does the rest (repositories, audit chain).

Why one object: use cases stay plain functions with explicit dependencies, so the CLI, the
delivery web app and the tests build one :class:`Delivery` and pass it in (no module state).
Time comes only from the inventory's clock, so tests move it instead of waiting.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from oathdesk import service
from oathdesk.delivery.settings import DeliverySettings
from oathdesk.domain import OathdeskError
from oathdesk.service import Inventory
from oathdesk.store import DELIVERY, ChainReport, Checkpoint, UnitOfWork


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

    def uow(self, *, write: bool = True) -> UnitOfWork:
        """One transaction over the store (``uow.delivery_orders``, ``uow.delivery_requests``,
        ``uow.delivery_audit``, ``uow.throttle``), on the inventory's clock."""
        return self.inv.uow(write=write)

    def prepare(self) -> None:
        """Refuse a database without the delivery tables (``oathdesk db upgrade`` makes them)."""
        with self.uow(write=False) as uow:
            ready = uow.delivery_orders.schema_ready()
        if not ready:
            raise DeliveryError(
                "The database has no delivery tables yet; run: oathdesk db upgrade.",
                code="service.not_migrated",
            )


def verify_audit(dl: Delivery) -> ChainReport:
    """Walk the delivery audit chain against its latest checkpoint: the first missing, altered
    or unlinked entry, a head moved back below the checkpoint, or ok."""
    return service.verify_audit(dl.inv, chain=DELIVERY)


def checkpoint_audit(dl: Delivery, *, syslog: bool = False) -> tuple[ChainReport, Checkpoint, Path]:
    """Verify the delivery chain and append its signed head to the checkpoint file."""
    return service.checkpoint_audit(dl.inv, chain=DELIVERY, syslog=syslog)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
