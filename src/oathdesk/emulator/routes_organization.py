"""The tenant's organization: ``GET /beta/organization`` (and ``/v1.0/organization``).

Why: the console shows which tenant it works on by name and id, and Graph tells the name only
through this call. Microsoft's page "Get organization" lists ``User.Read`` (delegated),
``Organization.Read.All`` and ``Directory.Read.All`` as the least-privileged permissions (and
the ``.ReadWrite.All`` ones). The emulator's tenant has no name of its own, so its display name is
made from the first label of its domain (``contoso.onmicrosoft.com`` is "Contoso"); an app
without one of these permissions gets Graph's 403.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oathdesk.emulator.common import caller, context, emu, ok
from oathdesk.emulator.errors import denied

ORGANIZATION_READ = {
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
}
DELEGATED = {*ORGANIZATION_READ, "User.Read"}


def display_name(domain: str) -> str:
    """The name the emulator gives a tenant: its domain's first label, capitalised."""
    label = domain.split(".", 1)[0].replace("-", " ").strip()
    return label[:1].upper() + label[1:] if label else domain


async def organization(request: Request) -> Response:
    principal = caller(request)
    wanted = principal.roles if principal.is_app else principal.scopes
    needed = ORGANIZATION_READ if principal.is_app else DELEGATED
    if not wanted & needed:
        kind = "application permission" if principal.is_app else "delegated scope"
        raise denied(
            f"Insufficient privileges to read the organization: the token needs the {kind} "
            f"{' or '.join(sorted(needed))}"
        )
    tenant = emu(request).directory.tenant
    body = {
        "@odata.context": context(request, "organization"),
        "value": [
            {
                "id": tenant.id,
                "displayName": display_name(tenant.domain),
                "verifiedDomains": [{"name": tenant.domain, "isDefault": True, "isInitial": True}],
            }
        ],
    }
    return ok(request, body)


routes = [
    Route("/beta/organization", organization, methods=["GET"]),
    Route("/v1.0/organization", organization, methods=["GET"]),
]
