"""The hand-out API: post a roster (or name an import batch), get a job; poll its progress and
its per-row outcomes. Admin only, like the CLI's ``oathdesk tokens hand-out``.

Why: the CLI and automation share the service's plan, job and runner; the web process runs the
job in a background thread (as the import's push does) and any process can answer the poll,
since progress lives in the database. A console page would call the same two endpoints.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile
from starlette.responses import JSONResponse, Response

from oathdesk.domain import OathdeskError, UsageError
from oathdesk.service import (
    HandoutSettings,
    Inventory,
    check_choice,
    handout_outcomes,
    handout_status,
    plan_handout,
    roster_from_batch,
    roster_from_file,
    run_handout,
    start_handout,
)
from oathdesk.web.routes_api import ERRORS, ErrorEnvelope
from oathdesk.web.security import Admin, InventoryDep, SettingsDep

log = logging.getLogger("oathdesk.web.handout")
MAX_ROSTER = 32 * 1024 * 1024
router = APIRouter(
    tags=["v1"],
    responses={
        **ERRORS,
        400: {
            "model": ErrorEnvelope,
            "description": "The roster has rows with errors (roster.invalid), or is refused.",
        },
        404: {"model": ErrorEnvelope, "description": "No such job or batch (*.not_found)."},
        409: {"model": ErrorEnvelope, "description": "A hand-out of this job is running."},
    },
)


MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database: a larger one names nothing
JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="The hand-out job's id.")]


def _run(inv: Inventory, job_id: int, actor: str, settings: HandoutSettings) -> None:
    """The background thread's body: a failure is the job's state (resumable), and logged."""
    try:
        run_handout(inv, job_id, actor=actor, settings=settings)
    except OathdeskError as exc:
        log.warning("hand-out job %s stopped: %s", job_id, exc.code)
    except Exception as exc:  # a background thread has nobody else to tell
        log.error("hand-out job %s crashed with %s", job_id, type(exc).__name__)


@router.post("/api/v1/handouts", summary="Check a roster, or start handing it out (admin)")
def handout_api(
    inv: InventoryDep,
    settings: SettingsDep,
    principal: Admin,
    file: Annotated[
        UploadFile | None, File(description="Roster CSV: serial,upn[,display name].")
    ] = None,
    batch: Annotated[
        int | None,
        Form(ge=1, le=MAX_ID, description="Use the users the seed file of this batch names."),
    ] = None,
    activate_from_seed: Annotated[
        bool, Form(description="Activate from the sealed seed (needs the setting).")
    ] = False,
    dry_run: Annotated[bool, Form(description="Only check the roster; send nothing.")] = False,
    reason: Annotated[str, Form(description="Why, for the audit log.")] = "roster hand-out",
) -> Response:
    """``dry_run``: the plan and every problem (file:line, code, message). Otherwise a checked
    roster becomes a job that runs in the background: 202 with the job to poll at
    ``GET /api/v1/handouts/{id}``; a roster with errors is 400 ``roster.invalid``."""
    if (file is None) == (batch is None):
        raise UsageError("Send a roster file or a batch number.", code="usage.invalid")
    rules = settings.handout
    if activate_from_seed and not dry_run:
        check_choice(rules, True)
    if file is not None:
        data = file.file.read(MAX_ROSTER + 1)
        if len(data) > MAX_ROSTER:
            raise UsageError("The roster is larger than 32 MiB; split it.", code="usage.invalid")
        source = roster_from_file(data, file.filename or "roster.csv")
    else:
        source = roster_from_batch(inv, batch or 0)
    plan = plan_handout(inv, source, activate=activate_from_seed, workers=rules.workers)
    if dry_run:
        return JSONResponse(plan.to_dict())
    job_id = start_handout(inv, plan, actor=principal.actor, reason=reason, settings=rules)
    threading.Thread(
        target=_run,
        args=(inv, job_id, principal.actor, rules),
        name=f"handout-{job_id}",
        daemon=True,
    ).start()
    return JSONResponse(
        handout_status(inv, job_id),
        status_code=202,
        headers={"Location": f"/api/v1/handouts/{job_id}"},
    )


@router.get("/api/v1/handouts/{job_id}", summary="A hand-out job's progress and outcomes (admin)")
def handout_job_api(
    inv: InventoryDep, principal: Admin, job_id: JobId, rows: bool = True
) -> dict[str, Any]:
    """``state`` (pending, running, done, failed), ``progress`` (pending, sending, done,
    failed, total) and, unless ``rows=false``, one outcome per roster row."""
    status = handout_status(inv, job_id)
    return {**status, "rows": handout_outcomes(inv, job_id)} if rows else status
