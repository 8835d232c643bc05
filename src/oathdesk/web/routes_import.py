"""Import pages and API: upload, preview the validation report, confirm, watch the push to Entra.

Why: an administrator must see every problem of a delivery (with its locator) before anything is
kept, so the upload is opened by the same pipeline as the import (``service.open_seed_file``)
and held by the ``service.ImportDesk`` in the database (sealed, never in a cookie or a file),
bound to the session under an unguessable id, for a few minutes; the confirm, which may reach
another server process, imports it all-or-nothing and pushes the new stock to Entra in a
background thread whose progress (``service.ImportJobs``, in the database too) a small script
polls from whichever process answers. A typed password is a ``Secret`` from the moment it
arrives, sealed with the upload and dropped with it; it is never logged, echoed or written in
clear anywhere.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import JSONResponse, RedirectResponse, Response

from oathdesk.domain import OathdeskError, Secret, UsageError
from oathdesk.formats import FORMAT_IDS
from oathdesk.service import (
    HeldUpload,
    ImportDesk,
    ImportJob,
    ImportJobs,
    ImportRefused,
    ImportReport,
    Inventory,
    SeedFileOptions,
    TokenFilter,
    TokenState,
    import_seeds,
    open_seed_file,
    run_push,
)
from oathdesk.service.import_desk import earlier_import
from oathdesk.service.queries import list_tokens
from oathdesk.service.seedfile import MAX_SEED_FILE
from oathdesk.web.import_form import by_line, keeps_file, refusal, size_text
from oathdesk.web.routes_api import ERRORS, ErrorEnvelope
from oathdesk.web.routes_pages import render
from oathdesk.web.security import Admin, InventoryDep, Principal, inventory_of

MAX_UPLOAD = MAX_SEED_FILE  # one delivery file, as the CLI takes it
PREVIEW_PROBLEMS = 500  # problems a preview lists (the first ones, in file order)
PREVIEW_MODELS = 20  # models a preview's summary names (the commonest)

router = APIRouter(
    tags=["import"],
    responses={
        **ERRORS,
        400: {"model": ErrorEnvelope, "description": "The file cannot be read or imported."},
        404: {"model": ErrorEnvelope, "description": "No such import job (import.not_found)."},
    },
)
pages = APIRouter(include_in_schema=False)


def desk_of(request: Request) -> ImportDesk:
    """The held uploads of the app's inventory (rows in its database: any process confirms)."""
    return ImportDesk(inventory_of(request))


def jobs_of(request: Request) -> ImportJobs:
    """The import jobs of the app's inventory (rows in its database: any process answers)."""
    return ImportJobs(inventory_of(request))


def gpg_home_of(request: Request) -> Path | None:
    home: Path | None = getattr(request.app.state, "gpg_home", None)
    return home


def _upload(file: UploadFile) -> tuple[str, bytes]:
    data = file.file.read(MAX_UPLOAD + 1)
    name = Path(file.filename or "upload").name or "upload"
    if not data:
        raise ImportRefused(
            f"{name}: the file is empty; choose the delivery file.", code="import.empty"
        )
    if len(data) > MAX_UPLOAD:
        raise ImportRefused(
            f"{name}: larger than {MAX_UPLOAD // (1024 * 1024)} MiB; a seed file is far smaller.",
            code="import.too_large",
        )
    return name, data


def _format(fmt: str | None) -> str | None:
    if not fmt:
        return None
    if fmt not in FORMAT_IDS:
        raise UsageError(f"The format must be one of {', '.join(FORMAT_IDS)}, not {fmt!r}.")
    return fmt


def _secret(password: str | None) -> Secret | None:
    return Secret(password.encode()) if password else None


