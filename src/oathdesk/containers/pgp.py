"""OpenPGP via the real ``gpg``: decrypt with the user's GnuPG home, encrypt in a throw-away one.

Why ``gpg`` (via python-gnupg) rather than a pure-Python library: vendors' keys and messages are
made with GnuPG, and the private key usually already lives in a GnuPG home. ``gpg`` reports what
happened as ``[GNUPG:]`` status lines; we read those (never the translated text) to tell "no
secret key" from "bad passphrase" from "corrupt data". The passphrase goes to gpg through a pipe
with loopback pinentry, never on a command line, and gpg never opens a pinentry window.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import gnupg

from oathdesk.containers.options import UnwrapOptions, output_limit
from oathdesk.containers.pgp_signature import PgpSignature, refuse_bad, signatures_of
from oathdesk.domain import ArchiveError, ContainerError, DecryptionError, InputFileError, Secret
from oathdesk.domain.wording import clause

PGP_SUFFIXES = (".pgp", ".gpg", ".asc")
_OPTIONS = ["--pinentry-mode", "loopback"]
_GPG_ERR_BAD_PASSPHRASE = 11
_GPG_ERR_NO_SECKEY = 17


def _gpg_binary() -> str:
    path = shutil.which("gpg")
    if path is None:
        raise ContainerError(
            "GnuPG 2 (gpg) is not installed or not on PATH; install it (Debian: apt-get install "
            "gnupg) to open or make PGP files.",
            code="container.gpg_missing",
        )
    return path


class _Gpg(gnupg.GPG):  # type: ignore[misc]
    """python-gnupg that remembers its process, so output over the cap can stop gpg at once."""

    process: subprocess.Popen[bytes] | None = None

    def _open_subprocess(self, args: list[str], passphrase: bool = False) -> Any:
        self.process = super()._open_subprocess(args, passphrase)
        return self.process


def _make_gpg(home: Path) -> _Gpg:
    binary = _gpg_binary()
    try:
        gpg = _Gpg(
            gpgbinary=binary, gnupghome=str(home), options=list(_OPTIONS), encoding="latin-1"
        )
    except (OSError, ValueError) as exc:
        raise ContainerError(
            f"GnuPG (gpg) could not be started with GnuPG home {home} ({exc}).",
            code="container.gpg_failed",
        ) from None
    gpg.buffer_size = 64 * 1024
    return gpg


class _CappedSink:
    """Collects gpg's output; past the cap it drops the rest and kills gpg (a compression bomb)."""

    def __init__(self, gpg: _Gpg, limit: int) -> None:
        self.gpg, self.limit = gpg, limit
        self.total = 0
        self.over = False
        self.chunks: list[bytes] = []

    def __call__(self, chunk: bytes) -> bool:
        self.total += len(chunk)
        if self.total > self.limit:
            if not self.over and self.gpg.process is not None:
                self.gpg.process.kill()
            self.over = True
        elif chunk:
            self.chunks.append(chunk)
        return False  # python-gnupg keeps nothing; we hold the one copy


def _status(stderr: str) -> list[tuple[str, str]]:
    lines = []
    for line in stderr.splitlines():
        if line.startswith("[GNUPG:] "):
            keyword, _, value = line[9:].strip().partition(" ")
            lines.append((keyword, value))
    return lines


def _error_code(value: str) -> int | None:
    """The gpg-error code (low 16 bits) of an ``ERROR <where> <code>`` status value."""
    tail = value.rsplit(" ", 1)[-1]
    head = tail.split("_", 1)[0]
    return int(head) & 0xFFFF if head.isdigit() else None


def _passphrase_text(secret: Secret | None, name: str) -> str | None:
    if secret is None or not secret:
        return None
    raw = secret.reveal()
    if any(c in raw for c in b"\r\n\0"):
        raise DecryptionError(
            "The PGP passphrase holds a line break or NUL byte, which gpg cannot take; check the "
            "passphrase file (one line).",
            code="container.wrong_pgp_passphrase",
            details={"file": name},
        )
    return raw.decode("latin-1")  # gpg is driven in latin-1, so the bytes go through unchanged


