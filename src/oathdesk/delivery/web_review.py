"""The delivery team's pages and API: sign in with a local account holding the ``delivery`` role,
see the queue, approve (build, encrypt, store, mail) or reject with a reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from oathdesk.delivery.models import STATES
from oathdesk.delivery.releasing import approve
from oathdesk.delivery.requesting import RequestView, get_request, list_requests, reject
from oathdesk.delivery.web_auth import (
    DeliveryDep,
    DeliveryTeam,
    MaybeSignedIn,
    Principal,
    SignedIn,
    anonymous_csrf,
    check_anonymous_csrf,
    clear_cookie,
    client_address,
    set_cookie,
)
from oathdesk.delivery.web_status import status_for
from oathdesk.domain import OathdeskError, Secret
from oathdesk.service.accounts import AuthError, close_session, open_session, sign_in

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1/delivery", tags=["delivery"])


def safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/review"
    return target


def _signin_form(
    request: Request, *, name: str = "", next_path: str = "/review", error: AuthError | None = None
) -> Response:
    token, fresh = anonymous_csrf(request)
    context = {
        "principal": None,
        "title": "Delivery team sign-in",
        "name": name,
        "next": next_path,
        "error": error,
        "csrf_token": token,
    }
    status = status_for(error.code) if error else 200
    response: Response = request.app.state.templates.TemplateResponse(
        request, "signin.html", context, status_code=status
    )
    if fresh is not None:
        set_cookie(response, request.app.state.delivery.settings, "pre", fresh, 3600)
    if error is not None and "retry_after" in error.details:
        response.headers["Retry-After"] = str(error.details["retry_after"])
    return response


@pages.get("/signin")
def signin_page(request: Request, principal: MaybeSignedIn, next: str | None = None) -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _signin_form(request, next_path=safe_next(next))


@pages.post("/signin", dependencies=[Depends(check_anonymous_csrf)])
def signin_submit(
    request: Request,
    dl: DeliveryDep,
    previous: MaybeSignedIn,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/review",
) -> Response:
    address = client_address(request)
    try:
        account = sign_in(dl.inv, name.strip(), Secret(password.encode()), address=address)
    except AuthError as exc:
        return _signin_form(request, name=name, next_path=safe_next(next), error=exc)
    if previous is not None:
        close_session(dl.inv, previous.session_id, actor=previous.actor)
    token, _session = open_session(
        dl.inv, account.name, address=address, lifetime=dl.settings.session_lifetime
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(
        response, dl.settings, "session", token, int(dl.settings.session_lifetime.total_seconds())
    )
    clear_cookie(response, dl.settings, "pre")
    return response


@pages.post("/signout")
def signout(principal: SignedIn, dl: DeliveryDep) -> Response:
    close_session(dl.inv, principal.session_id, actor=principal.actor)
    response = RedirectResponse("/signin", status_code=303)
    clear_cookie(response, dl.settings, "session")
    return response


def _page(
    request: Request,
    principal: Principal,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, {"principal": principal, **context}, status_code=status
    )
    return response


@pages.get("/review")
def queue_page(
    request: Request, principal: DeliveryTeam, dl: DeliveryDep, state: str = "pending"
) -> Response:
    chosen = state if state in (*STATES, "all") else "pending"
    items = list_requests(dl, None if chosen == "all" else chosen)
    context = {"title": "Review queue", "items": items, "state": chosen, "states": STATES}
    return _page(request, principal, "review_list.html", context)


def _detail(
    request: Request,
    principal: Principal,
    view: RequestView,
    *,
    error: OathdeskError | None = None,
    done: str = "",
) -> Response:
    status = status_for(error.code) if error else 200
    context = {"title": f"Request {view.id}", "item": view, "error": error, "done": done}
    return _page(request, principal, "review_detail.html", context, status)


@pages.get("/review/{request_id}")
def detail_page(
    request: Request, principal: DeliveryTeam, dl: DeliveryDep, request_id: int, done: str = ""
) -> Response:
    return _detail(request, principal, get_request(dl, request_id), done=done)


@pages.post("/review/{request_id}/approve")
def approve_submit(
    request: Request, principal: DeliveryTeam, dl: DeliveryDep, request_id: int
) -> Response:
    try:
        approve(dl, request_id, actor=principal.actor)
    except OathdeskError as exc:
        return _detail(request, principal, get_request(dl, request_id), error=exc)
    return RedirectResponse(f"/review/{request_id}?done=approved", status_code=303)


@pages.post("/review/{request_id}/reject")
def reject_submit(
    request: Request,
    principal: DeliveryTeam,
    dl: DeliveryDep,
    request_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        reject(dl, request_id, reason, actor=principal.actor)
    except OathdeskError as exc:
        return _detail(request, principal, get_request(dl, request_id), error=exc)
    return RedirectResponse(f"/review/{request_id}?done=rejected", status_code=303)


def _json(view: RequestView) -> dict[str, Any]:
    body = view.to_dict()
    body["files"] = [
        {
            "file_name": f.file_name,
            "label": f.label,
            "size": f.size,
            "expires_at": f.expires_at.isoformat(),
            "downloads": f.downloads,
            "confirmed": f.confirmed,
            "deleted": f.deleted,
        }
        for f in view.files
    ]
    return body


class RejectBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/requests")
def api_requests(
    principal: DeliveryTeam, dl: DeliveryDep, state: str | None = None
) -> dict[str, Any]:
    return {"items": [v.to_dict() for v in list_requests(dl, state)]}


@router.get("/requests/{request_id}")
def api_request(principal: DeliveryTeam, dl: DeliveryDep, request_id: int) -> dict[str, Any]:
    return _json(get_request(dl, request_id))


@router.post("/requests/{request_id}/approve")
def api_approve(principal: DeliveryTeam, dl: DeliveryDep, request_id: int) -> dict[str, Any]:
    return _json(approve(dl, request_id, actor=principal.actor))


@router.post("/requests/{request_id}/reject")
def api_reject(
    principal: DeliveryTeam, dl: DeliveryDep, request_id: int, body: RejectBody
) -> dict[str, Any]:
    return _json(reject(dl, request_id, body.reason, actor=principal.actor))
