"""The reports page, its charts and its exports, and the API twin.

Why: the inventory's reports used to exist only in the CLI (``oathdesk report``). Staff (admin,
help desk, auditor: the roles that may open the dashboard) read them here; every report is one
table from ``service.reports`` shown as a chart (an SVG image of its own, so the page's CSP stays
strict) and as a table, and downloads as CSV or JSON with the same rows.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from oathdesk.service.reports import REPORTS, Report, build_report
from oathdesk.web.report_charts import CHART_SVG_CSP, render_svg
from oathdesk.web.routes_api import ERRORS
from oathdesk.web.routes_pages import render
from oathdesk.web.security import InventoryDep, Staff

router = APIRouter(tags=["reports"])  # the pages are left out of the API schema one by one

DaysQ = Annotated[
    int, Query(ge=1, le=3650, description="The unused report: days without a sign-in.")
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas
DESCRIPTIONS = {
    "stock": "Unassigned tokens (in stock or available in Entra) by model and by imported batch.",
    "age": "How long the unassigned tokens have waited since they were imported.",
    "activity": "Tokens assigned and activated in each of the last twelve months (UTC), "
    "counted from each token's latest assignment and activation.",
    "failed": "Tokens whose activation failed; each waits for the help desk.",
    "lost": "Tokens reported lost, with the user who held them.",
    "drift": "Activated tokens by how far their clock had drifted at the last checked code, in "
    "time steps; tokens unused for a long time may have drifted past Entra's window.",
    "unused": "Activated tokens Entra has not seen used for the chosen number of days.",
}


def _report(inv: InventoryDep, name: str, days: int) -> Report:
    if name not in REPORTS:
        raise HTTPException(status_code=404)
    return build_report(inv, name, days=days)


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(report: Report) -> str:
    """The report's rows under a header line; a cell that would start a spreadsheet formula is
    prefixed with an apostrophe (CSV injection)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report.columns)
    writer.writerows([_text(v) for v in row] for row in report.rows)
    return out.getvalue()


def _download(body: str, media_type: str, report: Report, suffix: str) -> Response:
    stamp = report.generated_at.strftime("%Y%m%dT%H%M%SZ")
    name = f"oathdesk-{report.name}-{stamp}.{suffix}"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/reports", include_in_schema=False)
def reports_page(
    request: Request, inv: InventoryDep, principal: Staff, days: DaysQ = 90
) -> Response:
    reports = [build_report(inv, name, days=days) for name in REPORTS]
    return render(
        request,
        "reports.html",
        principal,
        title="Reports",
        reports=reports,
        descriptions=DESCRIPTIONS,
        days=days,
    )


@router.get("/reports/charts/{name}.svg", include_in_schema=False)
def report_chart(inv: InventoryDep, principal: Staff, name: str, days: DaysQ = 90) -> Response:
    report = _report(inv, name, days)
    return Response(
        render_svg(report),
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": CHART_SVG_CSP},
    )


@router.get("/reports/{name}.csv", include_in_schema=False)
def report_csv(inv: InventoryDep, principal: Staff, name: str, days: DaysQ = 90) -> Response:
    report = _report(inv, name, days)
    return _download(to_csv(report), "text/csv; charset=utf-8", report, "csv")


@router.get("/reports/{name}.json", include_in_schema=False)
def report_json(inv: InventoryDep, principal: Staff, name: str, days: DaysQ = 90) -> Response:
    report = _report(inv, name, days)
    body = json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
    return _download(body, "application/json", report, "json")


ReportName = Literal[  # service.reports.REPORTS (a test keeps them equal)
    "stock", "age", "activity", "failed", "lost", "drift", "unused"
]


@router.get(
    "/api/v1/reports/{name}",
    summary="One report: stock, age, activity, failed, lost, drift, unused",
    responses=ERRORS,
)
def report_api(
    inv: InventoryDep, principal: Staff, name: ReportName, days: DaysQ = 90
) -> dict[str, Any]:
    return _report(inv, name, days).to_dict()
