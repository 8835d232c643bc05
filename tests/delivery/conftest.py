"""Delivery fixtures: SQLite AND PostgreSQL (``db_url``, tests/backends.py), a real loopback SMTP
server, a real GnuPG key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.delivery import Delivery, DeliverySettings, SmtpSettings, load
from oathdesk.domain import FixedClock, Secret
from oathdesk.service import Inventory
from oathdesk.store import upgrade
from tests.delivery import support


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_790_000_000.0)


@pytest.fixture
def inv(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Inventory]:
    upgrade(db_url)
    config = Config(sections={"data": {"dir": str(tmp_path / "data")}, "store": {"url": db_url}})
    inventory = build_inventory(config, clock=clock)
    yield inventory
    inventory.close()


@pytest.fixture(scope="session")
def smtp() -> Iterator[support.Mailbox]:
    controller, box = support.start_smtp()
    yield box
    controller.stop()


@pytest.fixture
def mailbox(smtp: support.Mailbox) -> support.Mailbox:
    smtp.messages.clear()
    return smtp


@pytest.fixture
def dl(inv: Inventory, tmp_path: Path, mailbox: support.Mailbox) -> Delivery:
    settings = DeliverySettings(
        secret_key=Secret(b"d" * 32),
        base_url="https://delivery.test",
        link_lifetime=timedelta(days=2),
        smtp=SmtpSettings(host="127.0.0.1", port=mailbox.port, sender="seeds@vendor.example"),
    )
    service = Delivery(inv, settings)
    service.prepare()
    return service


@pytest.fixture
def loaded(dl: Delivery) -> Delivery:
    seeds = support.seed_file()
    load(dl, seeds, "seeds.csv", support.manifest_csv(), "orders.csv", actor="local:vendor")
    load(dl, seeds, "seeds.csv", support.manifest_json(), "orders.json", actor="local:vendor")
    return dl


@pytest.fixture(scope="session")
def customer_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[support.CustomerKey]:
    home = tmp_path_factory.mktemp("gpg")
    key = support.make_key(home)
    yield key
    support.stop_agent(home)


# -- the web app over the suite's real TLS uvicorn (tests/web/conftest.py's server) -----------
from tests.web.conftest import Server, new_client, server, tls  # noqa: E402

__all__ = ["server", "tls"]
TEAM = {"dora": ["delivery"], "ada": ["admin"], "hal": ["helpdesk"], "aud": ["auditor"], "joe": []}


@pytest.fixture
def team(inv: Inventory) -> dict[str, list[str]]:
    from oathdesk.service.accounts import create_account
    from tests.web.conftest import PASSWORD

    for name, roles in TEAM.items():
        create_account(inv, name, Secret(PASSWORD.encode()), roles, actor="test")
    return TEAM


@pytest.fixture
def web_url(server: Server, loaded: Delivery, team: dict[str, list[str]]) -> Iterator[str]:
    from oathdesk.delivery.web_app import create_delivery_app

    server.holder.app = create_delivery_app(loaded)
    yield server.url
    server.holder.app = None


@pytest.fixture
def web(web_url: str, server: Server) -> Iterator[httpx.Client]:
    with new_client(web_url, server) as client:
        yield client
