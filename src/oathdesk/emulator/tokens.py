"""RS256 tokens shaped like Entra's, and the bearer check every Graph call goes through.

Graph access tokens follow the v1 shape Graph receives (``aud`` Graph, ``iss`` sts.windows.net,
``tid``/``oid``, ``roles`` + ``idtyp: app`` for apps, ``scp`` + ``wids`` for users, and for users
``auth_time`` (when they last signed in interactively) and ``amr`` (how: ``pwd``, ``mfa``), which
the ``/me`` re-prompt reads, ``emulator.reauth``). Expiry is checked against the emulator's own
clock so a clock offset behaves like real drift.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from oathdesk.emulator.errors import unauthenticated
from oathdesk.emulator.files import write_atomic

GRAPH_AUDIENCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
TOKEN_LIFETIME = 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class SigningKey:
    """The tenant's token-signing key; a PEM file in the data folder when there is one."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._key = private_key
        der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = _b64url(hashlib.sha256(der).digest()[:20])

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"{path} does not hold an RSA key")
            return cls(loaded)
        key = cls.generate()
        pem = key._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_atomic(path, pem, private=True)
        return key

    def jwk(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        data.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return data

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"}
        )

    def verify(self, token: str, now: float) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                audience=list(GRAPH_AUDIENCES),
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["exp", "tid", "oid"],
                },
            )
        except jwt.PyJWTError as exc:
            raise unauthenticated(f"Access token is not valid: {exc}") from None
        if float(claims["exp"]) <= now:
            raise unauthenticated("Lifetime validation failed, the token is expired.")
        return claims


@dataclass
class Principal:
    """Who is calling Graph: an app (``roles``) or a user through an app (``scp`` + role ids)."""

    tenant_id: str
    object_id: str
    app_id: str
    is_app: bool
    roles: set[str] = field(default_factory=set)
    scopes: set[str] = field(default_factory=set)
    role_ids: set[str] = field(default_factory=set)
    auth_time: float | None = None  # the user's last interactive sign-in (users only)
    amr: tuple[str, ...] = ()

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        is_app = claims.get("idtyp") == "app" or "scp" not in claims
        return cls(
            tenant_id=str(claims["tid"]),
            object_id=str(claims["oid"]),
            app_id=str(claims.get("appid") or claims.get("azp") or ""),
            is_app=is_app,
            roles=set(claims.get("roles") or []),
            scopes=set(str(claims.get("scp") or "").split()),
            role_ids=set(claims.get("wids") or []),
            auth_time=float(claims["auth_time"]) if "auth_time" in claims else None,
            amr=tuple(str(m) for m in claims.get("amr") or []),
        )


def access_token(
    key: SigningKey,
    *,
    tenant_id: str,
    app_id: str,
    now: float,
    object_id: str,
    roles: list[str] | None = None,
    scopes: list[str] | None = None,
    role_ids: list[str] | None = None,
    upn: str | None = None,
    name: str | None = None,
    signed_in: tuple[float, list[str]] | None = None,
) -> str:
    """A Graph access token; ``signed_in`` is (``auth_time``, ``amr``) for a user token."""
    claims: dict[str, Any] = {
        "aud": GRAPH_AUDIENCES[0],
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + TOKEN_LIFETIME,
        "appid": app_id,
        "tid": tenant_id,
        "oid": object_id,
        "sub": object_id,
        "uti": _b64url(uuid.uuid4().bytes),
        "ver": "1.0",
    }
    if scopes is None:
        claims.update({"idtyp": "app", "roles": roles or []})
    else:
        claims.update({"idtyp": "user", "scp": " ".join(scopes), "wids": role_ids or []})
        if upn:
            claims.update({"upn": upn, "unique_name": upn, "name": name or upn})
        if signed_in is not None:
            claims.update({"auth_time": int(signed_in[0]), "amr": list(signed_in[1])})
    return key.sign(claims)


def id_token(
    key: SigningKey,
    *,
    issuer: str,
    tenant_id: str,
    client_id: str,
    now: float,
    object_id: str,
    upn: str,
    name: str,
    nonce: str | None,
    roles: list[str] | None = None,
    auth_time: float | None = None,
) -> str:
    """An OIDC ID token for ``client_id``; ``roles`` are the user's app roles in that app
    (left out when there are none, as Entra does); ``auth_time`` when the user signed in."""
    claims: dict[str, Any] = {
        "aud": client_id,
        "iss": issuer,
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + TOKEN_LIFETIME,
        "tid": tenant_id,
        "oid": object_id,
        "sub": object_id,
        "preferred_username": upn,
        "name": name,
        "ver": "2.0",
    }
    if nonce:
        claims["nonce"] = nonce
    if roles:
        claims["roles"] = list(roles)
    if auth_time is not None:
        claims["auth_time"] = int(auth_time)
    return key.sign(claims)


def client_info(object_id: str, tenant_id: str) -> str:
    return _b64url(json.dumps({"uid": object_id, "utid": tenant_id}).encode())
