"""The delivery use cases end to end on SQLite and PostgreSQL, with a real SMTP listener."""

from __future__ import annotations

import io
import zipfile

import pytest
import pyzipper
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from oathdesk.containers import UnwrapOptions, unwrap
from oathdesk.delivery import (
    Delivery,
    DeliveryError,
    approve,
    confirm,
    download,
    find_order,
    get_request,
    list_requests,
    load,
    open_link,
    purge_expired,
    reject,
    verify_audit,
    verify_possession,
)
from oathdesk.domain import FixedClock, Secret
from oathdesk.formats import FORMAT_IDS, ReadOptions, read_seeds
from oathdesk.otp import totp
from oathdesk.store import DeliveryAuditEntry, DeliveryRequest
from tests.delivery import support
from tests.delivery.helpers import LAYOUT, ask, verified_visit

ADDRESS = "192.0.2.7"


def codes_match(data: bytes, name: str, fmt: str, serials: list[str], at: float) -> None:
    """oathdesk's own reader gets every token back with the codes the real token shows."""
    options = ReadOptions(profile=LAYOUT.profile()) if fmt == "custom-csv" else None
    result = read_seeds(data, name, fmt if fmt in ("custom-csv", "duo-csv") else None, options)
    assert not result.errors, result.problems
    assert result.format == fmt
    assert sorted(r.serial for r in result.records) == sorted(serials)
    for record in result.records:
        expected = totp(support.secret_of(record.serial), at)
        assert totp(record.secret, at, period=record.period, digits=record.digits) == expected


def test_load_reports_and_refuses_duplicates(dl: Delivery) -> None:
    seeds = support.seed_file()
    result = load(dl, seeds, "seeds.csv", support.manifest_csv(), "orders.csv", actor="local:v")
    assert result.to_dict() == {
        "customers": 1,
        "orders": 1,
        "shipments": 2,
        "tokens": 5,
        "unused": 1,
    }
    with pytest.raises(DeliveryError) as again:
        load(dl, seeds, "seeds.csv", support.manifest_csv(), "orders.csv", actor="local:v")
    assert again.value.code in {"delivery.exists", "delivery.serial_conflict"}
    stray = support.manifest_csv() + b"Contoso,contoso.example,M,PO-7,,SH-7,NOPE1\n"
    with pytest.raises(DeliveryError) as missing:
        load(dl, seeds, "seeds.csv", stray, "orders.csv", actor="local:v")
    assert missing.value.code == "delivery.bad_manifest"


def test_each_number_finds_the_order_and_a_wrong_email_looks_unknown(loaded: Delivery) -> None:
    for number in ("PO-1001", "INV-2001", "SH-2"):
        token, visit = find_order(loaded, number, "Buyer@Contoso.example", address=ADDRESS)
        assert visit.order.po_number == "PO-1001" and len(token) > 30
        assert [s.number for s in visit.order.shipments] == ["SH-1", "SH-2"]
    answers = []
    for number, mail in (("PO-1001", "x@fabrikam.example"), ("PO-4040", "x@contoso.example")):
        with pytest.raises(DeliveryError) as refused:
            find_order(loaded, number, mail, address=ADDRESS)
        answers.append((refused.value.code, refused.value.message, refused.value.details))
    assert answers[0] == answers[1]
    assert answers[0][0] == "delivery.order_not_found"


def test_enumeration_across_order_numbers_is_throttled_and_logged(loaded: Delivery) -> None:
    for n in range(loaded.settings.find.address_failures):
        with pytest.raises(DeliveryError) as miss:
            find_order(loaded, f"PO-{5000 + n}", "x@contoso.example", address=ADDRESS)
        assert miss.value.code == "delivery.order_not_found"
    with pytest.raises(DeliveryError) as locked:
        find_order(loaded, "PO-1001", "it@contoso.example", address=ADDRESS)
    assert locked.value.code == "delivery.throttled"
    assert locked.value.details["retry_after"] > 0
    # another address is not locked out by this one
    find_order(loaded, "PO-1001", "it@contoso.example", address="198.51.100.1")
    with loaded.uow(write=False) as uow:
        actions = uow.session.scalars(select(DeliveryAuditEntry.action)).all()
    assert actions.count("delivery.find_failed") == loaded.settings.find.address_failures
    assert "delivery.find_throttled" in actions
    assert isinstance(loaded.inv.clock, FixedClock)
    loaded.inv.clock.advance(16 * 60)
    find_order(loaded, "PO-1001", "it@contoso.example", address=ADDRESS)


