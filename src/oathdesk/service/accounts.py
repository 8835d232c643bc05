"""Local console accounts: create, list, disable, set roles, sign in with throttling, sessions.

Why: break-glass administrators need a way into the console that does not depend on Entra, and
that way is the first thing an attacker tries; so passwords are argon2 hashes, failed sign-ins
are throttled per (account, client network) and per client network (checked before the password
is), unknown and wrong answers look the same, sessions live server-side, and every change is in
the audit log. There is no lock on an account as such: it would let anyone lock an
administrator out by typing wrong passwords from anywhere (``store.throttle``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from oathdesk.domain import OathdeskError, Secret
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.store import UnitOfWork, retry_after
from oathdesk.store.accounts import Account, AccountRepository
from oathdesk.store.throttle import network_key, pair

ROLES = ("admin", "helpdesk", "auditor", "delivery")  # delivery: the seed-delivery team
ENTRA_NO_PASSWORD = "!entra"  # not an argon2 hash: no password ever matches it
MIN_PASSWORD = 12
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")
HASHER = PasswordHasher()
# Verified when the account does not exist, so an unknown name costs the same as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_bytes(16))


class AuthError(OathdeskError):
    """Sign-in or session failure (``auth.*``); messages never say which part was wrong."""

    code = "auth.error"


@dataclass(frozen=True)
class ThrottlePolicy:
    """After ``max_failures`` failed sign-ins within ``window`` for one account from one client
    network (or ``address_failures`` for any accounts from one network), refuse sign-in from
    that network for ``first_lockout``, doubled at each further failure up to ``lockout``.
    A network is an IPv4 address or an IPv6 /64 (``oathdesk.domain.networks``)."""

    max_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    first_lockout: timedelta = timedelta(minutes=1)

    def keys(self, name: str, address: str) -> list[tuple[str, int]]:
        """The throttle keys of a sign-in as ``name`` from ``address``, with their limits:
        the (account, network) pair first, then the network's."""
        return [
            (pair(f"account:{name.lower()}", address), self.max_failures),
            (network_key("signin", address), self.address_failures),
        ]


@dataclass(frozen=True)
class AccountView:
    name: str
    roles: tuple[str, ...]
    enabled: bool
    created_at: str
    last_signin_at: str | None
    source: str = "local"  # "entra" for an account made by an Entra ID sign-in

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "roles": list(self.roles),
            "enabled": self.enabled,
            "created_at": self.created_at,
            "last_signin_at": self.last_signin_at,
            "source": self.source,
        }


@dataclass(frozen=True)
class SessionView:
    """A live session: who, and the id hash the CSRF token is bound to."""

    account: AccountView
    id_hash: str = field(repr=False)
    expires_at: datetime


def _view(account: Account) -> AccountView:
    return AccountView(
        name=account.name,
        roles=tuple(r for r in ROLES if r in account.roles),
        enabled=account.enabled,
        created_at=account.created_at.isoformat(),
        last_signin_at=account.last_signin_at.isoformat() if account.last_signin_at else None,
        source=account.source,
    )


def _roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ServiceError(
            f"Unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}.",
            code="account.bad_role",
        )
    return [r for r in ROLES if r in roles]


def _audit(
    uow: UnitOfWork, inv: Inventory, action: str, name: str, actor: str, **details: Any
) -> None:
    uow.audit.append(
        action,
        actor=actor[:200],
        subject=f"account:{name}"[:200],
        details=details,
        tenant=inv.tenant,
    )


def create_account(
    inv: Inventory, name: str, password: Secret, roles: list[str], *, actor: str
) -> AccountView:
    """A new enabled account; the password is stored only as an argon2 hash."""
    if not NAME_RE.match(name):
        raise ServiceError(
            "An account name is 1 to 200 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit.",
            code="account.bad_name",
        )
    if len(password.reveal()) < MIN_PASSWORD:
        raise ServiceError(
            f"The password must be at least {MIN_PASSWORD} characters long.",
            code="account.weak_password",
        )
    chosen = _roles(roles)
    with inv.uow() as uow:
        repo = AccountRepository(uow.session)
        if repo.find(name) is not None:
            raise ServiceError(f"An account named {name!r} already exists.", code="account.exists")
        account = repo.add(name, HASHER.hash(password.reveal()), chosen, inv.now())
        _audit(uow, inv, "account.create", name, actor, roles=chosen)
        return _view(account)


