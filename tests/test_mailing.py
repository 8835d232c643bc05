"""``oathdesk.mailing`` against a real SMTP listener (aiosmtpd) on loopback: implicit TLS and
STARTTLS with a login, the relay's certificate checked against the CA given (a relay the CA does
not vouch for is refused before the password is sent), one envelope recipient."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from oathdesk.domain import Secret
from oathdesk.emulator.tls import TlsFiles, ensure_tls
from oathdesk.mailing import MailError, SmtpSettings, send_mail
from tests.delivery.support import _Collect, free_port

PASSWORD = "relay-Pa55word-9"
# the implicit-TLS listener: aiosmtpd warns because it does not see that TLS as TLS
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_tls(tmp_path_factory.mktemp("smtp-tls"), ["127.0.0.1"])


def _server_context(tls: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls.server_cert), str(tls.server_key))
    return context


def _login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"oathdesk",
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest.fixture(params=["tls", "starttls"])
def relay(
    request: pytest.FixtureRequest, tls: TlsFiles
) -> Iterator[tuple[str, int, list[Message]]]:
    box: list[Message] = []
    port = free_port()
    kwargs: dict[str, Any] = {"authenticator": _login, "auth_required": True}
    if request.param == "tls":
        # TLS from the first byte; aiosmtpd 1.4 counts only STARTTLS as TLS for AUTH
        kwargs |= {"ssl_context": _server_context(tls), "auth_require_tls": False}
    else:
        kwargs |= {"tls_context": _server_context(tls), "require_starttls": True}
    controller = Controller(_Collect(box), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield request.param, port, box
    finally:
        controller.stop()


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "it@example.com", "ada@example.com", "hi"
    message.set_content("hello\n")
    return message


def test_a_login_over_tls_or_starttls_delivers(
    relay: tuple[str, int, list[Message]], tls: TlsFiles
) -> None:
    mode, port, box = relay
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=port,
        tls=mode == "tls",
        starttls=mode == "starttls",
        username="oathdesk",
        password=Secret(PASSWORD.encode()),
        ca_file=tls.ca_cert,
        timeout=10,
    )
    send_mail(smtp, _message(), "ada@example.com")
    (got,) = box
    assert (got["X-Rcpt"], got["Subject"]) == ("ada@example.com", "hi")
    assert PASSWORD not in repr(smtp)


def test_a_wrong_password_or_an_unknown_ca_is_refused(
    relay: tuple[str, int, list[Message]], tls: TlsFiles, tmp_path: Path
) -> None:
    mode, port, box = relay
    base = SmtpSettings(
        host="127.0.0.1",
        port=port,
        tls=mode == "tls",
        starttls=mode == "starttls",
        username="oathdesk",
        password=Secret(b"not-the-password"),
        ca_file=tls.ca_cert,
        timeout=10,
    )
    with pytest.raises(MailError) as wrong:
        send_mail(base, _message(), "ada@example.com")
    # refused (535; aiosmtpd may hang up at smtplib's second mechanism): nothing delivered
    assert wrong.value.reason in {"SMTPAuthenticationError", "SMTPServerDisconnected"}
    other = ensure_tls(tmp_path / "other", ["127.0.0.1"])  # a CA that did not sign the relay
    with pytest.raises(MailError) as untrusted:
        send_mail(replace(base, ca_file=other.ca_cert), _message(), "ada@example.com")
    assert untrusted.value.reason == "SSLCertVerificationError"
    assert "not-the-password" not in str(wrong.value) + str(untrusted.value)
    assert box == []
