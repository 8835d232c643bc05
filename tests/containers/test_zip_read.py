"""Reading ZIPs made by independent producers (7z, zip, stdlib zipfile), and every failure code."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
import pyzipper
from hypothesis import given
from hypothesis import strategies as st

from oathdesk.containers import UnwrapOptions, unwrap
from oathdesk.containers.zipread import choose_member
from oathdesk.domain import ArchiveError, ContainerError, DecryptionError, Secret
from tests.containers.conftest import SEEDS_CSV, ZIP_PASSWORD, run

PW = Secret(ZIP_PASSWORD.encode())


def stdlib_zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def seven_zip(tmp_path: Path, seeds_file: Path, *flags: str) -> bytes:
    out = tmp_path / "delivery.zip"
    run(["7z", "a", "-tzip", *flags, out, seeds_file.name], cwd=seeds_file.parent)
    return out.read_bytes()


def info_zip(tmp_path: Path, seeds_file: Path, *flags: str) -> bytes:
    out = tmp_path / "delivery.zip"
    run(["zip", "-q", *flags, out, seeds_file.name], cwd=seeds_file.parent)
    return out.read_bytes()


def data_start(archive: bytes | bytearray) -> int:
    """Where the first member's data begins, after its local header (30 bytes, name, extra)."""
    name_length, extra_length = struct.unpack_from("<HH", archive, 26)
    return 30 + int(name_length) + int(extra_length)


def error_of(data: bytes, options: UnwrapOptions, name: str = "delivery.zip") -> ContainerError:
    """The container error unwrapping raises (a decryption or an archive error)."""
    with pytest.raises(ContainerError) as caught:
        unwrap(data, name, options)
    assert isinstance(caught.value, ArchiveError | DecryptionError)
    return caught.value


# -- reading what others made ---------------------------------------------------------------
def test_7z_winzip_aes256_is_read(tmp_path: Path, seeds_file: Path) -> None:
    data = seven_zip(tmp_path, seeds_file, "-mem=AES256", f"-p{ZIP_PASSWORD}")
    opened = unwrap(data, "delivery.zip", UnwrapOptions(password=PW))
    assert (opened.data, opened.name, opened.layers) == (SEEDS_CSV, "seeds.csv", ["zip-aes"])


def test_7z_zipcrypto_is_read(tmp_path: Path, seeds_file: Path) -> None:
    data = seven_zip(tmp_path, seeds_file, "-mem=ZipCrypto", f"-p{ZIP_PASSWORD}")
    opened = unwrap(data, "delivery.zip", UnwrapOptions(password=PW))
    assert (opened.data, opened.layers) == (SEEDS_CSV, ["zip-zipcrypto"])


def test_info_zip_zipcrypto_is_read(tmp_path: Path, seeds_file: Path) -> None:
    data = info_zip(tmp_path, seeds_file, "-P", ZIP_PASSWORD)
    opened = unwrap(data, "delivery.zip", UnwrapOptions(password=PW))
    assert (opened.data, opened.name, opened.layers) == (SEEDS_CSV, "seeds.csv", ["zip-zipcrypto"])


def test_unencrypted_zip_needs_no_password(tmp_path: Path, seeds_file: Path) -> None:
    data = info_zip(tmp_path, seeds_file)
    opened = unwrap(data, "delivery.zip", UnwrapOptions())
    assert (opened.data, opened.layers) == (SEEDS_CSV, ["zip"])


def test_member_in_a_folder_keeps_its_path() -> None:
    data = stdlib_zip({"order-42/": b"", "order-42/seeds.csv": SEEDS_CSV})
    assert unwrap(data, "d.zip", UnwrapOptions()).name == "order-42/seeds.csv"


def test_stored_member_is_read() -> None:
    data = stdlib_zip({"seeds.csv": SEEDS_CSV}, zipfile.ZIP_STORED)
    assert unwrap(data, "d.zip", UnwrapOptions()).data == SEEDS_CSV


# -- passwords ------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["-mem=AES256", "-mem=ZipCrypto"])
def test_encrypted_zip_without_password_asks_for_one(
    tmp_path: Path, seeds_file: Path, method: str
) -> None:
    data = seven_zip(tmp_path, seeds_file, method, f"-p{ZIP_PASSWORD}")
    error = error_of(data, UnwrapOptions())
    assert error.code == "container.password_required"
    assert "delivery.zip" in error.message and "seeds.csv" in error.message


def test_wrong_password_aes(tmp_path: Path, seeds_file: Path) -> None:
    data = seven_zip(tmp_path, seeds_file, "-mem=AES256", f"-p{ZIP_PASSWORD}")
    error = error_of(data, UnwrapOptions(password=Secret(b"Guess-123")))
    assert error.code == "container.wrong_password"
    assert "seeds.csv" in error.message and "Guess-123" not in error.message
    assert "Guess-123" not in repr(error.to_dict())


