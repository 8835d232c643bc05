"""``GET /organization``: the tenant's id and a display name made from its domain, for an app
with ``Directory.Read.All`` (or ``Organization.Read.All``) and for a signed-in user (``User.Read``);
Graph's 403 for an app without one of them."""

from __future__ import annotations

import copy

from oathdesk.emulator.routes_organization import display_name
from tests.emulator.helpers import DOMAIN, SEED, TENANT, Lab
from tests.emulator.test_groups import token_for

DIRECTORY_APP = "11111111-aaaa-4aaa-8aaa-0000000000b1"


def test_an_app_with_directory_read_gets_the_tenant_and_one_without_is_refused(lab: Lab) -> None:
    seed = copy.deepcopy(SEED)
    seed["apps"].append(
        {"clientId": DIRECTORY_APP, "clientSecret": "dir-secret", "roles": ["Directory.Read.All"]}
    )
    assert lab.http.post(f"{lab.url}/_emulator/seed", json=seed).status_code == 200
    try:
        answer = lab.call("GET", "/organization", token_for(lab, DIRECTORY_APP, "dir-secret"))
        assert answer.status_code == 200, answer.text
        (org,) = answer.json()["value"]
        assert org["id"] == TENANT
        assert org["displayName"] == "Lab"  # lab.example.com
        assert org["verifiedDomains"][0]["name"] == DOMAIN
        refused = lab.call("GET", "/organization")  # the default app: no directory permission
        assert refused.status_code == 403
        assert "Directory.Read.All" in refused.json()["error"]["message"]
    finally:
        assert lab.http.post(f"{lab.url}/_emulator/seed", json=SEED).status_code == 200


def test_the_display_name_is_the_first_label_of_the_domain() -> None:
    assert display_name("contoso.onmicrosoft.com") == "Contoso"
    assert display_name("my-lab.example.com") == "My lab"
