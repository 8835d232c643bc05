"""``oathdesk tokens``: import seed files into the inventory and run each token's lifecycle.

Every command works on the system of record (and Entra, for lifecycle actions), prints a table or
one JSON object with ``--json``, and never prints a seed. Actions need ``--reason``; the actor is
``cli:<login>`` unless ``--actor`` says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from rich.markup import escape
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.actions import ActorOpt, actor_of, inventory
from oathdesk.cli.options import (
    ConfigOpt,
    JsonOpt,
    SeedSource,
    config_from,
    open_options,
    read_bytes,
    seed_file_options,
)
from oathdesk.domain import OathdeskError, SeedFileInvalid, UsageError
from oathdesk.service import (
    TokenFilter,
    TokenState,
    import_seeds,
    list_tokens,
    show_token,
)
from oathdesk.service.queries import TokenPage
from oathdesk.service.token_export import SortKey, SortName

app = typer.Typer(
    help="The token inventory: import seed files, list and show tokens, and assign, activate, "
    "deactivate, unassign, delete, replace or resync them (Entra kept in step).",
    no_args_is_help=True,
)


def _print_problems(exc: SeedFileInvalid) -> None:
    errors = [p for p in exc.problems if p.is_error]
    console.err.print(f"[bold]{len(errors)} error(s) in the file; nothing was imported[/]")
    for p in errors[:50]:
        serial = f" [{escape(p.serial)}]" if p.serial else ""
        console.err.print(f"{escape(p.locator)}{serial} [red]{p.code}[/]: {escape(p.message)}")
    if len(errors) > 50:
        console.err.print(f"... and {len(errors) - 50} more")


@app.command("import")
@seed_file_options
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Seed file (any format; plain, ZIP, PGP).")],
    source: SeedSource,
    skip_conflicts: Annotated[
        bool,
        typer.Option(
            "--skip-conflicts",
            help="Import the other tokens when some serials are already in the inventory "
            "(default: import nothing and list them).",
        ),
    ] = False,
    note: Annotated[str, typer.Option("--note", help="A note kept with the batch.")] = "",
    restrict_to_users: Annotated[
        str | None,
        typer.Option(
            "--restrict-to-users",
            help="Only these users (UPNs, comma-separated) may claim the batch's tokens by "
            "self-service.",
        ),
    ] = None,
    restrict_to_group: Annotated[
        str | None,
        typer.Option(
            "--restrict-to-group",
            help="Only members of this Entra group (object id) may claim the batch's tokens by "
            "self-service.",
        ),
    ] = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a seed file as one batch of tokens in stock: all or nothing.

    The same file twice changes nothing. Serials already in the inventory are conflicts: nothing
    is imported and they are listed (exit 10), unless --skip-conflicts.
    """
    opening = open_options(source, config_from(ctx, config))
    data = read_bytes(file, "seed file")
    with inventory(ctx, config) as inv:
        try:
            report = import_seeds(
                inv,
                data,
                file.name,
                actor=actor_of(actor),
                opening=opening,
                on_conflict="skip" if skip_conflicts else "fail",
                note=note,
                restrict_users=_upns(restrict_to_users),
                restrict_group_id=(restrict_to_group or "").strip() or None,
            )
        except SeedFileInvalid as exc:
            _print_problems(exc)
            raise
        except OathdeskError as exc:
            if exc.code != "inventory.serial_conflict":
                raise
            serials = list(exc.details.get("serials", []))
            if as_json:
                console.print_json({"file_name": file.name, "added": 0, "conflicts": serials})
            else:
                console.err.print(
                    f"{len(serials)} serial(s) already in the inventory or twice "
                    "in the file (run again with --skip-conflicts to import the rest):"
                )
                for chunk in range(0, min(len(serials), 500), 10):
                    console.err.print("  " + escape(" ".join(serials[chunk : chunk + 10])))
            raise
    doc = report.to_dict()
    if as_json:
        console.print_json(doc)
        return
    if report.already_imported:
        console.out.print(
            f"{escape(file.name)} was already imported as batch {report.batch_id}; nothing changed"
        )
        return
    console.out.print(
        f"batch {report.batch_id}: {report.added} token(s) imported from {escape(file.name)} "
        f"({report.format})"
    )
    if report.conflicts:
        console.out.print(
            f"{len(report.conflicts)} serial(s) skipped, already in the inventory: "
            + escape(", ".join(report.conflicts[:20]))
            + (" ..." if len(report.conflicts) > 20 else "")
        )
    for w in report.warnings[:20]:
        console.err.print(
            f"[yellow]warning[/] {escape(str(w.get('locator')))}: {escape(str(w.get('message')))}"
        )


