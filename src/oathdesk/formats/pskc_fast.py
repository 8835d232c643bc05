"""The PSKC read path's fast lane: a streamed pass over an RFC 6030 file with nothing to report.

Why: python-pskc walks every element with namespace-aware ``findall`` and decrypts each value
with a fresh cipher set-up, and the careful reader (``pskc._Reader``) adds a second full parse
(defusedxml) and a path index on top, which puts a 10,000-key file at seconds. This lane
streams the file with lxml ``iterparse`` (each ``KeyPackage`` dropped once read), derives the
PBKDF2 key once, decrypts with AES-CBC directly and checks each ``ValueMAC`` with one prepared
HMAC. It accepts only what it fully understands: plain RFC 6030 ``KeyPackage`` elements with
one ``Key``, AES-CBC values each with a matching MAC, decimal TOTP/HOTP, a serial in
``DeviceInfo``, secrets of usual lengths. At the first doubt (a DOCTYPE, another element, a
value that does not open, anything the careful reader would warn about) it returns ``None``
and the careful reader reads the file and reports; records and locators are the same either
way, which a test holds.
"""

from __future__ import annotations

import binascii
import hmac
import io
import re
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree  # type: ignore[import-untyped, unused-ignore]
from pskc import PSKC
from pskc.algorithms import normalise_algorithm
from pskc.exceptions import DecryptionError as PskcDecryptionError
from pskc.exceptions import KeyDerivationError
from pskc.key import EncryptedValue
from pskc.parser import PSKCParser

from oathdesk.domain import DecryptionError, OtpKind, SeedRecord, parse_hash
from oathdesk.formats._fast import make_record, secret_from_bytes
from oathdesk.formats._pskc_crypto import FileProblem, encryption_key
from oathdesk.formats.base import ReadOptions, ReadResult
from oathdesk.formats.secret_text import USUAL_LENGTHS

RFC_NS = "urn:ietf:params:xml:ns:keyprov:pskc"
_AES_CBC = {
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc": 16,
    "http://www.w3.org/2001/04/xmlenc#aes192-cbc": 24,
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc": 32,
}
_HMAC = re.compile(r"^(?:.*#)?hmac-(sha1|sha224|sha256|sha384|sha512)$")
_KIND = re.compile(r"[:#](hotp|totp)$", re.IGNORECASE)
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_INT = re.compile(r"[+-]?\d+")
_DECLARATION = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._\-]+)")
_OTHER_LINE_BREAKS = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")  # str.splitlines splits
# Elements under a KeyPackage this lane reads (local names, path from the KeyPackage) or may
# pass over because they cannot change a record or raise a problem.
_KNOWN = frozenset(
    {
        "DeviceInfo",
        "DeviceInfo/Manufacturer",
        "DeviceInfo/SerialNo",
        "DeviceInfo/Model",
        "DeviceInfo/IssueNo",
        "DeviceInfo/UserId",
        "CryptoModuleInfo",
        "CryptoModuleInfo/Id",
        "Key",
        "Key/Issuer",
        "Key/KeyProfileId",
        "Key/KeyReference",
        "Key/FriendlyName",
        "Key/UserId",
        "Key/AlgorithmParameters",
        "Key/AlgorithmParameters/Suite",
        "Key/AlgorithmParameters/ResponseFormat",
        "Key/Data",
        *(
            f"Key/Data/{name}{tail}"
            for name in ("Secret", "Counter", "Time", "TimeInterval")
            for tail in (
                "",
                "/PlainValue",
                "/ValueMAC",
                "/EncryptedValue",
                "/EncryptedValue/EncryptionMethod",
                "/EncryptedValue/CipherData",
                "/EncryptedValue/CipherData/CipherValue",
            )
        ),
    }
)


class _Decline(Exception):
    """The careful reader must read this file."""


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _strip(element: Any) -> None:
    for node in element.iter():
        if isinstance(node.tag, str):
            node.tag = _local(node.tag)


def _b64(text: str | None) -> bytes:
    value = (text or "").strip()
    if not value or len(value) % 4 or not _B64.fullmatch(value):
        raise _Decline
    return binascii.a2b_base64(value)


def _plain_bytes(data: bytes) -> bool:
    """UTF-8 (or ASCII) XML whose bytes show any DOCTYPE, with the line breaks libxml2 counts."""
    head = data[:1024].removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head.startswith(b"<") or b"\x00" in head:
        return False
    declared = _DECLARATION.match(head)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii"):
        return False
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data or b"<!--" in data or b"<![CDATA[" in data:
        return False
    if data.count(b"\r") != data.count(b"\r\n"):
        return False
    return not any(mark in data for mark in _OTHER_LINE_BREAKS)