def test_possession_needs_a_serial_of_that_shipment(loaded: Delivery) -> None:
    _token, visit = find_order(loaded, "PO-1001", "it@contoso.example", address=ADDRESS)
    ids = {s.number: s.id for s in visit.order.shipments}
    with pytest.raises(DeliveryError) as wrong:
        verify_possession(loaded, visit, {ids["SH-1"]: "AC000201"}, address=ADDRESS)
    assert wrong.value.code == "delivery.serial_mismatch"
    with pytest.raises(DeliveryError) as foreign:
        verify_possession(loaded, visit, {99999: "ZZ000901"}, address=ADDRESS)
    assert foreign.value.code == "delivery.serial_mismatch"
    done = verify_possession(loaded, visit, {ids["SH-1"]: "AC000102"}, address=ADDRESS)
    assert done.verified == (ids["SH-1"],)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"password": "short1!A"}, "delivery.weak_password"),
        ({"password": "alllowercaseletters"}, "delivery.weak_password"),
        ({"password": "Contoso-PO-1001-ok!"}, "delivery.weak_password"),
        ({"password": None}, "delivery.password_missing"),
        ({"encryption": "pgp", "key": None}, "delivery.pgp_key_missing"),
        ({"encryption": "pgp", "key": "not a key"}, "delivery.pgp_key_invalid"),
        ({"fmt": "nope"}, "delivery.invalid_format"),
        ({"packaging": "sometimes"}, "delivery.invalid_packaging"),
    ],
)
def test_request_choices_are_checked(
    loaded: Delivery, changes: dict[str, object], code: str
) -> None:
    with pytest.raises(DeliveryError) as refused:
        ask(loaded, **changes)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert "/tmp" not in refused.value.message
    assert list_requests(loaded) == []


def test_unverified_shipment_is_refused(loaded: Delivery) -> None:
    from oathdesk.delivery import RequestSpec, create_request

    visit = verified_visit(loaded, ("SH-1",))
    spec = RequestSpec(
        shipment_ids=tuple(s.id for s in visit.order.shipments),
        packaging="combined",
        format="entra-csv",
        encryption="password",
        password=Secret(support.STRONG.encode()),
    )
    with pytest.raises(DeliveryError) as refused:
        create_request(loaded, visit, spec)
    assert refused.value.code == "delivery.not_verified"


def test_password_flow_mail_link_download_confirm(
    loaded: Delivery, mailbox: support.Mailbox
) -> None:
    request_id = ask(loaded)
    with loaded.uow(write=False) as uow:
        row = uow.session.get(DeliveryRequest, request_id)
        assert row is not None and row.sealed_password is not None
        assert support.STRONG.encode() not in row.sealed_password
        assert support.STRONG not in (row.password_hash or "")
        dump = uow.session.execute(text("SELECT * FROM delivery_requests")).all()
    assert support.STRONG not in repr(dump)
    view = approve(loaded, request_id, actor="local:dora")
    assert view.state == "sent" and len(view.files) == 1
    with loaded.uow(write=False) as uow:
        row = uow.session.get(DeliveryRequest, request_id)
        assert row is not None and row.sealed_password is None  # built: the password is gone
    assert mailbox.messages[-1]["X-Rcpt"] == "it@contoso.example"
    (token,) = mailbox.links()
    link = open_link(loaded, token)
    assert link.needs_password and link.file_name.endswith(".zip")
    with pytest.raises(DeliveryError) as wrong:
        download(loaded, token, Secret(b"Not-the-Password-1"), address=ADDRESS)
    assert wrong.value.code == "delivery.wrong_password"
    got = download(loaded, token, Secret(support.STRONG.encode()), address=ADDRESS)
    data, name = got.data, got.file_name
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(support.STRONG.encode())
        (member,) = archive.namelist()
        plain = archive.read(member)
    with pytest.raises(RuntimeError), zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.read(member)  # encrypted: no password, no content
    serials = support.SHIPMENTS["SH-1"] + support.SHIPMENTS["SH-2"]
    codes_match(plain, member, "entra-csv", serials, loaded.inv.clock.now())
    assert support.stored(loaded) == 1
    with loaded.uow(write=False) as uow:  # sealed: the customer's ZIP is not in the row as is
        (kept,) = uow.delivery_requests.files(request_id)
        assert kept.sealed_data is not None and data[:4] not in kept.sealed_data
        assert data[-64:] not in kept.sealed_data
    assert confirm(loaded, token, receipt=got.receipt, address=ADDRESS) == name
    assert support.stored(loaded) == 0
    assert get_request(loaded, request_id).state == "confirmed"
    for attempt in (
        lambda: download(loaded, token, Secret(support.STRONG.encode()), address=ADDRESS),
        lambda: open_link(loaded, token),
        lambda: confirm(loaded, token, receipt=got.receipt, address=ADDRESS),
    ):
        with pytest.raises(DeliveryError) as replay:
            attempt()
        assert replay.value.code == "delivery.link_gone"
    assert verify_audit(loaded).ok