def list_accounts(inv: Inventory) -> list[AccountView]:
    with inv.uow(write=False) as uow:
        return [_view(a) for a in AccountRepository(uow.session).list()]


def set_roles(inv: Inventory, name: str, roles: list[str], *, actor: str) -> AccountView:
    chosen = _roles(roles)
    with inv.uow() as uow:
        account = AccountRepository(uow.session).get(name)
        before = list(account.roles)
        account.roles = chosen
        _audit(uow, inv, "account.roles", name, actor, before=before, after=chosen)
        uow.session.flush()
        return _view(account)


def disable_account(inv: Inventory, name: str, *, actor: str, reason: str = "") -> AccountView:
    """Disable the account and end all its sessions at once; disabling twice changes nothing."""
    with inv.uow() as uow:
        repo = AccountRepository(uow.session)
        account = repo.get(name)
        if account.enabled:
            account.disabled_at = inv.now()
            repo.delete_sessions_of(account)
            uow.audit.append(
                "account.disable",
                actor=actor,
                subject=f"account:{name}",
                reason=reason,
                tenant=inv.tenant,
            )
            uow.session.flush()
        return _view(account)


def _throttled(until: datetime, now: datetime) -> AuthError:
    wait = retry_after(until, now)
    return AuthError(
        f"Too many failed sign-ins; try again in {wait} seconds or ask another administrator.",
        code="auth.throttled",
        details={"retry_after": wait},
    )


def sign_in(
    inv: Inventory,
    name: str,
    password: Secret,
    *,
    address: str,
    policy: ThrottlePolicy | None = None,
) -> AccountView:
    """The account if the password is right; ``auth.throttled`` while locked out (the password
    is then not even checked), else ``auth.invalid_credentials`` for any wrong answer."""
    policy = policy or ThrottlePolicy()
    now = inv.now()
    limits = policy.keys(name, address)
    keys = [key for key, _ in limits]
    with inv.uow() as uow:  # committed before the password is checked: see store.throttle
        until = uow.throttle.reserve(
            limits,
            window=policy.window,
            lockout=policy.lockout,
            now=now,
            first_lockout=policy.first_lockout,
        )
    if until is not None:
        raise _throttled(until, now)
    with inv.uow() as uow:
        repo = AccountRepository(uow.session)
        account = repo.find(name)
        if account is not None and account.source != "local":
            account = None  # an Entra account has no password: the same answer as unknown
        if _password_ok(account, password) and account is not None and account.enabled:
            uow.throttle.clear(keys[0])
            uow.throttle.release(keys[1], policy.address_failures)
            account.last_signin_at = now
            if HASHER.check_needs_rehash(account.password_hash):
                account.password_hash = HASHER.hash(password.reveal())
            _audit(uow, inv, "auth.signin", name, f"local:{name}", address=address)
            uow.session.flush()
            return _view(account)
        # the reservation stays counted as this failure
        # a name typed by mistake may be a password: only an existing account is named
        known = name if account is not None else "(unknown)"
        _audit(uow, inv, "auth.signin_failed", known, f"address:{address}", address=address)
        error = AuthError(
            "The account name or password is wrong, or the account is disabled.",
            code="auth.invalid_credentials",
        )
    raise error  # outside the unit of work: the failure counts are committed


