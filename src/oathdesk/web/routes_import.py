"""Import pages and API: upload, preview the validation report, confirm, watch the push to Entra.

Why: an administrator must see every problem of a delivery (with its locator) before anything is
kept, so the upload is validated first and held in memory, bound to the session under an
unguessable id, for a few minutes (never in a cookie or on disk); the confirm imports it
all-or-nothing and pushes the new stock to Entra in a background thread whose progress a small
script polls. A typed password is a ``Secret`` from the moment it arrives and is dropped with the
upload; it is never logged, echoed or written anywhere.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import JSONResponse, RedirectResponse, Response

from oathdesk.containers import UnwrapOptions, unwrap
from oathdesk.domain import OathdeskError, Secret, UsageError
from oathdesk.formats import FORMAT_IDS, ReadOptions, check_target, read_seeds
from oathdesk.service import ImportReport, Inventory, TokenFilter, TokenState, import_seeds, push
from oathdesk.service.queries import list_tokens
from oathdesk.web.routes_api import ERRORS, ErrorEnvelope
from oathdesk.web.routes_pages import render
from oathdesk.web.security import Admin, InventoryDep, Principal

log = logging.getLogger("oathdesk.web.import")

MAX_UPLOAD = 16 * 1024 * 1024  # one delivery file
MAX_HELD = 64 * 1024 * 1024  # every upload waiting for a confirm, together
HOLD_SECONDS = 15 * 60
KEEP_JOBS = 100

router = APIRouter(
    tags=["import"],
    responses={
        **ERRORS,
        400: {"model": ErrorEnvelope, "description": "The file cannot be read or imported."},
        404: {"model": ErrorEnvelope, "description": "No such import job (import.not_found)."},
    },
)
pages = APIRouter(include_in_schema=False)


class ImportRefused(OathdeskError):
    """An upload or job the console cannot use as sent."""

    code = "import.invalid"


@dataclass
class Held:
    """One validated upload waiting for its confirm."""

    session_id: str = field(repr=False)
    name: str
    data: bytes = field(repr=False)
    fmt: str | None
    password: Secret | None = field(repr=False)
    use_pgp: bool
    expires: float


@dataclass
class ImportJob:
    """An import and the push that follows it, as the status page and its API twin show it."""

    id: str
    report: dict[str, Any]
    total: int
    done: int = 0
    state: str = "running"  # running | done | failed
    error: str | None = None
    push: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        percent = 100 if self.state != "running" else (100 * self.done // max(self.total, 1))
        return {
            "id": self.id,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "percent": percent,
            "import": self.report,
            "push": self.push,
            "error": self.error,
        }


@dataclass
class ImportDesk:
    """The uploads and jobs of one app, in memory, behind one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    held: dict[str, Held] = field(default_factory=dict)
    jobs: dict[str, ImportJob] = field(default_factory=dict)

    def hold(self, item: Held) -> str:
        with self.lock:
            now = time.monotonic()
            for key in [k for k, h in self.held.items() if h.expires < now]:
                del self.held[key]
            if sum(len(h.data) for h in self.held.values()) + len(item.data) > MAX_HELD:
                raise ImportRefused(
                    "too many uploads are waiting for a confirm; confirm or wait a few minutes",
                    code="import.busy",
                )
            key = secrets.token_urlsafe(32)
            self.held[key] = item
            return key

    def take(self, key: str, session_id: str) -> Held:
        with self.lock:
            item = self.held.get(key)
            if item is None or item.session_id != session_id or item.expires < time.monotonic():
                raise ImportRefused(
                    "this upload has expired or was already imported; upload the file again",
                    code="import.upload_expired",
                )
            return item

    def drop(self, key: str) -> None:
        with self.lock:
            self.held.pop(key, None)

    def add_job(self, job: ImportJob) -> None:
        with self.lock:
            self.jobs[job.id] = job
            while len(self.jobs) > KEEP_JOBS:
                del self.jobs[next(iter(self.jobs))]

    def job(self, key: str) -> ImportJob:
        with self.lock:
            found = self.jobs.get(key)
            if found is None:
                raise ImportRefused("there is no such import job", code="import.not_found")
            return found