@pytest.mark.parametrize("fmt", FORMAT_IDS)
def test_every_format_reads_back_with_the_same_codes(
    loaded: Delivery, mailbox: support.Mailbox, fmt: str
) -> None:
    request_id = ask(loaded, fmt=fmt, packaging="per_shipment")
    view = approve(loaded, request_id, actor="local:dora")
    assert [f.label for f in view.files] == ["SH-1", "SH-2"]
    tokens = mailbox.links()
    assert len(tokens) == 2
    for token, shipment in zip(tokens, ("SH-1", "SH-2"), strict=True):
        got = download(loaded, token, Secret(support.STRONG.encode()), address=ADDRESS)
        data, name = got.data, got.file_name
        opened = unwrap(data, name, UnwrapOptions(password=Secret(support.STRONG.encode())))
        assert opened.layers == ["zip-aes"]
        codes_match(opened.data, opened.name, fmt, support.SHIPMENTS[shipment], 1_790_000_000)


def test_pgp_and_both_open_with_the_customers_real_key(
    loaded: Delivery, mailbox: support.Mailbox, customer_key: support.CustomerKey
) -> None:
    serials = support.SHIPMENTS["SH-1"] + support.SHIPMENTS["SH-2"]
    only_pgp = ask(loaded, fmt="pskc", encryption="pgp", password=None, key=customer_key.public)
    approve(loaded, only_pgp, actor="local:dora")
    (token,) = mailbox.links()
    assert not open_link(loaded, token).needs_password
    got = download(loaded, token, None, address=ADDRESS)
    data, name = got.data, got.file_name
    assert data.startswith(b"-----BEGIN PGP MESSAGE-----") and name.endswith(".xml.asc")
    codes_match(customer_key.decrypt(data), "seeds.xml", "pskc", serials, 1_790_000_000)

    both = ask(loaded, fmt="otpauth", encryption="both", key=customer_key.public)
    approve(loaded, both, actor="local:dora")
    (token,) = mailbox.links()
    assert open_link(loaded, token).needs_password
    got = download(loaded, token, Secret(support.STRONG.encode()), address=ADDRESS)
    data, name = got.data, got.file_name
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(support.STRONG.encode())
        (member,) = archive.namelist()
        inner = archive.read(member)
    assert member.endswith(".txt.asc") and inner.startswith(b"-----BEGIN PGP MESSAGE-----")
    codes_match(customer_key.decrypt(inner), "seeds.txt", "otpauth", serials, 1_790_000_000)
    opened = unwrap(
        data,
        name,
        UnwrapOptions(password=Secret(support.STRONG.encode()), gpg_home=customer_key.home),
    )
    assert opened.layers == ["zip-aes", "pgp"]


