"""The inventory store: models, migrations, sealed seeds, the audit chain, repositories.

SQLite by default (a file in the data folder), PostgreSQL by URL. See docs/store.md.
"""

from oathdesk.store.accounts import Account, AccountRepository, SigninThrottle, WebSession
from oathdesk.store.audit import AuditLog, ChainReport, verify_export
from oathdesk.store.engine import (
    Database,
    current_revision,
    default_url,
    downgrade,
    make_engine,
    upgrade,
)
from oathdesk.store.errors import (
    AuditChainBroken,
    InventoryError,
    KeyFileError,
    NotFound,
    SealError,
    SerialConflict,
    StateConflict,
    StoreError,
)
from oathdesk.store.jobs import BatchRepository, JobRepository
from oathdesk.store.keys import RotationReport, key_usage, reseal_all, retire_key, rotate
from oathdesk.store.listing import Page, TokenFilter
from oathdesk.store.models import DEFAULT_TENANT, AuditEntry, Batch, Job, JobItem, Token
from oathdesk.store.sealing import (
    KEY_FILE_ENV,
    KeyRing,
    SealedValue,
    Sealer,
    resolve_key_file,
)
from oathdesk.store.states import TRANSITIONS, TokenState, can_move
from oathdesk.store.tokens import ImportResult, NewBatch, TokenRepository
from oathdesk.store.uow import UnitOfWork

__all__ = [
    "DEFAULT_TENANT",
    "KEY_FILE_ENV",
    "TRANSITIONS",
    "Account",
    "AccountRepository",
    "AuditChainBroken",
    "AuditEntry",
    "AuditLog",
    "Batch",
    "BatchRepository",
    "ChainReport",
    "Database",
    "ImportResult",
    "InventoryError",
    "Job",
    "JobItem",
    "JobRepository",
    "KeyFileError",
    "KeyRing",
    "NewBatch",
    "NotFound",
    "Page",
    "RotationReport",
    "SealError",
    "SealedValue",
    "Sealer",
    "SerialConflict",
    "SigninThrottle",
    "StateConflict",
    "StoreError",
    "Token",
    "TokenFilter",
    "TokenRepository",
    "TokenState",
    "UnitOfWork",
    "WebSession",
    "can_move",
    "current_revision",
    "default_url",
    "downgrade",
    "key_usage",
    "make_engine",
    "reseal_all",
    "resolve_key_file",
    "retire_key",
    "rotate",
    "upgrade",
    "verify_export",
]
