"""The one composition root: builds the database, sealer, clock and Graph client from a Config.

Why: the CLI and the web app must run the same use cases over the same concrete pieces; the
choices (SQLite in the data folder or PostgreSQL by URL, which key file, real Entra or the
emulator) are made here from ``oathdesk.toml`` / ``OATHDESK_*`` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from oathdesk.config import Config
from oathdesk.domain import Clock, ConfigError
from oathdesk.domain.clock import SystemClock
from oathdesk.graph import GraphSettings, connect
from oathdesk.graph.probe import GraphProbe, ProbeResult
from oathdesk.service import EntraPort, Inventory
from oathdesk.service.notify.settings import NotifySettings
from oathdesk.store import (
    DEFAULT_TENANT,
    Database,
    KeyRing,
    Sealer,
    current_revision,
    default_url,
    open_audit_key,
    resolve_audit_key_file,
    resolve_key_file,
    sqlite_file,
    upgrade,
)
from oathdesk.store.engine import DB_FILE
from oathdesk.store.siem import SiemSettings, open_stream

CHECKPOINT_FILE = "audit-checkpoints.jsonl"


def database_url(config: Config) -> str:
    """``[store] url`` (``OATHDESK_STORE_URL``), else SQLite in the data folder."""
    return config.text("store", "url") or default_url(config.data_dir)


def missing_database_file(config: Config) -> Path | None:
    """The SQLite file the configuration names when it does not exist yet (else None), found
    without creating the file or its folder: commands that only read must create nothing."""
    url = config.text("store", "url")
    path = sqlite_file(url) if url else config.data_dir / DB_FILE
    return path if path is not None and not path.exists() else None


def graph_connector(config: Config, clock: Clock | None = None) -> EntraPort:
    """A Graph client for ``[graph]``: real Entra, or the emulator when ``[graph] emulator`` is
    its URL (with ``ca_file`` trusting its local CA). It keeps as many connections open as
    ``[handout] workers`` send at once (16 at least)."""
    workers = config.integer("handout", "workers", 16, maximum=256)
    return connect(GraphSettings.from_config(config), clock=clock, connections=max(16, workers))


def build_inventory(
    config: Config,
    *,
    clock: Clock | None = None,
    entra: EntraPort | None = None,
    tenant: str | None = None,
) -> Inventory:
    """Everything the inventory use cases need; Graph is connected on first use only. The one
    ``clock`` (the system's unless given) times the store, the key ring and Graph alike."""
    clock = clock or SystemClock()
    siem = SiemSettings.from_config(config)  # a bad [siem] value stops before anything opens
    notify = NotifySettings.from_config(config)  # a settings mistake stops before files open
    audit_key_file = resolve_audit_key_file(
        config.path("store", "audit_key_file"), data_dir=config.data_dir
    )
    db = Database(database_url(config))
    try:
        db.audit_key = open_audit_key(audit_key_file, db)
        db.audit_stream = open_stream(siem)
    except BaseException:
        db.dispose()
        raise
    key_file = resolve_key_file(config.path("store", "key_file"), data_dir=config.data_dir)
    sealer = Sealer(KeyRing.load_or_create(key_file, clock=clock))
    inv = Inventory(
        db=db,
        sealer=sealer,
        clock=clock,
        tenant=tenant or config.text("store", "tenant", DEFAULT_TENANT),
        connect_entra=(
            (lambda: entra) if entra is not None else (lambda: graph_connector(config, clock))
        ),
        destroy_seeds_after_sync=config.boolean("store", "destroy_seeds_after_sync", False),
        audit_checkpoints=checkpoint_file(config),
        graph_probe=graph_probe(config, clock),
        notify=notify,
    )
    return inv


def graph_probe(config: Config, clock: Clock) -> Callable[[], ProbeResult] | None:
    """The readiness probe's reachability check of Graph, or None when Graph is not set up
    (a console used without Entra is still ready)."""
    try:
        settings = GraphSettings.from_config(config)
    except ConfigError:
        return None
    return GraphProbe(settings, clock=clock).check


def checkpoint_file(config: Config) -> Path:
    """``[store] audit_checkpoint_file``, else ``<data>/audit/audit-checkpoints.jsonl``."""
    return config.path(
        "store", "audit_checkpoint_file", config.data_dir / "audit" / CHECKPOINT_FILE
    )


def upgrade_database(config: Config) -> tuple[str | None, str | None, str]:
    """Run the migrations; returns (revision before, revision after, URL without password).
    The one command that creates an inventory: a SQLite file's missing folder is made too."""
    missing = missing_database_file(config)
    if missing is not None:
        missing.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(database_url(config))
    try:
        db.check()
        before = current_revision(db)
        upgrade(db)
        return before, current_revision(db), repr(db)
    finally:
        db.dispose()