def test_custom_layout_is_written_as_built(loaded: Delivery, mailbox: support.Mailbox) -> None:
    approve(loaded, ask(loaded, fmt="custom-csv", shipments=("SH-2",)), actor="local:dora")
    (token,) = mailbox.links()
    got = download(loaded, token, Secret(support.STRONG.encode()), address=ADDRESS)
    data, name = got.data, got.file_name
    plain = unwrap(data, name, UnwrapOptions(password=Secret(support.STRONG.encode()))).data
    lines = plain.decode().splitlines()
    assert len(lines) == 2  # header row off
    serial, key, vendor, step = lines[0].split(",")
    assert serial == "AC000201" and vendor == "Acme" and step == "30"
    import base64

    assert base64.b64decode(key) == support.secret_of("AC000201").reveal()


def test_expired_links_are_refused_and_purged(loaded: Delivery, mailbox: support.Mailbox) -> None:
    first = ask(loaded)
    approve(loaded, first, actor="local:dora")
    (token_a,) = mailbox.links()
    second = ask(loaded, shipments=("SH-2",))
    approve(loaded, second, actor="local:dora")
    (token_b,) = mailbox.links()
    assert support.stored(loaded) == 2
    assert isinstance(loaded.inv.clock, FixedClock)
    loaded.inv.clock.advance(2 * 86400 + 1)
    with pytest.raises(DeliveryError) as late:
        download(loaded, token_a, Secret(support.STRONG.encode()), address=ADDRESS)
    assert late.value.code == "delivery.link_gone"
    assert support.stored(loaded) == 1  # deleted when opened late
    find_order(loaded, "PO-1001", "it@contoso.example", address=ADDRESS)  # a visit left open
    loaded.inv.clock.advance(3600)
    assert purge_expired(loaded, actor="local:cron") == 1
    assert support.stored(loaded) == 0
    with loaded.uow(write=False) as uow:
        assert uow.session.execute(text("SELECT count(*) FROM delivery_visits")).scalar() == 0
    assert purge_expired(loaded, actor="local:cron") == 0
    assert get_request(loaded, first).state == "expired"
    with pytest.raises(DeliveryError) as replay:
        open_link(loaded, token_b)
    assert replay.value.code == "delivery.link_gone"


def test_reject_needs_a_reason_and_ends_the_request(loaded: Delivery) -> None:
    request_id = ask(loaded)
    with pytest.raises(DeliveryError) as bare:
        reject(loaded, request_id, "  ", actor="local:dora")
    assert bare.value.code == "delivery.reason_required"
    view = reject(loaded, request_id, "order not paid yet", actor="local:dora")
    assert (view.state, view.reason, view.decided_by) == (
        "rejected",
        "order not paid yet",
        "local:dora",
    )
    with loaded.uow(write=False) as uow:
        row = uow.session.get(DeliveryRequest, request_id)
        assert row is not None and row.sealed_password is None
    with pytest.raises(DeliveryError) as twice:
        approve(loaded, request_id, actor="local:dora")
    assert twice.value.code == "delivery.state_conflict"
    with pytest.raises(DeliveryError) as again:
        reject(loaded, request_id, "again", actor="local:dora")
    assert again.value.code == "delivery.state_conflict"
    assert [r.id for r in list_requests(loaded, "rejected")] == [request_id]
    assert list_requests(loaded, "pending") == []


def test_mail_failure_keeps_the_file_and_approve_resends(
    loaded: Delivery, mailbox: support.Mailbox
) -> None:
    from dataclasses import replace

    request_id = ask(loaded)
    broken = Delivery(
        loaded.inv,
        replace(loaded.settings, smtp=replace(loaded.settings.smtp, port=support.free_port())),
    )
    with pytest.raises(DeliveryError) as failed:
        approve(broken, request_id, actor="local:dora")
    assert failed.value.code == "delivery.mail_failed"
    assert get_request(loaded, request_id).state == "mail_failed"
    assert mailbox.messages == []
    view = approve(loaded, request_id, actor="local:dora")
    assert view.state == "sent" and len(view.files) == 1
    (token,) = mailbox.links()
    got = download(loaded, token, Secret(support.STRONG.encode()), address=ADDRESS)
    assert got.data.startswith(b"PK\x03\x04")


