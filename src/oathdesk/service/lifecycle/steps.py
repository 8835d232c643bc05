"""The steps lifecycle actions are made of, each run inside the caller's locked unit of work.

Why: the help desk's actions and self-service enrollment do the same few things to a token
(check whose it is, verify a code, give it to a user, activate it in Entra); doing each in one
place, always under the lock the caller already holds, means no path can check one state and
write another.
"""

from __future__ import annotations

from oathdesk.domain import OtpKind
from oathdesk.graph import GraphRequestError
from oathdesk.otp import (
    OtpKey,
    OtpState,
    Outcome,
    Verification,
    activation_window,
    claim_window,
    verify,
)
from oathdesk.otp import resync as find_pair
from oathdesk.service._common import audit, ensure_device, method_of
from oathdesk.service.context import Inventory
from oathdesk.service.errors import CodeRejected, ServiceError
from oathdesk.store import StateConflict, Token, TokenState, UnitOfWork

S = TokenState
HOLDING = (S.ASSIGNED, S.ACTIVATED, S.FAILED_ACTIVATION, S.DEACTIVATED)
FREE = (S.IN_STOCK, S.AVAILABLE)
FAILED = "token.activation_failed"


class NotHolder(StateConflict):
    """The token is not held by the user the action is for (``inventory.state_conflict``)."""


def holds(token: Token, user: str, *, by_id: bool = True) -> bool:
    """True when ``user`` holds ``token``: its UPN (any case) or, with ``by_id``, its object id.
    A signed-in person's own name is only ever compared with the UPN."""
    wanted = user.strip().lower()
    held = {(token.user_upn or "").lower()} | ({(token.user_id or "").lower()} if by_id else set())
    return bool(wanted) and wanted in held


def check_holder(token: Token, user: str, *, free_ok: bool, by_id: bool = True) -> None:
    """Refuse a token held by someone other than ``user`` (with ``free_ok``, a token in stock
    passes). Call it on the locked row, in the unit of work that changes it, so a token that
    changed hands since the caller last looked is refused."""
    if free_ok and token.state in FREE:
        return
    if not holds(token, user, by_id=by_id):
        upn = token.user_upn or ""
        holder = f"assigned to {upn}" if upn else f"{token.state.value} and held by no user"
        raise NotHolder(
            f"Token {token.serial} is {holder}, not {user.strip()}; open the token's page to act "
            "on it.",
            details={"serial": token.serial, "state": token.state.value},
        )


def refusal(serial: str, outcome: Outcome, digits: int, *, remote: bool = False) -> CodeRejected:
    """The error for a code the OTP engine did not accept, in words the person can act on
    (``remote``: the narrow window refused it, and two consecutive codes are the way out)."""
    if outcome is Outcome.REPLAYED:
        return CodeRejected(
            f"This code was already used for token {serial}; wait for the next code.",
            code="service.code_replayed",
            details={"serial": serial},
        )
    if outcome is Outcome.MALFORMED:
        return CodeRejected(
            f"The code must be the {digits} digits token {serial} shows now.",
            code="service.code_malformed",
            details={"serial": serial},
        )
    hint = "; if its clock is off, type the code it shows and the next one" if remote else ""
    return CodeRejected(
        f"The code does not match token {serial}; nothing was sent to Entra. Check the serial "
        f"and type the code the token shows now{hint}.",
        details={"serial": serial},
    )


def _verify(
    inv: Inventory,
    key: OtpKey,
    token: Token,
    state: OtpState,
    code: str,
    next_code: str | None,
    remote: bool,
) -> Verification:
    """One code in Entra's activation window (the token in hand) or, at a distance, in the
    narrow claim window around the known drift; two consecutive codes in the activation window."""
    at = inv.clock.now()
    if next_code is not None:
        return find_pair(key, code, next_code, at=at, state=state)
    if token.kind is not OtpKind.TOTP:
        return verify(key, code, at=at, state=state)  # HOTP: the next 11 counters either way
    window = (claim_window if remote else activation_window)(token.period)
    return verify(key, code, at=at, state=state, window=window)