def plain_name(name: str, status: list[tuple[str, str]]) -> str:
    """The input name minus .pgp/.gpg/.asc, else the name stored in the message, else the name."""
    for suffix in PGP_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    for keyword, value in status:
        if keyword == "PLAINTEXT":
            parts = value.split(" ", 2)
            stored = unquote(parts[2]) if len(parts) == 3 else ""
            if stored and stored != "_CONSOLE":
                return stored.replace("\\", "/").rsplit("/", 1)[-1]
    return name


def decrypt_pgp(
    data: bytes, name: str, options: UnwrapOptions
) -> tuple[bytes, str, list[PgpSignature]]:
    """The plaintext, its name and the message's signatures (none when it is not signed).

    Every failure is a coded error that says what to do. gpg exits non-zero for a signature it
    cannot check; the decryption itself is judged by its own status lines, so a signed message
    opens whoever signed it, and the signature is reported (``pgp_signature``).
    """
    home = options.gpg_home
    if home is None:
        raise DecryptionError(
            f"{name} is PGP-encrypted; name the GnuPG home that holds the private key.",
            code="container.gpg_home_required",
            details={"file": name},
        )
    home = home.expanduser()
    if not home.is_dir():
        raise DecryptionError(
            f"The GnuPG home {home} does not exist or is not a folder.",
            code="container.gpg_home_not_found",
            details={"file": name, "gpg_home": str(home)},
        )
    passphrase = _passphrase_text(options.pgp_passphrase, name)
    gpg = _make_gpg(home)
    sink = _CappedSink(gpg, output_limit(options, len(data)))
    gpg.on_data = sink
    details: dict[str, Any] = {"file": name, "gpg_home": str(home)}
    try:
        result = gpg.decrypt(data, passphrase=passphrase)
    except OSError as exc:  # the pipe to gpg broke: we killed it (bomb) or it died
        if not sink.over:
            raise ContainerError(
                f"{name}: gpg stopped unexpectedly ({exc.strerror or exc}).",
                code="container.gpg_failed",
                details=details,
            ) from None
        result = None
    if sink.over or result is None:
        raise ArchiveError(
            f"{name}: the PGP message expands past {sink.limit} bytes; this looks like a "
            "compression bomb.",
            code="container.too_large",
            details={**details, "cap": sink.limit},
        )
    status = _status(result.stderr or "")
    keywords = {k for k, _ in status}
    signatures = signatures_of(status)
    decrypted = "DECRYPTION_OKAY" in keywords and "DECRYPTION_FAILED" not in keywords
    if decrypted and ((result.returncode == 0 and result.ok) or signatures):
        refuse_bad(signatures, name, details)
        return b"".join(sink.chunks), plain_name(name, status), signatures
    raise _failure(name, result.stderr or "", passphrase is not None, details)


