"""``oathdesk delivery load|requests|approve|purge-expired|audit verify`` through Typer, on both
databases. The commands run in-process on an injected clock, so links expire without waiting."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from oathdesk.cli.context import CliContext
from oathdesk.cli.delivery_cmd import app, delivery
from oathdesk.cli.main import main
from oathdesk.config import load_config
from oathdesk.delivery import DeliveryError, get_request
from oathdesk.domain import FixedClock, OathdeskError, Secret
from oathdesk.store import Database, DeliveryAuditEntry, DeliveryAuditHead, upgrade
from tests.delivery import support
from tests.delivery.helpers import ask


@dataclass
class Cli:
    """``oathdesk delivery`` commands run in-process with this run context (its clock)."""

    context: CliContext

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.context.clock, FixedClock)
        return self.context.clock

    def run(self, *args: str) -> str:
        result = CliRunner().invoke(app, list(args), obj=self.context, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout


@pytest.fixture
def cli(clock: FixedClock) -> Cli:
    """Every ``oathdesk delivery`` command of the test opens its inventory on ``clock``."""
    return Cli(CliContext(clock=clock))


@pytest.fixture
def config_file(db_url: str, tmp_path: Path, mailbox: support.Mailbox) -> Path:
    upgrade(db_url)
    path = tmp_path / "oathdesk.toml"
    path.write_text(
        f'[data]\ndir = "{tmp_path / "data"}"\n'
        f'[store]\nurl = "{db_url}"\n'
        "[delivery]\n"
        'base_url = "https://seeds.vendor.example"\n'
        "link_hours = 24\n"
        f"smtp_port = {mailbox.port}\n"
        'smtp_from = "seeds@vendor.example"\n'
    )
    (tmp_path / "seeds.csv").write_bytes(support.seed_file())
    (tmp_path / "orders.csv").write_bytes(support.manifest_csv())
    (tmp_path / "orders.json").write_bytes(support.manifest_json())
    return path


def test_load_requests_approve_purge(config_file: Path, mailbox: support.Mailbox, cli: Cli) -> None:
    folder = config_file.parent
    cfg = ["--config", str(config_file)]
    loaded = json.loads(
        cli.run("load", str(folder / "seeds.csv"), str(folder / "orders.csv"), *cfg, "--json")
    )
    assert loaded == {"customers": 1, "orders": 1, "shipments": 2, "tokens": 5, "unused": 1}
    text = cli.run("load", str(folder / "seeds.csv"), str(folder / "orders.json"), *cfg)
    assert "loaded 1 order(s), 1 shipment(s), 1 token(s)" in text
    with pytest.raises(DeliveryError) as twice:
        cli.run("load", str(folder / "seeds.csv"), str(folder / "orders.json"), *cfg)
    assert twice.value.code in {"delivery.exists", "delivery.serial_conflict"}

    with delivery(config_file, cli.context) as dl:
        request_id = ask(dl)
    pending = json.loads(cli.run("requests", "--state", "pending", *cfg, "--json"))["requests"]
    assert [(r["id"], r["state"], r["order"]) for r in pending] == [
        (request_id, "pending", "PO-1001")
    ]
    assert "PO-1001" in cli.run("requests", *cfg)

    approved = json.loads(
        cli.run("approve", str(request_id), *cfg, "--actor", "cli:dora", "--json")
    )
    assert approved["state"] == "sent" and approved["decided_by"] == "cli:dora"
    (token,) = mailbox.links()
    assert "https://seeds.vendor.example/d/" in str(mailbox.messages[-1].get_payload())
    with delivery(config_file, cli.context) as dl:
        assert support.stored(dl) == 1
    sent = json.loads(cli.run("requests", "--state", "sent", *cfg, "--json"))["requests"]
    assert [r["id"] for r in sent] == [request_id]

    assert json.loads(cli.run("purge-expired", *cfg, "--json")) == {"deleted": 0}  # not yet
    cli.clock.advance(24 * 3600 + 1)  # past the link lifetime
    assert json.loads(cli.run("purge-expired", *cfg, "--json")) == {"deleted": 1}
    with delivery(config_file, cli.context) as dl:
        assert support.stored(dl) == 0
    assert "deleted 0 expired file(s)" in cli.run("purge-expired", *cfg)
    with delivery(config_file, cli.context) as dl:
        assert get_request(dl, request_id).state == "expired"
        from oathdesk.delivery import download

        with pytest.raises(DeliveryError) as late:
            download(dl, token, Secret(support.STRONG.encode()), address="127.0.0.1")
        assert late.value.code == "delivery.link_gone"


def test_audit_verify_reports_the_chain_and_exits_9_when_it_is_broken(
    config_file: Path, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = config_file.parent
    cfg = ["--config", str(config_file)]
    cli.run("load", str(folder / "seeds.csv"), str(folder / "orders.csv"), *cfg)
    cli.run("load", str(folder / "seeds.csv"), str(folder / "orders.json"), *cfg)
    assert "delivery audit chain intact: 2 entries verified" in cli.run("audit", "verify", *cfg)
    report = json.loads(cli.run("audit", "verify", *cfg, "--json"))
    assert report["ok"] and report["checked"] == 2 and report["head_seq"] == 2
    db = Database(load_config(config_file).get("store", "url"))
    try:
        change = update(DeliveryAuditEntry).where(DeliveryAuditEntry.seq == 2)
        support.tamper(db, change.values(subject="order:PO-9999"))
    finally:
        db.dispose()
    capsys.readouterr()
    assert main(["delivery", "audit", "verify", *cfg]) == 9
    out, err = capsys.readouterr()
    assert "delivery audit chain broken" in out and "entry 2" in out
    assert "store.audit_broken" in err


def test_commands_refuse_a_database_without_the_delivery_tables(
    db_url: str, tmp_path: Path
) -> None:
    upgrade(db_url, "0005")  # the inventory as it was before the delivery tables joined it
    path = tmp_path / "oathdesk.toml"
    path.write_text(f'[data]\ndir = "{tmp_path / "data"}"\n[store]\nurl = "{db_url}"\n')
    with pytest.raises(OathdeskError) as refused, delivery(path):
        pass
    assert refused.value.code == "service.not_migrated"
    assert "oathdesk db upgrade" in refused.value.message


def test_bad_state_is_a_usage_error(config_file: Path) -> None:
    result = CliRunner().invoke(app, ["requests", "--state", "lost", "--config", str(config_file)])
    assert result.exit_code != 0
    assert result.exception is not None and "--state must be one of" in str(result.exception)


def test_serve_answers_the_customer_page(config_file: Path) -> None:
    import subprocess
    import sys

    import httpx

    port = support.free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from oathdesk.cli.delivery_cmd import app; app()",
            "serve",
            "--port",
            str(port),
            "--config",
            str(config_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/order", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "delivery serve did not start"
                time.sleep(0.2)
        assert page.status_code == 200 and "Find your order" in page.text
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    finally:
        process.terminate()
        process.communicate(timeout=15)


def test_audit_checkpoint_anchors_the_delivery_chain_against_a_cut_off_end(
    config_file: Path, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = config_file.parent
    cfg = ["--config", str(config_file)]
    cli.run("load", str(folder / "seeds.csv"), str(folder / "orders.csv"), *cfg)
    cli.run("load", str(folder / "seeds.csv"), str(folder / "orders.json"), *cfg)
    made = json.loads(cli.run("audit", "checkpoint", *cfg, "--json"))
    assert made["chain"] == "delivery" and made["seq"] == 2
    assert "checkpoint at entry 2 holds" in cli.run("audit", "verify", *cfg)
    db = Database(load_config(config_file).get("store", "url"))
    try:
        support.tamper(db, delete(DeliveryAuditEntry).where(DeliveryAuditEntry.seq == 2))
        with db.engine.begin() as conn:
            first = conn.execute(select(DeliveryAuditEntry.hash).where(DeliveryAuditEntry.seq == 1))
            conn.execute(update(DeliveryAuditHead).values(seq=1, hash=first.scalar_one()))
    finally:
        db.dispose()
    capsys.readouterr()
    assert main(["delivery", "audit", "verify", *cfg]) == 9
    out, err = capsys.readouterr()
    assert "delivery audit chain broken" in out and "entries were removed" in out
    assert "store.audit_broken" in err
