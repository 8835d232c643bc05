"""Envelope detection by magic bytes, and plain seed files passing through untouched."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oathdesk.containers import UnwrapOptions, detect_envelope, unwrap

PLAIN_FILES = [
    b"serial,secret\n20250001,JBSWY3DPEHPK3PXP\n",
    b"\xef\xbb\xbfserial;secret\r\n",  # CSV with a UTF-8 BOM (Excel)
    b'{"tokens": []}',
    b'<?xml version="1.0"?><KeyContainer/>',
    b"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP\n",
    "Seriennummer,Schlüssel\n".encode("utf-16"),  # UTF-16 with its BOM
    b"",
    b"P",
    b"PK",  # too short to be a ZIP
    b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n",  # a key is not a message
    b"-----BEGIN PGP SIGNED MESSAGE-----\n",
    "Àlex,JBSWY3DPEHPK3PXP\n".encode(),  # 0xC3 is also a new-format tag-3 header
    "Ärger\n".encode(),
    b"\xc1\x5e\x09",  # a session key packet header with an unknown version
]


@pytest.mark.parametrize("data", PLAIN_FILES)
def test_plain_files_are_not_envelopes(data: bytes) -> None:
    assert detect_envelope(data) is None
    opened = unwrap(data, "seeds.csv", UnwrapOptions())
    assert (opened.data, opened.name, opened.layers) == (data, "seeds.csv", [])


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"PK\x03\x04\x14\x00", "zip"),
        (b"PK\x05\x06" + bytes(18), "zip"),  # an archive with no members
        (b"-----BEGIN PGP MESSAGE-----\n\nhQEMA", "pgp"),
        (b"\xef\xbb\xbf\r\n  -----BEGIN PGP MESSAGE-----\n", "pgp"),
        (b"\x84\x5e\x03", "pgp"),  # old-format public-key session key packet (gpg 2.2, ECDH)
        (b"\x85\x01\x0c\x03", "pgp"),  # old-format, two-byte length (RSA)
        (b"\xa8\x03PGP\x84", "pgp"),  # a marker packet first
        (b"\xc1\x5e\x03", "pgp"),  # new-format public-key session key packet
        (b"\x8c\x0d\x04", "pgp"),  # old-format symmetric-key session key packet (gpg -c)
        (b"\xc3\x0d\x04", "pgp"),  # new-format symmetric-key session key packet
    ],
)
def test_magic_bytes(data: bytes, kind: str) -> None:
    assert detect_envelope(data) == kind


_TEXT = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), include_characters="\t\r\n")


@given(st.text(alphabet=_TEXT, max_size=200))
def test_text_is_never_taken_for_an_envelope(text: str) -> None:
    """Any UTF-8 text without control characters (CSV, JSON, XML, URIs) passes through."""
    data = text.encode("utf-8")
    if data.startswith(b"PK\x03\x04") or b"-----BEGIN PGP MESSAGE-----" in data[:64]:
        return
    assert detect_envelope(data) is None
    assert unwrap(data, "f.txt", UnwrapOptions()).data == data


def test_the_result_never_shows_the_seed_bytes() -> None:
    opened = unwrap(b"20250001,JBSWY3DPEHPK3PXP\n", "seeds.csv", UnwrapOptions())
    assert "JBSWY3DPEHPK3PXP" not in repr(opened) and "JBSWY3DPEHPK3PXP" not in str(opened)
    assert repr(opened) == "Unwrapped(data=<26 bytes>, name='seeds.csv', layers=[])"
