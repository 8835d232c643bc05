"""``oathdesk demo``: the whole product on this machine: emulator, inventory, web console,
and the vendor's seed delivery service with a mailbox.

It starts a local Entra emulator over HTTPS, creates a SQLite inventory in the demo folder,
makes a vendor delivery of fresh random seeds (an AES-256 ZIP, as vendors mail them), imports it,
pushes it to the emulator, hands two tokens to emulator users, creates an admin account and
serves the console; beside it, the delivery service with the same tokens as sample orders
(``demo_delivery``). Nothing leaves the machine. The folder is rebuilt on each run, except the
emulator's CA (``demo_tls``), so a browser that trusts it keeps trusting it.
"""

from __future__ import annotations

import json
import secrets
import shlex
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.markup import escape

from oathdesk.bootstrap import build_inventory, upgrade_database
from oathdesk.cli import console, demo_delivery, demo_handout
from oathdesk.cli.demo_tls import FOLDER as TLS_FOLDER
from oathdesk.cli.demo_tls import announce_ca, demo_tls
from oathdesk.cli.demo_walkthrough import oathdesk_command, sample_records, write_private
from oathdesk.config import Config
from oathdesk.containers import wrap_zip
from oathdesk.domain import Secret, SeedRecord, UsageError
from oathdesk.emulator import EmulatorConfig, EmulatorState, RunningEmulator
from oathdesk.emulator.seed import default_seed
from oathdesk.formats import write_seeds
from oathdesk.otp import totp
from oathdesk.service import Inventory, SeedFileOptions, activate, import_seeds, push
from oathdesk.service.accounts import create_account
from oathdesk.service.notify import run_sender

MARKER = ".oathdesk-demo"
PASSWORD_FILE = "delivery-password.txt"  # the deliveries' ZIP password, for ``seeds codes``
CONFIG_FILE = "oathdesk.toml"  # the demo's settings, for the commands it prints
NOTIFY_MAILBOX = Path("notify") / "mailbox"  # the mails to token holders, as .eml files
ACTOR = "demo"


@dataclass(frozen=True)
class DemoLogin:
    url: str
    account: str
    password: str
    delivery: Path
    delivery_password: str
    helpdesk_password: str
    next_delivery: Path
    config_file: Path


def write_config(config: Config, path: Path) -> None:
    """The demo's settings as a TOML file (owner-only: it holds the emulated app's secret), so
    that a printed ``oathdesk … --config FILE`` reaches the demo's inventory and emulator."""
    lines: list[str] = []
    for section, values in config.sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            text = ("true" if value else "false") if isinstance(value, bool) else json.dumps(value)
            lines.append(f"{key} = {text}")
        lines.append("")
    write_private(path, "\n".join(lines).encode())


def _fresh_folder(folder: Path) -> None:
    """Rebuild the demo folder, but never wipe a folder the demo did not make."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise UsageError(
                f"{folder} is not empty and was not made by the demo; choose another with --data.",
                code="usage.demo_folder",
            )
        for child in folder.iterdir():
            if child.name == TLS_FOLDER and child.is_dir() and not child.is_symlink():
                continue  # the CA a browser may trust stays
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / MARKER).write_text("made by oathdesk demo; rebuilt on each run\n")


def _delivery(path: Path, records: list[SeedRecord], password: str) -> bytes:
    """A vendor delivery as vendors mail them: an Entra CSV inside an AES-256 ZIP."""
    data = wrap_zip(
        write_seeds(records, "entra-csv"), f"{path.stem}.csv", Secret(password.encode())
    )
    write_private(path, data)
    return data


@dataclass(frozen=True)
class Stock:
    delivery: Path
    next_delivery: Path
    serials: tuple[list[str], list[str]]  # of each delivery


def _stock(inv: Inventory, folder: Path, password: str, members: list[str]) -> Stock:
    """The first vendor delivery, imported and pushed, two tokens handed to users and activated;
    and a second delivery (serials following the first) left for the administrator to import."""
    records = sample_records(40)
    delivery = folder / "vendor-delivery.zip"
    data = _delivery(delivery, records, password)
    last = int(records[-1].serial)
    following = [
        replace(record, serial=f"{last + 1 + i:08d}") for i, record in enumerate(sample_records(20))
    ]
    next_delivery = folder / "vendor-delivery-2.zip"
    write_private(folder / PASSWORD_FILE, password.encode())
    _delivery(next_delivery, following, password)
    import_seeds(
        inv,
        data,
        delivery.name,
        actor=ACTOR,
        note="demo delivery",
        opening=SeedFileOptions(password=Secret(password.encode())),
    )
    push(inv, actor=ACTOR)
    for record, upn in zip(records[:2], members[:2], strict=False):
        code = totp(record.secret, inv.clock.now(), period=record.period)
        activate(inv, record.serial, code, actor=ACTOR, reason="demo hand-over", user=upn)
    return Stock(
        delivery,
        next_delivery,
        ([r.serial for r in records], [r.serial for r in following]),
    )


def _seed(port: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The emulator's tenant: the Graph app oathdesk writes with, plus a console app for sign-in
    whose app roles make Grace a help desk agent (Ada and Alan are plain users)."""
    seed = default_seed()
    console_app: dict[str, Any] = {
        "clientId": str(uuid.uuid4()),
        "clientSecret": secrets.token_urlsafe(30),
        "displayName": "oathdesk console",
        "roles": [],
        "redirectUris": [f"http://127.0.0.1:{port}/signin/entra/callback"],
    }
    seed["apps"].append(console_app)
    seed["users"] += demo_handout.roster_users(seed["tenant"]["domain"])
    for user in seed["users"]:
        if user["userPrincipalName"].startswith("grace@"):
            user["appRoles"] = {console_app["clientId"]: ["oathdesk.helpdesk"]}
    return seed, console_app


