"""The audit key: the secret that keys every audit chain hash, kept in a file outside the database.

Why: a plain hash chain proves nothing against someone who can write the database, because they
can recompute every hash with oathdesk's own function. An HMAC under a key the database never
holds cannot be recomputed from the database alone. The file is made on first use, owner-only
(0600 in a 0700 folder, written atomically), like the sealing key ring, and loading one that
group or others can read is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from oathdesk.store.errors import AuditKeyError

AUDIT_KEY_ENV = "OATHDESK_AUDIT_KEY_FILE"
AUDIT_KEY_FILE_NAME = "audit-key.json"
FORMAT_VERSION = 1
_KEY_BYTES = 32


def missing_key(what: str) -> AuditKeyError:
    """The error when a keyed chain is touched without the audit key."""
    return AuditKeyError(
        f"{what} needs the audit key, and none is configured; restore the audit key file "
        f"(<data folder>/keys/{AUDIT_KEY_FILE_NAME}) from backup or point {AUDIT_KEY_ENV} at it.",
        code="store.audit_key_missing",
    )


class AuditKey:
    """One 256-bit HMAC key and its id; never prints the key."""

    def __init__(self, key_id: str, material: bytes, path: Path | None = None) -> None:
        if len(material) != _KEY_BYTES:
            raise AuditKeyError("The audit key must be 256 bits.", code="store.audit_key_bad")
        self.key_id = key_id
        self._material = material
        self.path = path

    @classmethod
    def generate(cls) -> AuditKey:
        return cls("a" + secrets.token_hex(4), secrets.token_bytes(_KEY_BYTES))

    def mac(self, message: bytes) -> str:
        """HMAC-SHA-256 of ``message`` as 64 hex digits."""
        return hmac.new(self._material, message, hashlib.sha256).hexdigest()

    @classmethod
    def load(cls, path: Path | str, *, strict_permissions: bool = True) -> AuditKey:
        path = Path(path)
        try:
            info = path.stat()
        except FileNotFoundError:
            raise AuditKeyError(
                f"{path}: audit key file not found; without it the audit chains cannot be "
                f"verified or extended. Restore it from your backup or point {AUDIT_KEY_ENV} "
                "at it.",
                code="store.audit_key_missing",
            ) from None
        if strict_permissions and info.st_mode & 0o077:
            raise AuditKeyError(
                f"{path}: audit key file is readable by others (mode "
                f"{stat.filemode(info.st_mode)}); run: chmod 600 {path}.",
                code="store.audit_key_permissions",
            )
        try:
            raw = json.loads(path.read_bytes())
            if raw.get("version") != FORMAT_VERSION:
                raise ValueError("version")
            key_id, material = str(raw["id"]), base64.b64decode(raw["key"], validate=True)
        except OSError as exc:
            raise AuditKeyError(
                f"{path}: audit key file cannot be read ({exc.strerror}).",
                code="store.audit_key_bad",
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError):
            raise AuditKeyError(
                f"{path}: not an oathdesk audit key file (version {FORMAT_VERSION} JSON expected).",
                code="store.audit_key_bad",
            ) from None
        return cls(key_id, material, path)

    @classmethod
    def load_or_create(cls, path: Path | str, *, strict_permissions: bool = True) -> AuditKey:
        """Open the key file, or create it (0600, folder 0700) with a new random key."""
        path = Path(path)
        if path.exists():
            return cls.load(path, strict_permissions=strict_permissions)
        key = cls.generate()
        key.save(path)
        return key

    def save(self, path: Path) -> Path:
        """Write atomically with owner-only permissions (a new file, then a rename)."""
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        body = {
            "version": FORMAT_VERSION,
            "note": "oathdesk audit chain key: keep secret, back up, never put in the database",
            "id": self.key_id,
            "key": base64.b64encode(self._material).decode(),
        }
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(body, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.path = path
        return path

    def __repr__(self) -> str:
        return f"AuditKey({self.key_id!r}, path={self.path})"


def resolve_audit_key_file(
    path: Path | str | None = None,
    *,
    data_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """The audit key file: an explicit path (``[store] audit_key_file``), then
    ``OATHDESK_AUDIT_KEY_FILE``, then the data folder's ``keys/audit-key.json``."""
    env = os.environ if env is None else env
    if path:
        return Path(path).expanduser()
    if env.get(AUDIT_KEY_ENV):
        return Path(env[AUDIT_KEY_ENV]).expanduser()
    if data_dir is None:
        raise missing_key("the audit log")
    return Path(data_dir) / "keys" / AUDIT_KEY_FILE_NAME
