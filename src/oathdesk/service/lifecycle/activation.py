"""The single-token actions that take a code: activate (or hand over), replace, resync.

Why: a code is verified locally with the OTP engine (replay protection included) before it is
sent, so a typo never leaves a user's token in Entra's ``failedActivation``; a refused code is
audited and raised after the commit so its audit entry stays. A hand-over or a replace for a
named user checks whose token it is on the locked row, in the same unit of work as the change.
"""

from __future__ import annotations

from typing import Literal

from oathdesk.domain import OathdeskError, UsageError
from oathdesk.otp import OtpKey
from oathdesk.otp import resync as find_drift
from oathdesk.service._common import (
    ActionResult,
    audit,
    ensure_device,
    method_of,
    need_reason,
    require,
)
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.lifecycle.preview import next_in_stock
from oathdesk.service.lifecycle.steps import (
    FREE,
    HOLDING,
    check_code,
    check_holder,
    checked,
    give_to,
    refusal,
    send_activation,
)
from oathdesk.service.notify.events import notify_event
from oathdesk.service.tap import TapRequest, issue_tap
from oathdesk.store import Token, TokenState, UnitOfWork

S = TokenState


def activate(
    inv: Inventory,
    serial: str,
    code: str,
    *,
    actor: str,
    reason: str,
    user: str | None = None,
    display_name: str | None = None,
) -> ActionResult:
    """Check the code locally, then activate the token in Entra. With ``user`` this is the
    hand-over: a token in stock is given to ``user`` first, one already theirs is only activated,
    and one held by anyone else is refused. A wrong code is refused before Entra is called."""
    reason, code = need_reason(reason), code.strip()
    user = (user or "").strip() or None
    steps: list[str] = []
    failure: ServiceError | None = None
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        if user is not None:
            check_holder(token, user, free_ok=True)
        if token.state in FREE:
            if user is None:
                raise UsageError(
                    f"Token {serial} is not assigned yet; name the user to give it to (--user).",
                    code="usage.user_required",
                )
        else:
            require(
                token, S.ACTIVATED, (S.ASSIGNED, S.FAILED_ACTIVATION, S.DEACTIVATED), "activation"
            )
        failure = check_code(inv, uow, token, code, actor=actor, reason=reason)
        if failure is None:
            steps.append(checked(token))
            if user is not None and token.state in FREE:
                give_to(inv, uow, token, user, actor=actor, reason=reason)
                steps.append("assigned in Entra")
            failure = send_activation(
                inv,
                uow,
                token,
                code,
                actor=actor,
                reason=reason,
                display_name=display_name or None,
                steps=steps,
            )
        notify_event(inv, uow, "assign", token, when=user is not None and failure is None)
        result = ActionResult("activate", serial, before, token.describe(), steps)
    if failure is not None:
        raise failure
    return result


def _pick_replacement(uow: UnitOfWork, serial: str | None) -> Token:
    chosen = serial or next_in_stock(uow)
    if chosen:
        return uow.tokens.get_for_update(chosen)
    raise ServiceError(
        "No token in stock to replace it with; import or name one (--new SERIAL).",
        code="service.no_stock",
    )


