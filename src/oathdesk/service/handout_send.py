"""One roster row of a hand-out: claim it, send it to Entra, record it, or look before resending.

Why: each row goes through three short steps so a kill at any moment leaves a state a resume can
finish without assigning anything twice. The claim (one transaction, the token row locked) checks
the token is still free, makes the code from the sealed seed and marks the item ``sending``:
a unique index lets one serial be ``sending`` in one item only, across every job. Then one
Graph call (``assignAndActivate`` or an assignment) outside any transaction, so workers never
hold the database while waiting on Entra. The record (one transaction) moves the token and
audits it. An item found ``sending`` (a crash, or an answer lost on the way) is never resent
blindly: Entra's device is read first and the row finished, retried or refused from what it says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import IntegrityError

from oathdesk.graph import (
    Device,
    GraphConflict,
    GraphError,
    GraphNotFound,
    GraphOutcomeUnknown,
    GraphRequestError,
    device_body,
)
from oathdesk.service._common import audit
from oathdesk.service.context import Inventory
from oathdesk.service.lifecycle.from_seed import code_from_seed
from oathdesk.service.lifecycle.steps import FREE
from oathdesk.service.notify.events import notify_event
from oathdesk.store import JobItem, StateConflict, TokenState, UnitOfWork

S = TokenState
Outcome = Literal["done", "failed", "pending", "skipped", "sending"]
REASON = "roster hand-out"
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Row:
    """What a worker needs of one job item (plain values: no ORM object crosses threads)."""

    item_id: int
    job_id: int
    serial: str
    user_id: str
    upn: str
    display_name: str


@dataclass
class Claim:
    """A claimed row: the device to send to (or the body to create it) and the code, if any."""

    device_id: str | None
    body: dict[str, object] | None
    code: str | None


def _item(uow: UnitOfWork, item_id: int) -> JobItem:
    item = uow.session.get(JobItem, item_id, with_for_update=True)
    assert item is not None, item_id
    return item


def _end(
    inv: Inventory, item_id: int, state: Outcome, code: str | None = None, message: str = ""
) -> Outcome:
    with inv.uow() as uow:
        item = _item(uow, item_id)
        item.state, item.error_code, item.error_message = state, code, message or None
    return state


def _fail(item: JobItem, *, code: str, message: str) -> Outcome:
    item.state, item.error_code, item.error_message = "failed", code, message
    return "failed"


def claim(inv: Inventory, row: Row, *, activate: bool, actor: str) -> Claim | Outcome:
    """Step 1: the intent on disk before anything is sent (or the outcome when there is
    nothing to send)."""
    try:
        with inv.uow() as uow:
            item = _item(uow, row.item_id)
            if item.state != "pending":
                return "skipped"  # another worker or run took it
            if item.attempts >= MAX_ATTEMPTS:
                return _fail(
                    item,
                    code="handout.gave_up",
                    message=f"Token {row.serial}: Entra's answer stayed unclear after "
                    f"{item.attempts} tries; check the token in Entra and hand it over by itself.",
                )
            token = uow.tokens.get_for_update(row.serial)
            if token.state not in FREE:
                return _fail(
                    item,
                    code="handout.token_taken",
                    message=f"Token {row.serial} became {token.state.value} "
                    f"({token.user_upn or 'no user'}) after the roster was checked.",
                )
            code = code_from_seed(inv, uow, token) if activate else None
            body = None
            if not token.entra_id:
                body = dict(device_body(uow.tokens.seed_record(token, inv.sealer)))
            item.state, item.attempts = "sending", item.attempts + 1
            uow.flush()
            return Claim(token.entra_id, body, code)
    except IntegrityError:  # the serial is in flight in another job's item
        return _end(
            inv,
            row.item_id,
            "failed",
            code="handout.in_flight",
            message=f"Token {row.serial} is being handed out by another job; resume this one "
            "later.",
        )


def send(inv: Inventory, row: Row, got: Claim, *, activate: bool, actor: str) -> Outcome:
    """Step 2 and 3: one call to Entra, then the record; an unknown outcome is looked up."""
    entra = inv.entra()
    try:
        device_id = got.device_id
        if device_id is None:
            assert got.body is not None
            try:
                device_id = entra.create_device(got.body).id
            except GraphConflict:
                device_id = entra.find_serial(row.serial)[0].id
            finally:
                got.body.clear()
        if activate:
            assert got.code is not None
            entra.assign_and_activate(row.user_id, device_id, got.code, row.display_name or None)
        else:
            entra.assign(row.user_id, device_id)
    except GraphOutcomeUnknown:
        return settle(inv, row, activate=activate, actor=actor)
    except GraphConflict:
        return _refused(
            inv, row, code="handout.held_in_entra", message="Entra gives the token to another user."
        )
    except GraphRequestError as exc:
        return _refused(
            inv, row, code="handout.entra_refused", message=f"Entra refused: {exc.message}"
        )
    except GraphError as exc:  # throttled or unavailable past every retry: certainly not done
        return _end(inv, row.item_id, "failed", exc.code, exc.message)
    return record(inv, row, device_id, activated=activate, actor=actor)


def _refused(inv: Inventory, row: Row, *, code: str, message: str) -> Outcome:
    """Entra said no; our token stays as it was (reconcile shows any difference)."""
    return _end(inv, row.item_id, "failed", code, f"Token {row.serial}: {message}")


def record(inv: Inventory, row: Row, device_id: str, *, activated: bool, actor: str) -> Outcome:
    """Step 3: the token is the user's in our record as it is in Entra's; audited per step."""
    try:
        with inv.uow() as uow:
            item = _item(uow, row.item_id)
            token = uow.tokens.get_for_update(row.serial)
            job = {"job": row.job_id}
            if token.entra_id != device_id:
                token.entra_id, token.entra_synced_at = device_id, inv.now()
            if token.state is S.IN_STOCK:
                uow.tokens.move(token, S.AVAILABLE)
                audit(uow, inv, "token.sync", token, actor=actor, reason=REASON, entra_id=device_id)
            uow.tokens.move(token, S.ASSIGNED, expect=[S.AVAILABLE])
            token.user_id, token.user_upn = row.user_id, row.upn
            audit(
                uow,
                inv,
                "token.assign",
                token,
                actor=actor,
                reason=REASON,
                user_id=row.user_id,
                **job,
            )
            if activated:
                uow.tokens.move(token, S.ACTIVATED)
                named = {"code": "from the sealed seed", **job}
                if row.display_name and row.display_name != token.display_name:
                    token.display_name = row.display_name
                    named["display_name"] = row.display_name
                audit(uow, inv, "token.activate", token, actor=actor, reason=REASON, **named)
            notify_event(inv, uow, "handout", token, display_name=row.display_name or None)
            item.state, item.entra_id, item.error_code, item.error_message = (
                "done",
                device_id,
                None,
                None,
            )
    except StateConflict as exc:
        return _end(inv, row.item_id, "failed", code="handout.token_taken", message=exc.message)
    return "done"


def _device(inv: Inventory, row: Row) -> Device | None:
    with inv.uow(write=False) as uow:
        token = uow.tokens.get(row.serial)
        entra_id = token.entra_id
    entra = inv.entra()
    if entra_id:
        try:
            return entra.get_device(entra_id)
        except GraphNotFound:
            return None
    found = entra.find_serial(row.serial)
    return found[0] if found else None


def settle(inv: Inventory, row: Row, *, activate: bool, actor: str) -> Outcome:
    """A ``sending`` row whose outcome is unknown: ask Entra, then finish it, put it back to
    pending (nothing happened) or refuse it (someone else holds the token)."""
    try:
        device = _device(inv, row)
        if device is None or not device.assigned_to_id:
            return _end(inv, row.item_id, "pending")  # nothing was assigned: send again
        if device.assigned_to_id != row.user_id:
            return _refused(
                inv,
                row,
                code="handout.held_in_entra",
                message="Entra gives the token to another user.",
            )
        if activate and device.status != "activated":
            with inv.uow() as uow:
                code = code_from_seed(inv, uow, uow.tokens.get_for_update(row.serial))
            entra = inv.entra()
            method = entra.method_id_for(row.user_id, device)
            entra.activate(row.user_id, method, code, row.display_name or None)
    except GraphError as exc:
        return _end(inv, row.item_id, "sending", exc.code, exc.message)  # look again on resume
    return record(inv, row, device.id, activated=activate, actor=actor)
