"""The delivery service's requests side: customers' requests, their state moves, built files and
their download links.

Why a repository: a request is changed by the team (approve, reject), by the mailer and by the
customer's link (download, confirm, expiry) in separate transactions; reads for a change lock the
row (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction already holds the lock), and every
state change is a move checked against ``delivery_states`` so a lost race is a typed conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oathdesk.store.delivery_models import DeliveryFile, DeliveryRequest
from oathdesk.store.delivery_states import RequestState, can_move_request
from oathdesk.store.errors import StateConflict


class RequestRepository:
    """Requests and files through one session (a unit of work's)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # requests
    def add(self, request: DeliveryRequest) -> DeliveryRequest:
        self.session.add(request)
        self.session.flush()
        return request

    def get(self, request_id: int, *, for_update: bool = False) -> DeliveryRequest | None:
        return self.session.get(DeliveryRequest, request_id, with_for_update=for_update)

    def by_state(self, state: RequestState | None = None) -> list[DeliveryRequest]:
        """Requests oldest first, all or only those in ``state``."""
        query = select(DeliveryRequest).order_by(DeliveryRequest.id)
        if state is not None:
            query = query.where(DeliveryRequest.state == state)
        return list(self.session.scalars(query))

    def move(
        self,
        request: DeliveryRequest,
        target: RequestState,
        *,
        expect: Iterable[RequestState] | None = None,
    ) -> RequestState:
        """Change the state if the request's life allows it (and, with ``expect``, only from
        those states); returns the state it was in. A refused move is a ``StateConflict``
        (``delivery.state_conflict``)."""
        current = request.state
        allowed = set(expect) if expect is not None else None
        if (allowed is not None and current not in allowed) or not can_move_request(
            current, target
        ):
            raise StateConflict(
                f"Request {request.id} is {current.value} and cannot become {target.value}.",
                code="delivery.state_conflict",
                details={"request": request.id, "state": current.value, "target": target.value},
            )
        request.state = target
        return current

    # files
    def add_file(self, file: DeliveryFile) -> DeliveryFile:
        self.session.add(file)
        self.session.flush()
        return file

    def files(self, request_id: int, *, live: bool = False) -> list[DeliveryFile]:
        """The request's files in the order they were built (``live``: not deleted yet)."""
        query = select(DeliveryFile).where(DeliveryFile.request_id == request_id)
        if live:
            query = query.where(DeliveryFile.deleted_at.is_(None))
        return list(self.session.scalars(query.order_by(DeliveryFile.id)))

    def file_by_link(self, link_hash: str) -> DeliveryFile | None:
        """The file behind a link (by the SHA-256 of its token), locked for the change."""
        query = select(DeliveryFile).where(DeliveryFile.link_hash == link_hash)
        return self.session.scalars(query.with_for_update()).one_or_none()

    def stored_count(self) -> int:
        """How many built files are still held (sealed bytes not yet deleted)."""
        query = select(func.count()).select_from(DeliveryFile)
        return int(self.session.scalar(query.where(DeliveryFile.sealed_data.is_not(None))) or 0)

    def expired_files(self, now: datetime) -> list[DeliveryFile]:
        """Files still stored whose link has expired."""
        query = select(DeliveryFile).where(
            DeliveryFile.deleted_at.is_(None), DeliveryFile.expires_at <= now
        )
        return list(self.session.scalars(query.order_by(DeliveryFile.id)))