_desk_lock = threading.Lock()


def desk_of(request: Request) -> ImportDesk:
    with _desk_lock:
        desk: ImportDesk | None = getattr(request.app.state, "import_desk", None)
        if desk is None:
            desk = request.app.state.import_desk = ImportDesk()
        return desk


def gpg_home_of(request: Request) -> Path | None:
    home: Path | None = getattr(request.app.state, "gpg_home", None)
    return home


def _upload(file: UploadFile) -> tuple[str, bytes]:
    data = file.file.read(MAX_UPLOAD + 1)
    name = Path(file.filename or "upload").name or "upload"
    if not data:
        raise ImportRefused(
            f"{name}: the file is empty; choose the delivery file", code="import.empty"
        )
    if len(data) > MAX_UPLOAD:
        raise ImportRefused(
            f"{name}: larger than {MAX_UPLOAD // (1024 * 1024)} MiB; a seed file is far smaller",
            code="import.too_large",
        )
    return name, data


def _format(fmt: str | None) -> str | None:
    if not fmt:
        return None
    if fmt not in FORMAT_IDS:
        raise UsageError(f"the format must be one of {', '.join(FORMAT_IDS)}, not {fmt!r}")
    return fmt


def _secret(password: str | None) -> Secret | None:
    return Secret(password.encode()) if password else None


def _unwrap_options(password: Secret | None, gpg_home: Path | None) -> UnwrapOptions:
    return UnwrapOptions(password=password, gpg_home=gpg_home)


def preview(
    data: bytes, name: str, fmt: str | None, password: Secret | None, gpg_home: Path | None
) -> dict[str, Any]:
    """The validation report of an upload, read as ``import_seeds`` reads it; never a seed."""
    opened = unwrap(data, name, _unwrap_options(password, gpg_home))
    source = name if not opened.layers else f"{name}!{opened.name}"
    result = read_seeds(opened.data, source, fmt, ReadOptions(passphrase=password))
    problems = [*result.problems, *check_target(result.records, result.locators, "entra")]
    errors = sum(1 for p in problems if p.is_error)
    return {
        "file_name": name,
        "format": result.format,
        "layers": list(opened.layers),
        "count": len(result.records),
        "summary": {
            "kinds": dict(Counter(r.kind.value for r in result.records)),
            "models": dict(Counter(f"{r.manufacturer} {r.model}".strip() for r in result.records)),
        },
        "errors": errors,
        "warnings": len(problems) - errors,
        "importable": errors == 0 and bool(result.records),
        "problems": [p.to_dict() for p in problems],
    }


def _in_stock(inv: Inventory, batch_id: int) -> int:
    flt = TokenFilter(states=[TokenState.IN_STOCK], batch_id=batch_id, has_seed=True)
    return list_tokens(inv, flt, limit=1, with_total=True).total or 0


def _run_push(inv: Inventory, desk: ImportDesk, job: ImportJob, actor: str, batch_id: int) -> None:
    def hook(_serial: str, event: str) -> None:
        if event == "done":
            with desk.lock:
                job.done += 1

    try:
        report = push(inv, actor=actor, batch_id=batch_id, hook=hook)
    except OathdeskError as exc:
        with desk.lock:
            job.state, job.error = "failed", exc.message
    except Exception as exc:  # a background thread has nobody else to tell
        log.error("import push crashed with %s", type(exc).__name__)
        with desk.lock:
            job.state, job.error = "failed", "the push stopped unexpectedly; it was logged"
    else:
        with desk.lock:
            job.push = report.to_dict()
            counts = report.progress  # a resumed push may have carried more than this batch
            job.total = counts.get("total", job.total)
            job.done = job.total - counts.get("pending", 0) - counts.get("failed", 0)
            job.state = "failed" if report.failed else "done"
            if report.failed:
                job.error = f"{len(report.failed)} token(s) were not accepted by Entra"


