"""Token lifecycle actions: assign, activate, deactivate, unassign, delete, replace, resync.

Why: each help desk action is one audited change with an actor and a reason, checked against
the lifecycle before Entra is touched, with the token row locked for the whole action so two
agents acting on one token cannot both win. Codes are verified locally with the OTP engine
(replay protection included) before they are sent, so a typo never leaves a user's token in
Entra's ``failedActivation``.
"""

from __future__ import annotations

from typing import Literal

from oathdesk.domain import OtpKind, UsageError
from oathdesk.graph import GraphNotFound, GraphRequestError
from oathdesk.otp import OtpKey, Outcome, activation_window, verify
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
from oathdesk.service.errors import CodeRejected, ServiceError
from oathdesk.store import Token, TokenFilter, TokenState, UnitOfWork

S = TokenState
HOLDING = (S.ASSIGNED, S.ACTIVATED, S.FAILED_ACTIVATION, S.DEACTIVATED)
FAILED = "token.activation_failed"


def _refusal(serial: str, outcome: Outcome, digits: int) -> CodeRejected:
    if outcome is Outcome.REPLAYED:
        return CodeRejected(
            f"this code was already used for token {serial}; wait for the next code",
            code="service.code_replayed",
            details={"serial": serial},
        )
    if outcome is Outcome.MALFORMED:
        return CodeRejected(
            f"the code must be the {digits} digits token {serial} shows now",
            code="service.code_malformed",
            details={"serial": serial},
        )
    return CodeRejected(
        f"the code does not match token {serial}; nothing was sent to Entra. Check the serial "
        "and type the code the token shows now",
        details={"serial": serial},
    )


def _check_code(
    inv: Inventory, uow: UnitOfWork, token: Token, code: str, *, actor: str, reason: str
) -> CodeRejected | None:
    """Verify ``code`` in Entra's activation window; on success keep the OTP state (replay
    protection), on failure audit it and return the error to raise after the commit. A token
    whose seed was destroyed (Entra holds it) cannot be checked here: Entra alone checks it."""
    if not token.has_seed:
        return None
    key = OtpKey.of(uow.tokens.seed_record(token, inv.sealer))
    window = activation_window(token.period) if token.kind is OtpKind.TOTP else None
    result = verify(key, code, at=inv.clock.now(), state=uow.tokens.otp_state(token), window=window)
    if result:
        uow.tokens.save_otp_state(token, result.state)
        return None
    audit(
        uow,
        inv,
        FAILED,
        token,
        actor=actor,
        reason=reason,
        where="local",
        outcome=result.outcome.value,
    )
    return _refusal(token.serial, result.outcome, token.digits)


def _checked(token: Token) -> str:
    return "code checked locally" if token.has_seed else "seed destroyed: Entra checks the code"


def _send_activation(
    inv: Inventory,
    uow: UnitOfWork,
    token: Token,
    code: str,
    *,
    actor: str,
    reason: str,
    display_name: str | None,
    steps: list[str],
) -> ServiceError | None:
    """Token locally checked and assigned: activate it in Entra and record the outcome."""
    device = ensure_device(inv, uow, token, actor=actor, reason=reason)
    user, method = method_of(inv, device)
    try:
        inv.entra().activate(user, method, code, display_name)
    except GraphRequestError as exc:
        if exc.status != 400:
            raise
        if token.state is S.DEACTIVATED:  # Entra's failedActivation keeps the user
            uow.tokens.move(token, S.ASSIGNED)
        if token.state is not S.FAILED_ACTIVATION:
            uow.tokens.move(token, S.FAILED_ACTIVATION)
        audit(uow, inv, FAILED, token, actor=actor, reason=reason, where="entra", outcome=exc.code)
        steps.append("entra refused the code")
        return ServiceError(
            f"Entra refused the code for token {token.serial} (it is now failed_activation); "
            "activate again with the code the token shows now",
            code="service.entra_refused_code",
            details={"serial": token.serial},
        )
    uow.tokens.move(token, S.ACTIVATED)
    audit(uow, inv, "token.activate", token, actor=actor, reason=reason)
    steps.append("activated in Entra")
    return None


