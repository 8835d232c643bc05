"""Test helpers: an independent RFC 6238 generator, the seed every test starts from, and a
client that signs users in through the emulator's own authorization-code + PKCE flow."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from oathdesk.emulator import EmulatorState
from oathdesk.emulator.server import RunningEmulator

TENANT = "0f6d3c1e-5a4b-4c2d-9e8f-112233445566"
DOMAIN = "lab.example.com"
ALL_APP = "11111111-aaaa-4aaa-8aaa-000000000001"
READ_APP = "11111111-aaaa-4aaa-8aaa-000000000002"
BARE_APP = "11111111-aaaa-4aaa-8aaa-000000000003"
SECRET = "all-app-secret-value"
PASSWORD = "Correct-Horse-1"
B32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
B32_2 = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"


def _certificate() -> tuple[str, str, str]:
    """A self-signed certificate for the client-assertion app: (key PEM, cert PEM, SHA-1)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "assertion-app")])
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
    return (
        key_pem,
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        cert.fingerprint(hashes.SHA1()).hex(),  # noqa: S303 - x5t is SHA-1 by definition
    )


CERT_KEY, CERT_PEM, CERT_SHA1 = _certificate()
CERT_APP = "11111111-aaaa-4aaa-8aaa-000000000004"


def _user(
    key: str, name: str, user_type: str = "Member", roles: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, key)),
        "userPrincipalName": f"{key}@{DOMAIN}",
        "displayName": name,
        "userType": user_type,
        "password": PASSWORD,
        "roles": roles or [],
    }


USERS = {
    "ada": _user("ada", "Ada Example"),
    "grace": _user("grace", "Grace Example"),
    "guest": _user("guest", "Gus Guest", "Guest"),
    "admin": _user("admin", "Adele Admin", roles=["Global Administrator"]),
    "authadmin": _user("authadmin", "Arthur AuthAdmin", roles=["Authentication Administrator"]),
    "policyadmin": _user(
        "policyadmin", "Polly Policy", roles=["Authentication Policy Administrator"]
    ),
    "reader": _user("reader", "Rita Reader", roles=["Global Reader"]),
    "lena": _user("lena", "Lena Legacy"),
}
SEED: dict[str, Any] = {
    "tenant": {"id": TENANT, "domain": DOMAIN},
    "apps": [
        {
            "clientId": ALL_APP,
            "clientSecret": SECRET,
            "roles": [
                "Policy.ReadWrite.AuthenticationMethod",
                "UserAuthenticationMethod.ReadWrite.All",
                "User.Read.All",
            ],
        },
        {
            "clientId": READ_APP,
            "clientSecret": "read-secret",
            "roles": ["Policy.Read.All", "UserAuthenticationMethod.Read.All"],
        },
        {"clientId": BARE_APP, "clientSecret": "bare-secret", "roles": []},
        {
            "clientId": CERT_APP,
            "certificates": [CERT_PEM],
            "publicClient": False,
            "roles": ["Policy.Read.All"],
        },
    ],
    "users": list(USERS.values()),
    "legacyTokens": [
        {
            "user": f"lena@{DOMAIN}",
            "serialNumber": "LEG-1",
            "secretKey": B32_2,
            "timeIntervalInSeconds": 60,
            "manufacturer": "OldVendor",
            "model": "CSV-6",
        }
    ],
}


def totp(secret_b32: str, at: float, *, period: int = 30, sha256: bool = False) -> str:
    """RFC 6238 written out independently of oathdesk.otp, so the emulator is checked by it."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    digest = hmac.digest(key, struct.pack(">Q", int(at // period)), "sha256" if sha256 else "sha1")
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def wrong_code(secret_b32: str, at: float) -> str:
    right = {totp(secret_b32, at + k * 30) for k in range(-3000, 3001)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in right)


@dataclass
class Lab:
    """The running emulator plus cached tokens; ``http`` trusts only the emulator's CA."""

    server: RunningEmulator
    ca: str
    http: httpx.Client
    _tokens: dict[tuple[str, ...], str] = field(default_factory=dict)

    @property
    def state(self) -> EmulatorState:
        return self.server.state

    @property
    def url(self) -> str:
        return self.server.url

    def graph(self, path: str) -> str:
        return f"{self.url}/beta{path}"

    def app_token(self, client_id: str = ALL_APP) -> str:
        key = ("app", client_id)
        if key not in self._tokens:
            secret = next(a["clientSecret"] for a in SEED["apps"] if a["clientId"] == client_id)
            r = self.http.post(
                f"{self.url}/{TENANT}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                    "scope": "https://graph.microsoft.com/.default",
                },
            )
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    def user_token(
        self,
        who: str,
        scopes: str = "UserAuthenticationMethod.ReadWrite.All "
        "UserAuthenticationMethod.ReadWrite Policy.ReadWrite.AuthenticationMethod "
        "User.Read.All",
    ) -> str:
        key = ("user", who, scopes)
        if key not in self._tokens:
            self._tokens[key] = self.sign_in(USERS[who]["userPrincipalName"], scopes)[
                "access_token"
            ]
        return self._tokens[key]

    def sign_in(self, upn: str, scopes: str, *, claims: str | None = None) -> dict[str, Any]:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        redirect = "http://localhost:8400/callback"
        r = self.http.post(
            f"{self.url}/{TENANT}/oauth2/v2.0/authorize",
            data={
                "client_id": ALL_APP,
                "redirect_uri": redirect,
                "scope": f"openid {scopes}",
                "response_type": "code",
                "state": "xyz",
                "code_challenge_method": "S256",
                "code_challenge": challenge.decode().rstrip("="),
                "username": upn,
                "password": PASSWORD,
                **({"claims": claims} if claims is not None else {}),
            },
        )
        assert r.status_code == 302, r.text
        query = parse_qs(urlsplit(r.headers["location"]).query)
        assert query["state"] == ["xyz"]
        r = self.http.post(
            f"{self.url}/{TENANT}/oauth2/v2.0/token",
            data={
                "grant_type": "authorization_code",
                "client_id": ALL_APP,
                "code": query["code"][0],
                "redirect_uri": redirect,
                "code_verifier": verifier,
            },
        )
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        headers["Authorization"] = f"Bearer {token or self.app_token()}"
        return self.http.request(method, self.graph(path), headers=headers, **kwargs)


DEV = "/directory/authenticationMethodDevices/hardwareOathDevices"


def device_body(serial: str, secret: str = B32, **extra: Any) -> dict[str, Any]:
    return {
        "serialNumber": serial,
        "manufacturer": "ExampleVendor",
        "model": "TOTP-6 Key",
        "secretKey": secret,
        "timeIntervalInSeconds": 30,
        **extra,
    }


def uid(who: str) -> str:
    return str(USERS[who]["id"])


def method_of(lab: Lab, who: str, device_id: str, token: str | None = None) -> str:
    """The user's method holding ``device_id``, found by ``device.id`` as the product client
    does: a method's id is its own, never the device's. ``who`` is a seed user's key or an
    object id; with ``token`` the ``/me`` list is read (``who`` is then the token's user)."""
    user = uid(who) if who in USERS else who
    base = (
        f"/users/{user}/authentication/hardwareOathMethods"
        if token is None
        else "/me/authentication/hardwareOathMethods"
    )
    r = lab.call("GET", base, token)
    assert r.status_code == 200, r.text
    (found,) = [m["id"] for m in r.json()["value"] if m["device"]["id"] == device_id]
    assert found != device_id
    return str(found)
