"""The delivery team's pages and API: sign in with a local account holding the ``delivery`` role,
see the queue, approve (build, encrypt, store, mail) or reject with a reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from oathdesk.delivery.models import STATES
from oathdesk.delivery.releasing import approve
from oathdesk.delivery.requesting import RequestView, get_request, list_requests, reject
from oathdesk.delivery.web_deps import DeliveryDep, DeliveryTeam
from oathdesk.domain import OathdeskError
from oathdesk.http import Principal, render_form, signin_routes, status_for

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1/delivery", tags=["delivery"])
HOME = "/review"


def _signin_form(
    request: Request, *, name: str = "", next_path: str = HOME, error: OathdeskError | None = None
) -> Response:
    context = {"title": "Delivery team sign-in", "name": name, "next": next_path, "error": error}
    return render_form(request, "signin.html", context)


signin_routes(pages, _signin_form, home=HOME)


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
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """A rejection cannot be taken back (the request ends, its password is erased): the first
    POST shows what the customer loses and asks; only ``confirmed=yes`` rejects."""
    try:
        if confirmed != "yes":
            view = get_request(dl, request_id)
            if reason.strip() and view.state == "pending":
                context = {"title": f"Reject request {view.id}?", "item": view, "reason": reason}
                return _page(request, principal, "review_reject_confirm.html", context)
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
