"""Failures of the inventory use cases (``service.*``) with a message that says what to do.

Why: the service adds rules the store and Graph do not know (a code checked before Entra is
touched, Entra not configured, a token that is not where an action needs it); the CLI and the API
map these stable codes to exits and answers. No message ever holds a code, seed or password.
"""

from __future__ import annotations

from oathdesk.domain import OathdeskError


class ServiceError(OathdeskError):
    """An inventory action cannot be done as asked."""

    code = "service.error"


class CodeRejected(ServiceError):
    """The code typed does not match the token (checked locally, before Entra is touched)."""

    code = "service.code_rejected"