def preview(
    inv: Inventory,
    data: bytes,
    name: str,
    fmt: str | None,
    password: Secret | None,
    gpg_home: Path | None,
    member: str | None = None,
) -> dict[str, Any]:
    """The validation report of an upload, opened as ``import_seeds`` opens it; never a seed.

    Bounded whatever the file: the first ``PREVIEW_PROBLEMS`` problems (by line, the file's own
    and Entra's together) and the ``PREVIEW_MODELS`` commonest models, with the totals, so a
    16 MiB file of broken rows is a page a browser can show, not 200,000 table rows.
    ``already_imported`` names the batch an identical file made (a confirm would add nothing)."""
    opened = open_seed_file(
        data,
        name,
        SeedFileOptions(
            fmt=fmt, password=password, gpg_home=gpg_home, target="entra", member=member
        ),
    )
    problems = by_line(opened.report)
    errors = sum(1 for p in problems if p.is_error)
    records = opened.records
    models = Counter(f"{r.manufacturer} {r.model}".strip() for r in records)
    earlier = earlier_import(inv, data)
    return {
        "file_name": name,
        "format": opened.format,
        "layers": list(opened.layers),
        "count": len(records),
        "summary": {
            "kinds": dict(Counter(r.kind.value for r in records)),
            "models": dict(models.most_common(PREVIEW_MODELS)),
            "models_total": len(models),
        },
        "errors": errors,
        "warnings": len(problems) - errors,
        "importable": errors == 0 and bool(records),
        "problems": [p.to_dict() for p in problems[:PREVIEW_PROBLEMS]],
        "problems_total": len(problems),
        "already_imported": earlier.to_dict() if earlier is not None else None,
    }


def _in_stock(inv: Inventory, batch_id: int) -> int:
    flt = TokenFilter(states=[TokenState.IN_STOCK], batch_id=batch_id, has_seed=True)
    return list_tokens(inv, flt, limit=1, with_total=True).total or 0


def start_import(
    inv: Inventory,
    jobs: ImportJobs,
    principal: Principal,
    held: HeldUpload,
    gpg_home: Path | None,
) -> ImportJob:
    """Import all-or-nothing, then push the batch's stock to Entra in the background."""
    opening = SeedFileOptions(
        fmt=held.fmt,
        password=held.password,
        gpg_home=gpg_home if held.use_pgp else None,
        member=held.member,
    )
    report: ImportReport = import_seeds(
        inv, held.data, held.name, actor=principal.actor, opening=opening, on_conflict="fail"
    )
    total = _in_stock(inv, report.batch_id)
    job = jobs.open(principal.actor, report.to_dict(), total)
    if total:
        thread = threading.Thread(
            target=run_push,
            args=(inv, job.id, principal.actor, report.batch_id),
            name=f"import-push-{report.batch_id}",
            daemon=True,
        )
        thread.start()
    return job


FileF = Annotated[UploadFile, File(description="The seed file (CSV, PSKC, ZIP, PGP...).")]
PasswordF = Annotated[str | None, Form(description="ZIP password or PSKC passphrase.")]
FormatF = Annotated[str | None, Form(description=f"One of {', '.join(FORMAT_IDS)}; detected.")]
PgpF = Annotated[bool, Form(description="Decrypt PGP with the server's GnuPG home.")]
MemberF = Annotated[
    str | None, Form(description="The file to read in a ZIP holding several seed files.")
]


def _form(request: Request, principal: Principal, **context: Any) -> Response:
    context.setdefault("chosen", {})
    return render(
        request,
        "import.html",
        principal,
        title="Import",
        formats=FORMAT_IDS,
        gpg_home=gpg_home_of(request),
        **context,
    )


@pages.get("/import")
def import_page(request: Request, principal: Admin) -> Response:
    return _form(request, principal)


def _chosen(
    desk: ImportDesk, principal: Principal, file: UploadFile | None, held: str | None
) -> tuple[str, bytes]:
    """The file to preview: a newly chosen one (a held one is then dropped), else the one held
    since a preview asked for its password (taken: a new hold follows if it is still needed)."""
    if file is not None and file.filename:
        if held:
            desk.take(held, principal.session_id)
        return _upload(file)
    if held:
        kept = desk.take(held, principal.session_id)
        if kept is None:
            raise ImportRefused(
                "The file you chose was kept for 15 minutes and that time is over; choose it "
                "again.",
                code="import.upload_expired",
            )
        return kept.name, kept.data
    raise ImportRefused("No file was chosen; choose the delivery file.", code="import.empty")


def _hold(request: Request, upload: HeldUpload) -> dict[str, Any] | None:
    """Keep ``upload`` for another try (its id, name and size for the form), or None when the
    desk is full (the form then asks for the file again)."""
    try:
        key = desk_of(request).put(upload)
    except ImportRefused:
        return None
    return {"key": key, "name": upload.name, "size": size_text(len(upload.data))}


