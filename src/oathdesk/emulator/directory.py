"""The rules of the hardware-OATH inventory and users' methods, with no HTTP in sight.

Routes translate requests into calls here; every refusal is a :class:`GraphError` carrying the
status and code from the design's error matrix (graph-api.md §6.3). Time is passed in, so the
clock offset and tests' fixed clocks apply uniformly.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from oathdesk.domain import HashAlgorithm, Secret, SecretEncodingError
from oathdesk.emulator.errors import GraphError, bad_request, conflict, not_found
from oathdesk.emulator.model import App, Device, Tenant, User
from oathdesk.emulator.policy import enforce, starting_policy
from oathdesk.emulator.tap import Tap
from oathdesk.emulator.user_rules import require_object_id
from oathdesk.otp import activation_window, match_totp, sign_in_window

MAX_METHODS = 5
CREATE_FIELDS = {
    "serialNumber",
    "manufacturer",
    "model",
    "secretKey",
    "timeIntervalInSeconds",
    "hashFunction",
    "displayName",
    "assignTo",
}
UPDATE_FIELDS = {"manufacturer", "model", "timeIntervalInSeconds", "hashFunction", "displayName"}
_CODE = re.compile(r"[0-9]{6}")


def _interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad_request("timeIntervalInSeconds must be 30 or 60")
    if isinstance(value, str) and not value.strip().isdigit():
        raise bad_request("timeIntervalInSeconds must be 30 or 60")
    seconds = int(value)
    if seconds not in (30, 60):
        raise bad_request(f"timeIntervalInSeconds must be 30 or 60, not {seconds}")
    return seconds


def _hash(value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in ("hmacsha1", "hmacsha256"):
        raise bad_request("hashFunction must be hmacsha1 or hmacsha256")
    return value.lower()


def _secret(value: Any) -> Secret:
    if not isinstance(value, str) or not value.strip():
        raise bad_request("secretKey is required: the token's seed in Base32 (A-Z, 2-7)")
    cleaned = value.replace(" ", "")
    if len(cleaned) > 128:
        raise bad_request(f"secretKey is {len(cleaned)} characters; at most 128 are allowed")
    if "=" in cleaned or not re.fullmatch(r"[A-Za-z2-7]+", cleaned):
        raise bad_request("secretKey must be Base32 without padding: letters A-Z and digits 2-7")
    try:
        return Secret.from_base32(cleaned)
    except SecretEncodingError as exc:
        raise bad_request(f"secretKey is not valid Base32: {exc.reason}") from None


def _text(body: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"{key} is required")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad_request(f"{key} must be a non-empty string")
    return value


def verification_code(value: Any) -> str:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise bad_request(
            "verificationCode must be the 6-digit code shown on the token, as a "
            "string (keep leading zeros)"
        )
    return value


def _give(device: Device, user: User, now: float) -> None:
    """Assign ``device`` to ``user``: a new user method, with its own id, holds it."""
    device.status, device.assigned_to, device.assigned_at = "assigned", user.id, now
    device.method_id = str(uuid.uuid4())


@dataclass
class Directory:
    """One tenant's users, apps and hardware tokens, plus the hardware-OATH policy switch."""

    tenant: Tenant
    apps: dict[str, App] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=starting_policy)
    reject_duplicate_serials: bool = True
    assignment_delay: float = 0.0
    assign_to_status: str = "available"  # status after create with assignTo (config switch)
    now: Callable[[], float] = field(kw_only=True)  # the emulator's time, offset included
    taps: dict[str, Tap] = field(default_factory=dict)  # user id -> the one pass (memory only)

    # -- users --------------------------------------------------------------------------
    def user(self, key: str) -> User:
        """Find a user by object id or user principal name (case-insensitive)."""
        found = self.users.get(key)
        if found:
            return found
        lowered = key.lower()
        for user in self.users.values():
            if user.id.lower() == lowered or user.user_principal_name.lower() == lowered:
                return user
        raise not_found(f"User '{key}' does not exist in this tenant")

    # -- inventory ----------------------------------------------------------------------
    def device(self, device_id: str) -> Device:
        found = self.devices.get(device_id)
        if found is None or found.legacy:
            raise not_found(f"Hardware OATH device '{device_id}' does not exist")
        return found

    def inventory(self) -> list[Device]:
        """The Graph inventory: every device except legacy (CSV-uploaded) tokens."""
        return [d for d in self.devices.values() if not d.legacy]

    def by_serial(self, serial: str, user: User | None = None) -> Device:
        matches = [d for d in self.inventory() if d.serial_number == serial]
        if not matches:
            raise not_found(f"No hardware OATH device has serial number '{serial}'")
        for device in matches:
            if device.assigned_to is None or (user and device.assigned_to == user.id):
                return device
        return matches[0]

    def validate_new(
        self, body: Any, known_serials: set[str] | None = None
    ) -> tuple[Device, str | None]:
        """Check a create body (A3 or one bulk item); returns the device and an assignee id.

        ``known_serials`` is every serial already taken (inventory and earlier items of the same
        request), built once per bulk request so a large inventory is not scanned per item.
        """
        if not isinstance(body, dict):
            raise bad_request("each device must be a JSON object")
        unknown = sorted(k for k in body if k not in CREATE_FIELDS and not k.startswith("@"))
        if unknown:
            raise bad_request(f"unknown properties {unknown}")
        serial = _text(body, "serialNumber", required=True)
        assert serial is not None
        if self.reject_duplicate_serials and (
            serial in known_serials
            if known_serials is not None
            else any(d.serial_number == serial for d in self.inventory())
        ):
            raise conflict(f"a device with serial number '{serial}' is already in the inventory")
        device = Device(
            id=str(uuid.uuid4()),
            serial_number=serial,
            manufacturer=_text(body, "manufacturer", required=True) or "",
            model=_text(body, "model", required=True) or "",
            secret=_secret(body.get("secretKey")),
            time_interval=_interval(body.get("timeIntervalInSeconds")),
            hash_function=_hash(body.get("hashFunction") or "hmacsha1"),
            display_name=_text(body, "displayName", required=False),
        )
        assignee = None
        if body.get("assignTo") is not None:
            target = body["assignTo"]
            if not isinstance(target, dict) or not isinstance(target.get("id"), str):
                raise bad_request('assignTo must be {"id": "<user object id>"}')
            assignee = require_object_id(target["id"])
        return device, assignee

    def add(self, device: Device, assignee: str | None, now: float) -> Device:
        if assignee is not None:
            user = self.user(assignee)
            self._check_can_receive(user)
            _give(device, user, now)
            # Learn's how-to shows "available" with assignedTo filled, the reference "assigned"
            device.status = self.assign_to_status
        self.devices[device.id] = device
        return device

    def update(self, device_id: str, body: Any) -> None:
        device = self.device(device_id)
        if not isinstance(body, dict):
            raise bad_request("the body must be a JSON object")
        refused = sorted(k for k in body if k not in UPDATE_FIELDS and not k.startswith("@"))
        if refused:
            raise bad_request(f"these properties cannot be updated: {refused}")
        if device.assigned_to is not None:
            raise bad_request("the token is assigned; unassign it before updating it")
        if "manufacturer" in body:
            device.manufacturer = _text(body, "manufacturer", required=True) or ""
        if "model" in body:
            device.model = _text(body, "model", required=True) or ""
        if "timeIntervalInSeconds" in body:
            device.time_interval = _interval(body["timeIntervalInSeconds"])
        if "hashFunction" in body:
            device.hash_function = _hash(body["hashFunction"])
        if "displayName" in body:
            device.display_name = _text(body, "displayName", required=False)

    def delete(self, device_id: str) -> None:
        """A6. A legacy (CSV) token's id is accepted too, once its method is removed: the
        Learn troubleshooting steps delete the legacy copy through this endpoint."""
        device = self.devices.get(device_id)
        if device is None:
            raise not_found(f"Hardware OATH device '{device_id}' does not exist")
        if device.assigned_to is not None:
            raise bad_request(
                "the token is assigned; unassign it (DELETE the user's method) before deleting it"
            )
        del self.devices[device_id]

    # -- user methods -------------------------------------------------------------------
    def methods(self, user: User) -> list[Device]:
        held = [d for d in self.devices.values() if d.assigned_to == user.id]
        return sorted(held, key=lambda d: (d.assigned_at or 0.0, d.id))

    def _propagated(self, device: Device) -> bool:
        # Rehearses Entra's eventual consistency: a fresh assignment is briefly invisible.
        return (device.assigned_at or 0.0) + self.assignment_delay <= self.now()

    def visible_methods(self, user: User) -> list[Device]:
        return [d for d in self.methods(user) if self._propagated(d)]

    def method(self, user: User, method_id: str) -> Device:
        """The user's method by its own id (never the device id: they differ, as in Entra)."""
        for device in self.methods(user):
            if device.method_key == method_id and self._propagated(device):
                return device
        raise not_found(f"User has no hardware OATH method '{method_id}'")

    def device_of_method(self, method_id: str) -> Device | None:
        """The device behind a method id, whoever holds it (for ``…/device/assignTo/$ref``)."""
        for device in self.devices.values():
            if device.assigned_to is not None and device.method_key == method_id:
                return device
        return None

    def _check_can_receive(self, user: User) -> None:
        enforce(self.policy, user)
        if user.user_type == "Guest":
            raise bad_request("hardware OATH tokens cannot be assigned to guest users")
        held = len(self.methods(user)) + len(user.software_methods)
        if held >= MAX_METHODS:
            raise bad_request(
                f"the user already has {held} OATH methods (hardware tokens and authenticator "
                f"apps together); {MAX_METHODS} is the maximum"
            )

    def assign(self, user: User, device_id: str, now: float) -> Device:
        device = self.device(device_id)
        if device.assigned_to == user.id:
            return device
        if device.assigned_to is not None:
            raise conflict("the token is already assigned to another user")
        self._check_can_receive(user)
        _give(device, user, now)
        return device

    def unassign(self, user: User, method_id: str) -> None:
        device = self.method(user, method_id)
        # A legacy token keeps its record too (still outside the inventory listing) until its
        # device id is deleted, as the documented clean-up of a legacy copy does.
        device.status, device.assigned_to, device.assigned_at = "available", None, None
        device.drift_steps, device.last_step, device.method_id = 0, None, None

    def add_legacy(self, entry: dict[str, Any], where: str, now: float) -> None:
        """A token from the old CSV upload: the user holds it, the inventory never shows it."""
        body = {k: v for k, v in entry.items() if k in CREATE_FIELDS and k != "assignTo"}
        status = entry.get("status", "activated")
        try:
            if status not in ("assigned", "activated"):
                raise bad_request("status must be 'assigned' or 'activated'")
            device, _ = self.validate_new(body)
            user = self.user(entry["user"])
        except GraphError as exc:
            raise bad_request(f"{where}: {exc.message}") from None
        _give(device, user, now)
        device.legacy, device.status = True, status
        self.devices[device.id] = device

    def deactivate(self, user: User, method_id: str) -> None:
        self.method(user, method_id).status = "assigned"

    def activate(self, user: User, method_id: str, code: Any, name: Any, now: float) -> None:
        device = self.method(user, method_id)
        enforce(self.policy, user)
        self._verify_and_activate(device, verification_code(code), name, now)

    def assign_and_activate(
        self, user: User, device: Device, code: Any, name: Any, now: float
    ) -> None:
        checked = verification_code(code)
        enforce(self.policy, user)
        if device.assigned_to is not None and device.assigned_to != user.id:
            raise conflict("the token is already assigned to another user")
        if device.assigned_to is None:
            self._check_can_receive(user)
            if self._match(device, checked, now) is None:
                raise bad_request(
                    "the verification code is not valid for this token; nothing "
                    "was assigned. Enter the code currently shown on the token"
                )
            _give(device, user, now)
        self._verify_and_activate(device, checked, name, now)

    def _verify_and_activate(self, device: Device, code: str, name: Any, now: float) -> None:
        if name is not None and not isinstance(name, str):
            raise bad_request("displayName must be a string")
        step = self._match(device, code, now)
        if step is None:
            device.status = "failedActivation"
            raise bad_request(
                "the verification code is not valid for this token; the token is "
                "now in failedActivation. Enter the code currently shown on it"
            )
        device.drift_steps = step - int(now // device.time_interval)
        device.last_step = step
        device.status = "activated"
        if name is not None:
            device.display_name = name

    def sign_in(self, user: User, code: Any, now: float) -> Device | None:
        """Simulate a sign-in: Entra's narrow window around the drift found at activation,
        refusing a code at or before the last accepted step; a success sets lastUsedDateTime."""
        checked = verification_code(code)
        for device in self.methods(user):
            if device.status != "activated":
                continue
            period = device.time_interval
            step = self._match(
                device,
                checked,
                now + device.drift_steps * period,
                window=sign_in_window(period),
                after=device.last_step,
            )
            if step is not None:
                device.drift_steps = step - int(now // period)
                device.last_step, device.last_used = step, now
                return device
        return None

    def _match(
        self,
        device: Device,
        code: str,
        at: float,
        *,
        window: int | None = None,
        after: int | None = None,
    ) -> int | None:
        algorithm = (
            HashAlgorithm.SHA256 if device.hash_function == "hmacsha256" else HashAlgorithm.SHA1
        )
        period = device.time_interval
        return match_totp(
            device.secret,
            code,
            at,
            period=period,
            algorithm=algorithm,
            window=activation_window(period) if window is None else window,
            after_step=after,
        )