def sign_in_entra(inv: Inventory, upn: str, roles: list[str], *, address: str) -> AccountView:
    """The account of a user Entra ID has just signed in (made on first sign-in), with the
    roles the ID token carried: Entra decides, so a role removed there is gone here at the
    next sign-in. A local account of the same name is never taken over."""
    name = upn.strip().lower()
    if not name or len(name) > 200 or not name.isprintable():
        raise AuthError(
            "Entra ID sent a user name oathdesk cannot use.", code="auth.entra_bad_user"
        )
    chosen = _roles(roles)
    now = inv.now()
    with inv.uow() as uow:
        repo = AccountRepository(uow.session)
        account = repo.find(name)
        actor = f"entra:{name}"
        if account is None:
            account = repo.add(name, ENTRA_NO_PASSWORD, chosen, now, source="entra")
            _audit(uow, inv, "account.create", name, actor, roles=chosen, source="entra")
        elif account.source == "entra" and list(account.roles) != chosen:
            _audit(uow, inv, "account.roles", name, actor, before=list(account.roles), after=chosen)
            account.roles = chosen
        if account.source != "entra":
            error = AuthError(
                f"A local account is already named {name!r}; an administrator must rename or "
                "disable it before this Entra user can sign in.",
                code="auth.entra_name_taken",
            )
        elif not account.enabled:
            error = AuthError(
                "Your oathdesk account is disabled; ask an administrator.", code="auth.forbidden"
            )
        else:
            account.last_signin_at = now
            _audit(uow, inv, "auth.signin", name, actor, address=address, method="entra")
            uow.session.flush()
            return _view(account)
    raise error  # outside the unit of work: a role change made above is kept


def entra_sign_in_failed(inv: Inventory, code: str, *, address: str) -> None:
    """Record a refused Entra sign-in (cancelled, state mismatch, bad token...) by its code."""
    with inv.uow() as uow:
        _audit(
            uow,
            inv,
            "auth.signin_failed",
            "(entra)",
            f"address:{address}",
            address=address,
            method="entra",
            code=code,
        )


def _password_ok(account: Account | None, password: Secret) -> bool:
    try:
        return HASHER.verify(
            account.password_hash if account is not None else _DUMMY_HASH, password.reveal()
        )
    except (VerificationError, InvalidHashError):
        return False


def _hash_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    inv: Inventory, name: str, *, address: str, lifetime: timedelta
) -> tuple[str, SessionView]:
    """A new session for a signed-in account: (the random id for the cookie, the session)."""
    token = secrets.token_urlsafe(32)
    now = inv.now()
    with inv.uow() as uow:
        repo = AccountRepository(uow.session)
        repo.delete_expired_sessions(now)
        account = repo.get(name)
        row = repo.add_session(
            _hash_id(token), account, at=now, expires_at=now + lifetime, address=address
        )
        return token, SessionView(_view(account), row.id, row.expires_at)


def resolve_session(inv: Inventory, token: str, *, idle: timedelta) -> SessionView | None:
    """The live session behind a cookie's id, or None when unknown, expired, idle too long or
    its account is disabled. Activity extends nothing past the absolute expiry."""
    now = inv.now()
    id_hash = _hash_id(token)
    with inv.uow(write=False) as uow:
        repo = AccountRepository(uow.session)
        row = repo.find_session(id_hash)
        if row is None:
            return None
        account = repo.by_id(row.account_id)
        live = row.expires_at > now and now - row.last_seen_at <= idle
        if account is None or not account.enabled or not live:
            return None
        view = SessionView(_view(account), id_hash, row.expires_at)
        stale = now - row.last_seen_at > timedelta(seconds=60)
    if stale:  # record activity at most once a minute: reads stay free of write locks
        with inv.uow() as uow:
            found = AccountRepository(uow.session).find_session(id_hash)
            if found is not None:
                found.last_seen_at = now
    return view


def close_session(inv: Inventory, id_hash: str, *, actor: str) -> None:
    """Sign out: the session row is deleted, so the cookie is worthless even if copied."""
    with inv.uow() as uow:
        repo = AccountRepository(uow.session)
        row = repo.find_session(id_hash)
        if row is not None:
            account = repo.by_id(row.account_id)
            repo.delete_session(id_hash)
            name = account.name if account is not None else "(deleted)"
            _audit(uow, inv, "auth.signout", name, actor)
