"""Everything one running emulator knows, in one object: directory, config, clock, keys, faults.

The ASGI app is built from this object (no module globals), so tests can run many emulators in
one process. When a data folder is given, mutations are saved atomically to ``state.json``
(mode 0600: it holds seeds and passwords, like a real tenant's secret store).
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oathdesk.domain import Clock, InputFileError, SystemClock
from oathdesk.emulator.directory import Directory
from oathdesk.emulator.errors import GraphError, bad_request
from oathdesk.emulator.faults import Faults, Throttle
from oathdesk.emulator.files import write_atomic
from oathdesk.emulator.model import (
    Device,
    device_from_disk,
    device_to_disk,
    device_to_graph,
    method_to_graph,
)
from oathdesk.emulator.seed import Seed, default_seed, parse_seed, seed_to_json
from oathdesk.emulator.tokens import SigningKey

STATE_FILE = "state.json"
_CONFIG_KEYS = {
    "pageSize": "page_size",
    "maxBulk": "max_bulk",
    "rejectDuplicateSerials": "reject_duplicate_serials",
    "bulkPartialStatus": "bulk_partial_status",
    "throttle": "throttle",
    "clockOffsetSeconds": "clock_offset",
    "assignmentDelaySeconds": "assignment_delay",
    "bulkResultOrder": "bulk_result_order",
    "assignToStatus": "assign_to_status",
}
BULK_ORDERS = ("request", "shuffled", "reversed")
ASSIGN_TO_STATUSES = ("available", "assigned")


@dataclass
class EmulatorConfig:
    """Behaviour switches where Microsoft is silent ([I] in the design), all changeable live."""

    page_size: int = 100
    max_bulk: int = 100
    reject_duplicate_serials: bool = True
    bulk_partial_status: int = 201
    throttle: str | None = None  # "N/SECONDS"
    clock_offset: float = 0.0
    assignment_delay: float = 0.0  # user-method paths answer 404 this long after assignment
    # Entra documents no order for bulk results (match them by serial): tests reorder them.
    bulk_result_order: str = "request"
    # Status after create with assignTo: the how-to shows "available", the reference "assigned".
    assign_to_status: str = "available"

    def to_json(self) -> dict[str, Any]:
        return {wire: getattr(self, attr) for wire, attr in _CONFIG_KEYS.items()}

    def patch(self, body: Any) -> None:
        """Apply settings from a JSON object; nothing changes unless every setting is valid."""
        if not isinstance(body, dict):
            raise bad_request("config: send a JSON object of settings")
        unknown = sorted(set(body) - set(_CONFIG_KEYS))
        if unknown:
            raise bad_request(f"config: unknown settings {unknown}; known: {sorted(_CONFIG_KEYS)}")
        for wire, value in body.items():
            _check_setting(_CONFIG_KEYS[wire], wire, value)
        for wire, value in body.items():
            setattr(self, _CONFIG_KEYS[wire], value)


def _check_setting(attr: str, wire: str, value: Any) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if attr in ("page_size", "max_bulk") and (not isinstance(value, int) or value < 1):
        raise bad_request(f"config: {wire} must be a positive whole number")
    if attr == "bulk_partial_status" and value not in (200, 201, 207):
        raise bad_request("config: bulkPartialStatus must be 200, 201 or 207")
    if attr == "reject_duplicate_serials" and not isinstance(value, bool):
        raise bad_request("config: rejectDuplicateSerials must be true or false")
    if attr == "clock_offset" and not number:
        raise bad_request("config: clockOffsetSeconds must be a number")
    if attr == "assignment_delay" and (not number or value < 0):
        raise bad_request("config: assignmentDelaySeconds must be 0 or more")
    if attr == "bulk_result_order" and value not in BULK_ORDERS:
        raise bad_request(f"config: bulkResultOrder must be one of {list(BULK_ORDERS)}")
    if attr == "assign_to_status" and value not in ASSIGN_TO_STATUSES:
        raise bad_request(f"config: assignToStatus must be one of {list(ASSIGN_TO_STATUSES)}")
    if attr == "throttle" and value is not None:
        Throttle.parse(str(value))


@dataclass
class PendingCode:
    """An authorization code or a device code waiting to be redeemed."""

    client_id: str
    scopes: list[str]
    expires: float
    user_id: str | None = None
    redirect_uri: str | None = None
    challenge: str | None = None
    challenge_method: str | None = None
    nonce: str | None = None
    user_code: str | None = None
    declined: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class EmulatorState:
    def __init__(
        self,
        seed: Any = None,
        *,
        config: EmulatorConfig | None = None,
        clock: Clock | None = None,
        data_dir: Path | None = None,
        signing_key: SigningKey | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.data_dir = data_dir
        self.lock = threading.RLock()
        self.initial_config = copy.deepcopy(config or EmulatorConfig())
        self.config = copy.deepcopy(self.initial_config)
        if signing_key is None:
            signing_key = (
                SigningKey.load_or_create(data_dir / "signing-key.pem")
                if data_dir
                else SigningKey.generate()
            )
        self.signing_key = signing_key
        self.faults = Faults()
        self._saved = b""
        self.auth_codes: dict[str, PendingCode] = {}
        self.device_codes: dict[str, PendingCode] = {}
        self._throttle: tuple[str, Throttle] | None = None
        self.initial_seed: dict[str, Any] = {}
        self.directory = Directory(parse_seed({}).tenant, now=self.now)
        self.load_seed(seed if seed is not None else default_seed())

    # -- time, throttling ---------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now() + float(self.config.clock_offset)

    def throttle(self) -> Throttle | None:
        spec = self.config.throttle
        if spec is None:
            return None
        if self._throttle is None or self._throttle[0] != spec:
            self._throttle = (spec, Throttle.parse(spec))
        return self._throttle[1]

    # -- seeding and reset --------------------------------------------------------------
    def load_seed(self, document: Any) -> Seed:
        """Replace tenant, apps and users (and empty the inventory) from a seed document."""
        seed = parse_seed(document)
        with self.lock:
            self._install(seed)
            self.initial_seed = seed_to_json(seed, with_secrets=True)
        return seed

    def _install(
        self, seed: Seed, devices: list[Device] | None = None, policy: dict[str, Any] | None = None
    ) -> None:
        """Make ``seed`` current; ``devices=None`` means a fresh start (only legacy tokens)."""
        directory = Directory(seed.tenant, now=self.now)
        directory.apps = {a.client_id: a for a in seed.apps}
        directory.users = {u.id: u for u in seed.users}
        if devices is None:
            for n, entry in enumerate(seed.legacy):
                directory.add_legacy(entry, f"legacyTokens[{n}]", self.now())
        else:
            directory.devices = {d.id: d for d in devices}
        if policy is not None:
            directory.policy = policy
        self.directory = directory
        self.auth_codes.clear()
        self.device_codes.clear()
        self.sync_config()

    def sync_config(self) -> None:
        self.directory.reject_duplicate_serials = self.config.reject_duplicate_serials
        self.directory.assignment_delay = float(self.config.assignment_delay)
        self.directory.assign_to_status = self.config.assign_to_status

    def reset(self) -> None:
        """Back to the starting seed and configuration: no devices, no faults, no codes."""
        with self.lock:
            self.config = copy.deepcopy(self.initial_config)
            self.faults.rules.clear()
            self._throttle = None
            self._install(parse_seed(self.initial_seed))

    def snapshot(self) -> dict[str, Any]:
        """The whole state for inspection, without client secrets, passwords or seeds."""
        d = self.directory
        document = seed_to_json(
            Seed(d.tenant, list(d.apps.values()), list(d.users.values())), with_secrets=False
        )
        document["devices"] = [device_to_graph(x, d.users) for x in d.inventory()]
        document["legacyTokens"] = [
            method_to_graph(x, d.users) for x in d.devices.values() if x.legacy
        ]
        document["policy"] = d.policy
        document["config"] = self.config.to_json()
        document["faults"] = [r.to_json() for r in self.faults.rules]
        document["now"] = self.now()
        return document

    # -- persistence --------------------------------------------------------------------
    def save(self) -> None:
        """Write ``state.json`` if anything changed since the last write (atomic, mode 0600)."""
        if self.data_dir is None:
            return
        d = self.directory
        with self.lock:
            current = seed_to_json(
                Seed(d.tenant, list(d.apps.values()), list(d.users.values())), with_secrets=True
            )
            document = {
                "version": 1,
                "seed": self.initial_seed,
                "current": current,
                "devices": [device_to_disk(x) for x in d.devices.values()],
                "policy": d.policy,
                "config": asdict(self.config),
                "initialConfig": asdict(self.initial_config),
            }
            data = json.dumps(document).encode()
            if data != self._saved:
                write_atomic(self.data_dir / STATE_FILE, data, private=True)
                self._saved = data

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        seed: Any = None,
        config: EmulatorConfig | None = None,
        clock: Clock | None = None,
    ) -> EmulatorState:
        """Load the saved state from ``data_dir`` or start from ``seed`` (default: generated).

        A seed given explicitly wins over saved state, so ``--seed`` always rehearses from it.
        """
        path = data_dir / STATE_FILE
        if seed is not None or not path.exists():
            state = cls(seed, config=config, clock=clock, data_dir=data_dir)
            state.save()
            return state
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            state = cls(
                saved["seed"],
                config=config or EmulatorConfig(**saved["initialConfig"]),
                clock=clock,
                data_dir=data_dir,
            )
            if config is None:
                state.config = EmulatorConfig(**saved["config"])
            state._install(
                parse_seed(saved["current"]),
                [device_from_disk(x) for x in saved["devices"]],
                saved["policy"],
            )
        except (OSError, ValueError, KeyError, TypeError, GraphError) as exc:
            # The type only: a message could quote the file, and the file holds seeds.
            raise InputFileError(
                f"The emulator state {path} cannot be read ({type(exc).__name__}); restore it, "
                "or start afresh with --seed FILE or an empty --data folder."
            ) from None
        state._saved = path.read_bytes()
        return state
