"""The seed document (tenant, apps, users) that makes rehearsals scriptable, and the default one.

Shape: ``{"tenant": {"id", "domain"}, "apps": [{"clientId", "clientSecret", "roles"}], "users":
[{"id", "userPrincipalName", "displayName", "userType", "password", "roles"}]}``. Apps may also
carry ``certificates`` (PEM) for client assertions and ``redirectUris`` for the code flow, and an
optional ``legacyTokens`` list models tokens from the old CSV upload (user methods only). Users
may carry ``appRoles`` (``{"<clientId>": ["role value", ...]}``): their app role assignments,
sent as ``roles`` in the ID tokens issued to that app. An optional ``groups`` list
(``[{"id", "displayName"}]``) declares the tenant's groups, and a user's ``groups`` lists the ids
of the groups they are a member of (``checkMemberGroups``). A user's ``softwareMethods``
(``[{"type": "softwareOath" | "microsoftAuthenticator", "id"?, "displayName"?}]``) are the apps
that share the five-method cap with hardware tokens.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from oathdesk.emulator.errors import bad_request
from oathdesk.emulator.model import APP_PERMISSIONS, ROLE_IDS, App, Group, Tenant, User
from oathdesk.emulator.software import parse_software


@dataclass
class Seed:
    tenant: Tenant
    apps: list[App]
    users: list[User]
    legacy: list[dict[str, Any]] = field(default_factory=list)  # legacyTokens, checked on install


def _text(item: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str) or not value:
        raise bad_request(f"{where}: '{key}' must be a non-empty string")
    return value


def _names(
    item: dict[str, Any], key: str, where: str, allowed: tuple[str, ...] | None
) -> list[str]:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{where}: '{key}' must be a list of strings")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise bad_request(f"{where}: unknown {key} {unknown}; known: {sorted(allowed)}")
    return list(value)


def _app_roles(item: dict[str, Any], where: str) -> dict[str, list[str]]:
    """``appRoles``: ``{"<clientId>": ["role value", ...]}``, the user's app role assignments."""
    value = item.get("appRoles", {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(r, str) for r in v)
        for k, v in value.items()
    ):
        raise bad_request(f"{where}: 'appRoles' must map client ids to lists of role values")
    return {k: list(v) for k, v in value.items()}


def _groups(data: dict[str, Any]) -> list[Group]:
    """The seed's ``groups``: ``[{"id", "displayName"}]`` with distinct ids."""
    raw = data.get("groups") or []
    if not isinstance(raw, list):
        raise bad_request("seed: 'groups' must be a list of objects with id and displayName")
    groups: list[Group] = []
    for n, item in enumerate(raw):
        where = f"groups[{n}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object with id and displayName")
        groups.append(Group(_text(item, "id", where), _text(item, "displayName", where)))
    if len({g.id.lower() for g in groups}) != len(groups):
        raise bad_request("seed: two groups share an id")
    return groups


def _member_of(item: dict[str, Any], where: str, groups: list[Group]) -> list[str]:
    """A user's ``groups``: ids of groups the seed declares."""
    names = _names(item, "groups", where, None)
    known = {g.id.lower(): g.id for g in groups}
    unknown = [g for g in names if g.lower() not in known]
    if unknown:
        raise bad_request(f"{where}: groups {unknown} are not in the seed's 'groups'")
    return list(dict.fromkeys(known[g.lower()] for g in names))


