"""The emulator suite's seed widened for the fidelity tests: apps holding only the narrow
permissions (per-method, policy read, basic user read) and two groups for the method policy.

``widened`` installs it and puts the suite's own seed back afterwards (same tenant id, so the
``lab`` fixture's reset returns to the usual seed for the next test); test modules wrap it in a
``wide`` fixture.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

from tests.emulator.helpers import DOMAIN, PASSWORD, SEED, TENANT, Lab

PILOTS = "6a1f0b9e-1111-4c1a-9a00-00000000f001"
BLOCKED = "6a1f0b9e-1111-4c1a-9a00-00000000f002"
APPS = {
    "hw_read": ["UserAuthMethod-HardwareOATH.Read.All"],
    "hw_write": ["UserAuthMethod-HardwareOATH.ReadWrite.All"],
    "hw_create": [
        "UserAuthMethod-HardwareOATH.ReadWrite.All",
        "Policy.ReadWrite.AuthenticationMethod",
    ],
    "policy_reader": ["Policy.Read.AuthenticationMethod"],
    "broad_reader": ["Policy.Read.All"],
    "basic_users": ["User.ReadBasic.All", "UserAuthMethod-HardwareOATH.ReadWrite.All"],
}


def app_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"app:{name}"))


def _member(key: str, name: str, groups: list[str]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, key)),
        "userPrincipalName": f"{key}@{DOMAIN}",
        "displayName": name,
        "password": PASSWORD,
        "groups": groups,
    }


PIA = _member("pia", "Pia Pilot", [PILOTS])
BO = _member("bo", "Bo Blocked", [PILOTS, BLOCKED])
WIDE_SEED: dict[str, Any] = copy.deepcopy(SEED)
WIDE_SEED["apps"] += [
    {"clientId": app_id(name), "clientSecret": f"{name}-secret", "roles": roles}
    for name, roles in APPS.items()
]
WIDE_SEED["groups"] = [
    {"id": PILOTS, "displayName": "Token pilots"},
    {"id": BLOCKED, "displayName": "No hardware tokens"},
]
WIDE_SEED["users"] += [PIA, BO]


def token(lab: Lab, name: str) -> str:
    """An app-only token for one of the narrow apps."""
    r = lab.http.post(
        f"{lab.url}/{TENANT}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app_id(name),
            "client_secret": f"{name}-secret",
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert r.status_code == 200, r.text
    access: str = r.json()["access_token"]
    return access


def widened(lab: Lab) -> Iterator[Lab]:
    assert lab.http.post(f"{lab.url}/_emulator/seed", json=WIDE_SEED).status_code == 200
    yield lab
    assert lab.http.post(f"{lab.url}/_emulator/seed", json=SEED).status_code == 200
