"""Uploads held between their preview and their confirm, each for one session, for a while.

Why: an administrator sees the validation report before anything is kept, so the validated
bytes (and the password that opens them) wait under an unguessable key until the confirm. They
wait in the database (``store.HeldUploadRepository``), so the confirm may reach any server
process: the bytes and the password **sealed** with the inventory's key ring (bound to the row
and to their purpose), the key and the session only as SHA-256 hashes. Time comes from the
inventory's ``Clock``, so expiry is tested without sleeping; the interface is four calls (put,
get, take, purge).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from oathdesk.domain import OathdeskError, Secret
from oathdesk.service.context import Inventory
from oathdesk.service.importing import content_digest
from oathdesk.store import HeldUploadRow, SealedValue

HOLD_SECONDS = 15 * 60  # how long an upload waits for its confirm
MAX_HELD = 64 * 1024 * 1024  # every upload waiting for a confirm, together


class ImportRefused(OathdeskError):
    """An upload or job the import cannot use as sent (expired, too many waiting, ...)."""

    code = "import.invalid"


@dataclass(frozen=True)
class HeldUpload:
    """One validated upload and what opens it again; its repr shows no byte and no password."""

    owner: str = field(repr=False)  # the session that uploaded it; only it may confirm
    name: str
    data: bytes = field(repr=False)
    fmt: str | None
    password: Secret | None = field(repr=False)
    use_pgp: bool
    member: str | None = None  # the seed file inside a ZIP holding several


@dataclass(frozen=True)
class EarlierImport:
    """The batch an identical file made: importing the file again would add nothing."""

    batch_id: int
    file_name: str
    imported_at: datetime
    actor: str
    tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "file_name": self.file_name,
            "imported_at": self.imported_at.isoformat(),
            "actor": self.actor,
            "tokens": self.tokens,
        }


def earlier_import(inv: Inventory, data: bytes) -> EarlierImport | None:
    """The batch whose file had exactly these bytes (its recorded SHA-256), or None. The digest
    is the one ``import_seeds`` records, so this says what a confirm would find."""
    with inv.uow(write=False) as uow:
        batch = uow.batches.find_by_hash(content_digest(data))
        if batch is None:
            return None
        return EarlierImport(
            batch.id, batch.file_name, batch.created_at, batch.actor, batch.token_count
        )


def _digest(value: str) -> str:
    """SHA-256 of any string a form may carry (lone surrogates too), so no key is refused."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _expired() -> ImportRefused:
    return ImportRefused(
        "This upload has expired or was already imported; upload the file again.",
        code="import.upload_expired",
    )


class ImportDesk:
    """Held uploads of one inventory's database, each until ``hold_seconds`` after its put."""

    def __init__(
        self, inv: Inventory, *, hold_seconds: float = HOLD_SECONDS, max_bytes: int = MAX_HELD
    ) -> None:
        self.inv = inv
        self.hold_seconds = hold_seconds
        self.max_bytes = max_bytes

    def put(self, upload: HeldUpload) -> str:
        """Hold ``upload``; its new unguessable key. Refused when the waiting bytes would pass
        ``max_bytes`` (expired uploads are dropped first; puts are serialised, so two at the
        same moment in two processes cannot both pass the cap)."""
        key = secrets.token_urlsafe(32)
        key_hash = _digest(key)
        sealer, tenant = self.inv.sealer, self.inv.tenant
        with self.inv.uow() as uow:
            now = self.inv.now()
            uow.held_uploads.lock()
            uow.held_uploads.purge(now)
            if uow.held_uploads.waiting_bytes() + len(upload.data) > self.max_bytes:
                raise ImportRefused(
                    "Too many uploads are waiting for a confirm; confirm or wait a few minutes.",
                    code="import.busy",
                )
            data = sealer.seal(Secret(upload.data), serial=_aad(key_hash, "file"), tenant=tenant)
            password = (
                sealer.seal(upload.password, serial=_aad(key_hash, "password"), tenant=tenant)
                if upload.password is not None
                else None
            )
            uow.held_uploads.add(
                HeldUploadRow(
                    key_hash=key_hash,
                    tenant=tenant,
                    owner_hash=_digest(upload.owner),
                    name=upload.name[:255],  # the column's width; a name is rarely longer
                    fmt=upload.fmt,
                    use_pgp=upload.use_pgp,
                    member=upload.member,
                    size=len(upload.data),
                    data_key_id=data.key_id,
                    sealed_data=data.blob,
                    password_key_id=password.key_id if password else None,
                    sealed_password=password.blob if password else None,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self.hold_seconds),
                )
            )
        return key

    def get(self, key: str, owner: str) -> HeldUpload:
        """The upload held under ``key`` for ``owner``; expired, unknown and foreign alike are
        ``import.upload_expired`` (a key cannot be probed)."""
        key_hash = _digest(key)
        with self.inv.uow(write=False) as uow:
            row = uow.held_uploads.get(key_hash)
            if row is None or not self._mine(row, owner) or row.expires_at < self.inv.now():
                raise _expired()
            return self._open(row, owner)

    def take(self, key: str, owner: str) -> HeldUpload | None:
        """Remove the upload held under ``key`` for ``owner``; it, or ``None`` if it is gone or
        expired (of two takes at the same moment, in any processes, exactly one gets it).
        Expired uploads of anyone are dropped on the way."""
        key_hash = _digest(key)
        with self.inv.uow() as uow:
            uow.held_uploads.purge(self.inv.now())
            row = uow.held_uploads.get(key_hash, lock=True)
            if row is None or not self._mine(row, owner):
                return None
            taken = self._open(row, owner)
            return taken if uow.held_uploads.remove(key_hash, row.owner_hash) else None

    def purge(self) -> int:
        """Drop every expired upload; how many were dropped."""
        with self.inv.uow() as uow:
            return uow.held_uploads.purge(self.inv.now())

    def _mine(self, row: HeldUploadRow, owner: str) -> bool:
        return row.tenant == self.inv.tenant and secrets.compare_digest(
            row.owner_hash, _digest(owner)
        )

    def _open(self, row: HeldUploadRow, owner: str) -> HeldUpload:
        sealer, tenant = self.inv.sealer, self.inv.tenant
        data = sealer.open(
            SealedValue(row.data_key_id, row.sealed_data),
            serial=_aad(row.key_hash, "file"),
            tenant=tenant,
        )
        password = None
        if row.sealed_password is not None and row.password_key_id is not None:
            password = sealer.open(
                SealedValue(row.password_key_id, row.sealed_password),
                serial=_aad(row.key_hash, "password"),
                tenant=tenant,
            )
        return HeldUpload(
            owner, row.name, data.reveal(), row.fmt, password, row.use_pgp, row.member
        )


def _aad(key_hash: str, purpose: str) -> str:
    """What a sealed value is bound to (in the place of a token's serial): its row and its
    purpose, so a value copied onto another row, or the password swapped with the file, fails."""
    return f"held-upload:{key_hash}:{purpose}"
