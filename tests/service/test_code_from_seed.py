"""Codes made from the sealed seed: the RFC 6238 / RFC 4226 codes, never the same one twice."""

from __future__ import annotations

import pytest

from oathdesk.service import Inventory, import_seeds, push, show_token
from oathdesk.service.errors import ServiceError
from oathdesk.service.lifecycle.from_seed import activate_from_seed, code_from_seed
from tests.service.support import entra_csv, secret_for, serial, totp, upn

WHO = {"actor": "admin:ann", "reason": "from the seed"}


def _code(inv: Inventory, sn: str) -> str:
    with inv.uow() as uow:
        return code_from_seed(inv, uow, uow.tokens.get_for_update(sn))


def test_codes_from_the_seed_are_rfc_6238_codes_and_never_repeat(inv: Inventory) -> None:
    import_seeds(inv, entra_csv("F", 1), "f.csv", actor="admin:ann")
    sn = serial("F", 0)
    first, second = _code(inv, sn), _code(inv, sn)
    secret = secret_for("F", 0)
    window = {totp(secret, step_offset=k) for k in (-1, 0, 1, 2)}  # a step may turn meanwhile
    assert first in window and second in window
    assert first != second  # the second call moves past the step the first one used
    assert totp(secret, step_offset=1) in {first, second} or totp(secret, step_offset=2) in {
        first,
        second,
    }


def test_a_code_from_the_seed_activates_in_entra(inv: Inventory) -> None:
    import_seeds(inv, entra_csv("G", 1), "g.csv", actor="admin:ann")
    push(inv, actor="admin:ann")
    sn = serial("G", 0)
    done = activate_from_seed(inv, sn, user=upn("ada"), **WHO)
    assert (done.token["state"], done.token["user_upn"]) == ("activated", upn("ada"))
    assert "code made from the sealed seed" in done.steps
    (entry,) = [e for e in show_token(inv, sn)["history"] if e["action"] == "token.activate"]
    assert entry["details"]["code"] == "from the sealed seed"
    assert secret_for("G", 0).reveal().hex() not in repr(entry)


def test_no_seed_no_code(inv: Inventory) -> None:
    import_seeds(inv, entra_csv("H", 1), "h.csv", actor="admin:ann")
    sn = serial("H", 0)
    with inv.uow() as uow:
        token = uow.tokens.get_for_update(sn)
        uow.tokens.destroy_seed(token, actor="admin:ann", reason="test")
    with pytest.raises(ServiceError) as caught:
        _code(inv, sn)
    assert caught.value.code == "lifecycle.no_seed"
    assert sn in str(caught.value)
