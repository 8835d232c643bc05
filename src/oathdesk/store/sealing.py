"""Seeds sealed at rest with AES-256-GCM under keys kept outside the database, in a key ring file.

Why: a copy of the database (a backup, a stolen disk, a support dump) must not give tokens away.
The key ring is a small JSON file, created on first use owner-only (0600 in a 0700 folder) or
named by the operator (argument or ``OATHDESK_STORE_KEY_FILE``); the newest key seals, every key
opens, so rotation is "add a key, re-seal, retire the old one". Each sealed value carries its key
id, and the tenant and serial are associated data, so a value copied onto another row fails.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from oathdesk.domain import Clock, Secret, SystemClock
from oathdesk.domain.clock import utc_now
from oathdesk.store.errors import KeyFileError, SealError

KEY_FILE_ENV = "OATHDESK_STORE_KEY_FILE"
KEY_FILE_NAME = "store-keys.json"
FORMAT_VERSION = 1
_BLOB_VERSION = b"\x01"
_NONCE_BYTES = 12
_AAD_PREFIX = b"oathdesk-seed-v1"


@dataclass(frozen=True, slots=True)
class SealedValue:
    """What the database holds: the id of the key that sealed it and version|nonce|ciphertext."""

    key_id: str
    blob: bytes

    def __repr__(self) -> str:
        return f"SealedValue(key_id={self.key_id!r}, <{len(self.blob)} bytes>)"


@dataclass(frozen=True, slots=True)
class _Key:
    key_id: str
    material: bytes
    created: str

    def __repr__(self) -> str:
        return f"_Key({self.key_id!r})"


def _new_key(clock: Clock | None) -> _Key:
    return _Key(
        key_id="k" + secrets.token_hex(4),
        material=AESGCM.generate_key(bit_length=256),
        created=utc_now(clock or SystemClock()).isoformat(timespec="seconds"),
    )


def resolve_key_file(
    path: Path | str | None = None,
    *,
    data_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """The key file to use: an explicit path, then ``OATHDESK_STORE_KEY_FILE``, then the data
    folder's ``keys/store-keys.json``."""
    env = os.environ if env is None else env
    if path:
        return Path(path).expanduser()
    if env.get(KEY_FILE_ENV):
        return Path(env[KEY_FILE_ENV]).expanduser()
    if data_dir is None:
        raise KeyFileError(
            f"No key file: pass one, set {KEY_FILE_ENV}, or configure the data folder.",
            code="store.key_file_missing",
        )
    return Path(data_dir) / "keys" / KEY_FILE_NAME


