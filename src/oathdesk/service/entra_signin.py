"""Entra ID sign-ins on the service side: the account bound to the Entra user, and the counting
of failed anonymous sign-in replies.

Why bound to ``tid`` + ``oid``: a UPN (``upn``/``preferred_username``) is a mutable name. A user
can be renamed, and a freed UPN can later be given to somebody else; matching on it would hand
the first person's account (roles, tokens, audit trail) to the second. The object id of a user
in a tenant never changes and is never reused, so the first sign-in records it, later sign-ins
find the account by it (renaming the account when the UPN changed), and a name already bound to
another object id is refused. Accounts made before the binding existed are bound on their next
sign-in (docs/security.md, "Entra identities").

Why count failed replies: the callback is open to anyone. A reply without this browser's flow
cookie, with a wrong state, or an error from Entra proves nothing about who sent it, so each one
is counted per client address in the shared failure table (``store.throttle``); past the limit
the address gets a coded 429 until the lock ends, and the audit log gets one row for the first
failure of a window and one when the lock starts, not one per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from oathdesk.service.accounts import (
    ENTRA_NO_PASSWORD,
    AccountView,
    AuthError,
    _audit,
    _roles,
    _view,
)
from oathdesk.service.context import Inventory
from oathdesk.store import UnitOfWork, retry_after
from oathdesk.store.accounts import Account, AccountRepository


@dataclass(frozen=True)
class EntraUser:
    """Who Entra signed in: tenant id and object id (the binding), and the UPN (the name)."""

    tenant_id: str
    object_id: str
    upn: str


@dataclass(frozen=True)
class CallbackLimits:
    """Failed anonymous sign-in replies allowed per client address within ``window``; the
    ``failures``-th locks the address out of the callback for ``lockout``."""

    failures: int = 10
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


def _clean_name(upn: str) -> str:
    name = upn.strip().lower()
    if not name or len(name) > 200 or not name.isprintable():
        raise AuthError(
            "Entra ID sent a user name oathdesk cannot use.", code="auth.entra_bad_user"
        )
    return name


def _bind(account: Account, who: EntraUser) -> None:
    account.entra_tenant_id = who.tenant_id
    account.entra_object_id = who.object_id


def _account_for(
    uow: UnitOfWork, inv: Inventory, who: EntraUser, name: str, chosen: list[str], now: datetime
) -> Account:
    """The account of ``who``: bound to them, or made (or bound, if made before bindings
    existed) under ``name``; renamed to ``name`` when their UPN changed in Entra."""
    repo = AccountRepository(uow.session)
    actor = f"entra:{name}"
    ids = {"tenant_id": who.tenant_id, "object_id": who.object_id}
    bound, named = repo.find_entra(who.tenant_id, who.object_id), repo.find(name)
    if bound is not None:
        if bound.name != name and bound.enabled:
            if named is not None:
                raise AuthError(
                    f"Your user name changed to {name!r}, but another oathdesk account already "
                    "has that name; ask an administrator to disable or remove it.",
                    code="auth.entra_name_taken",
                )
            _audit(uow, inv, "account.rename", bound.name, actor, before=bound.name, after=name)
            bound.name = name
        return bound
    if named is None:
        account = repo.add(name, ENTRA_NO_PASSWORD, chosen, now, source="entra")
        _bind(account, who)
        _audit(uow, inv, "account.create", name, actor, roles=chosen, source="entra", **ids)
        return account
    if named.source != "entra":
        raise AuthError(
            f"A local account is already named {name!r}; an administrator must rename or "
            "disable it before this Entra user can sign in.",
            code="auth.entra_name_taken",
        )
    if named.entra_object_id is not None:  # the UPN was given to another person since
        raise AuthError(
            f"The oathdesk account named {name!r} belongs to another Entra user who had this "
            "name before you; ask an administrator.",
            code="auth.entra_upn_reused",
        )
    _bind(named, who)  # made before bindings existed: its next sign-in binds it
    _audit(uow, inv, "account.bind", name, actor, **ids)
    return named


def sign_in_entra(inv: Inventory, who: EntraUser, roles: list[str], *, address: str) -> AccountView:
    """The account of the user Entra ID has just signed in, with the roles the ID token
    carried: Entra decides, so a role removed there is gone here at the next sign-in. A local
    account, or an account bound to another Entra user, is never taken over."""
    name = _clean_name(who.upn)
    chosen = _roles(roles)
    now = inv.now()
    with inv.uow() as uow:
        try:
            account = _account_for(uow, inv, who, name, chosen, now)
        except AuthError as exc:
            error = exc
        else:
            actor = f"entra:{account.name}"
            if list(account.roles) != chosen:
                before = list(account.roles)
                _audit(uow, inv, "account.roles", account.name, actor, before=before, after=chosen)
                account.roles = chosen
            if not account.enabled:
                error = AuthError(
                    "Your oathdesk account is disabled; ask an administrator.",
                    code="auth.forbidden",
                )
            else:
                account.last_signin_at = now
                details = {"address": address, "method": "entra"}
                _audit(uow, inv, "auth.signin", account.name, actor, **details)
                uow.session.flush()
                return _view(account)
    raise error  # outside the unit of work: a role change made above is kept


def _key(address: str) -> str:
    return f"entra-callback:{address}"[:300]


def _throttled(until: datetime, now: datetime) -> AuthError:
    wait = retry_after(until, now)
    return AuthError(
        f"Too many failed sign-ins with Microsoft from your address; try again in {wait} seconds.",
        code="auth.entra_throttled",
        details={"retry_after": wait},
    )


def check_callback(inv: Inventory, *, address: str) -> None:
    """Refuse (``auth.entra_throttled``, a 429) a reply from an address locked out by failed
    ones; nothing is written, so a flood of them costs one read each."""
    now = inv.now()
    with inv.uow(write=False) as uow:
        until = uow.throttle.locked_until([_key(address)], now)
    if until is not None:
        raise _throttled(until, now)


def callback_failed(
    inv: Inventory, code: str, *, address: str, limits: CallbackLimits | None = None
) -> None:
    """Count one failed anonymous reply (``code``: why) from ``address``; audit only the first
    failure of a window and the failure that starts a lock."""
    limits = limits or CallbackLimits()
    now = inv.now()
    with inv.uow() as uow:
        counted = uow.throttle.fail(
            _key(address),
            limit=limits.failures,
            window=limits.window,
            lockout=limits.lockout,
            now=now,
        )
        details: dict[str, Any] = {"address": address, "method": "entra", "code": code}
        if counted.failures == 1:
            _audit(uow, inv, "auth.signin_failed", "(entra)", f"address:{address}", **details)
        if counted.failures == limits.failures and counted.locked_until is not None:
            until = counted.locked_until.isoformat()
            details.update(failures=counted.failures, locked_until=until)
            _audit(uow, inv, "auth.signin_throttled", "(entra)", f"address:{address}", **details)


def entra_refused(inv: Inventory, code: str, upn: str, *, address: str) -> None:
    """Audit a sign-in Entra completed but oathdesk refused (disabled, name taken...): the
    person is known, so each one is a row."""
    with inv.uow() as uow:
        name = upn.strip().lower()[:200] or "(entra)"
        _audit(
            uow,
            inv,
            "auth.signin_failed",
            name,
            f"entra:{name}",
            address=address,
            method="entra",
            code=code,
        )