def test_wrong_passwords_zipcrypto_all_refused(tmp_path: Path, seeds_file: Path) -> None:
    """ZipCrypto's single check byte admits 1 wrong password in 256: those must fail too."""
    data = info_zip(tmp_path, seeds_file, "-P", ZIP_PASSWORD)
    for n in range(300):
        guess = f"guess-{n}".encode()
        error = error_of(data, UnwrapOptions(password=Secret(guess)))
        assert error.code == "container.wrong_password", (guess, error.code)
        assert guess.decode() not in error.message


def test_password_is_used_byte_for_byte(tmp_path: Path, seeds_file: Path) -> None:
    data = info_zip(tmp_path, seeds_file, "-P", ZIP_PASSWORD)
    error = error_of(data, UnwrapOptions(password=Secret(ZIP_PASSWORD.encode() + b"\n")))
    assert error.code == "container.wrong_password"


# -- damaged archives -----------------------------------------------------------------------
def test_truncated_archive_is_corrupt(tmp_path: Path, seeds_file: Path) -> None:
    data = info_zip(tmp_path, seeds_file)
    error = error_of(data[: len(data) // 2], UnwrapOptions())
    assert error.code == "container.corrupt" and "delivery.zip" in error.message
    assert error.details["envelope"] == "zip"


def test_zip_magic_followed_by_garbage_is_corrupt() -> None:
    error = error_of(b"PK\x03\x04" + bytes(range(256)) * 4, UnwrapOptions())
    assert error.code == "container.corrupt"


def test_flipped_byte_in_deflated_data_is_corrupt() -> None:
    data = bytearray(stdlib_zip({"seeds.csv": SEEDS_CSV * 50}))
    data[data_start(data) + 10] ^= 0x55  # inside the deflate stream of the only member
    error = error_of(bytes(data), UnwrapOptions())
    assert error.code == "container.corrupt" and "seeds.csv" in error.message


def test_flipped_byte_in_aes_data_fails_its_hmac(tmp_path: Path, seeds_file: Path) -> None:
    data = bytearray(seven_zip(tmp_path, seeds_file, "-mem=AES256", f"-p{ZIP_PASSWORD}"))
    data[data_start(data) + 16 + 2 + 5] ^= 0x01  # past the salt and the password verifier
    error = error_of(bytes(data), UnwrapOptions(password=PW))
    assert error.code == "container.corrupt"


def test_unsupported_compression_is_named(tmp_path: Path, seeds_file: Path) -> None:
    seeds_file.write_bytes(SEEDS_CSV * 100)  # big enough that zip does not fall back to storing
    data = info_zip(tmp_path, seeds_file, "-Z", "bzip2")
    error = error_of(data, UnwrapOptions())
    assert error.code == "container.unsupported" and "BZip2" in error.message


# -- which member is the seed file ----------------------------------------------------------
def test_several_seed_files_are_refused_with_their_names() -> None:
    data = stdlib_zip({"batch-1.csv": SEEDS_CSV, "batch-2.csv": SEEDS_CSV})
    error = error_of(data, UnwrapOptions())
    assert error.code == "container.multiple_files"
    assert error.details["candidates"] == ["batch-1.csv", "batch-2.csv"]
    assert "batch-1.csv" in error.message and "batch-2.csv" in error.message
    assert "member" in error.message


def test_member_option_picks_one() -> None:
    data = stdlib_zip({"batch-1.csv": b"one", "batch-2.csv": SEEDS_CSV})
    opened = unwrap(data, "d.zip", UnwrapOptions(member="batch-2.csv"))
    assert (opened.data, opened.name) == (SEEDS_CSV, "batch-2.csv")


def test_member_option_matches_a_base_name() -> None:
    data = stdlib_zip({"a/batch-1.csv": b"one", "b/batch-2.csv": SEEDS_CSV})
    assert unwrap(data, "d.zip", UnwrapOptions(member="batch-2.csv")).name == "b/batch-2.csv"


def test_member_option_naming_nothing_lists_the_members() -> None:
    data = stdlib_zip({"batch-1.csv": b"one", "batch-2.csv": b"two"})
    error = error_of(data, UnwrapOptions(member="batch-3.csv"))
    assert error.code == "container.member_not_found"
    assert error.details["candidates"] == ["batch-1.csv", "batch-2.csv"]


def test_member_option_reaches_into_a_nested_archive() -> None:
    inner = stdlib_zip({"batch-1.csv": b"one", "batch-2.csv": SEEDS_CSV})
    outer = stdlib_zip({"order.zip": inner, "README.txt": b"see inside"})
    opened = unwrap(outer, "d.zip", UnwrapOptions(member="batch-2.csv"))
    assert (opened.data, opened.name, opened.layers) == (SEEDS_CSV, "batch-2.csv", ["zip", "zip"])


def test_member_option_that_matches_no_layer_is_refused() -> None:
    data = stdlib_zip({"seeds.csv": SEEDS_CSV})
    error = error_of(data, UnwrapOptions(member="other.csv"))
    assert error.code == "container.member_not_found" and "other.csv" in error.message
    plain = UnwrapOptions(member="other.csv")
    with pytest.raises(ArchiveError) as caught:
        unwrap(SEEDS_CSV, "seeds.csv", plain)
    assert caught.value.code == "container.member_not_found"


def test_system_files_and_folders_are_ignored() -> None:
    data = stdlib_zip(
        {
            "__MACOSX/": b"",
            "__MACOSX/._seeds.csv": b"\0\5\26\7",
            "order/": b"",
            "order/.DS_Store": b"\0\0\0\1Bud1",
            "order/Thumbs.db": b"\xd0\xcf",
            "order/seeds.csv": SEEDS_CSV,
            "._seeds.csv": b"\0\5\26\7",
        }
    )
    opened = unwrap(data, "d.zip", UnwrapOptions())
    assert (opened.data, opened.name) == (SEEDS_CSV, "order/seeds.csv")


@pytest.mark.parametrize(
    ("names", "chosen"),
    [
        (["README.txt", "seeds.csv"], "seeds.csv"),
        (["invoice.pdf", "tokens.txt"], "tokens.txt"),
        (["notes.txt", "seeds.csv"], "seeds.csv"),
        (["notes.txt", "LICENSE", "export.xml"], "export.xml"),
        (["readme.md", "order.pdf", "keys.pskc"], "keys.pskc"),
        (["seeds.csv.gpg", "README.txt"], "seeds.csv.gpg"),
        (["README.txt"], "README.txt"),  # one file is the file, whatever its name
    ],
)
def test_documents_beside_one_seed_file_are_ignored(names: list[str], chosen: str) -> None:
    assert choose_member(names, "d.zip", None) == chosen


@pytest.mark.parametrize(
    "names",
    [["a.csv", "b.csv"], ["a.txt", "b.txt"], ["a.csv", "b.xml", "README.txt"], ["x.pdf", "y.pdf"]],
)
def test_ambiguous_members_are_refused(names: list[str]) -> None:
    with pytest.raises(ArchiveError) as caught:
        choose_member(names, "d.zip", None)
    assert caught.value.code == "container.multiple_files"


_NAME = st.from_regex(r"[a-z0-9]{1,8}\.(csv|xml|json|txt|pdf|dat)", fullmatch=True)
_JUNK = st.sampled_from(
    ["__MACOSX/", "__MACOSX/._x.csv", ".DS_Store", "dir/Thumbs.db", "dir/", "._a.csv"]
)


@given(st.lists(_NAME, min_size=1, max_size=4, unique=True), st.lists(_JUNK, max_size=4))
def test_junk_never_changes_the_choice(names: list[str], junk: list[str]) -> None:
    def outcome(members: list[str]) -> str:
        try:
            return choose_member(members, "d.zip", None)
        except ArchiveError as error:
            return error.code

    assert outcome(names + junk) == outcome(names) == outcome(junk + names)


# -- empty ----------------------------------------------------------------------------------
def test_archive_without_members_is_empty() -> None:
    data = stdlib_zip({})
    assert data.startswith(b"PK\x05\x06")
    assert error_of(data, UnwrapOptions()).code == "container.empty"


def test_archive_of_only_folders_and_system_files_is_empty() -> None:
    data = stdlib_zip({"seeds/": b"", ".DS_Store": b"x", "__MACOSX/": b""})
    assert error_of(data, UnwrapOptions()).code == "container.empty"


def test_empty_member_is_empty() -> None:
    error = error_of(stdlib_zip({"seeds.csv": b""}), UnwrapOptions())
    assert error.code == "container.empty" and "seeds.csv" in error.message


def test_wrong_password_that_passes_zipcrypto_check_byte(tmp_path: Path, seeds_file: Path) -> None:
    """Find a wrong password whose check byte matches: the garbage it yields is still refused."""
    seeds_file.write_bytes(SEEDS_CSV * 20)
    data = info_zip(tmp_path, seeds_file, "-P", ZIP_PASSWORD)
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("seeds.csv")
    start = data_start(data)
    header = data[start : start + 12]
    for n in range(20_000):
        guess = f"g{n}".encode()
        try:
            pyzipper.zipfile.CRCZipDecrypter(info, guess, header)
        except RuntimeError:
            continue
        break
    else:
        pytest.fail("no password passed the check byte in 20,000 tries")
    error = error_of(data, UnwrapOptions(password=Secret(guess)))
    assert error.code == "container.wrong_password" and "damaged" in error.message