def start(
    folder: Path,
    *,
    port: int,
    emulator_port: int = 0,
    delivery_port: int = 0,
    serve: Callable[[object, int], None],
) -> None:
    """Build the demo in ``folder`` and run ``serve(app, port)`` until it returns; the delivery
    service answers on ``delivery_port`` (0: any free port) meanwhile."""
    # the web stack (FastAPI, Jinja) loads only for the commands that serve it
    from oathdesk.web import create_app
    from oathdesk.web.settings import WebSettings

    folder = folder.absolute()  # the printed commands and the settings file work from anywhere
    _fresh_folder(folder)
    seed, console_app = _seed(port)
    state = EmulatorState.open(folder / "emulator", seed=seed, config=EmulatorConfig())
    tls = demo_tls(folder)
    sock = demo_delivery.bind(delivery_port)
    delivery_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with closing(sock), RunningEmulator(state, tls=tls, port=emulator_port) as emulator:
        app_reg = state.directory.apps[seed["apps"][0]["clientId"]]
        config = Config(
            sections={
                "data": {"dir": str(folder)},
                "graph": {
                    "emulator": emulator.url,
                    "ca_file": str(tls.ca_cert),
                    "tenant_id": state.directory.tenant.id,
                    "client_id": app_reg.client_id,
                    "client_secret": app_reg.client_secret or "",
                },
                "web": {
                    "secure_cookies": False,  # plain HTTP on loopback only
                    # people sign in with their (emulated) Entra accounts, app roles as roles
                    "entra_client_id": console_app["clientId"],
                    "entra_client_secret": console_app["clientSecret"],
                    "entra_authority_host": emulator.url,
                    "entra_redirect_uri": console_app["redirectUris"][0],
                },
                "delivery": demo_delivery.settings_section(folder, delivery_url),
                "notify": notify_section(folder, port),
                "handout": dict(demo_handout.SETTINGS),
                # every store path named, so a command run with --config finds this inventory
                # whatever OATHDESK_DATA_DIR says
                "store": demo_handout.store_section(folder),
            }
        )
        upgrade_database(config)
        write_config(config, folder / CONFIG_FILE)
        inv = build_inventory(config)
        delivery_password = secrets.token_urlsafe(12)
        admin_password = secrets.token_urlsafe(12)
        try:
            rostered = [u["userPrincipalName"] for u in seed["users"][-4:]]
            members = [
                u.user_principal_name
                for u in state.directory.users.values()
                if u.user_type == "Member" and not u.roles and u.user_principal_name not in rostered
            ]
            stock = _stock(inv, folder, delivery_password, members)
            guest = next(
                u.user_principal_name
                for u in state.directory.users.values()
                if u.user_type == "Guest"
            )
            demo_handout.show(folder, folder / CONFIG_FILE, stock.serials[0][2:7], rostered, guest)
            create_account(inv, "admin", Secret(admin_password.encode()), ["admin"], actor=ACTOR)
            helpdesk_password = secrets.token_urlsafe(12)
            create_account(
                inv, "helpdesk", Secret(helpdesk_password.encode()), ["helpdesk"], actor=ACTOR
            )
            login = DemoLogin(
                f"http://127.0.0.1:{port}/",
                "admin",
                admin_password,
                stock.delivery,
                delivery_password,
                helpdesk_password,
                stock.next_delivery,
                (folder / CONFIG_FILE).absolute(),
            )
            dl = demo_delivery.open_delivery(inv, config)
            vendor = demo_delivery.stock(
                dl,
                url=delivery_url,
                domain=state.directory.tenant.domain,
                serials=stock.serials,
                files=(stock.delivery, stock.next_delivery),
                zip_password=delivery_password,
            )
            _announce(login, emulator.url, state)
            demo_delivery.announce(vendor)
            announce_ca(tls.ca_cert, emulator.url)
            console.out.print(
                f"Mails to token holders (hand-over, lost, found) go to {folder / NOTIFY_MAILBOX}."
            )
            console.out.print("Stop with Ctrl-C. Everything stays on this machine.")
            app = create_app(inv, WebSettings.from_config(config))
            with demo_delivery.serving(demo_delivery.delivery_app(dl), sock), sending(inv):
                serve(app, port)
        finally:
            inv.close()


