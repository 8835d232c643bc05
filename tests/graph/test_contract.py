"""Every operation of graph-api.md §3 against the emulator over HTTPS, signed in through MSAL,
with the emulator's fidelity switches (bulk result order, status after create with assignTo)
in every position."""

from __future__ import annotations

from typing import Any

import pytest

from oathdesk.domain import FixedClock
from oathdesk.graph import (
    GraphClient,
    GraphConflict,
    GraphNotFound,
    GraphRequestError,
    MsalTokenSource,
    connect,
    device_body,
)
from oathdesk.graph.auth import REFRESH_MARGIN
from tests.graph.conftest import Emu
from tests.graph.support import SEED, b32, record, totp, upn, user_id

pytestmark = pytest.mark.usefixtures("switched")


def _create(client: GraphClient, n: int, **kw: object) -> str:
    return client.create_device(device_body(record(n), **kw)).id  # type: ignore[arg-type]


def test_create_get_update_delete(client: GraphClient) -> None:
    created = client.create_device(device_body(record(1)))
    assert created.serial_number == "SN-000001" and created.status == "available"
    fetched = client.get_device(created.id)
    assert fetched == created and fetched.time_interval == 30
    client.update_device(created.id, {"displayName": "Desk 7", "model": "TOTP-6 Key v2"})
    updated = client.get_device(created.id)
    assert updated.display_name == "Desk 7" and updated.model == "TOTP-6 Key v2"
    assert client.count_devices() == 1
    client.delete_device(created.id)
    with pytest.raises(GraphNotFound) as info:
        client.get_device(created.id)
    assert info.value.status == 404 and info.value.request_id
    assert info.value.code == "graph.not_found"


def test_serial_lookup_uses_filter_and_keeps_odd_characters(client: GraphClient) -> None:
    odd = record(2).with_(serial="A+B /C'D")
    client.create_device(device_body(odd))
    _create(client, 3)
    found = client.find_serial("A+B /C'D")
    assert [d.serial_number for d in found] == ["A+B /C'D"]
    assert client.find_serial("A+B") == []
    assert client.device_by_serial("SN-000003").serial_number == "SN-000003"
    with pytest.raises(GraphNotFound):
        client.device_by_serial("nope")


def test_create_with_assign_then_lifecycle(
    emu: Emu, client: GraphClient, switched: dict[str, Any]
) -> None:
    device_id = client.create_device(device_body(record(4), assign_to=user_id("ada"))).id
    device = client.get_device(device_id)
    assert device.assigned_to_id == user_id("ada")
    assert device.status == switched["assignToStatus"]  # how-to: available; reference: assigned
    assert client.device_assignee(device_id) is not None
    methods = client.user_methods(upn("ada"))
    assert [m.serial_number for m in methods] == ["SN-000004"]
    method_id = client.method_id_for(upn("ada"), device)
    assert method_id != device_id  # the method has its own id
    assert client.user_method(upn("ada"), method_id).id == device_id
    client.activate(upn("ada"), method_id, totp(record(4).secret, emu.state.now()))
    assert client.get_device(device_id).status == "activated"
    client.deactivate(upn("ada"), method_id)
    assert client.get_device(device_id).status == "assigned"
    with pytest.raises(GraphRequestError):  # assigned tokens cannot be deleted
        client.delete_device(device_id)
    client.unassign(user_id("ada"), method_id)
    assert client.get_device(device_id).status == "available"
    assert client.device_assignee(device_id) is None
    client.delete_device(device_id)


