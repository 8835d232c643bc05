"""Hand-out pages: a roster (a file, or the users a seed file named) checked row by row, then
handed out as one resumable job whose progress and per-row outcomes the page shows.

Why: the help desk's first wish is to give a whole delivery to its people in one go without
typing a code per token. Nothing is sent before every row passed (the plan shows each refusal
with its line); the roster rides in the confirm form itself (serials and user names, no secret),
so the confirm may reach any server process and is checked again there before the job starts.
The job runs in a background thread of the process that started it; its state lives in the
database, so any process answers the progress poll and a resume picks up after a crash.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import JSONResponse, RedirectResponse, Response

from oathdesk.domain import OathdeskError
from oathdesk.formats.csv_safety import neutralise
from oathdesk.service import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.handout import (
    HandoutSettings,
    handout_outcomes,
    handout_status,
    open_handout,
    run_handout,
    start_handout,
)
from oathdesk.service.handout_plan import (
    RosterPlan,
    plan_handout,
    roster_from_batch,
    roster_from_file,
)
from oathdesk.service.queries import list_batches
from oathdesk.web.import_form import by_line
from oathdesk.web.routes_api_handout import MAX_ID, JobId
from oathdesk.web.routes_pages import render
from oathdesk.web.security import Admin, InventoryDep, Principal

MAX_ROSTER = 4 * 1024 * 1024  # 4 MiB: far more than 100,000 rows of serial,upn,name
SHOWN_ROWS = 500  # rows a plan or an outcome table lists on the page (all are in the CSV)

pages = APIRouter(include_in_schema=False)
log = logging.getLogger("oathdesk.web.handout")


def settings_of(request: Request) -> HandoutSettings:
    """``[handout]`` as configured (``create_app_from_config``), else the defaults."""
    found = getattr(request.app.state, "handout", None)
    return found if isinstance(found, HandoutSettings) else HandoutSettings()


def _form(request: Request, inv: Inventory, principal: Principal, **context: Any) -> Response:
    return render(
        request,
        "handout.html",
        principal,
        title="Hand-out",
        batches=list_batches(inv, limit=50),
        allowed=settings_of(request).activate_from_seed,
        open_job=open_handout(inv),
        **context,
    )


@pages.get("/handout")
def handout_page(request: Request, inv: InventoryDep, principal: Admin) -> Response:
    return _form(request, inv, principal)


def _roster_bytes(file: UploadFile | None, carried: str | None) -> tuple[str, bytes] | None:
    if file is not None and file.filename:
        data = file.file.read(MAX_ROSTER + 1)
        if len(data) > MAX_ROSTER:
            raise ServiceError(
                f"The roster {file.filename} is larger than 4 MiB; split it into several.",
                code="roster.too_large",
            )
        return file.filename, data
    if carried:
        name, _, encoded = carried.partition(":")
        try:
            return base64.b64decode(name).decode(), base64.b64decode(encoded, validate=True)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ServiceError(
                "The roster sent back with the form is damaged; choose the file again.",
                code="roster.damaged",
            ) from None
    return None


def _carry(name: str, data: bytes) -> str:
    return base64.b64encode(name.encode()).decode() + ":" + base64.b64encode(data).decode()


def _plan(
    inv: Inventory,
    file: UploadFile | None,
    carried: str | None,
    batch: int | None,
    activate: bool,
) -> tuple[RosterPlan, dict[str, Any]]:
    """The plan of the chosen roster and what the confirm form must send back to rebuild it."""
    chosen = _roster_bytes(file, carried)
    if chosen is not None:
        name, data = chosen
        return plan_handout(inv, roster_from_file(data, name), activate=activate), {
            "roster": _carry(name, data)
        }
    if batch is not None:
        return plan_handout(inv, roster_from_batch(inv, batch), activate=activate), {"batch": batch}
    raise ServiceError(
        "Choose a roster file, or a seed file whose rows name their users.",
        code="roster.empty",
    )


OptionalFile = Annotated[UploadFile | None, File()]
Carried = Annotated[str | None, Form(max_length=2 * MAX_ROSTER)]
BatchF = Annotated[int | None, Form(ge=1, le=MAX_ID)]
ActivateF = Annotated[bool, Form()]
ReasonF = Annotated[str, Form(max_length=500)]


@pages.post("/handout/preview")
def preview_page(
    request: Request,
    inv: InventoryDep,
    principal: Admin,
    file: OptionalFile = None,
    batch: BatchF = None,
    activate: ActivateF = False,
    reason: ReasonF = "",
) -> Response:
    """Check every row and show the plan; nothing is sent."""
    try:
        if activate and not settings_of(request).activate_from_seed:
            raise ServiceError(
                "Activation from the sealed seed is switched off on this server: an "
                "administrator sets [handout] activate_from_seed = true to allow it.",
                code="handout.from_seed_off",
            )
        plan, carry = _plan(inv, file, None, batch, activate)
    except OathdeskError as exc:
        response = _form(request, inv, principal, error=exc.message, error_code=exc.code)
        response.status_code = 400
        return response
    return _preview(request, principal, plan, carry, reason)


def _preview(
    request: Request, principal: Principal, plan: RosterPlan, carry: dict[str, Any], reason: str
) -> Response:
    problems = by_line(plan.problems)
    return render(
        request,
        "handout_preview.html",
        principal,
        title="Hand-out plan",
        plan=plan,
        rows=plan.rows[:SHOWN_ROWS],
        problems=problems[:SHOWN_ROWS],
        problems_total=len(problems),
        errors=len(plan.errors),
        carry=carry,
        reason=reason,
    )


def _run(inv: Inventory, job_id: int, actor: str, settings: HandoutSettings) -> None:
    """The job in a background thread; its failures are in the job's rows and state."""
    try:
        run_handout(inv, job_id, actor=actor, settings=settings)
    except OathdeskError as exc:  # the job's state and rows keep the rest; the page shows them
        log.warning("hand-out %s stopped: %s (%s)", job_id, exc.message, exc.code)


