"""Key rotation over the database: re-seal every seed under the newest key, then retire old keys.

Why: a key that may have leaked must stop protecting anything. Rotation first saves the new key
to the key file (so no value is ever sealed with a key that is not on disk), then re-seals in
small transactions (a crash loses nothing; running it again finishes the job), audits each batch,
and reports counts. An old key is retired only once no value needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from oathdesk.domain import Clock
from oathdesk.store.engine import Database
from oathdesk.store.errors import KeyFileError, SealError
from oathdesk.store.models import Token
from oathdesk.store.sealing import KeyRing, SealedValue, Sealer
from oathdesk.store.uow import UnitOfWork


@dataclass(slots=True)
class RotationReport:
    key_id: str
    resealed: int = 0
    by_old_key: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # serials whose seed would not open

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "resealed": self.resealed,
            "by_old_key": dict(self.by_old_key),
            "failed": list(self.failed),
        }


def key_usage(db: Database) -> dict[str, int]:
    """How many sealed seeds each key id protects, over every tenant."""
    with UnitOfWork(db, write=False) as uow:
        query = (
            select(Token.key_id, func.count())
            .where(Token.key_id.is_not(None))
            .group_by(Token.key_id)
        )
        return {str(k): int(n) for k, n in uow.session.execute(query)}


def reseal_all(
    db: Database,
    sealer: Sealer,
    *,
    actor: str,
    batch_size: int = 500,
    clock: Clock | None = None,
) -> RotationReport:
    """Re-seal every seed not sealed with the ring's newest key, ``batch_size`` per transaction."""
    current = sealer.ring.current_id
    report = RotationReport(current)
    after = 0
    while True:
        with UnitOfWork(db, clock=clock) as uow:
            query = (
                select(Token)
                .where(Token.id > after, Token.key_id.is_not(None), Token.key_id != current)
                .order_by(Token.id)
                .limit(batch_size)
                .with_for_update()
            )
            rows = list(uow.session.scalars(query))
            if not rows:
                return report
            moved: dict[str, int] = {}
            for token in rows:
                after = token.id
                assert token.key_id is not None and token.sealed_secret is not None
                old = SealedValue(token.key_id, token.sealed_secret)
                try:
                    secret = sealer.open(old, serial=token.serial, tenant=token.tenant)
                except SealError:
                    report.failed.append(token.serial)
                    continue
                new = sealer.seal(secret, serial=token.serial, tenant=token.tenant)
                token.sealed_secret, token.key_id = new.blob, new.key_id
                moved[old.key_id] = moved.get(old.key_id, 0) + 1
            count = sum(moved.values())
            if count:
                uow.audit.append(
                    "keys.reseal",
                    actor=actor,
                    details={"to_key": current, "from_keys": moved, "count": count},
                )
            report.resealed += count
            for key_id, n in moved.items():
                report.by_old_key[key_id] = report.by_old_key.get(key_id, 0) + n


def rotate(
    db: Database,
    ring: KeyRing,
    *,
    actor: str,
    batch_size: int = 500,
    clock: Clock | None = None,
) -> RotationReport:
    """Add a new key to the ring, save the key file, then re-seal everything under it."""
    if ring.path is None:
        raise KeyFileError("The key ring has no file to save the new key in.")
    ring.add_key(clock=clock)
    ring.save()
    with UnitOfWork(db, clock=clock) as uow:
        uow.audit.append("keys.rotate", actor=actor, details={"new_key": ring.current_id})
    return reseal_all(db, Sealer(ring), actor=actor, batch_size=batch_size, clock=clock)


def retire_key(
    db: Database, ring: KeyRing, key_id: str, *, actor: str, clock: Clock | None = None
) -> None:
    """Remove ``key_id`` from the ring and its file, refused while any seed still uses it."""
    in_use = key_usage(db).get(key_id, 0)
    if in_use:
        raise KeyFileError(
            f"Key {key_id} still seals {in_use} seed(s); run the rotation to re-seal them first.",
            code="store.key_in_use",
            details={"key_id": key_id, "count": in_use},
        )
    ring.retire(key_id)
    ring.save()
    with UnitOfWork(db, clock=clock) as uow:
        uow.audit.append("keys.retire", actor=actor, details={"key_id": key_id})
