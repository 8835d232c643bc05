"""The client's reading of a user's whole method list (the five-method cap counts authenticator
apps beside hardware tokens) and of method ids beside device ids, against the HTTPS emulator."""

from __future__ import annotations

import copy

from oathdesk.graph import MAX_OATH_METHODS, device_body
from tests.graph.conftest import Emu
from tests.graph.support import SEED, record, upn, user_id

NARROW = "22222222-bbbb-4bbb-8bbb-000000000009"


def test_oath_method_count_includes_authenticator_apps(emu: Emu) -> None:
    seed = copy.deepcopy(SEED)
    seed["users"][0]["softwareMethods"] = [
        {"type": "microsoftAuthenticator", "displayName": "Ada's phone"},
        {"type": "softwareOath"},
    ]
    seed["apps"].append(
        {"clientId": NARROW, "clientSecret": "narrow-secret", "roles": ["Policy.Read.All"]}
    )
    assert emu.control.post(f"{emu.url}/_emulator/seed", json=seed).status_code == 200
    client = emu.client()
    try:
        assert client.oath_method_count(upn("ada")) == 2  # the password does not count
        device = client.create_device(device_body(record(71), assign_to=user_id("ada")))
        assert client.oath_method_count(user_id("ada")) == 3 < MAX_OATH_METHODS
        types = [m["@odata.type"] for m in client.all_methods(upn("ada"))]
        assert types[0] == "#microsoft.graph.passwordAuthenticationMethod" and len(types) == 4
        (entry,) = client.user_method_entries(upn("ada"))
        assert entry.device.id == device.id and entry.device.serial_number == "SN-000071"
        assert entry.id  # the method's own id, used to remove it from the user
        assert client.oath_method_count(upn("grace")) == 0
        # an app that may not read users' methods gets "unknown", not a wrong zero
        narrow = emu.client(client_id=NARROW, secret="narrow-secret")
        try:
            assert narrow.oath_method_count(upn("ada")) is None
        finally:
            narrow.close()
    finally:
        client.close()
        assert emu.control.post(f"{emu.url}/_emulator/seed", json=SEED).status_code == 200
