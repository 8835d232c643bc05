"""The code a token shows now, computed from its sealed seed, for activation without the token.

Why: oathdesk holds every seed it imported, so an administrator may choose to activate tokens
(a bulk hand-out, a legacy migration) without anyone typing a code. The code is made inside the
caller's locked unit of work and the token's OTP state moves past it, so the same code is never
sent twice and a later code typed by the holder still verifies. The code itself is never logged,
audited or returned to a person: it goes straight to Entra.
"""

from __future__ import annotations

from oathdesk.domain import OtpKind, UsageError
from oathdesk.otp import OtpKey, OtpState
from oathdesk.service._common import ActionResult, need_reason, require
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.lifecycle.steps import FREE, check_holder, give_to, send_activation
from oathdesk.service.notify.events import notify_event
from oathdesk.store import Token, TokenState, UnitOfWork

S = TokenState


def code_from_seed(inv: Inventory, uow: UnitOfWork, token: Token) -> str:
    """The next unused code of ``token`` from its sealed seed (TOTP: the current step, or the
    next one when the current step was already used; HOTP: the next counter), with the OTP state
    saved past it. Raises ``lifecycle.no_seed`` when the seed was destroyed (Entra alone holds
    it)."""
    if not token.has_seed:
        raise ServiceError(
            f"Token {token.serial} has no seed in the inventory any more (it was destroyed after "
            "upload), so oathdesk cannot make its code: activate it with a code from the token.",
            code="lifecycle.no_seed",
            details={"serial": token.serial},
        )
    key = OtpKey.of(uow.tokens.seed_record(token, inv.sealer))
    state = uow.tokens.otp_state(token)
    if token.kind is OtpKind.HOTP:
        counter = state.next_counter
    else:
        counter = key.spec.step(inv.clock.now()) + state.drift
        if state.last_step is not None and counter <= state.last_step:
            counter = state.last_step + 1
    uow.tokens.save_otp_state(token, OtpState(last_step=counter, drift=state.drift))
    return key.code(counter)


def activate_from_seed(
    inv: Inventory,
    serial: str,
    *,
    user: str | None,
    actor: str,
    reason: str,
    display_name: str | None = None,
) -> ActionResult:
    """Hand over (with ``user``) or activate a token with a code made from its sealed seed: the
    administrator's explicit choice for tokens nobody holds yet. Audited ``token.activate`` with
    ``code: from the sealed seed``; the code never leaves this function except to Entra."""
    reason = need_reason(reason)
    user = (user or "").strip() or None
    steps: list[str] = []
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        before = token.state.value
        if user is not None:
            check_holder(token, user, free_ok=True)
        if token.state in FREE:
            if user is None:
                raise UsageError(
                    f"Token {serial} is not assigned yet; name the user to give it to.",
                    code="usage.user_required",
                )
        else:
            require(
                token, S.ACTIVATED, (S.ASSIGNED, S.FAILED_ACTIVATION, S.DEACTIVATED), "activation"
            )
        code = code_from_seed(inv, uow, token)
        steps.append("code made from the sealed seed")
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
            from_seed=True,
        )
        notify_event(inv, uow, "assign", token, when=user is not None and failure is None)
        result = ActionResult("activate", serial, before, token.describe(), steps)
    if failure is not None:
        raise failure
    return result