def _upns(value: str | None) -> list[str] | None:
    """``--restrict-to-users a@x,b@y`` as a list; each must look like a UPN."""
    upns = [u.strip() for u in (value or "").split(",") if u.strip()]
    bad = [u for u in upns if "@" not in u]
    if bad:
        raise UsageError(f"--restrict-to-users takes UPNs (name@domain), not {bad[0]!r}.")
    return upns or None


def _states(values: list[str] | None) -> list[TokenState] | None:
    if not values:
        return None
    known = {s.value for s in TokenState}
    bad = [v for v in values if v not in known]
    if bad:
        raise UsageError(f"--state must be one of {', '.join(sorted(known))}, not {bad[0]!r}.")
    return [TokenState(v) for v in values]


# the console inventory's orders (``store.sorting``), each also descending with a leading '-'
SORT_NAMES: tuple[str, ...] = get_args(SortName)
SORT_KEYS: tuple[str, ...] = get_args(SortKey)
SORT_HELP = (
    f"Order by {', '.join(SORT_NAMES[:-1])} or {SORT_NAMES[-1]} (as the console's inventory); "
    "a leading '-' sorts descending, e.g. -last_used."
)


def _sort_key(value: str) -> SortKey:
    if value not in SORT_KEYS:
        raise UsageError(
            f"--sort must be one of {', '.join(SORT_NAMES)}, each with an optional leading '-' "
            f"for descending, not {value!r}."
        )
    return value  # type: ignore[return-value]  # one of SortKey's values, checked above


def _token_table(items: list[dict[str, Any]]) -> Table:
    table = Table(
        "serial", "state", "user", "name", "manufacturer", "model", "batch", "last used", "seed"
    )
    for t in items:
        table.add_row(
            escape(t["serial"]),
            t["state"],
            escape(t["user_upn"] or ""),
            escape(t["display_name"] or ""),
            escape(t["manufacturer"]),
            escape(t["model"]),
            str(t["batch_id"] or ""),
            escape(t["entra_last_used_at"] or "never"),
            "sealed" if t["has_seed"] else "destroyed",
        )
    return table


@app.command("list")
def list_command(
    ctx: typer.Context,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="in_stock, available, assigned, activated... (repeat)"),
    ] = None,
    batch: Annotated[int | None, typer.Option("--batch", help="Import batch id.")] = None,
    manufacturer: Annotated[
        str | None, typer.Option("--manufacturer", help="Only this manufacturer (exact).")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Only this model (exact).")] = None,
    user: Annotated[str | None, typer.Option("--user", help="The holder's UPN.")] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="Serial prefix.")] = None,
    sort: Annotated[str, typer.Option("--sort", help=SORT_HELP)] = "serial",
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="Tokens per page (1 to 1000).")
    ] = 50,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="next_cursor of the previous page.")
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List tokens of the inventory, filtered, one page at a time."""
    order = _sort_key(sort)
    flt = TokenFilter(
        states=_states(state),
        batch_id=batch,
        manufacturer=manufacturer,
        model=model,
        user_upn=user,
        serial_prefix=prefix,
    )
    with inventory(ctx, config) as inv:
        page: TokenPage = list_tokens(
            inv,
            flt,
            sort=order,
            limit=limit,
            cursor=cursor,
            with_total=True,
        )
    if as_json:
        console.print_json(page.to_dict())
        return
    console.out.print(_token_table(page.items))
    console.out.print(f"{len(page.items)} of {page.total} token(s)")
    if page.next_cursor:
        console.out.print(f"next page: --cursor {page.next_cursor}")


@app.command("show")
def show_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="Serial number printed on the token.")],
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one token, its batch and its audited history. Exits 8 if it is not in the inventory."""
    with inventory(ctx, config) as inv:
        doc = show_token(inv, serial)
    if as_json:
        console.print_json(doc)
        return
    table = Table("property", "value", show_header=False)
    for key, value in doc.items():
        if key not in ("history", "batch"):
            table.add_row(key, escape("" if value is None else str(value)))
    console.out.print(table)
    history = Table("seq", "at", "actor", "action", "reason", title="history")
    for e in doc["history"]:
        history.add_row(
            str(e["seq"]), e["at"], escape(e["actor"]), e["action"], escape(e["reason"])
        )
    console.out.print(history)
