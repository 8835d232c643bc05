"""The Microsoft Graph client: MSAL sign-in, retries that honour ``Retry-After``, complete
listings, and a resumable, idempotent bulk upload. Depends on ``domain`` and ``formats`` only.
"""

from oathdesk.graph.auth import MsalTokenSource, StaticToken, TokenSource
from oathdesk.graph.bulk import Uploader, UploadOptions
from oathdesk.graph.client import GraphClient
from oathdesk.graph.connect import connect
from oathdesk.graph.errors import (
    GraphAuthError,
    GraphClaimsChallenge,
    GraphConflict,
    GraphError,
    GraphNotFound,
    GraphOutcomeUnknown,
    GraphRequestError,
    GraphThrottled,
    GraphUnavailable,
)
from oathdesk.graph.journal import Journal, journal_path
from oathdesk.graph.methods import MAX_OATH_METHODS, UserMethod, capped_count
from oathdesk.graph.models import Device, User, device_body
from oathdesk.graph.report import ItemResult, UploadReport
from oathdesk.graph.retry import AdaptiveRateLimiter, RetryPolicy, parse_retry_after
from oathdesk.graph.session import GraphSession, make_http_client
from oathdesk.graph.settings import GraphSettings
from oathdesk.graph.tap import IssuedTap, TapInfo

__all__ = [
    "MAX_OATH_METHODS",
    "AdaptiveRateLimiter",
    "Device",
    "GraphAuthError",
    "GraphClaimsChallenge",
    "GraphClient",
    "GraphConflict",
    "GraphError",
    "GraphNotFound",
    "GraphOutcomeUnknown",
    "GraphRequestError",
    "GraphSession",
    "GraphSettings",
    "GraphThrottled",
    "GraphUnavailable",
    "IssuedTap",
    "ItemResult",
    "Journal",
    "MsalTokenSource",
    "RetryPolicy",
    "StaticToken",
    "TapInfo",
    "TokenSource",
    "UploadOptions",
    "UploadReport",
    "Uploader",
    "User",
    "UserMethod",
    "capped_count",
    "connect",
    "device_body",
    "journal_path",
    "make_http_client",
    "parse_retry_after",
]
