"""A stateful property test of the inventory rules (in process, no HTTP): whatever sequence of
creates, assignments, activations and deletions happens, the §1 status machine, the five-method
cap, the guest rule and "delete only when unassigned" hold."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from oathdesk.domain import FixedClock
from oathdesk.emulator import EmulatorState, GraphError
from oathdesk.emulator.directory import MAX_METHODS
from tests.emulator.helpers import B32, SEED, device_body, totp, uid, wrong_code

PEOPLE = st.sampled_from(["ada", "grace", "guest"])
START = 1_750_000_000.0
WRONG = wrong_code(B32, START)


class Inventory(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock(START)
        self.state = EmulatorState({**SEED, "legacyTokens": []}, clock=self.clock)
        self.d = self.state.directory
        self.serial = 0

    @initialize(status=st.sampled_from(["available", "assigned"]))
    def assign_to_status(self, status: str) -> None:
        """Both readings of the status after create with assignTo (config switch)."""
        self.state.config.assign_to_status = status
        self.state.sync_config()

    def _any_device(self, pick: int) -> str | None:
        ids = sorted(self.d.devices)
        return ids[pick % len(ids)] if ids else None

    @rule(who=st.one_of(st.none(), PEOPLE))
    def create(self, who: str | None) -> None:
        self.serial += 1
        body = device_body(f"H-{self.serial}", assignTo={"id": uid(who)} if who else None)
        body = {k: v for k, v in body.items() if v is not None}
        device, assignee = self.d.validate_new(body)
        try:
            self.d.add(device, assignee, self.state.now())
        except GraphError as exc:
            assert who == "guest" or len(self.d.methods(self.d.user(uid(who or "")))) == MAX_METHODS
            assert exc.status == 400
            return
        assert who != "guest"
        assert device.status == (self.d.assign_to_status if who else "available")
        assert device.method_id is None if who is None else device.method_id != device.id

    @rule(who=PEOPLE, pick=st.integers(min_value=0))
    def assign(self, who: str, pick: int) -> None:
        device_id = self._any_device(pick)
        if device_id is None:
            return
        device = self.d.devices[device_id]
        before = device.assigned_to
        user = self.d.user(uid(who))
        try:
            self.d.assign(user, device_id, self.state.now())
        except GraphError as exc:
            if before not in (None, user.id):
                assert exc.status == 409  # someone else holds it
            else:
                full = len(self.d.methods(user)) == MAX_METHODS
                assert exc.status == 400 and (who == "guest" or full)
            assert device.assigned_to == before
            return
        assert device.assigned_to == user.id and who != "guest"

    @rule(pick=st.integers(min_value=0), right=st.booleans())
    def activate(self, pick: int, right: bool) -> None:
        device_id = self._any_device(pick)
        if device_id is None:
            return
        device = self.d.devices[device_id]
        self.clock.advance(30)
        code = totp(B32, self.clock.now()) if right else WRONG
        holder = device.assigned_to
        try:
            self.d.activate(
                self.d.user(holder or uid("ada")), device.method_key, code, None, self.state.now()
            )
        except GraphError as exc:
            if holder is None:
                assert exc.status == 404 and device.status == "available"
            else:
                assert not right and device.status == "failedActivation"
            return
        assert right and holder is not None and device.status == "activated"

    @rule(pick=st.integers(min_value=0))
    def deactivate_or_unassign(self, pick: int) -> None:
        device_id = self._any_device(pick)
        if device_id is None or self.d.devices[device_id].assigned_to is None:
            return
        device = self.d.devices[device_id]
        user = self.d.user(device.assigned_to or "")
        if pick % 2:
            self.d.deactivate(user, device.method_key)
            assert device.status == "assigned"
        else:
            self.d.unassign(user, device.method_key)
            assert device.status == "available" and device.method_id is None

    @rule(pick=st.integers(min_value=0))
    def delete(self, pick: int) -> None:
        device_id = self._any_device(pick)
        if device_id is None:
            return
        assigned = self.d.devices[device_id].assigned_to is not None
        try:
            self.d.delete(device_id)
        except GraphError as exc:
            assert assigned and exc.status == 400
            return
        assert not assigned and device_id not in self.d.devices

    @invariant()
    def rules_hold(self) -> None:
        for device in self.d.devices.values():
            # "available" with a holder: create with assignTo under assignToStatus=available
            assert device.assigned_to is not None or device.status == "available"
            assert (device.assigned_to is None) == (device.method_id is None)
            assert device.status in ("available", "assigned", "activated", "failedActivation")
        for user in self.d.users.values():
            held = self.d.methods(user)
            assert len(held) <= MAX_METHODS
            assert user.user_type != "Guest" or not held


Inventory.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
test_inventory_rules = Inventory.TestCase
