"""Reconcile and audit pages with their ``/api/v1`` twins; the settings and accounts routes of
``routes_settings`` are registered on the same two routers (imported here, so the app mounts
one admin module).

Why: the inventory is only the system of record if someone can see where Entra differs and
repair what is safe, and the audit chain is only worth something if an auditor can search it,
check it and take it away; each page and its twin call the same service function.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from starlette.responses import Response, StreamingResponse

from oathdesk.domain import OathdeskError, UsageError
from oathdesk.service import reconcile, verify_audit
from oathdesk.service.accounts import list_accounts
from oathdesk.service.admin import (
    AuditFilter,
    AuditPage,
    audit_filter,
    export_audit_filtered,
    search_audit,
)
from oathdesk.service.api_tokens import list_api_tokens
from oathdesk.web import routes_settings
from oathdesk.web.admin_routers import pages, router
from oathdesk.web.audit_summary import SUMMARIES, summarise
from oathdesk.web.errors import status_for
from oathdesk.web.routes_pages import render
from oathdesk.web.security import Admin, Auditor, InventoryDep, Principal

KINDS = {  # finding kind -> heading, in the order the page shows them
    "missing_in_entra": "Missing in Entra",
    "unknown_to_us": "Unknown to oathdesk",
    "status": "Status differs",
    "assignee": "Assignee differs",
    "not_linked": "Not linked to its Entra object",
    "duplicate_serial": "Duplicate serials",
}
PAGE_SIZES = (25, 50, 100, 200)

Text = Annotated[str | None, Query(max_length=200)]
When = Annotated[
    str | None,
    Query(max_length=40, description="ISO 8601 date and time; without an offset it is UTC."),
]
Before = Annotated[
    int | None,
    Query(ge=1, le=2**63 - 1, description="next_before from the previous page."),  # a BIGINT
]
Limit = Annotated[int, Query(ge=1, le=200, description="Entries per page.")]


# -- reconcile ------------------------------------------------------------------------------
def _short(data: dict[str, Any]) -> str:
    """One line for one side of a finding (no seeds exist in either side)."""
    if not data:
        return "—"
    parts = []
    for key in ("state", "status", "user_upn", "user_id", "assigned_to_id", "methods"):
        if data.get(key):
            parts.append(f"{key.replace('_', ' ')}: {data[key]}")
    if data.get("ids"):
        parts.append("objects: " + ", ".join(data["ids"]))
    return "; ".join(parts) or "—"


def grouped(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings grouped by kind, each row with a short text per side."""
    groups = []
    for kind, heading in KINDS.items():
        rows = [
            {**f, "ours_text": _short(f["ours"]), "entra_text": _short(f["entra"])}
            for f in result["findings"]
            if f["kind"] == kind
        ]
        groups.append({"kind": kind, "heading": heading, "rows": rows})
    return groups


def _reconcile_page(
    request: Request, inv: InventoryDep, principal: Principal, *, fix: bool
) -> Response:
    try:
        result = reconcile(inv, actor=principal.actor, fix=fix)
    except OathdeskError as exc:  # Entra unreachable, refusing, or not configured
        response = render(
            request,
            "reconcile.html",
            principal,
            title="Reconcile",
            error=exc.message,
            error_code=exc.code,
        )
        response.status_code = status_for(exc.code)
        return response
    return render(
        request,
        "reconcile.html",
        principal,
        title="Reconcile",
        result=result,
        groups=grouped(result),
    )


@pages.get("/reconcile")
def reconcile_page(request: Request, inv: InventoryDep, principal: Admin) -> Response:
    return _reconcile_page(request, inv, principal, fix=False)


@pages.post("/reconcile/fix")
def reconcile_fix_page(request: Request, inv: InventoryDep, principal: Admin) -> Response:
    return _reconcile_page(request, inv, principal, fix=True)


@router.get("/reconcile", summary="How Entra differs from the inventory (changes nothing)")
def reconcile_api(inv: InventoryDep, principal: Admin) -> dict[str, Any]:
    return reconcile(inv, actor=principal.actor, fix=False)


@router.post(
    "/reconcile/fix", summary="Apply the safe fixes: adopt Entra's view where nobody is hurt"
)
def reconcile_fix_api(inv: InventoryDep, principal: Admin) -> dict[str, Any]:
    return reconcile(inv, actor=principal.actor, fix=True)


