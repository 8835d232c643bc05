"""Shared by the inventory tests: the emulator tenant, seed files with known secrets, an
independent TOTP, and the settings that point oathdesk at a test database and emulator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
import uuid
from pathlib import Path
from typing import Any

from oathdesk.config import Config
from oathdesk.domain import Secret

TENANT = "6d2c1b0a-1111-4222-8333-944455566677"
DOMAIN = "inventory.example.com"
APP = "33333333-cccc-4ccc-8ccc-000000000001"
APP_SECRET = "inventory-app-secret-value"


def user_id(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"inventory-{key}"))


def upn(key: str) -> str:
    return f"{key}@{DOMAIN}"


def _user(key: str, name: str) -> dict[str, Any]:
    return {
        "id": user_id(key),
        "userPrincipalName": upn(key),
        "displayName": name,
        "userType": "Member",
        "password": "Pass-word-1",
        "roles": [],
    }


SEED: dict[str, Any] = {
    "tenant": {"id": TENANT, "domain": DOMAIN},
    "apps": [
        {
            "clientId": APP,
            "clientSecret": APP_SECRET,
            "roles": [
                "Policy.ReadWrite.AuthenticationMethod",
                "UserAuthenticationMethod.ReadWrite.All",
                "User.Read.All",
            ],
        }
    ],
    "users": [
        _user("ada", "Ada Example"),
        _user("grace", "Grace Example"),
        _user("alan", "Alan Example"),
        {**_user("gus", "Gus Partner"), "userType": "Guest"},  # a guest: holds no token
    ],
}


# Every seed the tests hand out, and every text a person or log collector could see during the
# inventory tests (log records, command output): searched for those seeds at the session's end.
ISSUED: set[bytes] = set()
SEEN: list[str] = []


def secret_for(prefix: str, n: int) -> Secret:
    """A distinct 20-byte seed per token, derived so tests can recompute codes."""
    raw = hashlib.sha256(f"inventory-{prefix}-{n}".encode()).digest()[:20]
    ISSUED.add(raw)
    return Secret(raw)


def leak_forms(raw: bytes) -> set[str]:
    """The ways ``raw`` could leak into text: hex, base32, base64 (padded or not), raw."""
    b32 = base64.b32encode(raw).decode()
    b64 = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode()
    forms = {
        raw.hex(),
        raw.hex().upper(),
        b32,
        b32.rstrip("="),
        b32.lower().rstrip("="),
        b64,
        b64.rstrip("="),
        url.rstrip("="),
        raw.decode("latin-1"),
    }
    if raw.isascii() and raw.decode().isprintable():
        forms.add(raw.decode())
    return {f for f in forms if len(f) >= 8}


def b32(secret: Secret) -> str:
    return base64.b32encode(secret.reveal()).decode().rstrip("=")


def serial(prefix: str, n: int) -> str:
    return f"{prefix}{n:05d}"


def entra_csv(prefix: str, count: int, *, start: int = 0, bad_last: bool = False) -> bytes:
    """An Entra CSV of ``count`` TOTP tokens; ``bad_last`` breaks the secret of the last row."""
    lines = ["upn,serial number,secret key,time interval,manufacturer,model"]
    for n in range(start, start + count):
        secret = b32(secret_for(prefix, n))
        if bad_last and n == start + count - 1:
            secret = "NOT-BASE32!!"
        model = ("C200", "C301")[n % 2]
        lines.append(f",{serial(prefix, n)},{secret},30,Token2,{model}")
    return ("\n".join(lines) + "\n").encode()


def totp(secret: Secret, at: float | None = None, *, step_offset: int = 0) -> str:
    """RFC 6238 SHA-1, 6 digits, 30 s, written out so oathdesk.otp is not checked by itself."""
    at = time.time() if at is None else at
    counter = int(at // 30) + step_offset
    digest = hmac.digest(secret.reveal(), struct.pack(">Q", counter), "sha1")
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def wrong_code(secret: Secret) -> str:
    """A code the token does not show anywhere in Entra's ±1 day activation window."""
    now = int(time.time() // 30)
    shown = set()
    for k in range(now - 2900, now + 2900):
        digest = hmac.digest(secret.reveal(), struct.pack(">Q", k), "sha1")
        o = digest[-1] & 0x0F
        shown.add(f"{(struct.unpack('>I', digest[o : o + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}")
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in shown)


def config(db_url: str, folder: Path, emulator_url: str | None, ca: Path | None) -> Config:
    sections: dict[str, dict[str, Any]] = {
        "data": {"dir": str(folder / "data")},
        "store": {"url": db_url, "key_file": str(folder / "keys" / "store-keys.json")},
    }
    if emulator_url:
        sections["graph"] = {
            "tenant_id": TENANT,
            "client_id": APP,
            "client_secret": APP_SECRET,
            "authority_host": emulator_url,
            "base_url": f"{emulator_url}/beta",
            "ca_file": str(ca),
        }
    return Config(sections=sections)


def environment(cfg: Config) -> dict[str, str]:
    """The same settings as OATHDESK_* variables (for the CLI and child processes)."""
    env = {}
    for section, values in cfg.sections.items():
        for key, value in values.items():
            name = "OATHDESK_DATA_DIR" if section == "data" else f"OATHDESK_{section}_{key}"
            env[name.upper()] = str(value)
    return env
