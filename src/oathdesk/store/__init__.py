"""The inventory store: models, migrations, sealed seeds, the audit chain, repositories.

SQLite by default (a file in the data folder), PostgreSQL by URL. See docs/store.md.
"""

from oathdesk.store.accounts import Account, AccountRepository, WebSession
from oathdesk.store.audit import (
    DELIVERY,
    INVENTORY,
    AuditLog,
    Chain,
    ChainReport,
    open_audit_key,
    verify_export,
)
from oathdesk.store.audit_key import AUDIT_KEY_ENV, AuditKey, resolve_audit_key_file
from oathdesk.store.checkpoint import Checkpoint
from oathdesk.store.delivery_models import (
    DELIVERY_TENANT,
    Customer,
    DeliveryAuditEntry,
    DeliveryAuditHead,
    DeliveryFile,
    DeliveryRequest,
    Order,
    Shipment,
    ShipmentToken,
    Visit,
)
from oathdesk.store.delivery_orders import OrderRepository, ShipmentSummary
from oathdesk.store.delivery_requests import RequestRepository
from oathdesk.store.delivery_states import REQUEST_MOVES, RequestState, can_move_request
from oathdesk.store.engine import (
    Database,
    current_revision,
    default_url,
    downgrade,
    make_engine,
    sqlite_file,
    upgrade,
)
from oathdesk.store.errors import (
    AuditChainBroken,
    AuditKeyError,
    CheckpointError,
    InventoryError,
    KeyFileError,
    NotFound,
    SealError,
    SerialConflict,
    StateConflict,
    StoreError,
)
from oathdesk.store.held_uploads import HeldUploadRepository, HeldUploadRow
from oathdesk.store.import_jobs import ImportJobRepository, ImportJobRow
from oathdesk.store.jobs import BatchRepository, JobRepository
from oathdesk.store.keys import RotationReport, key_usage, reseal_all, retire_key, rotate
from oathdesk.store.listing import Page, TokenFilter
from oathdesk.store.models import DEFAULT_TENANT, AuditEntry, Batch, Job, JobItem, Token
from oathdesk.store.outbox import OutboxRepository, OutboxRow
from oathdesk.store.sealing import (
    KEY_FILE_ENV,
    KeyRing,
    SealedValue,
    Sealer,
    resolve_key_file,
)
from oathdesk.store.states import TRANSITIONS, TokenState, can_move
from oathdesk.store.throttle import Counted, FailureCount, FailureThrottle, retry_after
from oathdesk.store.tokens import ImportResult, NewBatch, TokenRepository
from oathdesk.store.uow import UnitOfWork

__all__ = [
    "AUDIT_KEY_ENV",
    "DEFAULT_TENANT",
    "DELIVERY",
    "DELIVERY_TENANT",
    "INVENTORY",
    "KEY_FILE_ENV",
    "REQUEST_MOVES",
    "TRANSITIONS",
    "Account",
    "AccountRepository",
    "AuditChainBroken",
    "AuditEntry",
    "AuditKey",
    "AuditKeyError",
    "AuditLog",
    "Batch",
    "BatchRepository",
    "Chain",
    "ChainReport",
    "Checkpoint",
    "CheckpointError",
    "Counted",
    "Customer",
    "Database",
    "DeliveryAuditEntry",
    "DeliveryAuditHead",
    "DeliveryFile",
    "DeliveryRequest",
    "FailureCount",
    "FailureThrottle",
    "HeldUploadRepository",
    "HeldUploadRow",
    "ImportJobRepository",
    "ImportJobRow",
    "ImportResult",
    "InventoryError",
    "Job",
    "JobItem",
    "JobRepository",
    "KeyFileError",
    "KeyRing",
    "NewBatch",
    "NotFound",
    "Order",
    "OrderRepository",
    "OutboxRepository",
    "OutboxRow",
    "Page",
    "RequestRepository",
    "RequestState",
    "RotationReport",
    "SealError",
    "SealedValue",
    "Sealer",
    "SerialConflict",
    "Shipment",
    "ShipmentSummary",
    "ShipmentToken",
    "StateConflict",
    "StoreError",
    "Token",
    "TokenFilter",
    "TokenRepository",
    "TokenState",
    "UnitOfWork",
    "Visit",
    "WebSession",
    "can_move",
    "can_move_request",
    "current_revision",
    "default_url",
    "downgrade",
    "key_usage",
    "make_engine",
    "open_audit_key",
    "reseal_all",
    "resolve_audit_key_file",
    "resolve_key_file",
    "retire_key",
    "retry_after",
    "rotate",
    "sqlite_file",
    "upgrade",
    "verify_export",
]