def assign(inv: Inventory, serial: str, user: str, *, actor: str, reason: str) -> ActionResult:
    """Give a token in stock to a user in Entra (created in Entra first if it is not there)."""
    reason = need_reason(reason)
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        require(token, S.ASSIGNED, (S.IN_STOCK, S.AVAILABLE), "assign")
        person = inv.entra().get_user(user)
        device = ensure_device(inv, uow, token, actor=actor, reason=reason)
        inv.entra().assign(person.id, device.id)
        uow.tokens.move(token, S.ASSIGNED, expect=[S.AVAILABLE])
        token.user_id, token.user_upn = person.id, person.user_principal_name
        audit(uow, inv, "token.assign", token, actor=actor, reason=reason, user_id=person.id)
        return ActionResult("assign", serial, before, token.describe(), ["assigned in Entra"])


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
    """Check the code locally, then assign (if ``user`` is given and the token is in stock) and
    activate in Entra. A wrong code is refused before Entra is called."""
    reason, code = need_reason(reason), code.strip()
    steps: list[str] = []
    failure: ServiceError | None = None
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        if token.state in (S.IN_STOCK, S.AVAILABLE):
            if not user:
                raise UsageError(
                    f"token {serial} is not assigned yet; name the user to give it to (--user)",
                    code="usage.user_required",
                )
        else:
            require(
                token, S.ACTIVATED, (S.ASSIGNED, S.FAILED_ACTIVATION, S.DEACTIVATED), "activation"
            )
        failure = _check_code(inv, uow, token, code, actor=actor, reason=reason)
        if failure is None:
            steps.append(_checked(token))
            if token.state in (S.IN_STOCK, S.AVAILABLE):
                assert user is not None
                person = inv.entra().get_user(user)
                device = ensure_device(inv, uow, token, actor=actor, reason=reason)
                inv.entra().assign(person.id, device.id)
                uow.tokens.move(token, S.ASSIGNED, expect=[S.AVAILABLE])
                token.user_id, token.user_upn = person.id, person.user_principal_name
                audit(
                    uow, inv, "token.assign", token, actor=actor, reason=reason, user_id=person.id
                )
                steps.append("assigned in Entra")
            failure = _send_activation(
                inv,
                uow,
                token,
                code,
                actor=actor,
                reason=reason,
                display_name=display_name,
                steps=steps,
            )
        result = ActionResult("activate", serial, before, token.describe(), steps)
    if failure is not None:
        raise failure
    return result


def deactivate(inv: Inventory, serial: str, *, actor: str, reason: str) -> ActionResult:
    """Stop an activated token signing in; it stays with its user."""
    reason = need_reason(reason)
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        require(token, S.DEACTIVATED, (S.ACTIVATED,), "deactivate")
        user, method = method_of(inv, ensure_device(inv, uow, token, actor=actor, reason=reason))
        inv.entra().deactivate(user, method)
        uow.tokens.move(token, S.DEACTIVATED)
        audit(uow, inv, "token.deactivate", token, actor=actor, reason=reason)
        return ActionResult("deactivate", serial, before, token.describe(), ["deactivated"])


def _unassign_in_entra(
    inv: Inventory, uow: UnitOfWork, token: Token, *, actor: str, reason: str
) -> bool:
    if not token.entra_id:
        return False
    device = ensure_device(inv, uow, token, actor=actor, reason=reason)
    if not device.assigned_to_id:
        return False
    user, method = method_of(inv, device)
    inv.entra().unassign(user, method)
    return True


def unassign(inv: Inventory, serial: str, *, actor: str, reason: str) -> ActionResult:
    """Take a token back from its user; it returns to stock as ``available``."""
    reason = need_reason(reason)
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before, holder = token.state.value, token.user_upn
        require(token, S.AVAILABLE, HOLDING, "unassign")
        _unassign_in_entra(inv, uow, token, actor=actor, reason=reason)
        uow.tokens.move(token, S.AVAILABLE)
        token.user_id = token.user_upn = None
        audit(uow, inv, "token.unassign", token, actor=actor, reason=reason, previous_user=holder)
        return ActionResult("unassign", serial, before, token.describe(), ["unassigned"])


