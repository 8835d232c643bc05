"""Typed failures of the inventory store, each with a stable code and a message a person can act on.

Why: the service and the CLI map codes to answers and exit statuses; nothing here ever carries a
seed, a key or a sealed value, only serials, key ids and paths.

    StoreError                   store.*
    ├── KeyFileError             store.key_file_* (missing, unreadable, too open, malformed)
    ├── SealError                store.seal_invalid / store.key_unknown / store.seed_destroyed
    ├── AuditChainBroken         store.audit_broken
    ├── AuditKeyError            store.audit_key_* (missing, unreadable, too open, malformed)
    └── CheckpointError          store.checkpoint_invalid (an edited or foreign checkpoint)
    InventoryError               inventory.*
    ├── NotFound                 inventory.not_found
    ├── SerialConflict           inventory.serial_conflict (carries the serials)
    └── StateConflict            inventory.state_conflict / inventory.concurrent_change /
                                 delivery.state_conflict (a delivery request's refused move)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from oathdesk.domain import OathdeskError


class StoreError(OathdeskError):
    """The database, the key ring or the audit log cannot do what was asked."""

    code = "store.error"


class KeyFileError(StoreError):
    """The sealing key file is missing, unreadable, too widely readable or malformed."""

    code = "store.key_file_invalid"


class SealError(StoreError):
    """A sealed seed cannot be opened (wrong key, altered or moved data, unknown key id)."""

    code = "store.seal_invalid"


class AuditChainBroken(StoreError):
    """The audit chain does not verify; ``details['seq']`` is the first bad sequence number."""

    code = "store.audit_broken"


class AuditKeyError(StoreError):
    """The audit key is missing or cannot be used."""

    code = "store.audit_key_missing"


class CheckpointError(StoreError):
    """A checkpoint file does not verify under the audit key (edited, or another key's)."""

    code = "store.checkpoint_invalid"


class InventoryError(OathdeskError):
    """A request about tokens does not fit the inventory as it is."""

    code = "inventory.error"


class NotFound(InventoryError):
    """No token (or batch, or job) with that key."""

    code = "inventory.not_found"


class SerialConflict(InventoryError):
    """Serials already in the inventory (or twice in one batch); nothing was written."""

    code = "inventory.serial_conflict"

    def __init__(self, message: str, serials: Sequence[str]) -> None:
        super().__init__(message, details={"serials": list(serials)})
        self.serials = list(serials)


class StateConflict(InventoryError):
    """The token is not in a state that allows the change, or someone else changed it first."""

    code = "inventory.state_conflict"

    def __init__(
        self, message: str, *, code: str | None = None, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message, code=code, details=details)
