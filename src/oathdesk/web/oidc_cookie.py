"""The Entra sign-in flow cookie: encrypted and authenticated (AES-256-GCM), ten minutes.

Why encrypted and not only signed: the flow holds the PKCE verifier, the nonce and the state.
A signed cookie is readable by anyone who sees it (a proxy log, a browser extension, a shared
machine), and the verifier is exactly what the PKCE check relies on being secret until the
code is redeemed. The key is derived (HKDF-SHA256, its own label) from the console's secret key,
so no new key file is needed and no other cookie's key is reused; the cookie's name is bound in
as associated data, so a value cannot be moved to another cookie. Nothing is kept server-side,
so any server process can finish the sign-in. The age is checked against the app's clock.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import Response

from oathdesk.web.settings import WebSettings

OIDC_MINUTES = 10
SKEW = 60  # seconds a flow may seem to come from the future (server clocks differ a little)
LABEL = b"oathdesk oidc flow cookie v1"
NONCE_BYTES = 12


def _aead(settings: WebSettings, label: bytes = LABEL) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(
        settings.secret_key.reveal()
    )
    return AESGCM(key)


def seal(settings: WebSettings, purpose: str, name: str, data: object, now: datetime) -> str:
    """``data`` (JSON) sealed for the cookie ``name``: base64url of nonce + ciphertext + tag,
    under the key of ``purpose`` (each purpose its own key), stamped with ``now``."""
    plain = json.dumps({"iat": int(now.timestamp()), "data": data}, separators=(",", ":"))
    nonce = os.urandom(NONCE_BYTES)
    label = LABEL if purpose == "oidc" else f"oathdesk {purpose} cookie v1".encode()
    sealed = _aead(settings, label).encrypt(nonce, plain.encode(), name.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(
    settings: WebSettings, purpose: str, name: str, value: str, now: datetime, max_age: int
) -> object | None:
    """What :func:`seal` sealed, or None: not ours, altered, or older than ``max_age``."""
    label = LABEL if purpose == "oidc" else f"oathdesk {purpose} cookie v1".encode()
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        plain = _aead(settings, label).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], name.encode())
        data = json.loads(plain)
    except (binascii.Error, ValueError, InvalidTag):
        return None
    if not isinstance(data, dict):
        return None
    age = now.timestamp() - float(data.get("iat", 0))
    return data.get("data") if -SKEW <= age <= max_age else None


def seal_flow(settings: WebSettings, flow: dict[str, Any], now: datetime) -> str:
    """The cookie value for ``flow``."""
    return seal(settings, "oidc", settings.oidc_cookie, flow, now)


def open_flow(settings: WebSettings, value: str, now: datetime) -> dict[str, Any] | None:
    """The flow in a cookie value, or None: not ours, altered, or older than ten minutes."""
    flow = unseal(settings, "oidc", settings.oidc_cookie, value, now, OIDC_MINUTES * 60)
    return flow if isinstance(flow, dict) else None


def set_oidc_flow(
    response: Response, settings: WebSettings, flow: dict[str, Any], now: datetime
) -> None:
    """Keep a started Entra sign-in (state, PKCE verifier, nonce, next page) in an encrypted,
    HttpOnly, ten-minute cookie. Entra posts its reply from its own site (``form_post``), so
    the cookie is ``SameSite=None`` (Secure, also on a plain-HTTP loopback console such as the
    demo's: browsers accept Secure cookies from 127.0.0.1); the state inside it is what ties
    the reply to this browser."""
    response.set_cookie(
        settings.oidc_cookie,
        seal_flow(settings, flow, now),
        max_age=OIDC_MINUTES * 60,
        path="/",
        secure=True,
        httponly=True,
        samesite="none",
    )


def oidc_flow(request: Request, now: datetime) -> dict[str, Any] | None:
    """The sign-in this browser started, or None (none, altered, or older than ten minutes)."""
    settings: WebSettings = request.app.state.settings
    value = request.cookies.get(settings.oidc_cookie)
    return open_flow(settings, value, now) if value else None
