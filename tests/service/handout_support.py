"""Shared by the hand-out tests: a tenant with enough users, a roster writer, Entra's view."""

from __future__ import annotations

from collections import Counter
from typing import Any

from oathdesk.graph import GraphClient
from oathdesk.service import HandoutSettings, Inventory, import_seeds, push
from tests.service.fixtures import Emu
from tests.service.support import SEED, entra_csv, serial, upn, user_id

ON = HandoutSettings(activate_from_seed=True, workers=4, rate=200.0)
OFF = HandoutSettings(activate_from_seed=False, workers=4, rate=200.0)


def people(count: int) -> list[str]:
    return [f"p{n:03d}" for n in range(count)]


def tenant(emu: Emu, count: int, *, capped: str | None = None) -> None:
    """The test tenant plus ``count`` member users p000..; ``capped`` holds five apps."""
    users: list[dict[str, Any]] = list(SEED["users"])
    for key in people(count):
        users.append(
            {
                "id": user_id(key),
                "userPrincipalName": upn(key),
                "displayName": key.upper(),
                "userType": "Member",
                "password": "Pass-word-1",
                "roles": [],
            }
        )
    if capped:
        users.append(
            {
                "id": user_id(capped),
                "userPrincipalName": upn(capped),
                "displayName": "Full Up",
                "userType": "Member",
                "password": "Pass-word-1",
                "roles": [],
                "softwareMethods": [{"type": "softwareOath"} for _ in range(5)],
            }
        )
    emu.seed({**SEED, "users": users})


def stock(inv: Inventory, prefix: str, count: int, *, pushed: bool = True) -> list[str]:
    import_seeds(inv, entra_csv(prefix, count), f"{prefix}.csv", actor="t")
    if pushed:
        push(inv, actor="t")
    return [serial(prefix, n) for n in range(count)]


def roster(pairs: list[tuple[str, str]], *, header: bool = True) -> bytes:
    lines = ["serial,upn,display name"] if header else []
    lines += [f"{s},{u},Token of {u.split('@')[0]}" for s, u in pairs]
    return ("\n".join(lines) + "\n").encode()


def entra_view(client: GraphClient) -> dict[str, tuple[str | None, str]]:
    """serial -> (assigned user id, status), from Entra's own inventory listing."""
    view: dict[str, tuple[str | None, str]] = {}
    for device in client.list_devices():
        assert device.serial_number not in view, f"{device.serial_number} twice in Entra"
        view[device.serial_number] = (device.assigned_to_id, device.status)
    return view


def assert_once(client: GraphClient, pairs: list[tuple[str, str]], status: str) -> None:
    """Every roster row done once in Entra: the device assigned to its user with ``status``,
    and no user holding two of the roster's tokens."""
    view = entra_view(client)
    for sn, who in pairs:
        assert view[sn] == (user_id(who.split("@")[0]), status), (sn, view[sn])
    holders = Counter(view[sn][0] for sn, _ in pairs)
    assert max(holders.values()) == 1, holders
    for _, who in pairs:  # each user's own method list: exactly one hardware token
        assert len(client.user_methods(user_id(who.split("@")[0]))) == 1