class _Lane:
    def __init__(self, data: bytes, source: str, options: ReadOptions) -> None:
        self.data, self.source, self.options = data, source, options
        self.pskc = PSKC()
        self.key: bytes | None = None
        self.mac: Any = None  # a prepared HMAC, copied per value
        self.derived: bytes | None = None
        self.keys = _KEY_TAG
        self.offset = 0
        self.line_number = 1
        self.algorithm: str | None = None  # the cipher of the MAC key, asked of every value
        self.names: dict[str, str] = {}  # tag -> local name

    # -- the container ----------------------------------------------------------------
    def container(self, encryption: Any, mac_method: Any) -> None:
        for element in (encryption, mac_method):
            if element is not None:
                _strip(element)
                for node in element.iter("IterationCount", "KeyLength"):
                    if not _INT.fullmatch((node.text or "").strip()):
                        raise _Decline
                for node in element.iter("CipherValue", "Specified"):
                    _b64(node.text)
        try:
            PSKCParser.parse_encryption(self.pskc.encryption, encryption)
            PSKCParser.parse_mac_method(self.pskc.mac, mac_method)
        except (ValueError, TypeError, KeyDerivationError):
            raise _Decline from None

    def unlock(self) -> None:
        """Derive (once) or take the key, open the MAC key and confirm the key by its length."""
        pskc = self.pskc
        stored = getattr(pskc.mac, "_key", None)
        if pskc.encryption.iv or not isinstance(stored, EncryptedValue):
            raise _Decline
        match = _HMAC.match(normalise_algorithm(pskc.mac.algorithm) or "")
        size = _AES_CBC.get(stored.algorithm or "")
        if match is None or size is None:
            raise _Decline
        if not pskc.encryption.algorithm:  # as python-pskc takes it from the first value
            pskc.encryption.algorithm = stored.algorithm
        try:
            key = encryption_key(pskc, self.options, self.source)
        except (FileProblem, DecryptionError):
            raise _Decline from None
        if pskc.encryption.derivation.algorithm is not None and self.options.passphrase:
            self.derived = key
        if len(key) != size:
            raise _Decline
        self.key, self.algorithm = key, stored.algorithm
        mac_key = self.decrypt(stored.cipher_value)
        prototype = hmac.new(mac_key, digestmod=match.group(1))
        if len(mac_key) != prototype.digest_size:
            raise _Decline  # the careful reader judges the file as a whole
        self.mac = prototype

    def decrypt(self, value: bytes) -> bytes:
        if self.key is None or len(value) < 32 or len(value) % 16:
            raise _Decline
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(value[:16])).decryptor()
        plain = decryptor.update(value[16:]) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
            raise _Decline
        return plain[:-pad]

    # -- one KeyPackage ---------------------------------------------------------------
    def value(self, found: dict[str, Any], path: str, *, secret: bool) -> Any:
        """The value of the ``Data`` child at ``path``: bytes for the secret, else an int.

        Read from the package's path index: a ``Data`` child may hold only ``PlainValue``,
        ``EncryptedValue`` and ``ValueMAC`` (anything else declined when indexing), once each.
        """
        plain = found.get(path + "/PlainValue")
        encrypted, mac = found.get(path + "/EncryptedValue"), found.get(path + "/ValueMAC")
        if plain is not None:
            if encrypted is not None or mac is not None:
                raise _Decline
            text = (plain.text or "").strip()
            if secret:
                return _b64(text)
            if not _INT.fullmatch(text):
                raise _Decline
            return int(text)
        if encrypted is None or mac is None or self.mac is None or not secret:
            raise _Decline  # an encrypted number is rare: the careful reader opens it
        method = found.get(path + "/EncryptedValue/EncryptionMethod")
        if method is None or method.get("Algorithm") != self.algorithm:
            raise _Decline
        cipher_value = found.get(path + "/EncryptedValue/CipherData/CipherValue")
        cipher = _b64(None if cipher_value is None else cipher_value.text)
        expected = _b64(mac.text)
        check = self.mac.copy()
        check.update(cipher)
        if not hmac.compare_digest(check.digest(), expected):
            raise _Decline
        return self.decrypt(cipher)

    def package(self, package: Any, index: int) -> tuple[SeedRecord, str]:
        found: dict[str, Any] = {}
        _index(package, "", found, self.names)
        key = found.get("Key")
        serial = _text(found.get("DeviceInfo/SerialNo"))
        if key is None or serial is None or "+" in serial or "-" in serial:
            raise _Decline
        algorithm = key.get("Algorithm")
        kind = _KIND.search(algorithm or "")
        suite_el = found.get("Key/AlgorithmParameters/Suite")
        suite = _text(suite_el) or (suite_el.get("hashalgo") if suite_el is not None else None)
        options = self.options
        hash_ = parse_hash(suite) if suite else (options.algorithm or parse_hash("sha1"))
        response = found.get("Key/AlgorithmParameters/ResponseFormat")
        length: int | None = None
        if response is not None:
            encoding = response.get("Encoding") or response.get("Format") or response.get("format")
            raw = response.get("Length") or response.get("length")
            if (encoding or "DECIMAL").upper() != "DECIMAL" or (raw and not raw.isdigit()):
                raise _Decline
            length = int(raw) if raw else None
        if kind is None or hash_ is None:
            raise _Decline
        if "Key/Data/Secret" not in found:
            raise _Decline
        secret = self.value(found, "Key/Data/Secret", secret=True)
        if len(secret) not in USUAL_LENGTHS:
            raise _Decline
        numbers = {
            name: self.value(found, f"Key/Data/{name}", secret=False)
            for name in ("Counter", "Time", "TimeInterval")
            if f"Key/Data/{name}" in found
        }
        record = make_record(
            serial,
            secret_from_bytes(secret),
            OtpKind(kind.group(1).lower()),
            numbers.get("TimeInterval") or options.period or 30,
            numbers.get("Time") or 0,
            length or options.digits or 6,
            hash_,
            numbers.get("Counter") or 0,
            _text(found.get("DeviceInfo/Manufacturer")) or options.manufacturer or "",
            _text(found.get("DeviceInfo/Model")) or options.model or "",
            _text(found.get("Key/UserId")) or _text(found.get("DeviceInfo/UserId")) or "",
            _text(found.get("Key/FriendlyName")) or "",
        )
        return record, f"{self.source}:{self.line()} (/KeyContainer/KeyPackage[{index}]/Key)"

    def line(self) -> int:
        """The line of the next ``<Key`` start tag, counted in the bytes.

        libxml2 keeps line numbers in 16 bits, so past line 65,535 ``sourceline`` is wrong;
        counting is exact because this lane reads only files without comments or CDATA, where
        the n-th ``<Key`` in the bytes is the n-th Key element.
        """
        match = self.keys.search(self.data, self.offset)
        if match is None:
            raise _Decline
        self.line_number += self.data.count(b"\n", self.offset, match.start())
        self.offset = match.end()
        return self.line_number


