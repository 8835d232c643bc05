"""The client against the emulator's stricter user rules: tokens are assigned by object id (a UPN
in ``assignTo`` is refused), ``userType`` is asked for by name, an app that reads only basic
profiles cannot tell guests apart and says so with a code, and user search is a server-side
``startswith``."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from oathdesk.graph import Uploader, UploadOptions
from tests.graph.conftest import Emu
from tests.graph.support import SEED, record, upn, user_id

BASIC_APP = "22222222-bbbb-4bbb-8bbb-0000000000b1"
BASIC_SECRET = "basic-users-app-secret"


@pytest.fixture
def basic_app(emu: Emu) -> Iterator[Emu]:
    """The suite's seed plus an app that reads users with ``User.ReadBasic.All`` only."""
    seed = copy.deepcopy(SEED)
    seed["apps"].append(
        {
            "clientId": BASIC_APP,
            "clientSecret": BASIC_SECRET,
            "roles": [
                "Policy.ReadWrite.AuthenticationMethod",
                "UserAuthMethod-HardwareOATH.ReadWrite.All",
                "User.ReadBasic.All",
            ],
        }
    )
    assert emu.control.post(f"{emu.url}/_emulator/seed", json=seed).status_code == 200
    yield emu
    assert emu.control.post(f"{emu.url}/_emulator/seed", json=SEED).status_code == 200


def test_upload_assigns_by_object_id_and_refuses_guests(emu: Emu) -> None:
    recs = [record(1, user=upn("ada")), record(2, user=upn("gus")), record(3)]
    with emu.client() as client:
        report = Uploader(client, UploadOptions(unknown_grace=0.1)).upload(recs)
        assert client.get_user(upn("gus")).user_type == "Guest"
    assert {r.serial for r in report.of("created")} == {"SN-000001", "SN-000003"}
    assert [(r.serial, r.code) for r in report.of("failed")] == [
        ("SN-000002", "graph.user_is_guest")
    ]
    held = [d for d in emu.state.directory.inventory() if d.serial_number == "SN-000001"]
    assert [d.assigned_to for d in held] == [user_id("ada")]


def test_an_app_reading_basic_profiles_only_refuses_assignments_with_a_code(basic_app: Emu) -> None:
    recs = [record(1, user=upn("ada")), record(2, user=upn("gus")), record(3)]
    with basic_app.client(client_id=BASIC_APP, secret=BASIC_SECRET) as client:
        assert client.get_user(upn("gus")).user_type == ""  # Graph left it out
        report = Uploader(client, UploadOptions(unknown_grace=0.1)).upload(recs)
    failed = {r.serial: r for r in report.of("failed")}
    assert {s: r.code for s, r in failed.items()} == {
        "SN-000001": "graph.user_type_unknown",
        "SN-000002": "graph.user_type_unknown",
    }
    assert "User.Read.All" in failed["SN-000002"].reason
    assert [r.serial for r in report.of("created")] == ["SN-000003"]
    assert all(d.assigned_to is None for d in basic_app.state.directory.inventory())


def test_user_search_is_a_server_side_startswith(emu: Emu) -> None:
    with emu.client() as client:
        assert [u.id for u in client.find_users("Gra")] == [user_id("grace")]
        assert [u.user_type for u in client.find_users("gus")] == ["Guest"]
        assert client.find_users("race") == []  # a prefix match, not a substring one
