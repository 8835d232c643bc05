"""Self-service: a signed-in user lists, enrolls, renames, reports lost and found their own tokens.

Why: this is Entra's Security-info flow (serial, name, code) with the checks Entra does not make.
Only a token meant for this user can be claimed: in our inventory, not held by anyone else, in a
claimable state, and inside its batch's restriction (listed users or an Entra group). An unknown
serial and somebody else's serial get the same answer, so serials cannot be probed. The code is
verified locally (replay protection included) before Entra is touched, with the lifecycle's own
check in its narrow form (nobody sees the token: one code near its known clock, or two
consecutive codes; docs/security.md has the odds), and wrong codes are counted per user and per
token in the ``signin_throttle`` table so guessing stops after a few tries. Every change is
audited with the person's actor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from oathdesk.service._common import ActionResult, audit
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.lifecycle import (
    NotHolder,
    check_code,
    found,
    give_to,
    mark_lost,
    send_activation,
)
from oathdesk.store import (
    Batch,
    NotFound,
    StateConflict,
    Token,
    TokenState,
    UnitOfWork,
    retry_after,
)

S = TokenState
REASON = "self-service"
FREE = (S.IN_STOCK, S.AVAILABLE)  # claimable by anyone the batch allows
MINE = (S.ASSIGNED, S.FAILED_ACTIVATION)  # claimable by their holder only
FIELDS = ("serial", "display_name", "state", "kind", "period", "digits", "manufacturer", "model")
MAX_NAME = 100
GONE = (S.LOST, S.BROKEN, S.RETIRED)  # given up: no longer renamed by their former holder


class SelfServiceError(ServiceError):
    """A self-service request refused (``selfservice.*``)."""

    code = "selfservice.error"


@dataclass(frozen=True)
class Limits:
    """Wrong codes (and unclaimable serials) allowed per user, and wrong codes per token,
    within ``window``; past either limit, enrollment is refused for ``lockout``."""

    user_failures: int = 5
    token_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


def view(token: Token) -> dict[str, Any]:
    """What a user sees of their token (the API contract's fields; never a seed)."""
    described = token.describe()
    return {key: described[key] for key in FIELDS}


def _held_by(token: Token, upn: str) -> bool:
    return bool(token.user_upn) and str(token.user_upn).lower() == upn.lower()


def my_tokens(inv: Inventory, upn: str) -> list[dict[str, Any]]:
    """The tokens our inventory has for ``upn`` (case-insensitive), by serial."""
    with inv.uow(write=False) as uow:
        query = (
            select(Token)
            .where(Token.tenant == inv.tenant, func.lower(Token.user_upn) == upn.lower())
            .order_by(Token.serial)
        )
        return [view(t) for t in uow.session.scalars(query)]


# -- rate limits ---------------------------------------------------------------------------
def _keys(upn: str, serial: str) -> tuple[str, str]:
    return f"selfservice:user:{upn.lower()}"[:300], f"selfservice:token:{serial}"[:300]


def _locked(until: datetime, now: datetime) -> SelfServiceError:
    wait = retry_after(until, now)
    return SelfServiceError(
        f"Too many wrong codes or serials; wait {wait} seconds before trying again, or ask "
        "the help desk.",
        code="selfservice.rate_limited",
        details={"retry_after": wait},
    )


def _reserve(inv: Inventory, key: str, limit: int, limits: Limits) -> None:
    """Count this attempt against ``key`` before anything is checked (committed at once), or
    refuse while ``key`` is locked; an attempt that turns out not to be a guess gives its
    count back (``_release``). See ``store.throttle``."""
    now = inv.now()
    with inv.uow() as uow:
        until = uow.throttle.reserve(
            [(key, limit)], window=limits.window, lockout=limits.lockout, now=now
        )
    if until is not None:
        raise _locked(until, now)


def _release(inv: Inventory, *keys: tuple[str, int]) -> None:
    with inv.uow() as uow:
        for key, limit in keys:
            uow.throttle.release(key, limit)


# -- claiming ------------------------------------------------------------------------------
def _not_claimable(serial: str) -> SelfServiceError:
    return SelfServiceError(
        f"No token with serial {serial} can be enrolled by you. Check the serial printed on "
        "the back of the token; if it is right, ask the help desk.",
        code="selfservice.not_claimable",
        details={"serial": serial},
    )


def _refusal(token: Token | None, upn: str) -> str | None:
    """Why ``token`` cannot be claimed by ``upn`` on state and holder (None: it can)."""
    if token is None:
        return "unknown"
    if token.state in FREE and not token.user_upn:
        return None
    if token.state in MINE and _held_by(token, upn):
        return None
    return "held" if token.user_upn and not _held_by(token, upn) else "state"


def _outside_batch(inv: Inventory, batch: Batch | None, upn: str) -> bool:
    """True when the batch is restricted and ``upn`` is neither listed nor in its group."""
    if batch is None or (not batch.restrict_users and not batch.restrict_group_id):
        return False
    if batch.restrict_users and upn.lower() in {u.lower() for u in batch.restrict_users}:
        return False
    if batch.restrict_group_id:
        group = batch.restrict_group_id.lower()
        found = inv.entra().check_member_groups(upn, [batch.restrict_group_id])
        return group not in {g.lower() for g in found}
    return True


def _printable(text: str) -> str:
    """Spaces collapsed and control characters dropped (PostgreSQL refuses NUL in text)."""
    return " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())


def _plausible(serial: str) -> bool:
    """False for a serial no import could have made (PostgreSQL refuses NUL in text)."""
    return bool(serial) and len(serial) <= 128 and serial.isprintable()


def _find(uow: UnitOfWork, serial: str) -> Token | None:
    """The token by serial; a serial no import could have made is simply unknown."""
    return uow.tokens.find(serial) if _plausible(serial) else None


def _clean_name(display_name: str) -> str:
    name = _printable(display_name)
    if not name or len(name) > MAX_NAME:
        raise SelfServiceError(
            f"Give the token a name of 1 to {MAX_NAME} characters (e.g. 'Key fob, blue').",
            code="selfservice.bad_name",
        )
    return name


def _refuse(
    inv: Inventory, upn: str, serial: str, why: str, *, actor: str, limits: Limits
) -> SelfServiceError:
    """Count the attempt against the user, audit it, and return the one answer for all."""
    with inv.uow() as uow:  # the user's reservation stays counted as this failure
        known = _find(uow, serial) is not None
        uow.audit.append(
            "selfservice.refused",
            actor=actor,
            subject=serial if known else None,  # a mistyped serial is not worth a subject
            reason=REASON,
            details={"why": why, "user": upn},
            tenant=inv.tenant,
        )
    return _not_claimable(serial)


def enroll(
    inv: Inventory,
    upn: str,
    serial: str,
    display_name: str,
    code: str,
    *,
    actor: str,
    limits: Limits | None = None,
    next_code: str | None = None,
) -> dict[str, Any]:
    """Claim ``serial`` for ``upn``: check the claim and the code, then assign (pushing a token
    still in stock first) and activate it in Entra under ``display_name``. The code must be
    near the token's known drift (``lifecycle.check_code`` with ``remote``), or ``code`` and
    ``next_code`` two consecutive codes anywhere in Entra's day; the last one goes to Entra."""
    limits = limits or Limits()
    serial, code, name = serial.strip(), code.strip(), _clean_name(display_name)
    second = (next_code or "").strip() or None
    if not serial:
        raise SelfServiceError(
            "Type the serial printed on the back of the token.", code="selfservice.serial_required"
        )
    user_key, token_key = _keys(upn, serial)
    user, tok = (user_key, limits.user_failures), (token_key, limits.token_failures)
    _reserve(inv, *user, limits)
    counted = False  # a guess keeps its reservations; anything else gives them back
    try:
        with inv.uow(write=False) as uow:
            token = _find(uow, serial)
            why = _refusal(token, upn)
            batch = uow.batches.get(token.batch_id) if token and token.batch_id else None
        if why is not None and token is not None and _held_by(token, upn):
            raise StateConflict(  # one's own token: nothing to hide, and nothing to claim
                f"Token {token.serial} is already yours ({token.state.value}); there is "
                "nothing to enroll. If it does not work, report it lost or ask the help desk.",
                code="selfservice.state_conflict",
                details={"serial": token.serial, "state": token.state.value},
            )
        if why is None and _outside_batch(inv, batch, upn):
            why = "restricted"
        if why is not None:
            counted = True
            raise _refuse(inv, upn, serial, why, actor=actor, limits=limits)
        _reserve(inv, *tok, limits)
        try:
            failure, result = _activate(inv, upn, serial, name, code, second, actor=actor)
        except BaseException:
            _release(inv, tok)
            raise
        counted = failure is not None and failure.code != "selfservice.not_claimable"
        if not counted:
            _release(inv, tok)
    finally:
        if not counted:
            _release(inv, user)
    if failure is not None:
        raise failure
    return result


def _activate(
    inv: Inventory, upn: str, serial: str, name: str, code: str, second: str | None, *, actor: str
) -> tuple[ServiceError | None, dict[str, Any]]:
    """Check the code on the token's locked row, then assign and activate: the failure, if
    any (a wrong code, or Entra's refusal), and the token as it now is."""
    failure: ServiceError | None = None
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(serial)
        if _refusal(token, upn) is not None:  # changed hands since the first look
            failure = _not_claimable(serial)
        else:
            failure = check_code(
                inv, uow, token, code, actor=actor, reason=REASON, remote=True, next_code=second
            )
        if failure is None:
            steps: list[str] = ["code checked locally"]
            if token.state in FREE:
                give_to(inv, uow, token, upn, actor=actor, reason=REASON)
                steps.append("assigned in Entra")
            token.display_name = name
            failure = send_activation(
                inv,
                uow,
                token,
                second or code,
                actor=actor,
                reason=REASON,
                display_name=name,
                steps=steps,
            )
        return failure, view(token)


# -- my own tokens ---------------------------------------------------------------------------
def _not_mine(serial: str) -> SelfServiceError:
    return SelfServiceError(
        f"You have no token with serial {serial}.",
        code="selfservice.not_found",
        details={"serial": serial},
    )


def _mine(uow: UnitOfWork, serial: str, upn: str) -> Token:
    token = _find(uow, serial.strip())
    if token is None or not _held_by(token, upn):
        raise _not_mine(serial)
    return uow.tokens.get_for_update(token.serial)


def rename(
    inv: Inventory, upn: str, serial: str, display_name: str, *, actor: str
) -> dict[str, Any]:
    """Rename one of my tokens in our inventory. Entra keeps the name given at activation: it
    refuses to update an assigned token, and its user method has no PATCH (graph-api.md A5).
    A token reported lost (or broken, or retired) keeps its name: it is no longer in use."""
    name = _clean_name(display_name)
    with inv.uow() as uow:
        token = _mine(uow, serial, upn)
        if token.state in GONE:
            raise StateConflict(
                f"Token {token.serial} is {token.state.value}; only a token in use can be renamed.",
                code="selfservice.state_conflict",
                details={"serial": token.serial, "state": token.state.value},
            )
        before = token.display_name
        token.display_name = name
        audit(
            uow, inv, "token.rename", token, actor=actor, reason=REASON, before=before, after=name
        )
        return view(token)


def _as_holder(serial: str, act: Callable[[str], ActionResult], only: str) -> dict[str, Any]:
    """Run a lifecycle change on my token ``serial`` and answer in self-service terms: not
    mine (or unknown) is ``selfservice.not_found``, the wrong state names what ``only`` allows."""
    wanted = serial.strip()
    if not _plausible(wanted):
        raise _not_mine(serial)
    try:
        done = act(wanted)
    except (NotFound, NotHolder):
        raise _not_mine(serial) from None
    except StateConflict as exc:
        state = str(exc.details.get("state", "changed"))
        raise StateConflict(
            f"Token {wanted} is {state}; only {only}.",
            code="selfservice.state_conflict",
            details={"serial": wanted, "state": state},
        ) from None
    return {key: done.token[key] for key in FIELDS}


def report_lost(
    inv: Inventory, upn: str, serial: str, reason: str, *, actor: str
) -> dict[str, Any]:
    """Deactivate my token in Entra (when active) and mark it lost, with my reason: the
    lifecycle's ``mark_lost`` reported by me, which checks that I hold the token on its locked
    row, in the same transaction as the change."""
    why = _printable(reason)
    if not why:
        raise SelfServiceError(
            "Say what happened (e.g. 'left on the train on Monday').",
            code="selfservice.reason_required",
        )
    why = f"{REASON}: {why[:500]}"
    return _as_holder(
        serial,
        lambda sn: mark_lost(inv, sn, actor=actor, reason=why, reported_by=upn),
        "a token you hold can be reported lost",
    )


def report_found(inv: Inventory, upn: str, serial: str, *, actor: str) -> dict[str, Any]:
    """I found my token after reporting it lost: the lifecycle's ``found`` said by me (the
    help desk's rules: it comes back to me as Entra holds it, usually ``deactivated``, and
    Entra switches it on again only with a code it shows), checked on its locked row to be
    mine and lost. Audited ``token.found`` with my actor."""
    why = f"{REASON}: found by its holder"
    return _as_holder(
        serial,
        lambda sn: found(inv, sn, actor=actor, reason=why, found_by=upn),
        "a token you reported lost can be found",
    )


# -- batch restriction (admin) ----------------------------------------------------------------
def restrict_batch(
    inv: Inventory,
    batch_id: int,
    *,
    users: Iterable[str] | None = None,
    group_id: str | None = None,
    actor: str,
) -> dict[str, Any]:
    """Only ``users`` (UPNs) or members of Entra group ``group_id`` may claim the batch's tokens
    by self-service; neither given lifts the restriction."""
    chosen = list(dict.fromkeys(u.strip() for u in users or () if u.strip()))
    bad = [u for u in chosen if "@" not in u or len(u) > 320 or not u.isprintable()]
    if bad:
        raise SelfServiceError(
            f"{bad[0]!r} is not a user principal name (name@domain).", code="selfservice.bad_user"
        )
    group = (group_id or "").strip() or None
    if group is not None and (len(group) > 64 or not group.isprintable()):
        raise SelfServiceError("A group id is at most 64 characters.", code="selfservice.bad_group")
    with inv.uow() as uow:
        batch = uow.batches.get(batch_id)
        before = {"users": batch.restrict_users, "group_id": batch.restrict_group_id}
        batch.restrict_users = chosen or None
        batch.restrict_group_id = group
        after = {"users": batch.restrict_users, "group_id": batch.restrict_group_id}
        uow.audit.append(
            "batch.restrict",
            actor=actor,
            subject=f"batch:{batch_id}",
            reason="self-service restriction",
            details={"before": before, "after": after},
            tenant=inv.tenant,
        )
        return {"batch_id": batch_id, **after}