def check_code(
    inv: Inventory,
    uow: UnitOfWork,
    token: Token,
    code: str,
    *,
    actor: str,
    reason: str,
    remote: bool = False,
    next_code: str | None = None,
) -> CodeRejected | None:
    """Verify ``code`` before Entra sees it.

    The help desk, token in hand, checks one code in Entra's activation window (±1 day).
    ``remote`` (self-service) proves possession at a distance: one code in the claim window
    around the token's known drift (±2 steps), because a day-wide window lets one guess in 174
    through. With ``next_code`` the two must be consecutive codes inside the activation window
    (a token whose clock is off); the state then follows the second one, the code to send.

    On success the OTP state is kept (so the code cannot be used twice); on failure the attempt
    is audited (``token.activation_failed``, ``where: local``) and the error is returned, for the
    caller to raise after the commit so the audit entry stays. A token whose seed was destroyed
    cannot be checked here (Entra holds it): None, and Entra alone checks the code."""
    if not token.has_seed:
        return None
    key = OtpKey.of(uow.tokens.seed_record(token, inv.sealer))
    state = uow.tokens.otp_state(token)
    result = _verify(inv, key, token, state, code, next_code, remote)
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
    return refusal(token.serial, result.outcome, token.digits, remote=remote)


def checked(token: Token) -> str:
    """The step that says who checked the code."""
    return "code checked locally" if token.has_seed else "seed destroyed: Entra checks the code"


def give_to(
    inv: Inventory, uow: UnitOfWork, token: Token, user: str, *, actor: str, reason: str
) -> None:
    """Assign a token in stock to ``user`` (UPN or object id) in Entra and in our record; a
    token not yet in Entra is created there first. Audited ``token.assign``."""
    person = inv.entra().get_user(user)
    if person.user_type.lower() == "guest":  # Entra refuses; say why before touching anything
        raise ServiceError(
            f"{person.user_principal_name or user} is a guest account; Entra gives hardware "
            "tokens only to members: hand the token to the person's member account.",
            code="service.guest_user",
            details={"user": person.user_principal_name or user},
        )
    device = ensure_device(inv, uow, token, actor=actor, reason=reason)
    inv.entra().assign(person.id, device.id)
    uow.tokens.move(token, S.ASSIGNED, expect=[S.AVAILABLE])
    token.user_id, token.user_upn = person.id, person.user_principal_name
    audit(uow, inv, "token.assign", token, actor=actor, reason=reason, user_id=person.id)


def send_activation(
    inv: Inventory,
    uow: UnitOfWork,
    token: Token,
    code: str,
    *,
    actor: str,
    reason: str,
    display_name: str | None,
    steps: list[str],
    from_seed: bool = False,
) -> ServiceError | None:
    """Activate an assigned token whose code was checked (``check_code``) in Entra, and record
    the outcome. When Entra still refuses the code the token becomes ``failed_activation`` and
    the error is returned, for the caller to raise after the commit."""
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
            "activate again with the code the token shows now.",
            code="service.entra_refused_code",
            details={"serial": token.serial},
        )
    uow.tokens.move(token, S.ACTIVATED)
    named: dict[str, str] = {"code": "from the sealed seed"} if from_seed else {}
    if display_name and display_name != token.display_name:
        token.display_name = display_name  # Entra now shows it: our record must agree
        named["display_name"] = display_name
    audit(uow, inv, "token.activate", token, actor=actor, reason=reason, **named)
    steps.append("activated in Entra")
    return None


def unassign_in_entra(
    inv: Inventory, uow: UnitOfWork, token: Token, *, actor: str, reason: str
) -> bool:
    """Take the token back from its user in Entra; False when Entra has nobody to take it from."""
    if not token.entra_id:
        return False
    device = ensure_device(inv, uow, token, actor=actor, reason=reason)
    if not device.assigned_to_id:
        return False
    user, method = method_of(inv, device)
    inv.entra().unassign(user, method)
    return True
