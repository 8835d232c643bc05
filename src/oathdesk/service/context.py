"""The dependencies every use case takes: the database, the sealer, the clock, Entra, the tenant.

Why: use cases are plain functions with explicit dependencies (no globals), so the CLI, the web
app and the tests build one ``Inventory`` (see ``oathdesk.bootstrap``) and pass it in; Entra is
connected lazily so commands that never reach Graph work without Graph settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from oathdesk.domain import Clock
from oathdesk.domain.clock import SystemClock, utc_now
from oathdesk.graph.probe import ProbeResult
from oathdesk.service.errors import ServiceError
from oathdesk.service.ports import EntraPort
from oathdesk.store import DEFAULT_TENANT, Database, Sealer, UnitOfWork, current_revision

if TYPE_CHECKING:
    from oathdesk.service.notify.settings import NotifySettings


@dataclass
class Inventory:
    """One tenant's inventory and the ways to reach it."""

    db: Database
    sealer: Sealer
    clock: Clock = field(default_factory=SystemClock)
    tenant: str = DEFAULT_TENANT
    connect_entra: Callable[[], EntraPort] | None = None
    destroy_seeds_after_sync: bool = False
    audit_checkpoints: Path | None = None  # the signed heads of the audit chains, outside the db
    graph_probe: Callable[[], ProbeResult] | None = None  # is Graph reachable (/readyz)
    notify: NotifySettings | None = None  # [notify]; None or not enabled: actions notify nobody
    _entra: EntraPort | None = field(default=None, repr=False)

    def uow(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.db, tenant=self.tenant, write=write, clock=self.clock)

    def now(self) -> datetime:
        return utc_now(self.clock)

    def entra(self) -> EntraPort:
        """The Graph client, connected on first use."""
        if self._entra is None:
            if self.connect_entra is None:
                raise ServiceError(
                    "Entra is not configured: set [graph] tenant_id, client_id and client_secret "
                    "(or OATHDESK_GRAPH_* variables), or point [graph] at the emulator.",
                    code="service.entra_not_configured",
                )
            self._entra = self.connect_entra()
        return self._entra

    def check_schema(self) -> None:
        """A clear answer when the database was never migrated."""
        self.db.check()
        if current_revision(self.db) is None:
            raise ServiceError(
                "The inventory database has no tables yet; run: oathdesk db upgrade.",
                code="service.not_migrated",
            )

    def close(self) -> None:
        if self._entra is not None:
            self._entra.close()
            self._entra = None
        self.db.dispose()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