def _start_thread(inv: Inventory, job_id: int, actor: str, settings: HandoutSettings) -> None:
    thread = threading.Thread(
        target=_run, args=(inv, job_id, actor, settings), name=f"handout-{job_id}", daemon=True
    )
    thread.start()


@pages.post("/handout/start")
def start_page(
    request: Request,
    inv: InventoryDep,
    principal: Admin,
    roster: Carried = None,
    batch: BatchF = None,
    activate: ActivateF = False,
    reason: ReasonF = "",
) -> Response:
    """Check the roster again (the world may have changed since the preview) and start."""
    settings = settings_of(request)
    try:
        plan, carry = _plan(inv, None, roster, batch, activate)
        if plan.errors:
            response = _preview(request, principal, plan, carry, reason)
            response.status_code = 409
            return response
        job_id = start_handout(inv, plan, actor=principal.actor, reason=reason, settings=settings)
    except OathdeskError as exc:
        response = _form(request, inv, principal, error=exc.message, error_code=exc.code)
        response.status_code = 400
        return response
    _start_thread(inv, job_id, principal.actor, settings)
    return RedirectResponse(f"/handout/jobs/{job_id}", status_code=303)


@pages.post("/handout/jobs/{job_id}/resume")
def resume_page(request: Request, inv: InventoryDep, principal: Admin, job_id: JobId) -> Response:
    handout_status(inv, job_id)  # an unknown job is a 404 before anything starts
    _start_thread(inv, job_id, principal.actor, settings_of(request))
    return RedirectResponse(f"/handout/jobs/{job_id}", status_code=303)


def _view(inv: Inventory, job_id: JobId) -> dict[str, Any]:
    status = handout_status(inv, job_id)
    counts: dict[str, int] = status["progress"]
    total = counts.get("total", 0)
    finished = total - counts.get("pending", 0) - counts.get("sending", 0)
    status["total"], status["finished"] = total, finished
    status["percent"] = round(100 * finished / total) if total else 100
    return status


@pages.get("/handout/jobs/{job_id}")
def job_page(request: Request, inv: InventoryDep, principal: Admin, job_id: JobId) -> Response:
    job = _view(inv, job_id)
    outcomes = handout_outcomes(inv, job_id)
    return render(
        request,
        "handout_job.html",
        principal,
        title="Hand-out progress",
        job=job,
        outcomes=outcomes[:SHOWN_ROWS],
        outcomes_total=len(outcomes),
        failed=[o for o in outcomes if o["outcome"] == "failed"][:SHOWN_ROWS],
    )


@pages.get("/handout/jobs/{job_id}/status")
def job_status(inv: InventoryDep, principal: Admin, job_id: JobId) -> JSONResponse:
    """What the page's progress element polls (same session, any server process)."""
    return JSONResponse(_view(inv, job_id))


@pages.get("/handout/jobs/{job_id}/outcomes.csv")
def job_outcomes_csv(inv: InventoryDep, principal: Admin, job_id: JobId) -> Response:
    """Every row's outcome, for the records (serials and users only: no secret)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "serial", "user", "outcome", "code", "message", "attempts"])
    for row in handout_outcomes(inv, job_id):
        cells = [
            row[k] if row[k] is not None else ""
            for k in ("line", "serial", "user", "outcome", "code", "message", "attempts")
        ]
        writer.writerow([neutralise(str(c)) for c in cells])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="handout-{job_id}.csv"'},
    )