def delete(
    inv: Inventory, serial: str, *, actor: str, reason: str, keep_seed: bool = False
) -> ActionResult:
    """Retire a token: unassigned and deleted in Entra, its seed destroyed (unless kept)."""
    reason = need_reason(reason)
    steps: list[str] = []
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before, holder = token.state.value, token.user_upn
        require(token, S.RETIRED, [s for s in S if s is not S.RETIRED], "delete")
        if token.entra_id:
            try:
                if _unassign_in_entra(inv, uow, token, actor=actor, reason=reason):
                    steps.append("unassigned in Entra")
                inv.entra().delete_device(token.entra_id)
                steps.append("deleted from Entra")
            except (GraphNotFound, ServiceError) as exc:
                if isinstance(exc, ServiceError) and exc.code != "service.missing_in_entra":
                    raise
                steps.append("already gone from Entra")
        uow.tokens.move(token, S.RETIRED)
        token.user_id = token.user_upn = None
        audit(uow, inv, "token.delete", token, actor=actor, reason=reason, previous_user=holder)
        if not keep_seed:
            uow.tokens.destroy_seed(token, actor=actor, reason=f"retired: {reason}")
            steps.append("seed destroyed")
        return ActionResult("delete", serial, before, token.describe(), steps)


def _pick_replacement(uow: UnitOfWork, serial: str | None) -> Token:
    if serial:
        return uow.tokens.get_for_update(serial)
    for state in (S.AVAILABLE, S.IN_STOCK):
        page = uow.tokens.list(TokenFilter(states=[state], has_seed=True), sort="created", limit=1)
        if page.items:
            return uow.tokens.get_for_update(page.items[0].serial)
    raise ServiceError(
        "no token in stock to replace it with; import or name one (--new SERIAL)",
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
) -> ActionResult:
    """A lost or broken token is deactivated and marked so; a token from stock goes to the same
    user and is activated with ``code`` (checked locally before anything changes)."""
    reason, code = need_reason(reason), code.strip()
    target = S.LOST if why == "lost" else S.BROKEN
    steps: list[str] = []
    with inv.uow() as uow:
        old = uow.tokens.get_for_update(serial)
        before = old.state.value
        require(old, target, HOLDING, f"replace (as {why})")
        if not old.user_id:
            raise ServiceError(
                f"token {serial} has no user to give a replacement to", code="service.no_user"
            )
        new = _pick_replacement(uow, new_serial)
        require(new, S.ASSIGNED, (S.IN_STOCK, S.AVAILABLE), "a replacement")
        failure: ServiceError | None = _check_code(inv, uow, new, code, actor=actor, reason=reason)
        if failure is None:
            steps.append(f"{new.serial}: {_checked(new)}")
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
            failure = _send_activation(
                inv,
                uow,
                new,
                code,
                actor=actor,
                reason=reason,
                display_name=display_name,
                steps=steps,
            )
        result = ActionResult(
            "replace", serial, before, old.describe(), steps, {"replacement": new.describe()}
        )
    if failure is not None:
        raise failure
    return result


def resync(
    inv: Inventory, serial: str, first: str, second: str, *, actor: str, reason: str
) -> ActionResult:
    """Find a drifted token's clock from two consecutive codes, then have Entra learn it again
    (Entra has no resync call: deactivate and activate with the second code)."""
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
            failure = _refusal(serial, found.outcome, token.digits)
        else:
            uow.tokens.save_otp_state(token, found.state)
            steps.append(f"drift found: {found.offset} step(s)")
            audit(uow, inv, "token.resync", token, actor=actor, reason=reason, drift=found.offset)
            if token.entra_id and token.user_id:
                if token.state is S.ACTIVATED:
                    device = ensure_device(inv, uow, token, actor=actor, reason=reason)
                    inv.entra().deactivate(*method_of(inv, device))
                    uow.tokens.move(token, S.DEACTIVATED)
                    steps.append("deactivated in Entra")
                failure = _send_activation(
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