def notify_section(folder: Path, port: int) -> dict[str, Any]:
    """``[notify]`` for the demo: on, every mail to a token holder written as an ``.eml`` file
    into ``notify/mailbox`` (a pickup folder, as the delivery demo's mailbox is)."""
    return {
        "enabled": True,
        "mail_dir": str(folder / NOTIFY_MAILBOX),
        "smtp_from": "it-helpdesk@demo.example",
        "portal_url": f"http://127.0.0.1:{port}/me",
        "helpdesk_contact": "the demo help desk (sign in as helpdesk)",
    }


@contextmanager
def sending(inv: Inventory) -> Iterator[None]:
    """The notification sender in a thread while the demo serves (no cron on a laptop)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_sender, args=(inv, stop), kwargs={"every": 2.0}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _announce(login: DemoLogin, emulator_url: str, state: EmulatorState) -> None:
    out = console.out
    console.rule("oathdesk demo")
    out.print(f"console         [bold]{escape(login.url)}[/]")
    out.print(
        f"sign in as      [bold]{login.account}[/]  password [bold]{escape(login.password)}[/]"
    )
    out.print(
        f"help desk       [bold]helpdesk[/]  password [bold]{escape(login.helpdesk_password)}[/]"
    )
    out.print(
        f"to import       {escape(str(login.next_delivery))}  "
        f"(ZIP password [bold]{escape(login.delivery_password)}[/])"
    )
    out.print(f"Entra emulator  {escape(emulator_url)}  tenant {state.directory.tenant.domain}")
    people = {u.user_principal_name.split("@")[0]: u for u in state.directory.users.values()}
    for who, what in (
        ("alan", "a user without a token: enroll one on My tokens"),
        ("grace", "help desk through an Entra app role"),
    ):
        user = people[who]
        out.print(
            f"Entra sign-in   [bold]{escape(user.user_principal_name)}[/]  password "
            f"[bold]{escape(user.password or '')}[/]  ({what})"
        )
    run = oathdesk_command()
    config = shlex.quote(str(login.config_file))
    codes = (
        f"{run} seeds codes {shlex.quote(str(login.next_delivery))} --password-file "
        f"{shlex.quote(str(login.next_delivery.parent / PASSWORD_FILE))}"
    )
    out.print(f"token codes     [dim]{escape(codes)}[/]  (what each token shows now)")
    out.print(
        f"the inventory   [dim]{escape(f'{run} tokens list --config {config}')}[/]  (any "
        "command with this --config works on the demo's inventory and emulator)"
    )
    out.print(
        f"40 tokens from {escape(login.delivery.name)} are imported and in the emulator, 2 of "
        "them activated by the help desk and 4 handed out from a roster; import "
        f"{escape(login.next_delivery.name)} from the console's Import page."
    )
