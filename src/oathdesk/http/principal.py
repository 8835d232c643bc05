"""Who is asking, as every route of either app sees them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """The signed-in person (or API token): ``source`` is ``local`` (a local account),
    ``entra`` (signed in with Entra ID; ``name`` is the UPN) or ``api`` (a bearer token;
    ``name`` is the token's name, and there is no session or CSRF token)."""

    name: str
    roles: frozenset[str]
    session_id: str = field(repr=False)  # the SHA-256 of the cookie's id, as stored
    csrf_token: str = field(repr=False)
    source: str = "local"

    @property
    def actor(self) -> str:
        """Who acts, for the audit log: ``local:<name>``, ``entra:<upn>`` or ``api:<name>``."""
        return f"{self.source}:{self.name}"

    @property
    def is_bearer(self) -> bool:
        return self.source == "api"

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))
