"""Tenant connection check: sign in as the configured app and probe each Graph permission.

Why: a missing admin consent otherwise shows up as a 403 in the middle of a help-desk action.
This calls one harmless request per operation oathdesk needs (graph-api.md §3), so an
administrator sees at once which permissions work and which are missing. Write permissions are
probed by deleting an object that cannot exist (the all-zero id): Graph checks the permission
first, so 404 means "allowed" and 403 "missing", and nothing is ever changed. Each operation
names the least-privileged permission Microsoft lists (the per-method
``UserAuthMethod-HardwareOATH.*`` ones since Oct 2025) and the broader ones that also do; the
probe itself accepts whichever the app holds.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from oathdesk.domain import Clock, OathdeskError
from oathdesk.graph import GraphClient, GraphError, GraphNotFound, MsalTokenSource, User
from oathdesk.graph.client import DEVICES
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError

NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"
CONSENT_HINT = "grant it to the app registration and give admin consent (docs/entra.md)"


@dataclass
class Check:
    """One probed operation: ``status`` is ok, missing (403), failed (another error) or skipped.
    ``permission`` is the least-privileged one Microsoft lists; ``accepted`` the broader ones
    that also do (a tenant consented to those before Oct 2025 need not change anything)."""

    id: str
    operation: str
    permission: str
    status: str = "skipped"
    message: str = ""
    latency_ms: float | None = None
    accepted: list[str] = field(default_factory=list)


@dataclass
class ConnectionReport:
    """What the tenant let the app do; never holds the token or the client secret."""

    tenant: str | None
    client_id: str | None
    signed_in: bool = False
    granted: list[str] = field(default_factory=list)  # the application roles in the token
    probe_user: str | None = None
    checks: list[Check] = field(default_factory=list)
    sign_in_ms: float | None = None
    latency_ms: float = 0.0
    error: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.signed_in and all(c.status == "ok" for c in self.checks)

    @property
    def missing(self) -> list[str]:
        return [c.permission for c in self.checks if c.status == "missing"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"], data["missing"] = self.ok, self.missing
        return data


HW = "UserAuthMethod-HardwareOATH"
# (id, operation, least-privileged application permission, others that also suffice)
CHECKS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "inventory_read",
        "List the hardware OATH inventory",
        "Policy.Read.All",
        ("Policy.ReadWrite.AuthenticationMethod",),
    ),
    ("user_read", "Read a user (and whether they are a guest)", "User.Read.All", ()),
    (
        "methods_read",
        "List a user's hardware OATH methods",
        f"{HW}.Read.All",
        ("UserAuthenticationMethod.Read.All",),
    ),
    (
        "policy_read",
        "Read the hardware OATH method policy",
        "Policy.Read.AuthenticationMethod",
        ("Policy.ReadWrite.AuthenticationMethod",),
    ),
    (
        "inventory_write",
        "Add and delete tokens in the inventory",
        "Policy.ReadWrite.AuthenticationMethod",
        (),
    ),
    (
        "methods_write",
        "Assign, activate and unassign users' tokens",
        f"{HW}.ReadWrite.All",
        ("UserAuthenticationMethod.ReadWrite.All",),
    ),
)
BASIC_ONLY = (
    "works, but Entra did not return userType (the app reads basic profiles only, "
    "User.ReadBasic.All): oathdesk cannot tell guests apart; grant User.Read.All"
)


def _claims(token: str) -> dict[str, Any]:
    """The access token's payload, read without verification (shown, never trusted)."""
    try:
        part = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _ms_since(clock: Clock, started: float) -> float:
    return round((clock.monotonic() - started) * 1000, 1)


def _run(
    clock: Clock, check: Check, call: Callable[[], object], *, absent_is_ok: bool = False
) -> object:
    started = clock.monotonic()
    result: object = None
    try:
        result = call()
        check.status, check.message = "ok", "works"
    except GraphNotFound as exc:
        if absent_is_ok:  # the permission was granted; the probe object does not exist
            check.status, check.message = "ok", "allowed (probed without changing anything)"
        else:
            check.status, check.message = "failed", exc.message
    except GraphError as exc:
        if exc.status == 403:
            also = f" (or {' or '.join(check.accepted)})" if check.accepted else ""
            check.status = "missing"
            check.message = f"refused (403): the app lacks {check.permission}{also}; {CONSENT_HINT}"
        else:
            check.status, check.message = "failed", exc.message
    check.latency_ms = _ms_since(clock, started)
    return result


