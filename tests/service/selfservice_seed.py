"""The inventory test tenant plus groups, for the self-service tests (service and web): Ada is in
the "Token pilots" group, Grace and Alan are not; the app may read group memberships."""

from __future__ import annotations

import copy
from typing import Any

from oathdesk.otp import totp
from oathdesk.service import Inventory, import_seeds
from tests.service import support

PILOTS = "7a1e0b9c-0000-4000-8000-0000000000aa"
OTHERS = "7a1e0b9c-0000-4000-8000-0000000000bb"


def grouped_seed() -> dict[str, Any]:
    seed = copy.deepcopy(support.SEED)
    seed["groups"] = [
        {"id": PILOTS, "displayName": "Token pilots"},
        {"id": OTHERS, "displayName": "Everyone else"},
    ]
    seed["apps"][0]["roles"] = [*seed["apps"][0]["roles"], "GroupMember.Read.All"]
    for user in seed["users"]:
        user["groups"] = [PILOTS] if user["userPrincipalName"] == support.upn("ada") else [OTHERS]
    return seed


def stock(
    inv: Inventory,
    prefix: str,
    count: int,
    *,
    users: list[str] | None = None,
    group: str | None = None,
) -> int:
    """Import ``count`` tokens (serials ``prefix00000``...) as one batch; its id."""
    report = import_seeds(
        inv,
        support.entra_csv(prefix, count),
        f"{prefix}.csv",
        actor="test:admin",
        restrict_users=users,
        restrict_group_id=group,
    )
    assert report.added == count
    return report.batch_id


def code(prefix: str, n: int, at: float, step_offset: int = 0) -> str:
    """The code token ``n`` of ``prefix`` shows at ``at``, computed with oathdesk.otp."""
    return totp(support.secret_for(prefix, n), at + 30 * step_offset)


def far_step(prefix: str, n: int, at: float, *, around: int = 0) -> int:
    """A step offset 25 to 60 steps back whose code no step within 3 of ``around`` shows, so
    a narrow window around ``around`` cannot accept it by chance (Entra's ±1 day still does)."""
    near = {code(prefix, n, at, around + j) for j in range(-3, 4)}
    return next(k for k in range(25, 60) if code(prefix, n, at, -k) not in near)
