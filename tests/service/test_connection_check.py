"""The connection check names the least-privileged permissions and accepts the broad ones:
an app holding only the narrow Oct-2025 set passes, one with the old broad set passes, one that
reads basic profiles only is told it cannot tell guests apart."""

from __future__ import annotations

import copy
from typing import Any

from oathdesk.service.connection import BASIC_ONLY, check_connection
from oathdesk.service.context import Inventory
from tests.service import support
from tests.service.fixtures import Emu

NARROW = [
    "Policy.Read.All",
    "Policy.Read.AuthenticationMethod",
    "Policy.ReadWrite.AuthenticationMethod",
    "UserAuthMethod-HardwareOATH.Read.All",
    "UserAuthMethod-HardwareOATH.ReadWrite.All",
    "User.Read.All",
]


def _seed_roles(emu: Emu, roles: list[str]) -> None:
    seed: dict[str, Any] = copy.deepcopy(support.SEED)
    seed["apps"][0]["roles"] = roles
    emu.seed(seed)


def _statuses(inv: Inventory) -> dict[str, str]:
    report = check_connection(inv, actor="local:test")
    return {c.id: c.status for c in report.checks}


def test_the_narrow_permissions_alone_pass_every_check(emu: Emu, inv: Inventory) -> None:
    _seed_roles(emu, NARROW)
    report = check_connection(inv, actor="local:test", user=support.upn("ada"))
    assert report.ok, [(c.id, c.message) for c in report.checks]
    assert report.granted == sorted(NARROW)
    named = {c.id: (c.permission, c.accepted) for c in report.checks}
    assert named["methods_write"] == (
        "UserAuthMethod-HardwareOATH.ReadWrite.All",
        ["UserAuthenticationMethod.ReadWrite.All"],
    )
    assert named["policy_read"][0] == "Policy.Read.AuthenticationMethod"


def test_the_broad_permissions_still_pass(emu: Emu, inv: Inventory) -> None:
    assert set(_statuses(inv).values()) == {"ok"}  # the suite's app: the pre-Oct-2025 set


def test_basic_profile_reading_is_reported_as_not_enough(emu: Emu, inv: Inventory) -> None:
    _seed_roles(
        emu,
        [
            "Policy.ReadWrite.AuthenticationMethod",
            "UserAuthMethod-HardwareOATH.ReadWrite.All",
            "User.ReadBasic.All",
        ],
    )
    report = check_connection(inv, actor="local:test")
    checks = {c.id: c for c in report.checks}
    assert checks["user_read"].status == "failed" and checks["user_read"].message == BASIC_ONLY
    assert not report.ok and report.missing == []
    others = {k: c.status for k, c in checks.items() if k != "user_read"}
    assert set(others.values()) == {"ok"}


def test_a_missing_permission_names_the_narrow_one_and_its_broad_alternative(
    emu: Emu, inv: Inventory
) -> None:
    _seed_roles(emu, ["Policy.Read.All", "User.Read.All"])
    report = check_connection(inv, actor="local:test")
    checks = {c.id: c for c in report.checks}
    assert checks["methods_read"].status == "missing"
    assert (
        "lacks UserAuthMethod-HardwareOATH.Read.All (or UserAuthenticationMethod.Read.All)"
        in checks["methods_read"].message
    )
    assert checks["policy_read"].status == "missing" and checks["inventory_read"].status == "ok"
