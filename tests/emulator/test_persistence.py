"""State survives a restart: the data folder holds the inventory (with seeds, mode 0600), the
signing key and the CA; a fixed clock drives activation deterministically."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from oathdesk.domain import FixedClock, InputFileError
from oathdesk.emulator import EmulatorConfig, EmulatorState, GraphError
from oathdesk.emulator.server import RunningEmulator
from oathdesk.emulator.state import STATE_FILE
from oathdesk.emulator.tls import ensure_tls
from tests.emulator.helpers import B32, PASSWORD, SECRET, SEED, device_body, totp, uid

# RFC 6238 Appendix B, SHA-1, seed "12345678901234567890": T=59 → 94287082 (8 digits)
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def test_helper_totp_matches_the_rfc_6238_vector() -> None:
    assert totp(RFC_SECRET, 59) == "287082"
    assert totp(RFC_SECRET, 1111111109) == "081804"


def test_activation_with_a_fixed_clock_uses_the_rfc_vector() -> None:
    state = EmulatorState(SEED, clock=FixedClock(1111111109.0))
    d = state.directory
    device, _ = d.validate_new(device_body("RFC-1", RFC_SECRET))
    d.add(device, uid("ada"), state.now())
    d.activate(d.user(uid("ada")), device.method_key, "081804", None, state.now())
    assert device.status == "activated" and device.drift_steps == 0


def test_saved_state_reloads_with_devices_config_and_key(tmp_path: Path) -> None:
    clock = FixedClock(1_700_000_000.0)
    state = EmulatorState.open(tmp_path, seed=SEED, config=EmulatorConfig(page_size=7), clock=clock)
    d = state.directory
    device, _ = d.validate_new(device_body("KEEP-1"))
    d.add(device, uid("ada"), state.now())
    d.policy["state"] = "disabled"
    state.save()
    path = tmp_path / STATE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "signing-key.pem").stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))
    again = EmulatorState.open(tmp_path, clock=clock)
    kept = again.directory.devices[device.id]
    assert kept.status == "available" and kept.assigned_to == uid("ada")  # assignToStatus
    # the user method keeps its own id (unlike its device's) across the reload
    assert kept.method_id == device.method_id and kept.method_id not in (None, device.id)
    assert again.config.page_size == 7 and again.directory.policy["state"] == "disabled"
    assert again.signing_key.kid == state.signing_key.kid
    # the policy is enforced once reloaded; re-enabled, the seed that survived activates it
    with pytest.raises(GraphError, match="AuthMethodType"):
        again.directory.activate(
            again.directory.user(uid("ada")),
            kept.method_key,
            totp(B32, clock.now()),
            None,
            clock.now(),
        )
    assert kept.status == "available"  # refused: nothing changed
    again.directory.policy["state"] = "enabled"
    again.directory.activate(
        again.directory.user(uid("ada")), kept.method_key, totp(B32, clock.now()), None, clock.now()
    )
    assert kept.status == "activated"
    # reset goes back to the seed, not to the saved inventory
    again.reset()
    assert again.directory.inventory() == []
    assert json.loads(path.read_text())["seed"]["tenant"]["id"] == SEED["tenant"]["id"]


def test_a_damaged_state_file_is_a_clear_error(tmp_path: Path) -> None:
    EmulatorState.open(tmp_path, seed=SEED)
    (tmp_path / STATE_FILE).write_text('{"seed": {"tenant": ')
    with pytest.raises(InputFileError) as caught:
        EmulatorState.open(tmp_path)
    assert "--seed" in caught.value.message and caught.value.code == "file.unreadable"


def test_an_explicit_seed_replaces_saved_state(tmp_path: Path) -> None:
    state = EmulatorState.open(tmp_path, seed=SEED)
    device, _ = state.directory.validate_new(device_body("GONE-1"))
    state.directory.add(device, None, state.now())
    state.save()
    fresh = EmulatorState.open(tmp_path, seed=SEED)
    assert fresh.directory.inventory() == []


def test_default_seed_has_members_a_guest_an_admin_and_an_all_powerful_app() -> None:
    state = EmulatorState()
    users = list(state.directory.users.values())
    assert sum(u.user_type == "Guest" for u in users) == 1
    assert any("Global Administrator" in u.roles for u in users)
    assert sum(u.user_type == "Member" and not u.roles for u in users) >= 3
    (app,) = state.directory.apps.values()
    assert "Policy.ReadWrite.AuthenticationMethod" in app.roles and app.client_secret


def test_device_secret_never_shows_in_reprs_or_errors() -> None:
    state = EmulatorState(SEED)
    device, _ = state.directory.validate_new(device_body("REPR-1"))
    assert B32 not in repr(device) and B32 not in str(state.snapshot())
    assert SECRET not in repr(state.directory.apps) and PASSWORD not in repr(state.directory.users)
    with pytest.raises(GraphError) as caught:
        state.directory.validate_new(device_body("X", secret=B32 + "1"))
    assert B32 not in str(caught.value)


def test_tls_material_is_reused_and_covers_new_hosts(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path, ["127.0.0.1"])
    ca = first.ca_cert.read_bytes()
    cert = first.server_cert.read_bytes()
    again = ensure_tls(tmp_path, ["127.0.0.1"])
    assert again.server_cert.read_bytes() == cert
    wider = ensure_tls(tmp_path, ["emulator.internal"])
    assert wider.ca_cert.read_bytes() == ca and wider.server_cert.read_bytes() != cert
    assert stat.S_IMODE((tmp_path / "ca-key.pem").stat().st_mode) == 0o600


def test_config_patch_is_all_or_nothing() -> None:
    config = EmulatorConfig()
    with pytest.raises(GraphError):
        config.patch({"pageSize": 5, "maxBulk": 0})
    assert config.page_size == 100
    config.patch({"pageSize": 5, "assignmentDelaySeconds": 2.5})
    assert (config.page_size, config.assignment_delay) == (5, 2.5)


def test_plain_http_is_available_for_debugging() -> None:
    with RunningEmulator(EmulatorState(SEED), tls=None) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(trust_env=False) as client:
            r = client.get(
                f"{server.url}/{SEED['tenant']['id']}/v2.0/.well-known/openid-configuration"
            )
        assert r.status_code == 200 and r.json()["token_endpoint"].startswith("http://")
