"""Local accounts: the use cases, their audit trail, the CLI and the migration that holds them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from oathdesk.bootstrap import database_url
from oathdesk.cli.accounts_cmd import app as accounts_cli
from oathdesk.config import Config
from oathdesk.domain import OathdeskError, Secret
from oathdesk.service import Inventory
from oathdesk.service.accounts import (
    create_account,
    disable_account,
    list_accounts,
    set_roles,
    sign_in,
)
from oathdesk.store import Database, current_revision, downgrade, upgrade
from oathdesk.store.accounts import Account
from oathdesk.store.models import Base
from tests.web.conftest import PASSWORD

GOOD = Secret(PASSWORD.encode())


def test_create_list_roles_disable_and_every_change_is_audited(inv: Inventory) -> None:
    created = create_account(inv, "ada", GOOD, ["auditor", "admin"], actor="cli:root")
    assert created.roles == ("admin", "auditor")  # canonical order
    assert set_roles(inv, "ada", ["helpdesk"], actor="cli:root").roles == ("helpdesk",)
    disabled = disable_account(inv, "ada", actor="cli:root", reason="ticket 7")
    assert not disabled.enabled
    again = disable_account(inv, "ada", actor="cli:root")  # no second audit entry
    assert not again.enabled
    assert [a.name for a in list_accounts(inv)] == ["ada"]
    with inv.uow(write=False) as uow:
        entries = [(e.action, e.subject, e.actor) for e in uow.audit.entries()]
        assert uow.audit.verify().ok
    assert entries == [
        ("account.create", "account:ada", "cli:root"),
        ("account.roles", "account:ada", "cli:root"),
        ("account.disable", "account:ada", "cli:root"),
    ]


@pytest.mark.parametrize(
    ("name", "password", "roles", "code"),
    [
        ("ada", "short", ["admin"], "account.weak_password"),
        ("bad name!", PASSWORD, ["admin"], "account.bad_name"),
        ("ada", PASSWORD, ["root"], "account.bad_role"),
    ],
)
def test_invalid_accounts_are_refused_with_a_stable_code(
    inv: Inventory, name: str, password: str, roles: list[str], code: str
) -> None:
    with pytest.raises(OathdeskError) as caught:
        create_account(inv, name, Secret(password.encode()), roles, actor="t")
    assert caught.value.code == code
    assert password not in str(caught.value)
    assert list_accounts(inv) == []


def test_names_are_unique_and_the_password_is_stored_only_as_argon2(inv: Inventory) -> None:
    create_account(inv, "ada", GOOD, ["admin"], actor="t")
    with pytest.raises(OathdeskError) as caught:
        create_account(inv, "ada", GOOD, [], actor="t")
    assert caught.value.code == "account.exists"
    with inv.uow(write=False) as uow:
        stored = uow.session.scalars(select(Account)).one()
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        assert "argon2" not in repr(stored) and PASSWORD not in repr(stored)
    assert sign_in(inv, "ada", GOOD, address="127.0.0.1").name == "ada"
    with pytest.raises(OathdeskError) as wrong:
        sign_in(inv, "ada", Secret(b"nope nope nope"), address="127.0.0.1")
    assert wrong.value.code == "auth.invalid_credentials"


def test_the_cli_adds_lists_and_disables_with_the_password_from_a_file(
    tmp_path: Path, inv: Inventory
) -> None:
    data = tmp_path / "data"  # the inventory fixture's data folder: same database and keys
    config = tmp_path / "oathdesk.toml"
    config.write_text(f'[data]\ndir = "{data}"\n')
    secret = tmp_path / "pw.txt"
    secret.write_text(PASSWORD + "\n")
    runner = CliRunner()
    base = ["--config", str(config)]
    added = runner.invoke(
        accounts_cli,
        ["add", "breakglass", "--role", "admin", "--password-file", str(secret), "--json", *base],
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["roles"] == ["admin"]
    assert PASSWORD not in added.output
    listed = runner.invoke(accounts_cli, ["list", "--json", *base])
    assert json.loads(listed.output)["accounts"][0]["name"] == "breakglass"
    off = runner.invoke(accounts_cli, ["disable", "breakglass", "--reason", "drill", *base])
    assert off.exit_code == 0 and "disabled" in off.output
    assert not list_accounts(inv)[0].enabled
    with pytest.raises(OathdeskError) as refused:
        sign_in(inv, "breakglass", GOOD, address="127.0.0.1")
    assert refused.value.code == "auth.invalid_credentials"


def test_the_cli_has_no_password_argument(tmp_path: Path) -> None:
    help_text = CliRunner().invoke(accounts_cli, ["add", "--help"]).output
    assert "--password-file" in help_text
    assert "--password " not in help_text and "--password\n" not in help_text


def test_migration_0003_upgrades_downgrades_and_matches_the_models(tmp_path: Path) -> None:
    url = database_url(Config(sections={"data": {"dir": str(tmp_path)}}))
    upgrade(url)
    db = Database(url)
    try:
        assert current_revision(db) == "0010"  # the head, past 0003
        tables = set(inspect(db.engine).get_table_names())
        assert {"accounts", "web_sessions", "signin_throttle"} <= tables
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
        downgrade(db, "0002")
        assert "accounts" not in set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_head")).scalar_one() == 1
        upgrade(db)
        assert current_revision(db) == "0010"  # the head, past 0003
    finally:
        db.dispose()
