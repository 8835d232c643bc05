"""What ``sync migrate-legacy`` would do for each legacy CSV copy in the tenant, decided before
anything changes.

Why: a legacy (CSV-uploaded) token is a method of its user and never part of the Graph
inventory, so the only way to find one is to read users' methods and keep those whose device
the inventory listing does not hold. Each copy is then matched with our record of the serial:
only a token whose seed we hold can be created in Graph and activated without the token in
hand; everything else (no seed, a guest, a user at the five-method cap, a serial held by
someone else) is reported and left alone. The same plan is the dry run's table and the job's
to-do list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from oathdesk.graph import GraphNotFound, User, UserMethod
from oathdesk.service.context import Inventory
from oathdesk.service.ports import EntraPort
from oathdesk.store import Token, TokenState

S = TokenState
CAP = 5  # Entra's five OATH methods per user (hardware tokens and authenticator apps together)
FREE = (S.IN_STOCK, S.AVAILABLE)
Scanned = Callable[[int], None]  # users read so far: the CLI's spinner

# Why a copy is left alone: (reason, the sentence a person reads).
LEFT = {
    "no_seed": "oathdesk holds no seed for this serial: import the vendor's file first, or "
    "leave the copy as it is",
    "guest": "the holder is a guest account; Entra gives hardware tokens only to members",
    "user_gone": "the holder is no longer in the directory",
    "several_holders": "more than one user holds a legacy copy of this serial: settle it by hand",
    "held_by_other": "our record gives this serial to another user: settle it by hand",
    "token_state": "our token is lost, broken, deactivated or retired: settle it by hand",
    "at_cap": "the holder already has five OATH methods, so Entra would refuse the Graph copy: "
    "remove one of them, then run the migration again",
}


@dataclass
class MigrationRow:
    """One legacy copy and what the migration does with it (ids only, never a secret)."""

    serial: str
    user_id: str
    user_upn: str
    method_id: str
    device_id: str
    legacy_status: str
    ours: str  # our token's state, or "unknown" when the serial was never imported
    steps: list[str] = field(default_factory=list)
    activate: bool = False
    outcome: str = "planned"  # planned | left | migrated | skipped | failed
    reason: str = ""
    message: str = ""
    entra_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def job_entry(self) -> dict[str, Any]:
        """What the job keeps to do this row after a kill, without scanning users again."""
        keys = ("user_id", "user_upn", "method_id", "device_id", "legacy_status", "activate")
        return {k: getattr(self, k) for k in keys}

    def leave(self, reason: str) -> None:
        self.outcome, self.reason, self.message, self.steps = "left", reason, LEFT[reason], []


def _users(entra: EntraPort, only: Iterable[str] | None) -> Iterator[User]:
    if only is not None:
        for key in only:
            yield entra.get_user(key)
        return
    after: str | None = None
    while True:
        page, after = entra.users_page(top=100, skiptoken=after)
        yield from page
        if after is None:
            return


def legacy_copies(
    inv: Inventory, *, users: Iterable[str] | None = None, scanned: Scanned | None = None
) -> list[tuple[User, UserMethod]]:
    """Every (holder, method) whose device is outside Entra's inventory listing: the legacy
    CSV copies. One inventory listing, then one method listing per user."""
    entra = inv.entra()
    inventory_ids = {d.id for d in entra.list_devices(select=("id", "serialNumber"))}
    found: list[tuple[User, UserMethod]] = []
    for n, user in enumerate(_users(entra, users), start=1):
        try:
            methods = entra.user_method_entries(user.id)
        except GraphNotFound:  # deleted while we read the directory
            continue
        found += [(user, m) for m in methods if m.device.id and m.device.id not in inventory_ids]
        if scanned is not None:
            scanned(n)
    return found


def _steps(token: Token, user: User, activate: bool) -> list[str]:
    steps = []
    if token.state is S.IN_STOCK and not token.entra_id:
        steps.append("create the Graph device")
    if token.state in FREE:
        steps.append(f"assign it to {user.user_principal_name}")
    if activate and token.state is not S.ACTIVATED:
        steps.append("activate it with a code from the sealed seed")
    steps.append("remove the legacy copy (its method, then its device)")
    return steps


def classify(
    inv: Inventory,
    copies: list[tuple[User, UserMethod]],
    *,
    activate_assigned: bool = False,
    check_cap: bool = True,
) -> list[MigrationRow]:
    """The plan: one row per legacy copy, ``planned`` with its steps or ``left`` with why.

    A legacy copy that is activated is migrated activated (the holder signs in with that token
    today); one only assigned is migrated assigned unless ``activate_assigned``."""
    holders: dict[str, set[str]] = {}
    for user, method in copies:
        holders.setdefault(method.device.serial_number, set()).add(user.id)
    rows: list[MigrationRow] = []
    counts: dict[str, int | None] = {}
    entra = inv.entra()
    with inv.uow(write=False) as uow:
        for user, method in sorted(copies, key=lambda c: (c[1].device.serial_number, c[0].id)):
            serial = method.device.serial_number
            token = uow.tokens.find(serial) if serial else None
            status = method.device.status or "activated"
            row = MigrationRow(
                serial,
                user.id,
                user.user_principal_name,
                method.id,
                method.device.id,
                status,
                token.state.value if token is not None else "unknown",
                activate=status == "activated" or activate_assigned,
            )
            rows.append(row)
            if user.user_type.lower() == "guest":
                row.leave("guest")
            elif len(holders.get(serial, ())) > 1:
                row.leave("several_holders")
            elif token is None or (token.state in FREE and not token.has_seed):
                row.leave("no_seed")
            elif token.state not in FREE and token.user_id != user.id:
                row.leave("held_by_other" if token.user_id else "token_state")
            elif token.state not in (*FREE, S.ASSIGNED, S.FAILED_ACTIVATION, S.ACTIVATED):
                row.leave("token_state")
            elif row.activate and token.state is not S.ACTIVATED and not token.has_seed:
                row.leave("no_seed")
            else:
                row.steps = _steps(token, user, row.activate)
                if check_cap and token.state in FREE:
                    if user.id not in counts:
                        counts[user.id] = entra.oath_method_count(user.id)
                    if (counts[user.id] or 0) >= CAP:
                        row.leave("at_cap")
    return rows