def test_assign_conflict_and_wrong_code(emu: Emu, client: GraphClient) -> None:
    device_id = _create(client, 5)
    client.assign(upn("ada"), device_id)
    with pytest.raises(GraphConflict) as info:
        client.assign(upn("grace"), device_id)
    assert info.value.graph_code and info.value.status == 409
    now = emu.state.now()
    # A code the token shows nowhere in Entra's ±1 day activation window (with margin): a
    # neighbour of the right code would be one of those 5,761 codes about 0.6% of the time.
    shown = {totp(record(5).secret, now + k * 30) for k in range(-2900, 2901)}
    wrong = next(code for code in (f"{n:06d}" for n in range(1_000_000)) if code not in shown)
    method_id = client.method_id_for(upn("ada"), client.get_device(device_id))
    with pytest.raises(GraphRequestError):
        client.activate(upn("ada"), method_id, wrong)
    assert client.get_device(device_id).status == "failedActivation"


def test_assign_and_activate_by_id_and_by_serial(emu: Emu, client: GraphClient) -> None:
    first, _ = _create(client, 6), _create(client, 7)
    now = emu.state.now()
    client.assign_and_activate(upn("ada"), first, totp(record(6).secret, now), "Ada's key")
    client.assign_and_activate_by_serial(upn("grace"), "SN-000007", totp(record(7).secret, now))
    assert client.get_device(first).display_name == "Ada's key"
    assert {d.status for d in client.list_devices()} == {"activated"}
    assert [d.serial_number for d in client.list_devices(assigned_to=user_id("grace"))] == [
        "SN-000007"
    ]


def test_assign_by_reference(client: GraphClient) -> None:
    device_id = _create(client, 8)
    client.assign(upn("ada"), device_id)
    client.unassign(upn("ada"), client.method_id_for(upn("ada"), client.get_device(device_id)))
    client.assign(upn("ada"), device_id)
    method_id = client.method_id_for(upn("ada"), client.get_device(device_id))
    with pytest.raises(GraphConflict):
        client.assign_by_reference(upn("ada"), method_id, user_id("grace"))
    client.assign_by_reference(upn("ada"), method_id, user_id("ada"))
    assert client.get_device(device_id).assigned_to_id == user_id("ada")


def test_listing_with_page_size_7_returns_everything(emu: Emu, client: GraphClient) -> None:
    emu.configure(pageSize=7)
    serials = {f"SN-{n:06d}" for n in range(100, 150)}
    created = client.bulk_create(
        [{"@contentId": str(n), **device_body(record(n))} for n in range(100, 150)]
    )
    assert len(created) == 50
    listed = [d.serial_number for d in client.list_devices()]
    assert len(listed) == 50 and set(listed) == serials
    assert len([d for d in client.list_devices(status="available")]) == 50
    assert set(client.find_serials(sorted(serials)[:30])) == set(sorted(serials)[:30])


def test_users_by_upn_id_and_prefix(client: GraphClient) -> None:
    assert client.get_user(upn("ada")).id == user_id("ada")
    assert client.get_user(user_id("grace")).user_principal_name == upn("grace")
    assert [u.id for u in client.find_users(upn("ada"))] == [user_id("ada")]
    assert [u.user_principal_name for u in client.find_users("Grace")] == [upn("grace")]
    assert client.find_users("nobody-here") == []
    with pytest.raises(GraphNotFound) as info:
        client.get_user("nobody@example.com")
    assert info.value.code == "graph.not_found"


def test_policy_read_and_switch(client: GraphClient) -> None:
    assert client.get_policy()["state"] == "enabled"
    client.set_policy_state(False)
    assert client.get_policy()["state"] == "disabled"


