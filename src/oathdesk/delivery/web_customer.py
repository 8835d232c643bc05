"""The customer's pages: find the order, pick and verify shipments, choose file and encryption,
then (from the mailed link) download and confirm. No account: the order number plus e-mail,
then a visit cookie, then the link's token are what let a customer in.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from oathdesk.delivery.building import ENCODINGS, FIELD_PROPERTIES, CustomField, CustomLayout
from oathdesk.delivery.context import Delivery, DeliveryError, sha256_hex
from oathdesk.delivery.finding import VisitView, find_order, resolve_visit, verify_possession
from oathdesk.delivery.links import LinkView, check_receipt, confirm, download, open_link
from oathdesk.delivery.requesting import RequestSpec, create_request
from oathdesk.delivery.web_deps import DeliveryDep
from oathdesk.domain import OathdeskError, Secret
from oathdesk.formats import FORMAT_IDS, get_format
from oathdesk.http import FormCsrf, clear_cookie, client_address, render_form, set_cookie, site_of
from oathdesk.http.cookies import read_text_cookie

pages = APIRouter(include_in_schema=False)
router = APIRouter()  # the customer has pages only
BUILDER_ROWS = 8
MAX_KEY = 64 * 1024


VISIT = "visit"  # the cookie that lets a customer through the wizard
FORM_NONCE_SECONDS = 4 * 3600  # a customer may take a while over the wizard


def render(request: Request, template: str, context: dict[str, Any]) -> Response:
    """A customer's page: its forms carry the pre-session CSRF token; an ``error`` in
    ``context`` gives the status of its code (and ``Retry-After`` when it has one)."""
    return render_form(request, template, context, nonce_age=FORM_NONCE_SECONDS)


def _visit(request: Request) -> VisitView | None:
    dl = request.app.state.delivery
    return resolve_visit(dl, read_text_cookie(request, site_of(request).cookies, VISIT))


def _lost() -> RedirectResponse:
    return RedirectResponse("/order?expired=1", status_code=303)


@pages.get("/")
def front() -> RedirectResponse:
    return RedirectResponse("/order", status_code=303)


@pages.get("/order")
def find_page(request: Request, expired: int = 0) -> Response:
    return render(request, "order_find.html", {"title": "Find your order", "expired": expired})


@pages.post("/order", dependencies=[FormCsrf])
def find_submit(
    request: Request,
    dl: DeliveryDep,
    number: Annotated[str, Form(max_length=100)],
    email: Annotated[str, Form(max_length=320)],
) -> Response:
    try:
        token, _visit_view = find_order(dl, number, email, address=client_address(request))
    except DeliveryError as exc:
        context = {"title": "Find your order", "error": exc, "number": number, "email": email}
        return render(request, "order_find.html", context)
    response = RedirectResponse("/order/shipments", status_code=303)
    age = int(dl.settings.visit_lifetime.total_seconds())
    set_cookie(response, site_of(request).cookies, VISIT, token, age=age)
    return response


@pages.get("/order/shipments")
def shipments_page(request: Request) -> Response:
    visit = _visit(request)
    if visit is None:
        return _lost()
    return render(request, "order_shipments.html", {"title": "Your shipments", "visit": visit})


@pages.post("/order/shipments", dependencies=[FormCsrf])
async def shipments_submit(request: Request, dl: DeliveryDep) -> Response:
    visit = _visit(request)
    if visit is None:
        return _lost()
    form = await request.form()
    picked = {int(v) for v in form.getlist("pick") if isinstance(v, str) and v.isdigit()}
    answers = {sid: _text(form, f"serial_{sid}") for sid in picked}
    try:
        verify_possession(dl, visit, answers, address=client_address(request))
    except DeliveryError as exc:
        context = {"title": "Your shipments", "visit": visit, "error": exc, "picked": picked}
        return render(request, "order_shipments.html", context)
    return RedirectResponse("/order/options", status_code=303)


def _text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _formats() -> list[tuple[str, str]]:
    custom = "Custom CSV: build the layout below"
    return [(f, custom if f == "custom-csv" else get_format(f).title) for f in FORMAT_IDS]


def _options_context(visit: VisitView, **extra: Any) -> dict[str, Any]:
    return {
        "title": "File and encryption",
        "visit": visit,
        "formats": _formats(),
        "properties": FIELD_PROPERTIES,
        "encodings": ENCODINGS,
        "rows": range(1, BUILDER_ROWS + 1),
        "form": {},
        **extra,
    }


@pages.get("/order/options")
def options_page(request: Request) -> Response:
    visit = _visit(request)
    if visit is None:
        return _lost()
    if not visit.verified:
        return RedirectResponse("/order/shipments", status_code=303)
    return render(request, "order_options.html", _options_context(visit))


def _layout(form: FormData) -> CustomLayout:
    fields = []
    for row in range(1, BUILDER_ROWS + 1):
        source = _text(form, f"field_source_{row}", 40)
        if not source:
            continue
        header = _text(form, f"field_header_{row}", 100)
        if source == "fixed":
            fields.append(CustomField(header, None, _text(form, f"field_value_{row}", 200)))
        else:
            fields.append(CustomField(header, source))
    return CustomLayout(
        fields=tuple(fields),
        header_row=form.get("header_row") == "on",
        secret_encoding=_text(form, "secret_encoding", 10) or "base32",
    )


async def _public_key(form: FormData) -> str:
    upload = form.get("pgp_key_file")
    if isinstance(upload, UploadFile):
        data = await upload.read(MAX_KEY + 1)
        if data:
            if len(data) > MAX_KEY:
                raise DeliveryError("The key file is too large.", code="delivery.pgp_key_invalid")
            return data.decode("utf-8", "replace")
    return _text(form, "pgp_key", MAX_KEY)


@pages.post("/order/options", dependencies=[FormCsrf])
async def options_submit(request: Request, dl: DeliveryDep) -> Response:
    visit = _visit(request)
    if visit is None:
        return _lost()
    async with request.form() as form:  # closes any uploaded key file's spool
        return await _ask(request, dl, visit, form)


async def _ask(request: Request, dl: Delivery, visit: VisitView, form: FormData) -> Response:
    encryption = _text(form, "encryption", 16)
    password, again = _text(form, "password", 1024), _text(form, "password_again", 1024)
    try:
        if encryption in ("password", "both") and password != again:
            raise DeliveryError("The two passwords differ.", code="delivery.password_mismatch")
        fmt = _text(form, "format", 40)
        spec = RequestSpec(
            shipment_ids=tuple(visit.verified),
            packaging=_text(form, "packaging", 16),
            format=fmt,
            encryption=encryption,
            password=Secret(password.encode()) if password else None,
            pgp_key=await _public_key(form),
            layout=_layout(form) if fmt == "custom-csv" else None,
        )
        request_id = create_request(dl, visit, spec)
    except OathdeskError as exc:
        kept = {k: v for k, v in form.items() if isinstance(v, str) and "password" not in k}
        context = _options_context(visit, error=exc, form=kept)
        return render(request, "order_options.html", context)
    response = RedirectResponse(f"/order/done/{request_id}", status_code=303)
    clear_cookie(response, site_of(request).cookies, VISIT)
    return response


@pages.get("/order/done/{request_id}")
def done_page(request: Request, request_id: int) -> Response:
    return render(request, "order_done.html", {"title": "Request received", "id": request_id})


def _receipt_cookie(token: str) -> str:
    """The cookie holding a link's download receipt (one per link, so two files of a request
    downloaded in one browser each keep theirs)."""
    return f"receipt_{sha256_hex(token)[:16]}"


def _link_context(link: LinkView, token: str, **extra: Any) -> dict[str, Any]:
    return {"title": "Download", "link": link, "token": token, **extra}


@pages.get("/d/{token}")
def link_page(request: Request, dl: DeliveryDep, token: str) -> Response:
    return render(request, "download.html", _link_context(open_link(dl, token), token))


@pages.post("/d/{token}", dependencies=[FormCsrf])
def link_download(
    request: Request,
    dl: DeliveryDep,
    token: str,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        secret = Secret(password.encode()) if password else None
        got = download(dl, token, secret, address=client_address(request))
    except DeliveryError as exc:
        if exc.code != "delivery.wrong_password":
            raise
        context = _link_context(open_link(dl, token), token, error=exc)
        return render(request, "download.html", context)
    response = Response(
        got.data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{got.file_name}"'},
    )
    age = int(dl.settings.visit_lifetime.total_seconds())
    set_cookie(response, site_of(request).cookies, _receipt_cookie(token), got.receipt, age=age)
    return response


@pages.post("/d/{token}/confirm", dependencies=[FormCsrf])
def link_confirm(
    request: Request,
    dl: DeliveryDep,
    token: str,
    sure: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Deleting takes two steps, both only for the visit that downloaded the file: this page
    asks, and the answer ``sure=yes`` deletes."""
    cookies = site_of(request).cookies
    receipt = read_text_cookie(request, cookies, _receipt_cookie(token))
    if sure != "yes":
        link = check_receipt(dl, token, receipt)
        return render(request, "download_confirm.html", _link_context(link, token))
    name = confirm(dl, token, receipt=receipt, address=client_address(request))
    response = render(request, "download_done.html", {"title": "File deleted", "file_name": name})
    clear_cookie(response, cookies, _receipt_cookie(token))
    return response
