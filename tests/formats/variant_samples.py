"""Make the round-2 variant samples (issue 18) in ``samples/variants``, the same bytes each run.

Run ``python tests/formats/variant_samples.py`` after changing a sample here;
``tests/formats/test_variants.py`` fails when a committed file differs from what this makes.
Every secret is a test value from the design page (``seed-formats.md`` §0.3) or RFC 6238:

- S1 hex ``3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b`` = base32 ``HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL``
  (30 s: 651706 at t=1700000000), S2 ``c0ffee0123456789abcdef0123456789deadbeef`` = base32
  ``YD764AJDIVTYTK6N54ASGRLHRHPK3PXP`` (60 s: 816153);
- RFC 6238's SHA-256 key, ASCII ``12345678901234567890123456789012`` (8 digits: 46119246 at t=59).

ZIP members are stored (not deflated) with a fixed date, so the bytes do not depend on zlib.
"""

from __future__ import annotations

import base64
import io
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).parent / "samples" / "variants"
S1_HEX = "3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b"
S2_HEX = "c0ffee0123456789abcdef0123456789deadbeef"
S1_B32 = "HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL"
S2_B32 = "YD764AJDIVTYTK6N54ASGRLHRHPK3PXP"
RFC_SHA256_KEY = b"12345678901234567890123456789012"
ENTRA_HEADER = ["upn", "serial number", "secret key", "time interval", "manufacturer", "model"]


def _rows(header: list[str], rows: list[list[str]], sep: str) -> str:
    return "".join(sep.join(cells) + "\r\n" for cells in [header, *rows])


def excel_unicode_text() -> bytes:
    """Excel's "Unicode text" save: UTF-16 LE with a BOM, tab-separated, CRLF, a non-ASCII model."""
    rows = [
        ["alice@example.com", "20250001", S1_B32, "30", "Feitian", "c200 Ü"],
        ["", "20250002", S2_B32, "60", "Feitian", "c200 Ü"],
    ]
    return b"\xff\xfe" + _rows(ENTRA_HEADER, rows, "\t").encode("utf-16-le")


def entra_timeinterval() -> bytes:
    """Deepnet's hand-edited header: ``timeinterval`` without the space, upn prepended."""
    header = ["upn", "serial number", "secret key", "timeinterval", "manufacturer", "model"]
    rows = [
        ["alice@example.com", "20250001", S1_B32, "30", "Deepnet Security", "SafeID/Classic"],
        ["bob@example.com", "20250002", S2_B32, "60", "Deepnet Security", "SafeID/Classic"],
    ]
    return _rows(header, rows, ",").encode()


def entra_hex() -> bytes:
    """An older Deepnet page's Entra layout with hex secrets, which Entra refuses."""
    header = ENTRA_HEADER[1:]
    rows = [
        ["20250001", S1_HEX, "30", "Deepnet Security", "SafeID/Classic"],
        ["20250002", S2_HEX.upper(), "60", "Deepnet Security", "SafeID/Classic"],
    ]
    return _rows(header, rows, ",").encode()


def entra_cp1252() -> bytes:
    """Excel's plain "CSV" in the Windows-1252 code page, with non-ASCII model names."""
    rows = [
        ["jürgen@example.com", "20250001", S1_B32, "30", "Feitian Ü", "c200 Größe M"],
        ["", "20250002", S2_B32, "60", "Feitian Ü", "OTP c100 – €"],
    ]
    return _rows(ENTRA_HEADER, rows, ",").encode("cp1252")


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


README = b"Seed file for order 4711.\r\nImport tokens.csv; keep this archive safe.\r\n"


def zip_seed_and_readme() -> bytes:
    """A delivery ZIP holding the seed file beside the vendor's readme (chosen: the seed file)."""
    return _zip([("README.txt", README), ("order-4711/tokens.csv", entra_timeinterval())])


def zip_two_seed_files() -> bytes:
    """One file per token type, as Deepnet can ship: two seed files, so the user must pick."""
    first = _rows(ENTRA_HEADER[1:], [["20250001", S1_B32, "30", "V", "TOTP30"]], ",").encode()
    second = _rows(ENTRA_HEADER[1:], [["20250002", S2_B32, "60", "V", "TOTP60"]], ",").encode()
    return _zip([("readme.pdf", b"%PDF-1.4\n"), ("totp30.csv", first), ("totp60.csv", second)])


def zip_seed_by_content() -> bytes:
    """Deepnet's ``.csv.txt`` (so Excel leaves it alone) beside instructions in ``.txt``: only
    the content tells which is the seed file."""
    notes = b"Rename tokens.csv.txt to tokens.csv, add a upn column, then upload it.\r\n"
    return _zip([("instructions.txt", notes), ("tokens.csv.txt", entra_timeinterval())])