def test_token_is_reused_until_near_expiry(emu: Emu, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FixedClock(emu.state.now())
    client = connect(emu.settings(), clock=clock)
    source = client.session.tokens
    assert isinstance(source, MsalTokenSource)
    sign_ins: list[dict[str, Any]] = []
    acquire = source._acquire

    def counted() -> dict[str, Any]:
        sign_ins.append(acquire())
        return sign_ins[-1]

    monkeypatch.setattr(source, "_acquire", counted)
    client.count_devices()
    first = source.token()
    clock.advance(3600 - REFRESH_MARGIN - 1)  # the emulator's tokens live an hour
    client.count_devices()
    assert source.token() == first and len(sign_ins) == 1
    clock.advance(2)  # within five minutes of expiry: sign in again
    client.count_devices()
    assert len(sign_ins) == 2
    client.close()


def test_a_legacy_copy_of_the_serial_is_never_the_method_acted_on(
    emu: Emu, client: GraphClient
) -> None:
    """Learn's troubleshooting case: ada holds an old CSV copy and a Graph copy of one serial.
    The method is found by ``device.id`` (never the serial), so activate, deactivate and
    unassign reach the Graph copy and the legacy method is left as it was."""
    legacy = {
        "user": upn("ada"),
        "serialNumber": "SN-000020",
        "secretKey": b32(record(21).secret),
        "manufacturer": "OldVendor",
        "model": "CSV",
        "timeIntervalInSeconds": 30,
    }
    r = emu.control.post(f"{emu.url}/_emulator/seed", json={**SEED, "legacyTokens": [legacy]})
    assert r.status_code == 200, r.text
    try:
        device = client.create_device(device_body(record(20), assign_to=user_id("ada")))
        (old,) = [
            m
            for m in client.session.pages(
                f"users/{user_id('ada')}/authentication/hardwareOathMethods", what="list"
            )
            if m["device"]["id"] != device.id
        ]
        method_id = client.method_id_for(upn("ada"), device)
        assert method_id not in (old["id"], device.id)
        client.activate(upn("ada"), method_id, totp(record(20).secret, emu.state.now()))
        assert client.get_device(device.id).status == "activated"
        client.deactivate(upn("ada"), method_id)
        assert client.get_device(device.id).status == "assigned"
        client.unassign(upn("ada"), method_id)
        assert client.get_device(device.id).assigned_to_id == ""
        (left,) = client.user_methods(upn("ada"))
        assert (left.id, left.serial_number, left.status) == (
            old["device"]["id"],
            "SN-000020",
            "activated",
        )
    finally:
        r = emu.control.post(f"{emu.url}/_emulator/seed", json=SEED)
        assert r.status_code == 200


def test_bulk_results_in_any_order_are_matched_by_serial(
    emu: Emu, client: GraphClient, switched: dict[str, Any]
) -> None:
    """Entra answers 201 with user-method entries (device nested) in no documented order:
    the uploader's device ids must be those of the serials, whatever the order."""
    from oathdesk.graph import Uploader, UploadOptions

    recs = [record(n, user=upn("grace") if n % 3 == 0 else "") for n in range(300, 312)]
    report = Uploader(client, UploadOptions(chunk_size=12, concurrency=1)).upload(recs)
    truth = {d.serial_number: d for d in client.list_devices()}
    assert {s: r.device_id for s, r in report.results.items()} == {
        s: d.id for s, d in truth.items()
    }
    assert {r.outcome for r in report.results.values()} == {"created"}
    held = {s for s, d in truth.items() if d.assigned_to_id == user_id("grace")}
    assert held == {f"SN-{n:06d}" for n in range(300, 312) if n % 3 == 0}
    assert {truth[s].status for s in held} == {switched["assignToStatus"]}


def test_a_partial_bulk_answer_200_or_201_is_read_entry_by_entry(
    emu: Emu, client: GraphClient
) -> None:
    for status, prefix in ((200, "P2"), (201, "P1")):
        emu.configure(bulkPartialStatus=status)
        bad = {**device_body(record(1, prefix=prefix)), "timeIntervalInSeconds": 45}
        entries = client.bulk_create([device_body(record(0, prefix=prefix)), bad])
        failed = [e for e in entries if "@Core.DataModificationException" in e]
        made = [e for e in entries if "@Core.DataModificationException" not in e]
        assert [e["serialNumber"] for e in failed] == [f"{prefix}-000001"]
        assert [e["device"]["serialNumber"] for e in made] == [f"{prefix}-000000"]
