"""``oathdesk report``: stock, states, activation times, failures, unused and at-risk tokens.

One command for the questions Entra cannot answer; ``--json`` for dashboards and scripts.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.actions import inventory
from oathdesk.cli.options import ConfigOpt, JsonOpt
from oathdesk.service import inventory_report


def _counts(title: str, counts: dict[str, Any]) -> Table:
    table = Table(title, "tokens")
    for key, value in counts.items():
        table.add_row(str(key) or "(none)", str(value))
    return table


def report(
    ctx: typer.Context,
    unused_days: Annotated[
        int, typer.Option("--unused-days", min=1, help="Activated tokens unused this long.")
    ] = 90,
    risk_days: Annotated[
        int,
        typer.Option(
            "--risk-days",
            min=1,
            help="Unused this long: at risk of drifting out of Entra's sign-in window.",
        ),
    ] = 180,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Report on the inventory: counts by state, batch, model and manufacturer; stock age; time
    from import to activation; failed activations; unused and at-risk tokens."""
    with inventory(ctx, config) as inv:
        doc = inventory_report(inv, unused_days=unused_days, risk_days=risk_days)
    if as_json:
        console.print_json(doc)
        return
    out = console.out
    out.print(f"[bold]{doc['total']} token(s)[/] in tenant {doc['tenant']}")
    for key, title in (
        ("by_state", "state"),
        ("by_manufacturer", "manufacturer"),
        ("by_model", "model"),
        ("by_batch", "batch"),
    ):
        out.print(_counts(title, doc[key]))
    stock = doc["unassigned_stock"]
    out.print(
        f"unassigned stock: {stock['count']} (oldest {stock['oldest_days']} days, "
        f"{stock['older_than_90_days']} older than 90 days)"
    )
    times = doc["import_to_activation"]
    out.print(
        f"import to activation: {times['count']} token(s), median {times['median_hours']} h, "
        f"p90 {times['p90_hours']} h"
    )
    failed = doc["failed_activations"]
    out.print(
        f"failed activations: {failed['events']} attempt(s); "
        f"{failed['tokens_now_failed']} token(s) in failed_activation"
    )
    for key, label in (("unused", "not used"), ("at_risk_of_drift", "at risk of drift")):
        part = doc[key]
        out.print(
            f"{label} for {part['days']}+ days: {part['count']}"
            + (f" ({', '.join(part['serials'][:10])}...)" if part["serials"] else "")
        )
