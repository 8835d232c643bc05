"""Local console accounts, their browser sessions and API tokens, in the database.

Why: break-glass administrators must be able to sign in when Entra cannot, so their accounts
(argon2 hashes only, never a password) live beside the inventory they manage; sessions are kept
server-side (only a SHA-256 of the cookie's random id is stored) so sign-out and disabling an
account end them at once; failed sign-ins are counted by ``store.throttle``.
Tables are made by migration ``0003_accounts``; ``0005_identity`` adds the account's source
(local or Entra) and the API tokens automation uses (only their SHA-256 is stored); ``0008``
binds an Entra account to the user's immutable ids (tenant ``tid`` + object ``oid``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.types import JSON

from oathdesk.store.errors import NotFound
from oathdesk.store.models import Base, UTCDateTime


class Account(Base):
    """One local account: a unique name, an argon2 hash and the console roles it holds."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("entra_tenant_id", "entra_object_id", name="uq_accounts_entra_identity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(400))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "local" (a password) or "entra" (signs in through OIDC; its hash is unusable)
    source: Mapped[str] = mapped_column(String(16), default="local", server_default="local")
    # an Entra account's owner: tenant id + object id from the ID token (``tid``, ``oid``), which
    # never change or pass to another person, unlike the UPN the account is named after
    entra_tenant_id: Mapped[str | None] = mapped_column(String(64), default=None)
    entra_object_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_signin_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def __repr__(self) -> str:  # never the hash
        return (
            f"Account(name={self.name!r}, source={self.source!r}, roles={self.roles!r}, "
            f"enabled={self.enabled})"
        )


class WebSession(Base):
    """One signed-in browser: ``id`` is the SHA-256 (hex) of the random id in the cookie."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        Index("ix_web_sessions_account", "account_id"),
        Index("ix_web_sessions_expires", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    address: Mapped[str] = mapped_column(String(64), default="")

    def __repr__(self) -> str:  # the id hash is enough to find a row, never shown
        return f"WebSession(account_id={self.account_id}, expires_at={self.expires_at})"


class ApiToken(Base):
    """A bearer token for automation: only the SHA-256 (hex) of its value is kept; ``roles`` is
    the subset of console roles it carries. Revoked tokens stay, for the audit trail."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    def __repr__(self) -> str:  # never the hash
        return f"ApiToken(id={self.id}, name={self.name!r}, roles={self.roles!r})"


class AccountRepository:
    """Accounts, sessions and API tokens through one session (a unit of work's)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # accounts
    def find(self, name: str) -> Account | None:
        return self.session.scalars(select(Account).where(Account.name == name)).one_or_none()

    def get(self, name: str) -> Account:
        account = self.find(name)
        if account is None:
            raise NotFound(f"There is no local account named {name!r}.", code="account.not_found")
        return account

    def find_entra(self, tenant_id: str, object_id: str) -> Account | None:
        """The account bound to this Entra user (``tid`` + ``oid``), whatever its name now."""
        query = select(Account).where(
            Account.entra_tenant_id == tenant_id, Account.entra_object_id == object_id
        )
        return self.session.scalars(query).one_or_none()

    def by_id(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def add(
        self, name: str, password_hash: str, roles: list[str], at: datetime, source: str = "local"
    ) -> Account:
        account = Account(
            name=name,
            password_hash=password_hash,
            roles=roles,
            source=source,
            created_at=at,
            updated_at=at,
        )
        self.session.add(account)
        self.session.flush()
        return account

    def list(self) -> list[Account]:
        return list(self.session.scalars(select(Account).order_by(Account.name)))

    # sessions
    def add_session(
        self, id_hash: str, account: Account, *, at: datetime, expires_at: datetime, address: str
    ) -> WebSession:
        row = WebSession(
            id=id_hash,
            account_id=account.id,
            created_at=at,
            last_seen_at=at,
            expires_at=expires_at,
            address=address[:64],
        )
        self.session.add(row)
        self.session.flush()
        return row

    def find_session(self, id_hash: str) -> WebSession | None:
        return self.session.get(WebSession, id_hash)

    def delete_session(self, id_hash: str) -> None:
        self.session.execute(delete(WebSession).where(WebSession.id == id_hash))

    def delete_sessions_of(self, account: Account) -> None:
        self.session.execute(delete(WebSession).where(WebSession.account_id == account.id))

    def delete_expired_sessions(self, now: datetime) -> None:
        self.session.execute(delete(WebSession).where(WebSession.expires_at <= now))

    # API tokens
    def add_api_token(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        self.session.flush()
        return token

    def api_token(self, token_id: int) -> ApiToken | None:
        return self.session.get(ApiToken, token_id)

    def api_token_named(self, name: str) -> ApiToken | None:
        return self.session.scalars(select(ApiToken).where(ApiToken.name == name)).one_or_none()

    def api_token_by_hash(self, token_hash: str) -> ApiToken | None:
        query = select(ApiToken).where(ApiToken.token_hash == token_hash)
        return self.session.scalars(query).one_or_none()

    def api_tokens(self) -> Sequence[ApiToken]:
        return self.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