def parse_seed(data: Any) -> Seed:
    """Validate a seed document; every message names the entry at fault (never a secret)."""
    if not isinstance(data, dict):
        raise bad_request("the seed must be a JSON object with tenant, apps and users")
    tenant_raw = data.get("tenant") or {}
    if not isinstance(tenant_raw, dict):
        raise bad_request("seed: 'tenant' must be an object with id and domain")
    tenant = Tenant(
        id=_text(tenant_raw, "id", "tenant", str(uuid.uuid4())),
        domain=_text(tenant_raw, "domain", "tenant", "oathdesk-lab.onmicrosoft.com").lower(),
        groups=_groups(data),
    )
    apps: list[App] = []
    for n, item in enumerate(data.get("apps") or []):
        where = f"apps[{n}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object")
        secret = item.get("clientSecret")
        if secret is not None and not isinstance(secret, str):
            raise bad_request(f"{where}: 'clientSecret' must be a string")
        apps.append(
            App(
                client_id=_text(item, "clientId", where),
                client_secret=secret,
                roles=_names(item, "roles", where, APP_PERMISSIONS),
                display_name=str(item.get("displayName") or "oathdesk emulator app"),
                certificates=_names(item, "certificates", where, None),
                redirect_uris=_names(item, "redirectUris", where, None),
                public_client=bool(item.get("publicClient", True)),
            )
        )
    users: list[User] = []
    seen: set[str] = set()
    for n, item in enumerate(data.get("users") or []):
        where = f"users[{n}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object")
        user_type = item.get("userType", "Member")
        if user_type not in ("Member", "Guest"):
            raise bad_request(f"{where}: 'userType' must be Member or Guest")
        user = User(
            id=_text(item, "id", where, str(uuid.uuid4())),
            user_principal_name=_text(item, "userPrincipalName", where),
            display_name=_text(item, "displayName", where),
            user_type=user_type,
            password=item.get("password") if isinstance(item.get("password"), str) else None,
            roles=_names(item, "roles", where, tuple(ROLE_IDS)),
            app_roles=_app_roles(item, where),
            groups=_member_of(item, where, tenant.groups),
            software_methods=parse_software(item, where),
        )
        for key in (user.id.lower(), user.user_principal_name.lower()):
            if key in seen:
                raise bad_request(f"{where}: id or userPrincipalName is used twice")
            seen.add(key)
        users.append(user)
    if len({a.client_id for a in apps}) != len(apps):
        raise bad_request("seed: two apps share a clientId")
    legacy = data.get("legacyTokens") or []
    if not isinstance(legacy, list) or not all(
        isinstance(x, dict) and isinstance(x.get("user"), str) for x in legacy
    ):
        raise bad_request("seed: 'legacyTokens' must be a list of objects with 'user' (id or UPN)")
    return Seed(tenant, apps, users, [dict(x) for x in legacy])


def seed_to_json(seed: Seed, *, with_secrets: bool) -> dict[str, Any]:
    """The seed as a document; ``with_secrets=False`` leaves out client secrets and passwords."""
    apps = []
    for a in seed.apps:
        entry: dict[str, Any] = {
            "clientId": a.client_id,
            "displayName": a.display_name,
            "roles": a.roles,
            "redirectUris": a.redirect_uris,
            "publicClient": a.public_client,
            "certificates": a.certificates,
        }
        if with_secrets:
            entry["clientSecret"] = a.client_secret
        apps.append(entry)
    users = []
    for u in seed.users:
        entry = {
            "id": u.id,
            "userPrincipalName": u.user_principal_name,
            "displayName": u.display_name,
            "userType": u.user_type,
            "roles": u.roles,
        }
        if u.app_roles:
            entry["appRoles"] = u.app_roles
        if u.groups:
            entry["groups"] = list(u.groups)
        if u.software_methods:
            entry["softwareMethods"] = [m.to_seed() for m in u.software_methods]
        if with_secrets:
            entry["password"] = u.password
        users.append(entry)
    document: dict[str, Any] = {
        "tenant": {"id": seed.tenant.id, "domain": seed.tenant.domain},
        "apps": apps,
        "users": users,
    }
    if seed.tenant.groups:
        document["groups"] = [
            {"id": g.id, "displayName": g.display_name} for g in seed.tenant.groups
        ]
    if seed.legacy:
        document["legacyTokens"] = [
            x if with_secrets else {k: v for k, v in x.items() if k != "secretKey"}
            for x in seed.legacy
        ]
    return document


def default_seed() -> dict[str, Any]:
    """One tenant, one all-permission app, three members, a guest and an administrator."""
    domain = "oathdesk-lab.onmicrosoft.com"

    def person(
        name: str, upn: str, user_type: str = "Member", roles: list[str] | None = None
    ) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "userPrincipalName": upn,
            "displayName": name,
            "userType": user_type,
            "password": secrets.token_urlsafe(12),
            "roles": roles or [],
        }

    return {
        "tenant": {"id": str(uuid.uuid4()), "domain": domain},
        "apps": [
            {
                "clientId": str(uuid.uuid4()),
                "clientSecret": secrets.token_urlsafe(30),
                "displayName": "oathdesk",
                "roles": list(APP_PERMISSIONS),
            }
        ],
        "users": [
            person("Ada Example", f"ada@{domain}"),
            person("Grace Example", f"grace@{domain}"),
            person("Alan Example", f"alan@{domain}"),
            person("Gus Partner", f"gus_partner.example#EXT#@{domain}", "Guest"),
            person("Adele Admin", f"admin@{domain}", roles=["Global Administrator"]),
        ],
    }