_TOP_TAGS = ("{*}KeyPackage", "{*}EncryptionKey", "{*}MACMethod")  # in any namespace
_KEY_TAG = re.compile(rb"<(?:[\w.\-]+:)?Key(?=[\s/>]|$)")


def _index(element: Any, prefix: str, found: dict[str, Any], names: dict[str, str]) -> None:
    """Every element under ``element`` by its path of local names (any namespace, as the
    careful reader takes them); an unknown or repeated one declines. ``names`` keeps each
    tag's local name: a file repeats the same twenty tags, and lxml's tags are not renamed."""
    for child in element:
        tag = child.tag
        local = names.get(tag)
        if local is None:
            local = _local(tag)  # "" for a node that is not an element: unknown, declined
            if isinstance(tag, str):
                names[tag] = local
        path = prefix + local
        if path not in _KNOWN or path in found:
            raise _Decline
        found[path] = child
        _index(child, path + "/", found, names)


def _text(element: Any) -> str | None:
    if element is None or element.text is None:
        return None
    return str(element.text).strip() or None


def read_fast(
    data: bytes, source: str, options: ReadOptions, result: ReadResult
) -> tuple[bool, bytes | None]:
    """Fill ``result`` and return ``(True, _)``; or ``(False, derived key)`` for the careful
    reader, handing on the PBKDF2 key when one was derived so it is derived once per file."""
    if not _plain_bytes(data):
        return False, None
    lane = _Lane(data, source, options)
    records: list[SeedRecord] = []
    locators: list[str] = []
    progress: Callable[[int], None] | None = options.progress
    try:
        events = etree.iterparse(
            io.BytesIO(data),
            events=("end",),
            tag=_TOP_TAGS,  # only these end events reach Python, not every element's two
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        root = None
        held: dict[str, Any] = {}
        count = 0
        for _event, element in events:
            if root is None:
                root = element.getroottree().getroot()
                version = root.get("Version") or root.get("version")
                if root.tag != f"{{{RFC_NS}}}KeyContainer" or version not in ("1", "1.0"):
                    raise _Decline
            if element.getparent() is not root:
                raise _Decline  # one of these names nested elsewhere: not RFC 6030's place
            name = _local(element.tag)
            if name in ("EncryptionKey", "MACMethod") and not count and name not in held:
                held[name] = element
                continue
            if name != "KeyPackage":
                raise _Decline
            if count == 0:
                lane.container(held.get("EncryptionKey"), held.get("MACMethod"))
                if held:
                    lane.unlock()
            count += 1
            record, locator = lane.package(element, count)
            records.append(record)
            locators.append(locator)
            element.clear()
            previous = element.getprevious()
            if previous is not None and _local(previous.tag) == "KeyPackage":
                root.remove(previous)  # already read: keep memory flat
            if progress is not None:
                progress(1)
        # Each package removed its predecessor; anything else left beside the last one and
        # the container's keys (a Signature, an element it does not know) is the careful
        # reader's to report.
        if not records or root is None or len(root) != len(held) + 1:
            raise _Decline
    except (_Decline, etree.XMLSyntaxError, PskcDecryptionError, ValueError, TypeError):
        return False, lane.derived
    result.records.extend(records)
    result.locators.extend(locators)
    return True, None
