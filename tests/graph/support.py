"""The tenant every Graph test starts from, records to upload, and an independent TOTP."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import struct
import uuid
from typing import Any

from oathdesk.domain import Secret, SeedRecord

TENANT = "7c1e2d3f-4a5b-4c6d-8e9f-a0b1c2d3e4f5"
DOMAIN = "graphlab.example.com"
APP = "22222222-bbbb-4bbb-8bbb-000000000001"
APP_SECRET = "graph-app-secret-value"
READ_APP = "22222222-bbbb-4bbb-8bbb-000000000002"
READ_SECRET = "graph-read-secret"
PASSWORD = "Correct-Horse-2"


def user_id(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"graph-{key}"))


def upn(key: str) -> str:
    return f"{key}@{DOMAIN}"


def _user(
    key: str, name: str, user_type: str = "Member", roles: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": user_id(key),
        "userPrincipalName": upn(key),
        "displayName": name,
        "userType": user_type,
        "password": PASSWORD,
        "roles": roles or [],
    }


def _certificate() -> tuple[str, str]:
    """A self-signed certificate for the certificate app: (key + certificate PEM, cert PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oathdesk-graph-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return key_pem + cert_pem, cert_pem


CERT_APP = "22222222-bbbb-4bbb-8bbb-000000000003"
PUBLIC_APP = "22222222-bbbb-4bbb-8bbb-000000000004"
CERT_BUNDLE, CERT_PEM = _certificate()

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
        },
        {
            "clientId": READ_APP,
            "clientSecret": READ_SECRET,
            "roles": ["Policy.Read.All", "UserAuthenticationMethod.Read.All"],
        },
        {
            "clientId": CERT_APP,
            "certificates": [CERT_PEM],
            "publicClient": False,
            "roles": ["Policy.Read.All"],
        },
        {"clientId": PUBLIC_APP, "publicClient": True, "roles": []},
    ],
    "users": [
        _user("ada", "Ada Example"),
        _user("grace", "Grace Hopper"),
        _user("gus", "Gus Guest", "Guest"),
        _user(
            "polly",
            "Polly Policy",
            roles=["Authentication Policy Administrator", "Authentication Administrator"],
        ),
    ],
}


def secret_for(n: int) -> Secret:
    """A distinct 20-byte seed per token, derived so tests can recompute codes."""
    return Secret(hashlib.sha256(f"seed-{n}".encode()).digest()[:20])


def record(n: int, *, prefix: str = "SN", user: str = "", period: int = 30) -> SeedRecord:
    return SeedRecord(
        serial=f"{prefix}-{n:06d}",
        secret=secret_for(n),
        period=period,
        manufacturer="ExampleVendor",
        model="TOTP-6 Key",
        user=user,
    )


def records(count: int, *, prefix: str = "SN", start: int = 0) -> list[SeedRecord]:
    return [record(n, prefix=prefix) for n in range(start, start + count)]


def totp(secret: Secret, at: float, period: int = 30) -> str:
    """RFC 6238 with SHA-1, written out here so oathdesk.otp is not checked by itself."""
    digest = hmac.digest(secret.reveal(), struct.pack(">Q", int(at // period)), "sha1")
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def b32(secret: Secret) -> str:
    return base64.b32encode(secret.reveal()).decode().rstrip("=")