OptionalFileF = Annotated[
    UploadFile | None, File(description="The seed file; empty to use the held one.")
]
HeldF = Annotated[str | None, Form(max_length=100)]


@pages.post("/import/preview")
def preview_page(
    request: Request,
    inv: InventoryDep,
    principal: Admin,
    file: OptionalFileF = None,
    held: HeldF = None,
    password: PasswordF = None,
    format: FormatF = None,
    pgp: PgpF = False,
    member: MemberF = None,
) -> Response:
    """Preview a chosen file, or the held one with what the last preview asked for (its
    password, its member, its format): a refusal the form can fix keeps the file."""
    secret = _secret(password)
    member = (member or "").strip() or None
    chosen = {"format": format or "", "member": member or "", "pgp": pgp}
    upload: tuple[str, bytes] | None = None
    fmt: str | None = None
    try:
        fmt = _format(format)
        upload = _chosen(desk_of(request), principal, file, held)
        name, data = upload
        gpg_home = gpg_home_of(request) if pgp else None
        report = preview(inv, data, name, fmt, secret, gpg_home, member)
        upload_id = None
        if report["importable"] and not report["already_imported"]:
            kept = HeldUpload(principal.session_id, name, data, fmt, secret, pgp, member)
            upload_id = desk_of(request).put(kept)
    except OathdeskError as exc:
        context: dict[str, Any] = {"chosen": chosen, **refusal(exc)}
        if upload is not None and keeps_file(exc):
            retry = HeldUpload(principal.session_id, *upload, fmt, None, pgp, member)
            context["held"] = _hold(request, retry)
        response = _form(request, principal, **context)
        response.status_code = 400
        return response
    return render(
        request,
        "import_preview.html",
        principal,
        title="Import preview",
        report=report,
        upload_id=upload_id,
    )


@pages.post("/import/confirm")
def confirm_page(
    request: Request, inv: InventoryDep, principal: Admin, upload: Annotated[str, Form()]
) -> Response:
    desk = desk_of(request)
    desk.get(upload, principal.session_id)  # expired, used and foreign: import.upload_expired
    held = desk.take(upload, principal.session_id)  # one confirm of two at once gets it
    if held is None:
        raise ImportRefused(
            "This upload has expired or was already imported; upload the file again.",
            code="import.upload_expired",
        )
    job = start_import(inv, jobs_of(request), principal, held, gpg_home_of(request))
    return RedirectResponse(f"/import/jobs/{job.id}", status_code=303)


@pages.get("/import/jobs/{job_id}")
def job_page(request: Request, principal: Admin, job_id: str) -> Response:
    data = jobs_of(request).get(job_id).to_dict()
    return render(request, "import_job.html", principal, title="Import progress", job=data)


@router.post("/api/v1/imports", summary="Validate or import a seed file (admin)")
def import_api(
    request: Request,
    inv: InventoryDep,
    principal: Admin,
    file: FileF,
    password: PasswordF = None,
    format: FormatF = None,
    pgp: PgpF = False,
    member: MemberF = None,
    preview_only: Annotated[bool, Form(alias="preview")] = False,
) -> Response:
    """Validate (``preview=true``) or import a seed file; an import starts the push to Entra and
    answers 202 with the job to poll at ``GET /api/v1/import/jobs/{id}``."""
    secret = _secret(password)
    name, data = _upload(file)
    fmt = _format(format)
    gpg_home = gpg_home_of(request) if pgp else None
    member = (member or "").strip() or None
    if preview_only:
        return JSONResponse(preview(inv, data, name, fmt, secret, gpg_home, member))
    held = HeldUpload(principal.session_id, name, data, fmt, secret, pgp, member)
    job = start_import(inv, jobs_of(request), principal, held, gpg_home_of(request))
    body = job.to_dict()
    return JSONResponse(
        body, status_code=202, headers={"Location": f"/api/v1/import/jobs/{job.id}"}
    )


@router.get("/api/v1/import/jobs/{job_id}", summary="Progress of an import's push (admin)")
def job_api(request: Request, principal: Admin, job_id: str) -> dict[str, Any]:
    """An import job: ``state`` (running, done, failed), ``done`` of ``total``, ``percent``."""
    return jobs_of(request).get(job_id).to_dict()