def replace(
    inv: Inventory,
    serial: str,
    code: str,
    *,
    why: Literal["lost", "broken"],
    actor: str,
    reason: str,
    new_serial: str | None = None,
    display_name: str | None = None,
    user: str | None = None,
    tap: TapRequest | None = None,
) -> ActionResult:
    """A lost or broken token is deactivated and marked so; a token from stock goes to the same
    user and is activated with ``code`` (checked locally before anything changes). With
    ``user``, the old token must be theirs (a token held by anyone else is refused). With
    ``tap``, once the replacement is done the user also gets a Temporary Access Pass (in
    ``result.tap``; a pass Entra refuses leaves the replacement done and says why in
    ``extra["tap_error"]``)."""
    reason, code = need_reason(reason), code.strip()
    if tap is not None:
        tap.check()
    target = S.LOST if why == "lost" else S.BROKEN
    steps: list[str] = []
    with inv.uow() as uow:
        old = uow.tokens.get_for_update(serial)
        before = old.state.value
        if user and user.strip():
            check_holder(old, user, free_ok=False)
        require(old, target, HOLDING, f"replace (as {why})")
        if not old.user_id:
            raise ServiceError(
                f"Token {serial} has no user to give a replacement to.", code="service.no_user"
            )
        new = _pick_replacement(uow, (new_serial or "").strip() or None)
        require(new, S.ASSIGNED, (S.IN_STOCK, S.AVAILABLE), "a replacement")
        failure: ServiceError | None = check_code(inv, uow, new, code, actor=actor, reason=reason)
        if failure is None:
            steps.append(f"{new.serial}: {checked(new)}")
            if old.entra_id:
                device = ensure_device(inv, uow, old, actor=actor, reason=reason)
                if device.assigned_to_id and device.status == "activated":
                    inv.entra().deactivate(*method_of(inv, device))
                    steps.append(f"{serial} deactivated in Entra")
            user_id, upn = old.user_id, old.user_upn
            uow.tokens.move(old, target)
            audit(
                uow,
                inv,
                "token.replace",
                old,
                actor=actor,
                reason=reason,
                why=why,
                replacement=new.serial,
            )
            steps.append(f"{serial} marked {why}")
            device = ensure_device(inv, uow, new, actor=actor, reason=reason)
            inv.entra().assign(user_id, device.id)
            uow.tokens.move(new, S.ASSIGNED, expect=[S.AVAILABLE])
            new.user_id, new.user_upn = user_id, upn
            audit(uow, inv, "token.assign", new, actor=actor, reason=reason, replaces=serial)
            steps.append(f"{new.serial} assigned")
            failure = send_activation(
                inv,
                uow,
                new,
                code,
                actor=actor,
                reason=reason,
                display_name=display_name or None,
                steps=steps,
            )
        notify_event(inv, uow, "replace", new, when=old.state is target, old_serial=serial)
        result = ActionResult(
            "replace", serial, before, old.describe(), steps, {"replacement": new.describe()}
        )
        holder = (new.user_id, new.user_upn) if failure is None else None
    if failure is not None:
        raise failure
    if tap is not None and holder is not None and holder[0]:
        try:
            result.tap = issue_tap(
                inv,
                holder[0],
                holder[1] or holder[0],
                tap,
                actor=actor,
                reason=reason,
                serial=serial,
            )
            result.steps.append("Temporary Access Pass issued")
        except OathdeskError as exc:
            result.extra["tap_error"] = {"code": exc.code, "message": exc.message}
    return result


def resync(
    inv: Inventory, serial: str, first: str, second: str, *, actor: str, reason: str
) -> ActionResult:
    """Find a drifted token's clock from two consecutive codes, then have Entra learn it again
    (Entra has no resync call: deactivate and activate with the second code). Only an
    activated token goes through Entra; any other keeps its state, with the drift recorded."""
    reason = need_reason(reason)
    steps: list[str] = []
    failure: ServiceError | None = None
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        require(token, S.ACTIVATED, HOLDING, "resync")
        key = OtpKey.of(uow.tokens.seed_record(token, inv.sealer))
        found = find_drift(
            key,
            first.strip(),
            second.strip(),
            at=inv.clock.now(),
            state=uow.tokens.otp_state(token),
        )
        if not found:
            audit(
                uow,
                inv,
                "token.resync_failed",
                token,
                actor=actor,
                reason=reason,
                outcome=found.outcome.value,
            )
            failure = refusal(serial, found.outcome, token.digits)
        else:
            uow.tokens.save_otp_state(token, found.state)
            steps.append(f"drift found: {found.offset} step(s)")
            audit(uow, inv, "token.resync", token, actor=actor, reason=reason, drift=found.offset)
            if token.state is not S.ACTIVATED:
                # only an active token is re-activated: resync learns the clock of a
                # deactivated (or not yet activated) token and leaves its state alone
                steps.append(f"drift recorded; the token stays {token.state.value}")
            elif token.entra_id and token.user_id:
                device = ensure_device(inv, uow, token, actor=actor, reason=reason)
                inv.entra().deactivate(*method_of(inv, device))
                uow.tokens.move(token, S.DEACTIVATED)
                steps.append("deactivated in Entra")
                failure = send_activation(
                    inv,
                    uow,
                    token,
                    second.strip(),
                    actor=actor,
                    reason=reason,
                    display_name=None,
                    steps=steps,
                )
        result = ActionResult("resync", serial, before, token.describe(), steps)
    if failure is not None:
        raise failure
    return result