def _failure(
    name: str, stderr: str, had_passphrase: bool, details: dict[str, Any]
) -> ContainerError:
    status = _status(stderr)
    keywords = {k for k, _ in status}
    codes = {_error_code(v) for k, v in status if k == "ERROR"}
    missing = [v.split(" ", 1)[0] for k, v in status if k == "NO_SECKEY"]
    if missing and "DECRYPTION_KEY" not in keywords:
        return DecryptionError(
            f"{name} is encrypted to key id {', '.join(missing)}, and the GnuPG home "
            f"{details['gpg_home']} has no secret key for it; import that private key or use the "
            "GnuPG home that holds it.",
            code="container.pgp_key_missing",
            details={**details, "key_ids": missing},
        )
    if "BAD_PASSPHRASE" in keywords or _GPG_ERR_BAD_PASSPHRASE in codes:
        if not had_passphrase:
            return _passphrase_required(name, details)
        return DecryptionError(
            f"{name}: wrong passphrase for the PGP private key.",
            code="container.wrong_pgp_passphrase",
            details=details,
        )
    if keywords & {"NEED_PASSPHRASE", "NEED_PASSPHRASE_SYM"} and not had_passphrase:
        return _passphrase_required(name, details)
    if _GPG_ERR_NO_SECKEY in codes:
        return DecryptionError(
            f"{name}: the GnuPG home {details['gpg_home']} has no usable secret key for this "
            "message.",
            code="container.pgp_key_missing",
            details={**details, "key_ids": []},
        )
    if any(k == "ERROR" and v.startswith("pkdecrypt_failed") for k, v in status):
        return ContainerError(
            f"{name}: gpg found the secret key in {details['gpg_home']} but could not use it: "
            f"{clause(_gpg_says(stderr) or 'no reason given')}.",
            code="container.gpg_failed",
            details=details,
        )
    if "BEGIN_DECRYPTION" in keywords:
        return ArchiveError(
            f"{name}: the PGP message is damaged or was altered (decryption failed after the "
            "key was found).",
            code="container.corrupt",
            details={**details, "envelope": "pgp"},
        )
    if keywords & {"ENC_TO", "NEED_PASSPHRASE", "NEED_PASSPHRASE_SYM"}:
        # The message was understood but gpg could not use the key (agent, smartcard...).
        return ContainerError(
            f"{name}: gpg could not decrypt with the GnuPG home {details['gpg_home']}: "
            f"{clause(_gpg_says(stderr) or 'no reason given')}.",
            code="container.gpg_failed",
            details=details,
        )
    return ArchiveError(
        f"{name}: no valid OpenPGP message found; the file is damaged or is not PGP data.",
        code="container.corrupt",
        details={**details, "envelope": "pgp"},
    )


def _gpg_says(stderr: str) -> str:
    """gpg's own last words (its human lines carry no secrets), for the cases we cannot name."""
    said = [line[5:].strip() for line in stderr.splitlines() if line.startswith("gpg: ")]
    failures = [line for line in said if "failed" in line]
    return "; ".join(failures) if failures else (said[-1] if said else "")


def _passphrase_required(name: str, details: dict[str, Any]) -> DecryptionError:
    return DecryptionError(
        f"{name}: the PGP key (or message) is protected by a passphrase; give the PGP passphrase.",
        code="container.pgp_passphrase_required",
        details=details,
    )


def _stop_agent(home: Path) -> None:
    """Stop a gpg-agent a throw-away home may have started, so none outlives its folder."""
    gpgconf = shutil.which("gpgconf")
    if gpgconf is None or not any(home.glob("S.gpg-agent*")):
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            [gpgconf, "--homedir", str(home), "--kill", "all"],
            capture_output=True,
            timeout=10,
            check=False,
        )


def encrypt_pgp(data: bytes, public_key_file: Path, *, armor: bool = True) -> bytes:
    """Encrypt to every public key in the file, in a throw-away GnuPG home (always-trust)."""
    try:
        key_data = public_key_file.read_bytes()
    except OSError as exc:
        raise InputFileError(
            f"{public_key_file}: cannot read the public key file ({exc.strerror or exc}).",
            code="file.unreadable",
        ) from None
    _gpg_binary()
    home = Path(tempfile.mkdtemp(prefix="oathdesk-gpg-"))
    try:
        gpg = _make_gpg(home)
        imported = gpg.import_keys(key_data)
        fingerprints = list(dict.fromkeys(f for f in imported.fingerprints if f))
        if not fingerprints:
            raise ContainerError(
                f"{public_key_file}: no OpenPGP public key found in this file; export the "
                "recipient's key with 'gpg --export --armor KEYID'.",
                code="container.pgp_key_invalid",
            )
        result = gpg.encrypt(data, fingerprints, armor=armor, always_trust=True)
        if not result.ok:
            raise ContainerError(
                f"{public_key_file}: gpg cannot encrypt to this key ({result.status or 'failed'});"
                " it may be expired, revoked or a signing-only key.",
                code="container.pgp_key_unusable",
                details={"fingerprints": fingerprints},
            )
        return bytes(result.data)
    finally:
        _stop_agent(home)
        shutil.rmtree(home, ignore_errors=True)