def _package(prefix: str, serial: str, key_id: str | None, secret: bytes, extra: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    key_id_attr = f' Id="{key_id}"' if key_id is not None else ""
    value = base64.b64encode(secret).decode()
    return (
        f"  <{p}KeyPackage{extra}>\n"
        f"    <{p}DeviceInfo>\n"
        f"      <{p}Manufacturer>ExampleVendor</{p}Manufacturer>\n"
        f"      <{p}SerialNo>{serial}</{p}SerialNo>\n"
        f"      <{p}Model>DemoTOTP</{p}Model>\n"
        f"    </{p}DeviceInfo>\n"
        f'    <{p}Key{key_id_attr} Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">\n'
        f"      <{p}AlgorithmParameters>\n"
        f"        <{p}Suite>HMAC-SHA1</{p}Suite>\n"
        f'        <{p}ResponseFormat Length="6" Encoding="DECIMAL"/>\n'
        f"      </{p}AlgorithmParameters>\n"
        f"      <{p}Data>\n"
        f"        <{p}Secret><{p}PlainValue>{value}</{p}PlainValue></{p}Secret>\n"
        f"        <{p}TimeInterval><{p}PlainValue>30</{p}PlainValue></{p}TimeInterval>\n"
        f"      </{p}Data>\n"
        f"    </{p}Key>\n"
        f"  </{p}KeyPackage>\n"
    )


PSKC_NS = "urn:ietf:params:xml:ns:keyprov:pskc"


def pskc_odd_prefixes() -> bytes:
    """``pskc:`` on the container, another prefix declared again on the second package."""
    s1, s2 = bytes.fromhex(S1_HEX), bytes.fromhex(S1_HEX)
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<pskc:KeyContainer xmlns:pskc="{PSKC_NS}" Version="1.0">\n'
        + _package("pskc", "20250001", "20250001", s1)
        + _package("kp_2", "20250004", "20250004", s2, f' xmlns:kp_2="{PSKC_NS}"')
        + "</pskc:KeyContainer>\n"
    )
    return text.encode()


def pskc_deviceinfo_serials() -> bytes:
    """Serials only in ``DeviceInfo/SerialNo``: a key without ``Id``, one with a Yubico-style Id."""
    s1 = bytes.fromhex(S1_HEX)
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<KeyContainer xmlns="{PSKC_NS}" Version="1.0">\n'
        + _package("", "0020250001", None, s1)
        + _package("", "0020250005", "0020250005:2", s1)
        + "</KeyContainer>\n"
    )
    return text.encode()


def pskc_8digit_sha256() -> bytes:
    """One RFC 6238 SHA-256 token showing 8 digits: PSKC can say so, Entra cannot take it."""
    value = base64.b64encode(RFC_SHA256_KEY).decode()
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<KeyContainer xmlns="{PSKC_NS}" Version="1.0">\n'
        "  <KeyPackage>\n"
        "    <DeviceInfo><Manufacturer>ExampleVendor</Manufacturer>"
        "<SerialNo>20250008</SerialNo><Model>DemoTOTP-8-S256</Model></DeviceInfo>\n"
        '    <Key Id="20250008" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">\n'
        "      <AlgorithmParameters><Suite>HMAC-SHA256</Suite>"
        '<ResponseFormat Length="8" Encoding="DECIMAL"/></AlgorithmParameters>\n'
        f"      <Data><Secret><PlainValue>{value}</PlainValue></Secret>"
        "<TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data>\n"
        "    </Key>\n"
        "  </KeyPackage>\n"
        "</KeyContainer>\n"
    )
    return text.encode()


def entra_sha256_graph_csv() -> bytes:
    """A Graph-style CSV with a SHA-256 token: fine for Graph, not for the legacy CSV upload."""
    sha256_b32 = "IBAUEQ2EIVDEOSCJJJFUYTKOJ5IFCUSTKRKVMV2YLFNFWXC5LZPQ"
    header = ["serialNumber", "secretKey", "timeIntervalInSeconds", "manufacturer", "model"]
    rows = [["20250003", sha256_b32, "30", "ExampleVendor", "DemoTOTP-S256", "hmacsha256"]]
    return _rows([*header, "hashFunction"], rows, ",").encode()


SAMPLES = {
    "excel-unicode-text.txt": excel_unicode_text,
    "entra-timeinterval.csv": entra_timeinterval,
    "entra-hex.csv": entra_hex,
    "entra-cp1252-feitian.csv": entra_cp1252,
    "zip-seed-and-readme.zip": zip_seed_and_readme,
    "zip-two-seed-files.zip": zip_two_seed_files,
    "zip-seed-by-content.zip": zip_seed_by_content,
    "pskc-odd-prefixes.pskcxml": pskc_odd_prefixes,
    "pskc-deviceinfo-serials.pskcxml": pskc_deviceinfo_serials,
    "pskc-8digit-sha256.pskcxml": pskc_8digit_sha256,
    "entra-sha256-graph.csv": entra_sha256_graph_csv,
}


def build() -> dict[str, bytes]:
    return {name: make() for name, make in SAMPLES.items()}


if __name__ == "__main__":
    for name, data in build().items():
        (HERE / name).write_bytes(data)
        sys.stdout.write(f"{name}: {len(data)} bytes\n")