def test_wrong_passwords_lock_the_link(loaded: Delivery, mailbox: support.Mailbox) -> None:
    approve(loaded, ask(loaded), actor="local:dora")
    (token,) = mailbox.links()
    for _ in range(loaded.settings.password_attempts):
        with pytest.raises(DeliveryError):
            download(loaded, token, Secret(b"Wrong-Password-99"), address=ADDRESS)
    with pytest.raises(DeliveryError) as locked:
        download(loaded, token, Secret(support.STRONG.encode()), address=ADDRESS)
    assert locked.value.code == "delivery.link_forbidden"


def test_audit_chain_covers_every_step_and_detects_tampering(
    loaded: Delivery, mailbox: support.Mailbox
) -> None:
    request_id = ask(loaded)
    approve(loaded, request_id, actor="local:dora")
    (token,) = mailbox.links()
    got = download(loaded, token, Secret(support.STRONG.encode()), address=ADDRESS)
    confirm(loaded, token, receipt=got.receipt, address=ADDRESS)
    with loaded.uow(write=False) as uow:
        actions = uow.session.scalars(
            select(DeliveryAuditEntry.action).order_by(DeliveryAuditEntry.seq)
        ).all()
    for step in (
        "delivery.order_loaded",
        "delivery.order_found",
        "delivery.possession_verified",
        "delivery.request_created",
        "delivery.file_built",
        "delivery.request_approved",
        "delivery.mail_sent",
        "delivery.downloaded",
        "delivery.confirmed",
    ):
        assert step in actions, step
    report = verify_audit(loaded)
    assert report.ok and report.checked == len(actions)
    edit = update(DeliveryAuditEntry).where(DeliveryAuditEntry.seq == 3).values(actor="someone")
    for change in (edit, delete(DeliveryAuditEntry).where(DeliveryAuditEntry.seq == 3)):
        with pytest.raises(DBAPIError) as refused, loaded.uow() as uow:
            uow.session.execute(change)
        assert "append-only" in str(refused.value)  # the database itself says no
    assert verify_audit(loaded).ok
    support.tamper(loaded.inv.db, edit)  # as the database owner would, triggers dropped first
    broken = verify_audit(loaded)
    assert (broken.ok, broken.checked, broken.seq, broken.problem) == (False, 2, 3, "altered")


def test_no_seed_or_password_in_logs_mail_or_views(
    loaded: Delivery, mailbox: support.Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    import base64
    import logging

    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryError):
        find_order(loaded, "PO-1001", "x@wrong.example", address=ADDRESS)
    request_id = ask(loaded, fmt="oath-csv")
    view = approve(loaded, request_id, actor="local:dora")
    (token,) = mailbox.links()
    download(loaded, token, Secret(support.STRONG.encode()), address=ADDRESS)
    with loaded.uow(write=False) as uow:
        audit = " ".join(
            f"{e.actor} {e.subject} {e.reason} {e.details}"
            for e in uow.session.scalars(select(DeliveryAuditEntry))
        )
    haystack = "\n".join([caplog.text, audit, str(mailbox.messages[-1]), repr(view), repr(loaded)])
    assert "order look-up failed" in caplog.text  # the watch saw something
    assert support.STRONG not in haystack
    for serial in support.SHIPMENTS["SH-1"] + support.SHIPMENTS["SH-2"]:
        raw = support.secret_of(serial).reveal()
        for form in (
            raw.hex(),
            base64.b32encode(raw).decode().rstrip("="),
            base64.b64encode(raw).decode(),
        ):
            assert form.lower() not in haystack.lower(), serial


def test_two_reviewers_approving_at_once_build_and_mail_once(
    loaded: Delivery, mailbox: support.Mailbox
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    request_id = ask(loaded)

    def attempt(name: str) -> str:
        try:
            approve(loaded, request_id, actor=f"local:{name}")
        except DeliveryError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, ["dora", "dan"]))
    assert outcomes == ["delivery.state_conflict", "ok"]
    assert len(mailbox.messages) == 1
    assert support.stored(loaded) == 1
    assert get_request(loaded, request_id).state == "sent"
