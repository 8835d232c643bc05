"""Check a roster row by row before a hand-out sends anything: the plan, or every reason not.

Why: a hand-out of thousands of tokens that stops half-way on a guest account or a user at
Entra's five-method cap leaves a mess to untangle; every such refusal is knowable beforehand
(our inventory says which tokens are free, Entra which users exist, are members and how many
methods they hold), so all of them are found first and reported the way a seed file's problems
are: file:line, serial, code, a sentence saying what to fix. Nothing is sent unless no row has
an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from oathdesk.domain import OathdeskError, Problem, Severity
from oathdesk.formats.roster import RosterFile, RosterRow, read_roster
from oathdesk.graph import MAX_OATH_METHODS, GraphNotFound, User
from oathdesk.service._common import all_tokens
from oathdesk.service.context import Inventory
from oathdesk.service.lifecycle.steps import FREE, holds
from oathdesk.store import Token, TokenFilter

LIST_USERS_ABOVE = 50  # more distinct users than this: one directory listing, not one call each


class RosterInvalid(OathdeskError):
    """A roster has rows with errors; nothing was sent to Entra (the report lists each)."""

    code = "roster.invalid"

    def __init__(self, message: str, problems: Iterable[Problem]) -> None:
        listed = list(problems)
        super().__init__(message, details={"problems": [p.to_dict() for p in listed]})
        self.problems = listed


@dataclass(frozen=True)
class PlannedRow:
    """A roster row that passed every check: the token and the Entra user it goes to."""

    line: int
    locator: str
    serial: str
    user: str  # as the roster wrote it
    user_id: str  # Entra's object id
    upn: str
    display_name: str = ""


@dataclass
class RosterPlan:
    """What a hand-out of this roster would do, and what stands in its way."""

    source: str
    activate: bool
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def raise_if_invalid(self) -> None:
        errors = self.errors
        if errors:
            raise RosterInvalid(
                f"{len(errors)} row(s) of {self.source} cannot be handed out; nothing was sent "
                f"to Entra. Fix the roster and run it again (first: {errors[0].message}).",
                self.problems,
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "activate_from_seed": self.activate,
            "rows": [
                {
                    "line": r.line,
                    "serial": r.serial,
                    "user": r.upn or r.user,
                    "display_name": r.display_name,
                }
                for r in self.rows
            ],
            "problems": [p.to_dict() for p in self.problems],
            "errors": len(self.errors),
        }


def roster_from_file(data: bytes, name: str) -> RosterFile:
    """A roster CSV (``serial,upn[,display name]``, header optional)."""
    return read_roster(data, name)


def roster_from_batch(inv: Inventory, batch_id: int) -> RosterFile:
    """The users the seed file of ``batch_id`` named for its tokens (Entra CSV ``upn``, Entra
    JSON ``assignTo``, PSKC ``UserId``), kept at import, as a roster."""
    with inv.uow(write=False) as uow:
        batch = uow.batches.get(batch_id)
        name = f"{batch.file_name} (batch {batch_id})"
        roster = RosterFile(name)
        flt = TokenFilter(batch_id=batch_id)
        tokens = sorted(all_tokens(uow, flt), key=lambda t: t.id)
    for n, token in enumerate(tokens, start=1):
        if token.planned_user:
            roster.rows.append(RosterRow(n, token.serial, token.planned_user, "", f"{name}:{n}"))
    if not roster.rows:
        roster.problems.append(
            _problem(
                name,
                code="roster.empty",
                message="The seed file of this batch names no user for any token; hand it out "
                "with a roster file instead.",
            )
        )
    return roster


def plan_handout(
    inv: Inventory, roster: RosterFile, *, activate: bool, workers: int = 8
) -> RosterPlan:
    """Check every row of ``roster``: the file's own problems, then duplicates, then our
    inventory (unknown serial, not free, held by someone else, no seed to activate from), then
    Entra (unknown user, guest, five-method cap). Sends nothing."""
    plan = RosterPlan(roster.name, activate, problems=list(roster.problems))
    rows = _unique_serials(roster.rows, plan)
    with inv.uow(write=False) as uow:
        tokens = uow.tokens.by_serials(r.serial for r in rows)
        rows = [r for r in rows if _token_ok(r, tokens.get(r.serial), activate, plan)]
    users = _resolve(inv, {r.user.strip().lower() for r in rows}, workers)
    resolved: list[tuple[RosterRow, User]] = []
    seen: dict[str, RosterRow] = {}
    for row in rows:
        user = users.get(row.user.strip().lower())
        if user is None:
            plan.problems.append(
                _problem(
                    row.locator,
                    code="roster.unknown_user",
                    message=f"Entra has no user {row.user}; check the spelling of the UPN.",
                    serial=row.serial,
                )
            )
            continue
        if user.user_type.lower() == "guest":
            plan.problems.append(
                _problem(
                    row.locator,
                    code="roster.guest_user",
                    message=f"The account {user.user_principal_name or row.user} is a guest; Entra "
                    "gives hardware tokens only to members, so name the person's member account.",
                    serial=row.serial,
                )
            )
            continue
        first = seen.get(user.id)
        if first is not None:
            plan.problems.append(
                _problem(
                    row.locator,
                    code="roster.duplicate_user",
                    message=f"The user {user.user_principal_name or row.user} already gets token "
                    f"{first.serial} on line {first.line}; one roster gives a user one token.",
                    serial=row.serial,
                )
            )
            continue
        seen[user.id] = row
        resolved.append((row, user))
    counts = _method_counts(inv, [u.id for _, u in resolved], workers)
    for row, user in resolved:
        held = counts.get(user.id)
        if held is None:
            plan.problems.append(
                _problem(
                    row.locator,
                    code="roster.cap_unknown",
                    message=f"The methods of {user.user_principal_name} cannot be read here, so "
                    "the five-method cap was not checked; Entra refuses the token if it is "
                    "reached.",
                    serial=row.serial,
                    severity=Severity.WARNING,
                )
            )
        elif held >= MAX_OATH_METHODS:
            plan.problems.append(
                _problem(
                    row.locator,
                    code="roster.user_at_cap",
                    message=f"The user {user.user_principal_name} already has {held} OATH methods "
                    f"(hardware tokens and authenticator apps); Entra allows "
                    f"{MAX_OATH_METHODS}: remove one first.",
                    serial=row.serial,
                )
            )
            continue
        plan.rows.append(
            PlannedRow(
                row.line,
                row.locator,
                row.serial,
                row.user,
                user.id,
                user.user_principal_name,
                row.display_name,
            )
        )
    plan.problems.sort(key=lambda p: _line_of(p.locator))
    return plan


def _line_of(locator: str) -> int:
    tail = locator.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _unique_serials(rows: list[RosterRow], plan: RosterPlan) -> list[RosterRow]:
    first: dict[str, RosterRow] = {}
    out = []
    for row in rows:
        earlier = first.get(row.serial)
        if earlier is not None:
            plan.problems.append(
                _problem(
                    row.locator,
                    code="roster.duplicate_serial",
                    message=f"Token {row.serial} is already on line {earlier.line}; a token goes "
                    "to one user.",
                    serial=row.serial,
                )
            )
            continue
        first[row.serial] = row
        out.append(row)
    return out


def _token_ok(row: RosterRow, token: Token | None, activate: bool, plan: RosterPlan) -> bool:
    """The inventory's checks of one row; a problem is added when the row cannot go."""
    where, serial = row.locator, row.serial
    if token is None:
        plan.problems.append(
            _problem(
                where,
                code="roster.unknown_serial",
                message=f"The inventory has no token {serial}; import its seed file first.",
                serial=serial,
            )
        )
        return False
    if token.state not in FREE:
        if holds(token, row.user):
            plan.problems.append(
                _problem(
                    where,
                    code="roster.already_held",
                    message=f"Token {serial} is already {token.state.value} for {row.user}; "
                    "the row is skipped.",
                    serial=serial,
                    severity=Severity.WARNING,
                )
            )
        elif token.user_upn or token.user_id:
            plan.problems.append(
                _problem(
                    where,
                    code="roster.token_held",
                    message=f"Token {serial} is {token.state.value} and held by "
                    f"{token.user_upn or token.user_id}; unassign it first or pick another.",
                    serial=serial,
                )
            )
        else:
            plan.problems.append(
                _problem(
                    where,
                    code="roster.token_state",
                    message=f"Token {serial} is {token.state.value}; only tokens in stock or "
                    "available in Entra can be handed out.",
                    serial=serial,
                )
            )
        return False
    if not token.has_seed and (activate or not token.entra_id):
        plan.problems.append(
            _problem(
                where,
                code="roster.no_seed",
                message=f"The seed of token {serial} was destroyed, so oathdesk cannot "
                + ("make its code; hand it out without activation." if activate else "send it."),
                serial=serial,
            )
        )
        return False
    return True