def check_connection(inv: Inventory, *, actor: str, user: str | None = None) -> ConnectionReport:
    """Sign in with the configured app and probe each permission; ``user`` (a UPN or id) is the
    user to read, else the first user Graph lists. The check itself is audited; latencies are
    measured on the inventory's clock."""
    clock = inv.clock
    started = clock.monotonic()
    try:
        entra = inv.entra()
    except OathdeskError as exc:  # not configured, or the sign-in service is out of reach
        report = ConnectionReport(None, None, error={"code": exc.code, "message": exc.message})
        return _finish(inv, report, started, actor)
    if not isinstance(entra, GraphClient):
        raise ServiceError(
            "The connection check needs oathdesk's Graph client.", code="service.not_probeable"
        )
    session = entra.session
    source = session.tokens
    settings = source.settings if isinstance(source, MsalTokenSource) else None
    report = ConnectionReport(
        settings.tenant_id if settings else None, settings.client_id if settings else None
    )
    report.checks = [Check(i, op, name, accepted=list(also)) for i, op, name, also in CHECKS]
    by_id = {c.id: c for c in report.checks}
    t0 = clock.monotonic()
    try:
        source.invalidate()  # ask for a token again rather than reuse oathdesk's copy
        claims = _claims(source.token())
    except GraphError as exc:
        report.error = {"code": exc.code, "message": exc.message}
        for check in report.checks:
            check.message = "not tried: the app could not sign in"
        return _finish(inv, report, started, actor)
    report.sign_in_ms = _ms_since(clock, t0)
    report.signed_in = True
    report.tenant = str(claims.get("tid") or report.tenant or "") or None
    report.granted = sorted(str(r) for r in claims.get("roles") or [])

    _run(
        clock,
        by_id["inventory_read"],
        lambda: session.json("GET", DEVICES, what="list the inventory", params={"$top": 1}),
    )
    _run(clock, by_id["policy_read"], entra.get_policy)
    found = _run(clock, by_id["user_read"], lambda: _probe_user(entra, user))
    target = found.id if isinstance(found, User) else None
    if isinstance(found, User) and not found.user_type:
        by_id["user_read"].status, by_id["user_read"].message = "failed", BASIC_ONLY
    report.probe_user = target
    if target is None:
        for key in ("methods_read", "methods_write"):
            by_id[key].message = "not tried: no user to try it on (type a user's UPN)"
    else:
        _run(clock, by_id["methods_read"], lambda: entra.user_methods(target))
        _run(
            clock,
            by_id["methods_write"],
            lambda: entra.unassign(target, NO_SUCH_ID),
            absent_is_ok=True,
        )
    _run(
        clock, by_id["inventory_write"], lambda: entra.delete_device(NO_SUCH_ID), absent_is_ok=True
    )
    return _finish(inv, report, started, actor)


def _probe_user(entra: GraphClient, user: str | None) -> User:
    """``user``, or the first user the directory lists, read as bulk uploads read users."""
    if user and user.strip():
        return entra.get_user(user.strip())
    data = entra.session.json("GET", "users", what="list users", params={"$top": 1})
    items = data.get("value") or []
    if not items or not isinstance(items[0], dict) or not items[0].get("id"):
        raise GraphNotFound("The directory lists no user to try the user permissions on.")
    return entra.get_user(str(items[0]["id"]))


def _finish(
    inv: Inventory, report: ConnectionReport, started: float, actor: str
) -> ConnectionReport:
    report.latency_ms = _ms_since(inv.clock, started)
    with inv.uow() as uow:
        uow.audit.append(
            "settings.connection_check",
            actor=actor,
            details={
                "ok": report.ok,
                "tenant": report.tenant,
                "missing": report.missing,
                "error": report.error["code"] if report.error else None,
            },
            tenant=inv.tenant,
        )
    return report
