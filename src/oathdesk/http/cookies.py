"""Signed cookies under one app's name prefix: set, read back (forged or altered ones read as
nothing) and clear.

Why a policy object: the console and the delivery app sign their cookies the same way
(itsdangerous, salted by purpose) but under their own names, keys and lifetimes, so each app
builds one :class:`CookiePolicy` from its settings and every cookie goes through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, Protocol

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from oathdesk.domain import Secret

SameSite = Literal["lax", "none"]


class SessionSettings(Protocol):
    """What an app's settings say about its cookies (both apps' settings have these fields)."""

    @property
    def secret_key(self) -> Secret: ...
    @property
    def secure_cookies(self) -> bool: ...
    @property
    def session_lifetime(self) -> timedelta: ...
    @property
    def session_idle(self) -> timedelta: ...


@dataclass(frozen=True)
class CookiePolicy:
    """One app's cookies: ``prefix`` names them (``<prefix>_<purpose>``, dots as underscores)
    and salts their signatures (``<prefix>.<purpose>``); ``secure`` adds ``Secure`` and the
    ``__Host-`` name prefix (browsers then refuse them over plain HTTP or with a domain), off
    only for plain HTTP on loopback; a session lives ``lifetime`` and ends after ``idle``."""

    secret_key: Secret = field(repr=False)
    prefix: str = "oathdesk"
    secure: bool = True
    lifetime: timedelta = timedelta(hours=8)
    idle: timedelta = timedelta(minutes=30)

    @classmethod
    def of(cls, settings: SessionSettings, prefix: str) -> CookiePolicy:
        """The policy of an app whose ``settings`` follow :class:`SessionSettings`."""
        return cls(
            secret_key=settings.secret_key,
            prefix=prefix,
            secure=settings.secure_cookies,
            lifetime=settings.session_lifetime,
            idle=settings.session_idle,
        )

    def name(self, purpose: str) -> str:
        plain = f"{self.prefix.replace('.', '_')}_{purpose}"
        return f"__Host-{plain}" if self.secure else plain

    def signer(
        self, purpose: str, *, timed: bool = False
    ) -> URLSafeSerializer | URLSafeTimedSerializer:
        """The signer of ``purpose`` cookies (``timed``: it also checks their age)."""
        kind = URLSafeTimedSerializer if timed else URLSafeSerializer
        return kind(self.secret_key.reveal(), salt=f"{self.prefix}.{purpose}")


def set_cookie(
    response: Response,
    policy: CookiePolicy,
    purpose: str,
    value: object,
    *,
    age: int | None = None,
    samesite: SameSite = "lax",
    timed: bool = False,
) -> None:
    """Sign ``value`` (a string, or a dict with ``timed``) into the ``purpose`` cookie, HttpOnly,
    host-only, for ``age`` seconds (default: the session lifetime)."""
    response.set_cookie(
        policy.name(purpose),
        str(policy.signer(purpose, timed=timed).dumps(value)),
        max_age=int(policy.lifetime.total_seconds()) if age is None else age,
        path="/",
        # browsers only keep SameSite=None with Secure; they accept Secure from http://127.0.0.1
        secure=policy.secure or samesite == "none",
        httponly=True,
        samesite=samesite,
    )


def read_cookie(
    request: Request, policy: CookiePolicy, purpose: str, *, max_age: int | None = None
) -> object | None:
    """The value of the ``purpose`` cookie, or None (absent, forged, or, with ``max_age`` for a
    cookie set ``timed``, older than that many seconds)."""
    raw = request.cookies.get(policy.name(purpose))
    if not raw:
        return None
    signer = policy.signer(purpose, timed=max_age is not None)
    try:
        if isinstance(signer, URLSafeTimedSerializer):
            value: object = signer.loads(raw, max_age=max_age)
        else:
            value = signer.loads(raw)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return value


def read_text_cookie(request: Request, policy: CookiePolicy, purpose: str) -> str | None:
    """The string in the ``purpose`` cookie, or None."""
    value = read_cookie(request, policy, purpose)
    return value if isinstance(value, str) else None


def clear_cookie(response: Response, policy: CookiePolicy, purpose: str) -> None:
    response.delete_cookie(
        policy.name(purpose), path="/", secure=policy.secure, httponly=True, samesite="lax"
    )
