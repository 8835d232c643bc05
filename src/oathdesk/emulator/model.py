"""The emulated directory's records, kept apart from the rules so they can be saved and reloaded.

Device secrets are held as :class:`~oathdesk.domain.Secret`; only :func:`device_to_disk` (the
persistence path into the private data folder) ever spells them, never a Graph response.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from oathdesk.domain import Secret
from oathdesk.emulator.software import SoftwareMethod

DEVICE_TYPE = "#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice"
METHOD_TYPE = "#microsoft.graph.hardwareOathAuthenticationMethod"

# Directory role names -> role template ids, as carried in the ``wids`` claim of user tokens.
ROLE_IDS: dict[str, str] = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "Authentication Policy Administrator": "0526716b-113d-4c15-b2c8-68e3c22b9f80",
}

APP_PERMISSIONS = (
    "Policy.Read.All",
    "Policy.ReadWrite.AuthenticationMethod",
    "UserAuthenticationMethod.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "User.Read.All",
    "Directory.Read.All",
    "GroupMember.Read.All",  # group membership checks (checkMemberGroups)
    "Group.Read.All",
    # narrower permissions (permissions.py says which operation takes which)
    "Policy.Read.AuthenticationMethod",
    "UserAuthMethod-HardwareOATH.Read.All",
    "UserAuthMethod-HardwareOATH.ReadWrite.All",
    "User.ReadBasic.All",
)
DELEGATED_PERMISSIONS = (
    *APP_PERMISSIONS,
    "UserAuthenticationMethod.Read",
    "UserAuthenticationMethod.ReadWrite",
    "UserAuthMethod-HardwareOATH.Read",
    "UserAuthMethod-HardwareOATH.ReadWrite",
    "User.Read",
)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Group:
    """A directory group: only what membership checks need (members are listed on users)."""

    id: str
    display_name: str


@dataclass
class Tenant:
    id: str
    domain: str
    # the tenant's groups; kept here so they survive every save and reset with the tenant
    groups: list[Group] = field(default_factory=list)


@dataclass
class App:
    client_id: str
    client_secret: str | None = field(repr=False)
    roles: list[str]
    display_name: str = "oathdesk emulator app"
    certificates: list[str] = field(default_factory=list)  # PEM, for client assertions
    redirect_uris: list[str] = field(default_factory=list)
    public_client: bool = True


@dataclass
class User:
    id: str
    user_principal_name: str
    display_name: str
    user_type: str = "Member"
    password: str | None = field(default=None, repr=False)
    roles: list[str] = field(default_factory=list)
    # app role assignments: client id -> role values, carried in that app's ID tokens (``roles``)
    app_roles: dict[str, list[str]] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)  # ids of the groups the user is a member of
    # software OATH and Authenticator apps: they count towards the five-method cap
    software_methods: list[SoftwareMethod] = field(default_factory=list)

    @property
    def is_admin(self) -> bool:
        return bool(self.roles)

    def to_graph(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "userPrincipalName": self.user_principal_name,
            "userType": self.user_type,
            "mail": None if self.user_type == "Guest" else self.user_principal_name,
            "accountEnabled": True,
        }

    def identity(self) -> dict[str, str]:
        return {"id": self.id, "displayName": self.display_name}


@dataclass
class Device:
    id: str
    serial_number: str
    manufacturer: str
    model: str
    secret: Secret
    time_interval: int
    hash_function: str = "hmacsha1"
    display_name: str | None = None
    status: str = "available"
    assigned_to: str | None = None  # user id
    assigned_at: float | None = None
    last_used: float | None = None
    drift_steps: int = 0  # offset found at activation, in time steps
    last_step: int | None = None  # the last accepted step, to refuse a replayed code
    legacy: bool = False  # uploaded by the old CSV flow: a user method with no inventory object
    # The user method's own id, given on assignment: Entra's reference example shows a method id
    # unlike its device's, so clients must never assume the two are equal (None: unassigned).
    method_id: str | None = None

    @property
    def method_key(self) -> str:
        """The id of the user method (a state saved before method ids existed falls back to
        the device id)."""
        return self.method_id or self.id


def device_to_graph(device: Device, users: dict[str, User]) -> dict[str, Any]:
    holder = users.get(device.assigned_to) if device.assigned_to else None
    return {
        "@odata.type": DEVICE_TYPE,
        "id": device.id,
        "displayName": device.display_name,
        "serialNumber": device.serial_number,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "secretKey": None,
        "timeIntervalInSeconds": device.time_interval,
        "status": device.status,
        "lastUsedDateTime": iso(device.last_used),
        "hashFunction": device.hash_function,
        "assignedTo": holder.identity() if holder else None,
    }


def method_to_graph(device: Device, users: dict[str, User]) -> dict[str, Any]:
    return {
        "@odata.type": METHOD_TYPE,
        "id": device.method_key,
        "createdDateTime": iso(device.assigned_at),
        "lastUsedDateTime": iso(device.last_used),
        "device": device_to_graph(device, users),
    }


def device_to_disk(device: Device) -> dict[str, Any]:
    return {
        "id": device.id,
        "serialNumber": device.serial_number,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "secretKey": device.secret.to_base32(),
        "timeIntervalInSeconds": device.time_interval,
        "hashFunction": device.hash_function,
        "displayName": device.display_name,
        "status": device.status,
        "assignedTo": device.assigned_to,
        "assignedAt": device.assigned_at,
        "lastUsed": device.last_used,
        "driftSteps": device.drift_steps,
        "lastStep": device.last_step,
        "legacy": device.legacy,
        "methodId": device.method_id,
    }


def device_from_disk(data: dict[str, Any]) -> Device:
    return Device(
        id=data["id"],
        serial_number=data["serialNumber"],
        manufacturer=data["manufacturer"],
        model=data["model"],
        secret=Secret.from_base32(data["secretKey"]),
        time_interval=int(data["timeIntervalInSeconds"]),
        hash_function=data["hashFunction"],
        display_name=data.get("displayName"),
        status=data["status"],
        assigned_to=data.get("assignedTo"),
        assigned_at=data.get("assignedAt"),
        last_used=data.get("lastUsed"),
        drift_steps=int(data.get("driftSteps", 0)),
        last_step=data.get("lastStep"),
        legacy=bool(data.get("legacy", False)),
        method_id=data.get("methodId"),
    )