def start_import(
    inv: Inventory, desk: ImportDesk, principal: Principal, held: Held, gpg_home: Path | None
) -> ImportJob:
    """Import all-or-nothing, then push the batch's stock to Entra in the background."""
    report: ImportReport = import_seeds(
        inv,
        held.data,
        held.name,
        actor=principal.actor,
        fmt=held.fmt,
        options=ReadOptions(passphrase=held.password),
        unwrap_options=_unwrap_options(held.password, gpg_home if held.use_pgp else None),
        on_conflict="fail",
    )
    total = _in_stock(inv, report.batch_id)
    job = ImportJob(secrets.token_urlsafe(16), report.to_dict(), total)
    if total == 0:
        job.state = "done"
    desk.add_job(job)
    if total:
        thread = threading.Thread(
            target=_run_push,
            args=(inv, desk, job, principal.actor, report.batch_id),
            name=f"import-push-{report.batch_id}",
            daemon=True,
        )
        thread.start()
    return job


FileF = Annotated[UploadFile, File(description="The seed file (CSV, PSKC, ZIP, PGP...).")]
PasswordF = Annotated[str | None, Form(description="ZIP password or PSKC passphrase.")]
FormatF = Annotated[str | None, Form(description=f"One of {', '.join(FORMAT_IDS)}; detected.")]
PgpF = Annotated[bool, Form(description="Decrypt PGP with the server's GnuPG home.")]


def _form(request: Request, principal: Principal, **context: Any) -> Response:
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


@pages.post("/import/preview")
def preview_page(
    request: Request,
    principal: Admin,
    file: FileF,
    password: PasswordF = None,
    format: FormatF = None,
    pgp: PgpF = False,
) -> Response:
    secret = _secret(password)
    try:
        name, data = _upload(file)
        fmt = _format(format)
        gpg_home = gpg_home_of(request) if pgp else None
        report = preview(data, name, fmt, secret, gpg_home)
        upload_id = None
        if report["importable"]:
            held = Held(
                principal.session_id,
                name,
                data,
                fmt,
                secret,
                pgp,
                time.monotonic() + HOLD_SECONDS,
            )
            upload_id = desk_of(request).hold(held)
    except OathdeskError as exc:
        response = _form(request, principal, error=exc.message, error_code=exc.code)
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
    held = desk.take(upload, principal.session_id)
    job = start_import(inv, desk, principal, held, gpg_home_of(request))
    desk.drop(upload)
    return RedirectResponse(f"/import/jobs/{job.id}", status_code=303)


@pages.get("/import/jobs/{job_id}")
def job_page(request: Request, principal: Admin, job_id: str) -> Response:
    job = desk_of(request).job(job_id)
    with desk_of(request).lock:
        data = job.to_dict()
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
    preview_only: Annotated[bool, Form(alias="preview")] = False,
) -> Response:
    """Validate (``preview=true``) or import a seed file; an import starts the push to Entra and
    answers 202 with the job to poll at ``GET /api/v1/import/jobs/{id}``."""
    secret = _secret(password)
    name, data = _upload(file)
    fmt = _format(format)
    gpg_home = gpg_home_of(request) if pgp else None
    if preview_only:
        return JSONResponse(preview(data, name, fmt, secret, gpg_home))
    held = Held(principal.session_id, name, data, fmt, secret, pgp, time.monotonic())
    desk = desk_of(request)
    job = start_import(inv, desk, principal, held, gpg_home_of(request))
    with desk.lock:
        body = job.to_dict()
    return JSONResponse(
        body, status_code=202, headers={"Location": f"/api/v1/import/jobs/{job.id}"}
    )


@router.get("/api/v1/import/jobs/{job_id}", summary="Progress of an import's push (admin)")
def job_api(request: Request, principal: Admin, job_id: str) -> dict[str, Any]:
    """An import job: ``state`` (running, done, failed), ``done`` of ``total``, ``percent``."""
    desk = desk_of(request)
    job = desk.job(job_id)
    with desk.lock:
        return job.to_dict()
