"""The demo emulator's HTTPS: a CA a person may trust in a browser, and how to do it.

Why a CA of its own: the Entra sign-in page runs on the emulator's HTTPS, so a browser warns
unless it trusts the emulator's CA. The emulator's usual CA could sign for any name; this one
carries name constraints (only 127.0.0.1, ::1 and localhost), so trusting it cannot let its key
impersonate another site. It is kept across runs (the rest of the demo folder is rebuilt) so
the trust given once stays valid. ``ensure_tls`` reuses a CA it finds and issues the emulator's
certificate from it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shlex
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rich.markup import escape

from oathdesk.cli import console
from oathdesk.cli.demo_walkthrough import write_private
from oathdesk.domain import SystemClock
from oathdesk.domain.clock import utc_now
from oathdesk.emulator.tls import TlsFiles, ensure_tls

FOLDER = "tls"  # in the demo folder, kept when the demo rebuilds it
PERMITTED: list[x509.GeneralName] = [
    x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
    x509.IPAddress(ipaddress.ip_network("::1/128")),
    x509.DNSName("localhost"),
]


def _constrained(ca_file: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
        found = cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    return set(found.permitted_subtrees or []) == set(PERMITTED)


def _make_ca(folder: Path) -> None:
    now = utc_now(SystemClock())  # browsers check validity against their own real time
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oathdesk demo CA (loopback)")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.NameConstraints(PERMITTED, None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in ("server.pem", "server-key.pem"):  # issued by a CA no longer there
        (folder / stale).unlink(missing_ok=True)
    pem = serialization.PrivateFormat.PKCS8
    write_private(
        folder / "ca-key.pem",
        key.private_bytes(serialization.Encoding.PEM, pem, serialization.NoEncryption()),
    )
    (folder / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def demo_tls(folder: Path) -> TlsFiles:
    """The CA (made once, name-constrained) and the emulator's certificate for 127.0.0.1."""
    tls = folder / FOLDER
    if not _constrained(tls / "ca.pem") or not (tls / "ca-key.pem").exists():
        _make_ca(tls)
    return ensure_tls(tls, ["127.0.0.1"])


def announce_ca(ca_file: Path, emulator_url: str) -> None:
    """How a browser comes to trust the emulator's HTTPS."""
    out = console.out
    ca = escape(shlex.quote(str(ca_file)))
    out.print(
        f"Entra sign-in runs on the emulator's HTTPS ({escape(emulator_url)}): accept the "
        "browser's warning once, or trust the demo's CA (kept across runs; it signs only for "
        "127.0.0.1, ::1 and localhost):"
    )
    out.print(f"  CA file       {ca}")
    out.print(
        "  Chrome        [dim]certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n 'oathdesk demo CA' "
        f"-i {ca}[/]  (certutil: apt install libnss3-tools)"
    )
    out.print(
        "  Firefox       Settings > Privacy & Security > Certificates > View Certificates > "
        "Authorities > Import"
    )
    out.print(
        f"  Debian        [dim]sudo cp {ca} /usr/local/share/ca-certificates/oathdesk-demo.crt "
        "&& sudo update-ca-certificates[/]  (curl, Python; browsers keep their own store)"
    )
