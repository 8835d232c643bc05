"""The demo's emulator CA: name-constrained to loopback, kept when the demo rebuilds its folder
(so a browser told to trust it keeps trusting it), and TLS to 127.0.0.1 verifies against it;
a delivery port in use is refused before anything starts."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509

from oathdesk.cli.demo_console import MARKER, _fresh_folder
from oathdesk.cli.demo_delivery import bind
from oathdesk.cli.demo_tls import PERMITTED, demo_tls
from oathdesk.domain import UsageError


def test_the_ca_is_constrained_to_loopback_and_kept_across_runs(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    _fresh_folder(folder)
    first = demo_tls(folder)
    ca = x509.load_pem_x509_certificate(first.ca_cert.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical and set(constraints.value.permitted_subtrees or []) == set(
        PERMITTED
    )
    (folder / "oathdesk.db").write_text("the last run's inventory")
    (folder / "emulator").mkdir()
    _fresh_folder(folder)  # the next run
    assert sorted(p.name for p in folder.iterdir()) == sorted([MARKER, "tls"])
    again = demo_tls(folder)
    assert again.ca_cert.read_bytes() == first.ca_cert.read_bytes()


def test_an_unconstrained_ca_is_replaced(tmp_path: Path) -> None:
    from oathdesk.emulator.tls import ensure_tls

    made = ensure_tls(tmp_path / "tls", ["127.0.0.1"])  # the emulator's usual CA: any name
    old = made.ca_cert.read_bytes()
    files = demo_tls(tmp_path)
    assert files.ca_cert.read_bytes() != old
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.NameConstraints)


def test_tls_to_loopback_verifies_against_the_demo_ca(tmp_path: Path) -> None:
    files = demo_tls(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files.server_cert, files.server_key)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def accept() -> None:
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

        thread = threading.Thread(target=accept)
        thread.start()
        client_ctx = ssl.create_default_context(cafile=str(files.ca_cert))
        with (
            socket.create_connection(listener.getsockname()) as raw,
            client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.getpeercert()  # verified: chain and name constraints hold
            tls.sendall(b"x")
        thread.join(timeout=10)


def test_a_delivery_port_in_use_is_refused() -> None:
    taken = bind(0)
    try:
        with pytest.raises(UsageError) as caught:
            bind(taken.getsockname()[1])
        assert caught.value.code == "usage.demo_port"
        assert "--delivery-port" in caught.value.message
    finally:
        taken.close()


def _issue(ca_folder: Path, name: x509.GeneralName) -> x509.Certificate:
    """A server certificate for ``name`` signed with the demo CA's key (as a thief could)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca = x509.load_pem_x509_certificate((ca_folder / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key(
        (ca_folder / "ca-key.pem").read_bytes(), password=None
    )
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    start = ca.not_valid_before_utc + dt.timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "server")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([name]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def test_the_ca_cannot_vouch_for_another_site(tmp_path: Path) -> None:
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    files = demo_tls(tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    at = ca.not_valid_before_utc + dt.timedelta(days=2)
    policy = PolicyBuilder().store(Store([ca])).time(at)
    loopback = _issue(files.ca_cert.parent, x509.DNSName("localhost"))
    policy.build_server_verifier(x509.DNSName("localhost")).verify(loopback, [])
    elsewhere = _issue(files.ca_cert.parent, x509.DNSName("bank.example"))
    with pytest.raises(VerificationError):
        policy.build_server_verifier(x509.DNSName("bank.example")).verify(elsewhere, [])