# -- audit ----------------------------------------------------------------------------------
def _when(value: str | None, field: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{field}: {value!r} is not a date and time (use 2026-11-30T08:00 or ISO 8601).",
            code="request.invalid",
            details={"problems": [{"field": field, "problem": "not an ISO 8601 date-time"}]},
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _filter(
    inv: InventoryDep,
    actor: str | None,
    action: str | None,
    subject: str | None,
    since: str | None,
    until: str | None,
) -> AuditFilter:
    return audit_filter(
        inv,
        actor=actor,
        action=action,
        subject=subject,
        since=_when(since, "since"),
        until=_when(until, "until"),
    )


def _typed(at: datetime | None, raw: str | None) -> str:
    """A date-time as a ``datetime-local`` field shows it: UTC, without an offset."""
    if at is None:
        return (raw or "").strip()
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _query(flt: AuditFilter, since: str | None, until: str | None) -> list[tuple[str, str]]:
    """The filter as the form shows it, for links that keep it (paging, export)."""
    return [
        ("actor", flt.actor or ""),
        ("action", flt.action or ""),
        ("subject", flt.subject or ""),
        ("since", _typed(flt.since, since)),
        ("until", _typed(flt.until, until)),
    ]


def _action_choices() -> list[str]:
    """What the action filter suggests: each family (``token.``) then each known action."""
    families = sorted({a.split(".", 1)[0] + "." for a in SUMMARIES})
    return families + sorted(SUMMARIES)


def _actor_choices(inv: InventoryDep) -> list[str]:
    """What the actor filter suggests: every account and API token as the log names them (a
    few hundred rows at most; the log itself is never scanned for them)."""
    people = [f"{a.source}:{a.name}" for a in list_accounts(inv)]
    return sorted(people) + sorted(f"api:{t.name}" for t in list_api_tokens(inv))


@pages.get("/audit")
def audit_page(
    request: Request,
    inv: InventoryDep,
    principal: Auditor,
    actor: Text = None,
    action: Text = None,
    subject: Text = None,
    since: When = None,
    until: When = None,
    before: Before = None,
    limit: Limit = 50,
) -> Response:
    error = None
    try:
        flt = _filter(inv, actor, action, subject, since, until)
        page = search_audit(inv, flt, before=before, limit=limit)
    except UsageError as exc:  # a mistyped date: the form again, with the reason
        flt = audit_filter(inv, actor=actor, action=action, subject=subject)
        page, error = AuditPage([], None), exc.message
    kept = _query(flt, since, until)
    return render(
        request,
        "audit.html",
        principal,
        title="Audit log",
        page=page,
        lines=[{**e, "summary": summarise(e)} for e in page.items],  # the API's items too
        actions=_action_choices(),
        actors=_actor_choices(inv),
        form=dict(kept),
        error=error,
        limit=limit,
        sizes=PAGE_SIZES,
        paged=before is not None,
        first_url="/audit?" + urlencode([*kept, ("limit", str(limit))]),
        next_url=(
            "/audit?" + urlencode([*kept, ("limit", str(limit)), ("before", str(page.next_before))])
            if page.next_before
            else None
        ),
        export_url="/audit/export?" + urlencode(kept),
    )


@pages.get("/audit/verify")
def audit_verify_page(request: Request, inv: InventoryDep, principal: Auditor) -> Response:
    return render(
        request, "audit.html", principal, title="Audit log", verify=verify_audit(inv).to_dict()
    )


@router.get("/audit", summary="One page of the audit log, newest first (keyset: next_before)")
def audit_api(
    inv: InventoryDep,
    principal: Auditor,
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=200, description="Action prefix.")] = None,
    subject: Annotated[str | None, Query(max_length=200, description="Serial or target.")] = None,
    since: When = None,
    until: When = None,
    before: Before = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    flt = _filter(inv, actor, action, subject, since, until)
    page = search_audit(inv, flt, before=before, limit=limit)
    items = [{**e, "summary": summarise(e)} for e in page.items]
    return {"items": items, "next_before": page.next_before, "filter": flt.to_dict()}


@router.get("/audit/verify", summary="Walk the hash chain: ok, or the first broken entry")
def audit_verify_api(inv: InventoryDep, principal: Auditor) -> dict[str, Any]:
    return verify_audit(inv).to_dict()


@router.get(
    "/audit/export",
    summary="The matching entries as JSON lines, hashes included (the export is audited)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def audit_export(
    inv: InventoryDep,
    principal: Auditor,
    actor: Text = None,
    action: Text = None,
    subject: Text = None,
    since: When = None,
    until: When = None,
) -> Response:
    lines = export_audit_filtered(
        inv, _filter(inv, actor, action, subject, since, until), actor=principal.actor
    )
    stamp = inv.now().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        (line + "\n" for line in lines),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="oathdesk-audit-{stamp}.jsonl"'},
    )


pages.add_api_route("/audit/export", audit_export, methods=["GET"])  # the page's download link


__all__ = ["pages", "router", "routes_settings"]  # routes_settings registers on the same routers
