"""Signed and encrypted PGP seed files (issue 18): they open, and the signature is reported.

gpg exits 2 when it cannot check a signature (the signer's public key is unknown), which used
to make such a file fail as ``container.corrupt``. Messages are made by the real gpg CLI in
throw-away GnuPG homes: a vendor home that signs, a customer home that decrypts.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from oathdesk.containers import UnwrapOptions, unwrap
from oathdesk.containers.pgp_signature import refuse_bad, signatures_of
from oathdesk.domain import ArchiveError
from oathdesk.service.seedfile import SeedFileOptions, open_seed_file
from tests.containers.conftest import SEEDS_CSV, gen_key, run, stop_agent

VENDOR = "Vendor Signing <signing@vendor.example>"
CUSTOMER = "Customer <it@customer.example>"


@dataclass(frozen=True)
class Homes:
    vendor: Path  # signs; knows the customer's public key
    customer: Path  # decrypts; does not know the vendor's key
    trusting: Path  # the customer's key and the vendor's public key
    vendor_key_id: str  # long key id of the vendor's signing key

    def gpg(self, home: Path, *args: str | Path, stdin: bytes | None = None) -> bytes:
        return run(["gpg", "--homedir", home, "--batch", "--yes", *args], stdin=stdin)


def _home(root: Path) -> Path:
    root.mkdir(mode=0o700)
    return root


def make_homes(base: Path) -> Homes:
    """A vendor that signs, a customer that decrypts, and the customer trusting the vendor."""
    vendor, customer = _home(base / "vendor"), _home(base / "customer")
    gen_key(vendor, VENDOR, "")
    gen_key(customer, CUSTOMER, "")
    customer_public = run(["gpg", "--homedir", customer, "--armor", "--export", "it@"])
    run(["gpg", "--homedir", vendor, "--batch", "--import"], stdin=customer_public)
    trusting = base / "trusting"
    shutil.copytree(customer, trusting, ignore=shutil.ignore_patterns("S.*"))
    vendor_public = run(["gpg", "--homedir", vendor, "--armor", "--export", "signing@"])
    run(["gpg", "--homedir", trusting, "--batch", "--import"], stdin=vendor_public)
    listing = run(["gpg", "--homedir", vendor, "--with-colons", "-k", "signing@"]).decode()
    key_id = next(line.split(":")[4] for line in listing.splitlines() if line[:4] == "pub:")
    return Homes(vendor, customer, trusting, key_id)


def stop_homes(base: Path) -> None:
    for name in ("vendor", "customer", "trusting"):
        if (base / name).is_dir():
            stop_agent(base / name)


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homes]:
    base = tmp_path_factory.mktemp("signed")
    try:
        yield make_homes(base)
    finally:
        stop_homes(base)


def signed_message(homes: Homes, tmp_path: Path, *, armor: bool = False) -> bytes:
    plain = tmp_path / "seeds.csv"
    plain.write_bytes(SEEDS_CSV)
    out = tmp_path / ("seeds.csv.asc" if armor else "seeds.csv.gpg")
    flags = ["--armor"] if armor else []
    homes.gpg(
        homes.vendor,
        "--always-trust",
        *flags,
        "--local-user",
        "signing@vendor.example",
        "--sign",
        "--encrypt",
        "--recipient",
        "it@customer.example",
        "--output",
        out,
        plain,
    )
    return out.read_bytes()


def test_signed_by_an_unknown_key_opens_and_names_the_signer(homes: Homes, tmp_path: Path) -> None:
    data = signed_message(homes, tmp_path)
    opened = unwrap(data, "seeds.csv.gpg", UnwrapOptions(gpg_home=homes.customer))
    assert (opened.data, opened.name, opened.layers) == (SEEDS_CSV, "seeds.csv", ["pgp"])
    [signature] = opened.signatures
    assert signature.status == "unknown_signer" and not signature.checked
    assert signature.key_id == homes.vendor_key_id.upper()
    assert signature.signer is None
    described = signature.describe()
    assert homes.vendor_key_id.upper() in described
    assert "import the vendor's public key" in described


def test_signed_by_a_known_key_is_reported_valid(homes: Homes, tmp_path: Path) -> None:
    data = signed_message(homes, tmp_path, armor=True)
    opened = open_seed_file(data, "seeds.csv.asc", SeedFileOptions(gpg_home=homes.trusting))
    assert [r.serial for r in opened.records] == ["20250001", "20250002"]
    [signature] = opened.signatures
    assert signature.status == "valid" and signature.checked
    assert signature.key_id == homes.vendor_key_id.upper()
    assert signature.signer == VENDOR
    assert signature.fingerprint is not None and signature.fingerprint.endswith(signature.key_id)
    assert signature.trust == "undefined"  # imported, never certified
    assert "good signature" in signature.describe()


def test_an_unsigned_message_has_no_signature(homes: Homes, tmp_path: Path) -> None:
    plain = tmp_path / "seeds.csv"
    plain.write_bytes(SEEDS_CSV)
    out = tmp_path / "seeds.csv.gpg"
    homes.gpg(homes.vendor, "--always-trust", "-e", "-r", "it@customer.example", "-o", out, plain)
    opened = unwrap(out.read_bytes(), out.name, UnwrapOptions(gpg_home=homes.customer))
    assert opened.data == SEEDS_CSV and opened.signatures == []


def test_a_bad_signature_is_refused() -> None:
    # gpg's status lines for a signature that does not match (made by hand: a message whose
    # signature fails but whose encryption still checks out cannot be produced with gpg alone)
    status = [
        ("NEWSIG", ""),
        ("BADSIG", "FBC13EEB66391A7D Vendor Signing <signing@vendor.example>"),
    ]
    [signature] = signatures_of(status)
    assert (signature.status, signature.key_id) == ("bad", "FBC13EEB66391A7D")
    with pytest.raises(ArchiveError) as caught:
        refuse_bad([signature], "seeds.csv.gpg", {"file": "seeds.csv.gpg"})
    assert caught.value.code == "container.pgp_bad_signature"
    assert "ask the vendor for a new file" in caught.value.message


def test_two_signatures_are_both_reported() -> None:
    status = [
        ("NEWSIG", ""),
        ("ERRSIG", "1111222233334444 22 10 00 1796314998 9 -"),
        ("NO_PUBKEY", "1111222233334444"),
        ("NEWSIG", ""),
        ("GOODSIG", "AAAABBBBCCCCDDDD Known%20Signer"),
        ("VALIDSIG", "F" * 24 + "AAAABBBBCCCCDDDD 2026-12-03 1 0 4 0 22 10 00 " + "E" * 40),
        ("TRUST_FULLY", "0 pgp"),
    ]
    first, second = signatures_of(status)
    assert (first.status, first.key_id, first.fingerprint) == (
        "unknown_signer",
        "1111222233334444",
        None,
    )
    assert (second.status, second.signer, second.trust) == ("valid", "Known Signer", "full")
    assert second.fingerprint == "F" * 24 + "AAAABBBBCCCCDDDD"
