"""Graph's hardware-OATH device and user as small read-only records, parsed tolerantly.

Beta shapes vary (flat or nested under ``device``, entities wrapped in ``value``, unknown enum
values), so parsing unwraps what the design lists and keeps unknown strings as they are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from oathdesk.domain import HashAlgorithm, SeedRecord

HASH_NAMES = {HashAlgorithm.SHA1: "hmacsha1", HashAlgorithm.SHA256: "hmacsha256"}


def unwrap_entity(data: dict[str, Any]) -> dict[str, Any]:
    """``{"value": {...}}`` (a docs defect) and the nested user-method shape become flat."""
    value = data.get("value")
    if isinstance(value, dict):
        data = value
    device = data.get("device")
    if isinstance(device, dict) and "serialNumber" not in data:
        return device
    return data


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Device:
    """A token in the Entra inventory (``secretKey`` is never read back)."""

    id: str
    serial_number: str
    manufacturer: str = ""
    model: str = ""
    status: str = ""
    time_interval: int | None = None
    hash_function: str = ""
    display_name: str = ""
    assigned_to_id: str = ""
    assigned_to_name: str = ""
    last_used: str = ""

    @classmethod
    def from_graph(cls, raw: dict[str, Any]) -> Device:
        data = unwrap_entity(raw)
        assigned = data.get("assignedTo")
        assigned = assigned if isinstance(assigned, dict) else {}
        interval = data.get("timeIntervalInSeconds")
        try:
            seconds = int(interval) if interval is not None else None
        except (TypeError, ValueError):
            seconds = None
        return cls(
            id=_text(data, "id"),
            serial_number=_text(data, "serialNumber"),
            manufacturer=_text(data, "manufacturer"),
            model=_text(data, "model"),
            status=_text(data, "status"),
            time_interval=seconds,
            hash_function=_text(data, "hashFunction"),
            display_name=_text(data, "displayName"),
            assigned_to_id=_text(assigned, "id"),
            assigned_to_name=_text(assigned, "displayName"),
            last_used=_text(data, "lastUsedDateTime"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class User:
    id: str
    user_principal_name: str
    display_name: str = ""
    user_type: str = ""

    @classmethod
    def from_graph(cls, data: dict[str, Any]) -> User:
        return cls(
            id=_text(data, "id"),
            user_principal_name=_text(data, "userPrincipalName"),
            display_name=_text(data, "displayName"),
            user_type=_text(data, "userType"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def device_body(record: SeedRecord, assign_to: str | None = None) -> dict[str, Any]:
    """The A3/A4 body for a seed record. It holds the secret: send it, never log or keep it."""
    body: dict[str, Any] = {
        "serialNumber": record.serial,
        "manufacturer": record.manufacturer,
        "model": record.model,
        "secretKey": record.secret.to_base32(),
        "timeIntervalInSeconds": record.period,
        "hashFunction": HASH_NAMES.get(record.algorithm, "hmacsha1"),
    }
    if record.display_name:
        body["displayName"] = record.display_name
    if assign_to:
        body["assignTo"] = {"id": assign_to}
    return body
