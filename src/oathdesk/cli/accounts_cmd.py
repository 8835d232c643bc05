"""``oathdesk accounts``: local console accounts for break-glass administrators, and
``oathdesk accounts token``: API tokens for automation (the value is printed once).

The password is read from a file (``--password-file``) or prompted for twice without echo,
never taken as a plain argument, so it stays out of shell history and process listings.
"""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.actions import actor_of, inventory
from oathdesk.cli.options import ConfigOpt, JsonOpt, read_secret_file
from oathdesk.domain import Secret, UsageError
from oathdesk.service.accounts import (
    ROLES,
    AccountView,
    create_account,
    disable_account,
    list_accounts,
    set_roles,
)
from oathdesk.service.api_tokens import (
    DEFAULT_DAYS,
    MAX_DAYS,
    ApiTokenView,
    create_api_token,
    list_api_tokens,
    revoke_api_token_named,
)

app = typer.Typer(
    help="Local console accounts (break-glass administrators): add, list, set roles, disable.",
    no_args_is_help=True,
)

ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--actor", help="Who acts, for the audit log (default cli:<login>).", show_default=False
    ),
]
RoleOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help=f"A role ({', '.join(ROLES)}); repeat for several. None: self-service only.",
        show_default=False,
    ),
]


def _prompt_password() -> Secret:
    first = getpass.getpass("New password: ")
    second = getpass.getpass("Repeat it: ")
    if first != second:
        raise UsageError("The two passwords differ; nothing was changed.", code="usage.mismatch")
    return Secret(first.encode())


def _show(accounts: list[AccountView], as_json: bool) -> None:
    if as_json:
        console.print_json({"accounts": [a.to_dict() for a in accounts]})
        return
    table = Table("name", "roles", "status", "last sign-in")
    for a in accounts:
        table.add_row(
            escape(a.name),
            ", ".join(a.roles) or "(self-service only)",
            "enabled" if a.enabled else "disabled",
            a.last_signin_at or "never",
        )
    console.out.print(table)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Account name (letters, digits, . _ @ -).")],
    role: RoleOpt = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help="File holding the password (else it is prompted for).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a local account (at least 12 characters of password, stored as an argon2 hash)."""
    password = (
        read_secret_file(password_file, "password file") if password_file else _prompt_password()
    )
    with inventory(ctx, config) as inv:
        account = create_account(inv, name, password, list(role or []), actor=actor_of(actor))
    if as_json:
        console.print_json(account.to_dict())
    else:
        console.out.print(f"account [bold]{escape(account.name)}[/] created")


@app.command("list")
def list_command(ctx: typer.Context, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """List the local accounts, their roles and last sign-in (never a password or hash)."""
    with inventory(ctx, config) as inv:
        _show(list_accounts(inv), as_json)


@app.command("roles")
def roles_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Account name.")],
    role: RoleOpt = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace an account's roles with the --role options given (none: self-service only)."""
    with inventory(ctx, config) as inv:
        account = set_roles(inv, name, list(role or []), actor=actor_of(actor))
    _show([account], as_json)


@app.command("disable")
def disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Account name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why; audited.")] = "",
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Disable an account: it cannot sign in and its open sessions end at once."""
    with inventory(ctx, config) as inv:
        account = disable_account(inv, name, actor=actor_of(actor), reason=reason)
    _show([account], as_json)


token_app = typer.Typer(
    help="API tokens for automation (Authorization: Bearer): create, list, revoke.",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")


def _token_rows(tokens: list[ApiTokenView], now: datetime, as_json: bool) -> None:
    if as_json:
        console.print_json({"api_tokens": [t.to_dict(now) for t in tokens]})
        return
    table = Table("id", "name", "roles", "state", "expires", "last used", "created by")
    for t in tokens:
        table.add_row(
            str(t.id),
            escape(t.name),
            ", ".join(t.roles),
            t.state(now),
            t.expires_at.date().isoformat(),
            t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never",
            escape(t.created_by),
        )
    console.out.print(table)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name (letters, digits, . _ -).")],
    role: Annotated[
        list[str],
        typer.Option("--role", help=f"A role the token carries ({', '.join(ROLES)}); repeat."),
    ],
    expires_days: Annotated[
        int, typer.Option("--expires-days", help=f"Days it lives (1 to {MAX_DAYS}).")
    ] = DEFAULT_DAYS,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API token and print its value ONCE: only its SHA-256 is kept."""
    with inventory(ctx, config) as inv:
        value, view = create_api_token(
            inv, name, list(role), actor=actor_of(actor), days=expires_days
        )
        now = inv.now()
    text = value.reveal().decode()
    if as_json:
        console.print_json({**view.to_dict(now), "token": text})
        return
    console.out.print(
        f"API token [bold]{escape(view.name)}[/] created: roles {', '.join(view.roles)}, "
        f"expires {view.expires_at.date().isoformat()}. Store the value now, it is not shown "
        "again:"
    )
    print(text)  # plain, on its own line, so scripts can capture it


@token_app.command("list")
def token_list(ctx: typer.Context, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """List API tokens (never a value): roles, state, expiry, last use."""
    with inventory(ctx, config) as inv:
        tokens, now = list_api_tokens(inv), inv.now()
    _token_rows(tokens, now, as_json)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The token's name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why; audited.")] = "",
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke an API token at once: the next call made with it is refused (401)."""
    with inventory(ctx, config) as inv:
        view = revoke_api_token_named(inv, name, actor=actor_of(actor), reason=reason)
        now = inv.now()
    _token_rows([view], now, as_json)
