"""API tokens for automation: create (the value is shown once), list, revoke, and resolve a
bearer token to the roles it carries.

Why: scripts and MSP tooling call the REST API without a browser, so they need a credential that
is not a person's password, carries only the roles it needs, expires, and can be revoked on its
own; the database keeps only a SHA-256 of the value (a 256-bit random string needs no slow
hash), so a stolen backup holds no usable token. Every creation and revocation is audited.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from oathdesk.domain import Secret
from oathdesk.service.accounts import ROLES
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.store.accounts import AccountRepository, ApiToken
from oathdesk.store.errors import NotFound

PREFIX = "odk_"  # makes a leaked token easy to recognise (secret scanners, log filters)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
VALUE_RE = re.compile(r"^odk_[A-Za-z0-9_-]{43}$")
DEFAULT_DAYS = 90
MAX_DAYS = 3650
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class ApiTokenView:
    """What may be shown about a token: never its value or hash."""

    id: int
    name: str
    roles: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"

    def to_dict(self, now: datetime) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": self.id,
            "name": self.name,
            "roles": list(self.roles),
            "state": self.state(now),
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


def _view(row: ApiToken) -> ApiTokenView:
    return ApiTokenView(
        id=row.id,
        name=row.name,
        roles=tuple(r for r in ROLES if r in row.roles),
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _check(name: str, roles: list[str], days: int) -> list[str]:
    if not NAME_RE.match(name):
        raise ServiceError(
            "An API token name is 1 to 100 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit.",
            code="api_token.bad_name",
        )
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise ServiceError(
            f"an API token needs at least one role among {', '.join(ROLES)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
            code="api_token.bad_role",
        )
    if not 1 <= days <= MAX_DAYS:
        raise ServiceError(
            f"An API token lives 1 to {MAX_DAYS} days, not {days}.", code="api_token.bad_expiry"
        )
    return [r for r in ROLES if r in roles]


def create_api_token(
    inv: Inventory, name: str, roles: list[str], *, actor: str, days: int = DEFAULT_DAYS
) -> tuple[Secret, ApiTokenView]:
    """A new token: (its value, to show once and never again; what may be shown later)."""
    chosen = _check(name, roles, days)
    value = PREFIX + secrets.token_urlsafe(32)
    now = inv.now()
    with inv.uow() as uow:
        repo = AccountRepository(uow.session)
        if repo.api_token_named(name) is not None:
            raise ServiceError(
                f"An API token named {name!r} already exists (revoked ones keep their name).",
                code="api_token.exists",
            )
        row = repo.add_api_token(
            ApiToken(
                name=name,
                token_hash=_hash(value),
                roles=chosen,
                created_by=actor[:200],
                created_at=now,
                expires_at=now + timedelta(days=days),
            )
        )
        uow.audit.append(
            "api_token.create",
            actor=actor[:200],
            subject=f"api_token:{name}",
            details={"roles": chosen, "expires_at": row.expires_at.isoformat(), "id": row.id},
            tenant=inv.tenant,
        )
        return Secret(value.encode()), _view(row)


def list_api_tokens(inv: Inventory) -> list[ApiTokenView]:
    with inv.uow(write=False) as uow:
        return [_view(r) for r in AccountRepository(uow.session).api_tokens()]


def revoke_api_token(
    inv: Inventory, token_id: int, *, actor: str, reason: str = ""
) -> ApiTokenView:
    """Revoke at once (the next call with it gets 401); revoking twice changes nothing."""
    with inv.uow() as uow:
        row = AccountRepository(uow.session).api_token(token_id)
        if row is None:
            raise NotFound(f"There is no API token with id {token_id}.", code="api_token.not_found")
        if row.revoked_at is None:
            row.revoked_at = inv.now()
            uow.audit.append(
                "api_token.revoke",
                actor=actor[:200],
                subject=f"api_token:{row.name}",
                reason=reason,
                details={"id": row.id},
                tenant=inv.tenant,
            )
            uow.session.flush()
        return _view(row)


def revoke_api_token_named(
    inv: Inventory, name: str, *, actor: str, reason: str = ""
) -> ApiTokenView:
    with inv.uow(write=False) as uow:
        row = AccountRepository(uow.session).api_token_named(name)
        if row is None:
            raise NotFound(f"There is no API token named {name!r}.", code="api_token.not_found")
        token_id = row.id
    return revoke_api_token(inv, token_id, actor=actor, reason=reason)


def resolve_api_token(inv: Inventory, value: str) -> ApiTokenView | None:
    """The live token behind a bearer value, or None (malformed, unknown, expired, revoked).
    Use is recorded at most once a minute, so reads stay free of write locks."""
    if not VALUE_RE.match(value):
        return None
    now = inv.now()
    digest = _hash(value)
    with inv.uow(write=False) as uow:
        row = AccountRepository(uow.session).api_token_by_hash(digest)
        if row is None:
            return None
        view = _view(row)
    if view.state(now) != "active":
        return None
    if view.last_used_at is None or now - view.last_used_at > TOUCH_EVERY:
        with inv.uow() as uow:
            found = AccountRepository(uow.session).api_token_by_hash(digest)
            if found is not None:
                found.last_used_at = now
    return view