def _resolve(inv: Inventory, wanted: set[str], workers: int) -> dict[str, User]:
    """Roster user (lower case) -> Entra user, for those that exist."""
    entra = inv.entra()
    found: dict[str, User] = {}
    if len(wanted) > LIST_USERS_ABOVE:
        after: str | None = None
        while True:
            page, after = entra.users_page(top=999, skiptoken=after)
            for user in page:
                for key in (user.user_principal_name.lower(), user.id.lower()):
                    if key in wanted:
                        found[key] = user
            if after is None:
                return found

    def one(key: str) -> tuple[str, User | None]:
        try:
            return key, entra.get_user(key)
        except GraphNotFound:
            return key, None

    with ThreadPoolExecutor(max(1, workers)) as pool:
        for key, maybe in pool.map(one, sorted(wanted)):
            if maybe is not None:
                found[key] = maybe
    return found


def _method_counts(inv: Inventory, user_ids: list[str], workers: int) -> dict[str, int | None]:
    entra = inv.entra()
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return dict(zip(user_ids, pool.map(entra.oath_method_count, user_ids), strict=True))


def _problem(
    locator: str,
    *,
    code: str,
    message: str,
    serial: str | None = None,
    severity: Severity = Severity.ERROR,
) -> Problem:
    return Problem(locator, code, message, severity, serial)