class KeyRing:
    """The keys of one key file; the last one seals. Never prints key material."""

    def __init__(self, keys: list[_Key], path: Path | None = None) -> None:
        if not keys:
            raise KeyFileError("A key ring needs at least one key.", code="store.key_file_empty")
        ids = [k.key_id for k in keys]
        if len(set(ids)) != len(ids):
            raise KeyFileError("A key id appears twice in the key ring.", code="store.key_file_bad")
        self._keys = list(keys)
        self.path = path

    # -- files ----------------------------------------------------------------------------
    @classmethod
    def generate(cls, *, clock: Clock | None = None) -> KeyRing:
        return cls([_new_key(clock)])

    @classmethod
    def load(cls, path: Path | str, *, strict_permissions: bool = True) -> KeyRing:
        path = Path(path)
        try:
            info = path.stat()
        except FileNotFoundError:
            raise KeyFileError(
                f"{path}: key file not found; without it sealed seeds cannot be opened. "
                "Restore it from your backup or point OATHDESK_STORE_KEY_FILE at it.",
                code="store.key_file_missing",
            ) from None
        if strict_permissions and info.st_mode & 0o077:
            raise KeyFileError(
                f"{path}: key file is readable by others (mode {stat.filemode(info.st_mode)}); "
                f"run: chmod 600 {path}.",
                code="store.key_file_permissions",
            )
        try:
            raw = json.loads(path.read_bytes())
            keys = [
                _Key(str(k["id"]), base64.b64decode(k["key"], validate=True), str(k["created"]))
                for k in raw["keys"]
            ]
            if raw.get("version") != FORMAT_VERSION:
                raise ValueError("version")
        except OSError as exc:
            raise KeyFileError(
                f"{path}: key file cannot be read ({exc.strerror}).",
                code="store.key_file_unreadable",
            ) from None
        except (ValueError, KeyError, TypeError):
            raise KeyFileError(
                f"{path}: not an oathdesk key file (version {FORMAT_VERSION} JSON expected).",
                code="store.key_file_bad",
            ) from None
        if any(len(k.material) != 32 for k in keys):
            raise KeyFileError(
                f"{path}: every key must be 256 bits.", code="store.key_file_bad"
            ) from None
        return cls(keys, path)

    @classmethod
    def load_or_create(
        cls, path: Path | str, *, strict_permissions: bool = True, clock: Clock | None = None
    ) -> KeyRing:
        """Open the key file, or create it (0600, folder 0700) with one new key."""
        path = Path(path)
        if path.exists():
            return cls.load(path, strict_permissions=strict_permissions)
        ring = cls.generate(clock=clock)
        ring.save(path)
        return ring

    def save(self, path: Path | str | None = None) -> Path:
        """Write atomically with owner-only permissions (a new file, then a rename)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise KeyFileError("This key ring has no file yet.", code="store.key_file_missing")
        if not target.parent.exists():
            target.parent.mkdir(parents=True, mode=0o700)
        body = {
            "version": FORMAT_VERSION,
            "note": "oathdesk seed sealing keys: keep secret, back up, never put in the database",
            "keys": [
                {"id": k.key_id, "created": k.created, "key": base64.b64encode(k.material).decode()}
                for k in self._keys
            ],
        }
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(body, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.path = target
        return target

    # -- keys -----------------------------------------------------------------------------
    @property
    def current_id(self) -> str:
        return self._keys[-1].key_id

    @property
    def key_ids(self) -> list[str]:
        return [k.key_id for k in self._keys]

    def add_key(self, *, clock: Clock | None = None) -> str:
        """Add a new newest key (sealing switches to it) and return its id; call save()."""
        key = _new_key(clock)
        self._keys.append(key)
        return key.key_id

    def retire(self, key_id: str) -> None:
        """Remove an old key; values still sealed with it can no longer be opened."""
        if key_id == self.current_id:
            raise KeyFileError(
                f"Key {key_id} is the one sealing new values; rotate before retiring it.",
                code="store.key_in_use",
            )
        if key_id not in self.key_ids:
            raise KeyFileError(f"No key {key_id} in the key ring.", code="store.key_unknown")
        self._keys = [k for k in self._keys if k.key_id != key_id]

    def _material(self, key_id: str) -> bytes:
        for key in self._keys:
            if key.key_id == key_id:
                return key.material
        where = f" at {self.path}" if self.path else ""
        raise SealError(
            f"The seed was sealed with key {key_id}, which is not in the key ring{where}; "
            "restore the key file that holds it.",
            code="store.key_unknown",
            details={"key_id": key_id},
        )

    def __repr__(self) -> str:
        return f"KeyRing(keys={self.key_ids}, path={self.path})"


def _aad(tenant: str, serial: str, key_id: str) -> bytes:
    return b"\x00".join((_AAD_PREFIX, tenant.encode(), serial.encode(), key_id.encode()))


class Sealer:
    """Seal and open seeds with a key ring; the tenant and serial bind a value to its row."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    def seal(self, secret: Secret, *, serial: str, tenant: str) -> SealedValue:
        if not isinstance(secret, Secret):
            raise TypeError("seal takes a Secret")
        key_id = self.ring.current_id
        nonce = os.urandom(_NONCE_BYTES)
        body = AESGCM(self.ring._material(key_id)).encrypt(
            nonce, secret.reveal(), _aad(tenant, serial, key_id)
        )
        return SealedValue(key_id, _BLOB_VERSION + nonce + body)

    def open(self, sealed: SealedValue, *, serial: str, tenant: str) -> Secret:
        material = self.ring._material(sealed.key_id)
        blob = sealed.blob
        if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _BLOB_VERSION:
            raise self._broken(serial, sealed.key_id)
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            plain = AESGCM(material).decrypt(nonce, body, _aad(tenant, serial, sealed.key_id))
        except InvalidTag:
            raise self._broken(serial, sealed.key_id) from None
        return Secret(plain)

    def needs_reseal(self, key_id: str | None) -> bool:
        return key_id is not None and key_id != self.ring.current_id

    @staticmethod
    def _broken(serial: str, key_id: str) -> SealError:
        return SealError(
            f"The sealed seed of serial {serial} does not open with key {key_id}: the key file is "
            "not the one it was sealed with, or the stored value was altered or copied from "
            "another token.",
            details={"serial": serial, "key_id": key_id},
        )

    def __repr__(self) -> str:
        return f"Sealer({self.ring!r})"


def describe_key_file(path: Path) -> dict[str, Any]:
    """Facts about a key file for reports (never its keys)."""
    info = path.stat()
    ring = KeyRing.load(path, strict_permissions=False)
    return {
        "path": str(path),
        "mode": stat.filemode(info.st_mode),
        "keys": ring.key_ids,
        "current": ring.current_id,
    }
