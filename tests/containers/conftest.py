"""Independent producers for the container tests: Debian's 7z, zip and unzip, and the gpg CLI.

Keys are made once per session in temporary GnuPG homes (ed25519/cv25519, fast); each home's
gpg-agent caches no passphrase (so a wrong passphrase is always tried) and is stopped at the end.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

SEEDS_CSV = (
    b"serial,secret,timeinterval,manufacturer,model\n"
    b"20250001,JBSWY3DPEHPK3PXP,30,Token2,C202\n"
    b"20250002,KRSXG5CTMVRXEZLU,30,Token2,C202\n"
)
ZIP_PASSWORD = "Zip-Pa55 word"
KEY_PASSPHRASE = "correct horse battery"


def run(cmd: Sequence[str | Path], cwd: Path | None = None, stdin: bytes | None = None) -> bytes:
    """Run a tool, fail the test with its stderr if it fails, return its stdout."""
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, input=stdin, capture_output=True, check=False, timeout=120
    )
    if done.returncode != 0:
        pytest.fail(f"{cmd[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    return done.stdout


def tool_fails(cmd: Sequence[str | Path], cwd: Path | None = None) -> bool:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, check=False, timeout=120
    )
    return done.returncode != 0


@dataclass(frozen=True)
class GpgKeys:
    """Homes and keys: ``home`` holds "plain" (no passphrase) and "guarded" (a passphrase)."""

    home: Path  # the user's GnuPG home in the tests
    foreign_home: Path  # a home whose key ``home`` does not have
    plain: str  # e-mail of the key without passphrase
    guarded: str  # e-mail of the key with KEY_PASSPHRASE
    foreign: str
    foreign_subkey_id: str  # the long key id a message to ``foreign`` names
    signing_only: str  # a key in foreign_home that cannot encrypt

    def gpg(self, *args: str | Path, home: Path | None = None, stdin: bytes | None = None) -> bytes:
        base: list[str | Path] = ["gpg", "--homedir", home or self.home, "--batch", "--yes"]
        return run([*base, "--pinentry-mode", "loopback", *args], stdin=stdin)

    def export(self, email: str, path: Path, *, home: Path | None = None) -> Path:
        path.write_bytes(self.gpg("--armor", "--export", email, home=home or self.home))
        return path


def _new_home(root: Path) -> Path:
    root.chmod(0o700)
    (root / "gpg-agent.conf").write_text("default-cache-ttl 0\nmax-cache-ttl 0\n")
    return root


def gen_key(
    home: Path, uid: str, passphrase: str, algo: str = "future-default", usage: str = "default"
) -> None:
    loopback = ["--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase]
    run(["gpg", "--homedir", home, *loopback, "--quick-gen-key", uid, algo, usage, "never"])


def stop_agent(home: Path) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, timeout=30
    )


@pytest.fixture(scope="session")
def gpg_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpgKeys]:
    home = _new_home(tmp_path_factory.mktemp("gh"))
    foreign_home = _new_home(tmp_path_factory.mktemp("gf"))
    try:
        gen_key(home, "Plain Vendor Key <plain@example.org>", "")
        gen_key(home, "Guarded Key <guarded@example.org>", KEY_PASSPHRASE)
        gen_key(foreign_home, "Foreign Key <foreign@example.org>", "")
        gen_key(foreign_home, "Signer <signer@example.org>", "", "ed25519", "sign")
        listing = run(["gpg", "--homedir", foreign_home, "--with-colons", "-k", "foreign@"])
        subkey = next(
            line.split(":")[4] for line in listing.decode().splitlines() if line.startswith("sub:")
        )
        yield GpgKeys(
            home=home,
            foreign_home=foreign_home,
            plain="plain@example.org",
            guarded="guarded@example.org",
            foreign="foreign@example.org",
            foreign_subkey_id=subkey,
            signing_only="signer@example.org",
        )
    finally:
        stop_agent(home)
        stop_agent(foreign_home)


@pytest.fixture
def seeds_file(tmp_path: Path) -> Path:
    path = tmp_path / "seeds.csv"
    path.write_bytes(SEEDS_CSV)
    return path


@pytest.fixture(scope="session", autouse=True)
def _need_tools() -> None:
    """Fail loudly (never skip) when an independent producer is missing."""
    missing = [t for t in ("7z", "zip", "unzip", "gpg", "gpgconf") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"tools needed by the container tests are missing: {', '.join(missing)}")
