"""PSKC (RFC 6030) seed files, plain or encrypted (pre-shared key, PBKDF2 passphrase), both ways.

python-pskc does the PSKC work (structure, legacy drafts, PBKDF2, AES, MAC primitives, the
writer); this module adds what an import needs around it: hardened parsing (``_xml``), strict
base64 and integer checks before python-pskc's lenient decoding sees a value, a problem per
key with its line and element path, and decryption failures a person can act on.

How a wrong key is told from a tampered value is explained in ``_pskc_crypto``. Fields the
file lacks come from ``ReadOptions``, then from RFC defaults: no ``Suite`` is SHA-1, no
``ResponseFormat`` is 6 digits, no ``TimeInterval`` 30 s. ``Data/Time`` is T0 in seconds.
A key without ``DeviceInfo/SerialNo`` takes its ``Key@Id`` as serial, with a warning. Secrets
are base64 by the schema, so ``--secret-encoding`` does not apply to PSKC.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from pskc import PSKC
from pskc.exceptions import KeyDerivationError
from pskc.key import EncryptedValue, Key
from pskc.parser import PSKCParser

from oathdesk.domain import (
    OtpKind,
    Problem,
    Secret,
    SeedRecord,
    Severity,
    UsageError,
    parse_hash,
    spell_hash,
)
from oathdesk.formats import _xml
from oathdesk.formats._pskc_crypto import FileProblem, unlock
from oathdesk.formats._pskc_messages import MESSAGES as _MSG
from oathdesk.formats._xml import Element, kid, kids, present, text
from oathdesk.formats.base import Capabilities, ReadOptions, ReadResult, WriteOptions, unsupported
from oathdesk.formats.estimate import LaneProgress
from oathdesk.formats.pskc_fast import read_fast
from oathdesk.formats.secret_text import decode_secret
from oathdesk.formats.validation import serial_problem

HOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
PSK_KEY_NAME = "Pre-shared-key"
PASSPHRASE_KEY_NAME = "Seed file passphrase"  # a label shown to people, not a password
_KIND = re.compile(r"[:#](hotp|totp)$", re.IGNORECASE)
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_INT = re.compile(r"[+-]?\d+")
_BASE64_TAGS = ("CipherValue", "ValueMAC", "ValueDigest", "Specified")
_VALUE_TAGS = ("Counter", "Time", "TimeInterval", "TimeDrift")  # <PlainValue> integers
_INT_TAGS = ("IterationCount", "KeyLength")
_FORMAT_TAGS = ("ResponseFormat", "ChallengeFormat")
_FIELDS = {
    "secret": "Secret",
    "counter": "Counter",
    "time_offset": "Time",
    "time_interval": "TimeInterval",
    "time_drift": "TimeDrift",
}
_LEGACY_DATA = {
    "Secret": "secret",
    "Counter": "counter",
    "Time": "time",
    "TimeInterval": "time_interval",
}


def _is_base64(value: str | None) -> bool:
    cleaned = re.sub(r"\s+", "", value or "")
    return bool(cleaned) and len(cleaned) % 4 == 0 and bool(_B64.fullmatch(cleaned))


@dataclass
class _Item:
    """One ``<Key>``: python-pskc's view, its element, and what was opened from it."""

    key: Key
    element: Element
    secret: Secret | None = None
    failed: bool = False  # a problem was reported; no record


class _Reader:
    def __init__(
        self,
        data: bytes,
        source: str,
        options: ReadOptions,
        result: ReadResult,
        derived: bytes | None = None,
    ) -> None:
        self.data, self.source, self.options, self.result = data, source, options, result
        self.derived = derived  # the PBKDF2 key the fast lane derived, if it did
        self.loc = _xml.Locator(source, data, frozenset({"KeyPackage", "Device"}))
        self.pskc = PSKC()
        self.progress = options.progress  # called per key package read (a progress bar)

    def problem(
        self,
        element: Element,
        code: str,
        message: str,
        serial: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.result.problems.append(Problem(self.loc.at(element), code, message, severity, serial))

    def run(self) -> None:
        root, problems = _xml.parse_xml(self.data, self.source)
        self.result.problems.extend(problems)
        if root is None:
            return
        version = root.get("Version") or root.get("version")
        if root.tag not in ("KeyContainer", "SecretContainer"):
            self.problem(root, "seed.pskc_invalid", _MSG["not_pskc"].format(tag=root.tag))
            return
        if root.tag == "KeyContainer" and version not in (None, "1", "1.0"):
            self.problem(root, "seed.pskc_invalid", _MSG["version"].format(version=version))
            return
        if not self._container(root):
            return
        items = [i for pkg in kids(root, ("KeyPackage", "Device")) for i in self._counted(pkg)]
        if not items and not self.result.errors:
            self.problem(root, "seed.pskc_invalid", _MSG["empty"])
        if not self._open(root, items):
            return
        for item in items:
            if not item.failed:
                self._record(item)
        signature = kid(root, "Signature")
        if signature is not None:
            self.problem(
                signature,
                "seed.pskc_signature_unchecked",
                _MSG["signature"],
                severity=Severity.WARNING,
            )

    # -- structure --------------------------------------------------------------------
    def _malformed(self, block: Element | None, serial: str | None = None) -> bool:
        """Report base64 and integer fields python-pskc would misread or crash on."""
        found = False
        tags = (*_BASE64_TAGS, *_VALUE_TAGS, *_INT_TAGS, *_FORMAT_TAGS)
        for element in () if block is None else block.iter(*tags):
            if element.tag in _BASE64_TAGS:
                good, what = _is_base64(text(element)), "is not base64; the file is damaged"
            elif element.tag in _FORMAT_TAGS:
                values = [element.get(a) for a in ("Length", "length", "Min", "Max")]
                good = all(_INT.fullmatch(v.strip()) for v in values if v is not None)
                what = "Length, Min and Max must be numbers"
            else:
                value = text(kid(element, "PlainValue") if element.tag in _VALUE_TAGS else element)
                good, what = value is None or bool(_INT.fullmatch(value)), "must be a number"
            if not good:
                self.problem(element, "seed.pskc_invalid", f"<{element.tag}> {what}", serial)
                found = True
        return found

    def _container(self, root: Element) -> bool:
        encryption, mac = kid(root, "EncryptionKey"), kid(root, "MACMethod")
        if self._malformed(encryption) | self._malformed(mac):
            return False
        try:
            PSKCParser.parse_encryption(self.pskc.encryption, encryption)
            PSKCParser.parse_mac_method(self.pskc.mac, mac)
        except (ValueError, TypeError, KeyDerivationError) as exc:
            message = _MSG["encryption"].format(error=type(exc).__name__)
            self.problem(present(encryption, root), "seed.pskc_invalid", message)
            return False
        if text(kid(root, "MACAlgorithm")):
            self.pskc.mac.algorithm = text(kid(root, "MACAlgorithm"))
        return True

    def _counted(self, pkg: Element) -> list[_Item]:
        items = self._package(pkg)
        if self.progress is not None:
            self.progress(1)
        return items

    def _package(self, pkg: Element) -> list[_Item]:
        """Check one KeyPackage strictly, then let python-pskc read it."""
        elements = kids(pkg, "Key") + kids(pkg, "Secret")
        serial = (
            text(kid(pkg, "DeviceInfo", "SerialNo"))
            or text(kid(pkg, "DeviceId", "SerialNo"))
            or next((e.get("Id") for e in elements if e.get("Id")), None)
        )
        ok = not self._malformed(pkg, serial)
        plain: list[Secret | None] = []
        for element in elements:
            value_el = kid(_field(element, "Secret"), "PlainValue")
            secret = None
            if value_el is not None:
                where = self.loc.at(value_el)
                secret = decode_secret(
                    text(value_el) or "", "base64", where, serial, self.result.problems
                )
                ok = ok and secret is not None
                if secret is not None:  # python-pskc decodes again: give it canonical base64
                    value_el.text = secret.to_base64()
            plain.append(secret)
        device = self.pskc.add_device()
        if not ok:
            return []
        try:
            PSKCParser.parse_key_package(device, pkg)
        except (ValueError, TypeError, OverflowError) as exc:
            message = _MSG["package"].format(error=type(exc).__name__)
            self.problem(pkg, "seed.pskc_invalid", message, serial)
            return []
        return [_Item(k, e, s) for k, e, s in zip(device.keys, elements, plain, strict=True)]

    def _open(self, root: Element, items: list[_Item]) -> bool:
        """Decrypt and MAC-check every encrypted value; False when nothing can be read."""
        encrypted = [
            (item, name, value)
            for item in items
            for name in _FIELDS
            if isinstance(value := getattr(item.key, "_" + name, None), EncryptedValue)
        ]
        if not encrypted:
            return True
        methods = list(root.iter("EncryptionMethod"))
        values = [value for _, _, value in encrypted]
        try:
            algorithms = [m.get("Algorithm") for m in methods]
            outcomes = unlock(
                self.pskc, algorithms, values, self.options, self.source, self.derived
            )
        except FileProblem as exc:
            where = methods[0] if exc.where == "EncryptionMethod" and methods else None
            self.problem(present(where, present(kid(root, exc.where), root)), exc.code, exc.message)
            return False
        for (item, name, _), (status, plain) in zip(encrypted, outcomes, strict=True):
            tag = _FIELDS[name]
            element = present(_field(item.element, tag), item.element)
            serial = item.key.serial or item.key.id
            if status == "mac":
                where = present(kid(element, "ValueMAC"), element)
                self.problem(where, "seed.pskc_mac_mismatch", _MSG["mac"].format(tag=tag), serial)
            elif plain is None:
                message = _MSG["undecryptable"].format(tag=tag)
                self.problem(element, "seed.pskc_undecryptable", message, serial)
            elif name == "secret":
                item.secret = Secret(plain)
            else:
                setattr(item.key, name, _to_int(plain))
            item.failed = item.failed or plain is None
        unchecked = not self.pskc.mac.algorithm or any(v.mac_value is None for v in values)
        if unchecked and str(self.pskc.encryption.algorithm).endswith("-cbc"):
            self.problem(
                present(kid(root, "MACMethod"), root),
                "seed.pskc_mac_missing",
                _MSG["mac_missing"],
                severity=Severity.WARNING,
            )
        return True

    # -- records ----------------------------------------------------------------------
    def _record(self, item: _Item) -> None:
        key, element, options = item.key, item.element, self.options
        serial = key.serial
        if not serial and key.id:
            serial = key.id
            self.problem(
                element,
                "seed.pskc_serial_from_key_id",
                _MSG["key_id"].format(serial=serial),
                serial,
                Severity.WARNING,
            )
        info = present(kid(element.getparent(), "DeviceInfo"), element)
        bad = serial_problem(serial or "", self.loc.at(info))
        if bad is not None or serial is None:
            self.result.problems.extend([bad] if bad else [])
            return
        kind = _kind(key.algorithm)
        suite_el = kid(element, "AlgorithmParameters", "Suite")
        suite = key.algorithm_suite or (suite_el.get("hashalgo") if suite_el is not None else None)
        algorithm = parse_hash(suite) if suite else (options.algorithm or parse_hash("sha1"))
        response = kid(element, "AlgorithmParameters", "ResponseFormat")
        failure: tuple[Element, str, str] | None = None
        if kind is None and key.algorithm:
            message = _MSG["kind"].format(algorithm=key.algorithm)
            failure = (element, "seed.unsupported_algorithm", message)
        elif kind is None and options.kind is None:
            failure = (element, "seed.pskc_no_algorithm", _MSG["no_kind"])
        elif algorithm is None:
            failure = (suite_el, "seed.unsupported_algorithm", _MSG["hash"].format(suite=suite))
        elif (key.response_encoding or "DECIMAL").upper() != "DECIMAL":
            message = _MSG["response"].format(encoding=key.response_encoding)
            failure = (present(response, element), "seed.unsupported_algorithm", message)
        elif item.secret is None:
            where = present(_field(element, "Secret"), element)
            failure = (where, "seed.missing_secret", _MSG["no_secret"])
        if failure is not None:
            self.problem(*failure, serial)
        if failure is not None or item.secret is None or algorithm is None:
            return
        record = SeedRecord(
            serial=serial,
            secret=item.secret,
            kind=kind or options.kind or OtpKind.TOTP,
            period=_int(key, "time_interval") or options.period or 30,
            t0=_int(key, "time_offset") or 0,
            digits=key.response_length or options.digits or 6,
            algorithm=algorithm,
            counter=_int(key, "counter") or 0,
            manufacturer=key.manufacturer or options.manufacturer or "",
            model=key.model or options.model or "",
            user=key.key_userid or key.device_userid or "",
            display_name=key.friendly_name or "",
        )
        self.result.add(record, self.loc.at(element))


def _field(key_element: Element, name: str) -> Element | None:
    """``Key/Data/<name>``, or a pre-RFC ``<Data Name="...">`` element."""
    found = kid(key_element, "Data", name)
    if found is not None:
        return found
    for data in kids(key_element, "Data"):
        if (data.get("Name") or "").lower() == _LEGACY_DATA.get(name):
            return data
    return None


def _kind(uri: str | None) -> OtpKind | None:
    match = _KIND.search(uri or "")
    return OtpKind(match.group(1).lower()) if match else None


def _int(key: Key, name: str) -> int | None:
    value = getattr(key, "_" + name, None)
    return value if isinstance(value, int) else None


def _to_int(plain: bytes) -> int:
    """An encrypted integer: ASCII digits, or big-endian bytes (python-pskc's two readings)."""
    return int(plain) if plain.isdigit() else int.from_bytes(plain, "big")


class Pskc:
    """RFC 6030 Portable Symmetric Key Container, the one format that can hold every token."""

    id: ClassVar[str] = "pskc"
    title: ClassVar[str] = "PSKC (RFC 6030) XML"
    extensions: ClassVar[tuple[str, ...]] = (".pskcxml", ".pskc", ".xml")
    capabilities: ClassVar[Capabilities] = Capabilities(t0=True)

    def sniff(self, data: bytes) -> int:
        name = _xml.root_name(data)
        return 2 if name == "KeyContainer" else 1 if name == "SecretContainer" else 0

    def read(self, data: bytes, source: str, options: ReadOptions) -> ReadResult:
        """The fast lane (``pskc_fast``) when the file is plain sailing, else the careful reader."""
        result = ReadResult(format=self.id, source=source)
        told = LaneProgress(options.progress)
        fast = replace(options, progress=told.fast) if options.progress else options
        done, derived = read_fast(data, source, fast, result)
        if not done:
            careful = replace(options, progress=told.careful) if options.progress else options
            _Reader(data, source, careful, result, derived).run()
        return result

    def write(self, records: Sequence[SeedRecord], options: WriteOptions) -> bytes:
        """Plain by default; AES-CBC + HMAC-SHA1 with ``pskc_key`` or a PBKDF2 ``passphrase``."""
        if options.pskc_key is not None and options.passphrase is not None:
            raise UsageError(
                "A PSKC file is encrypted with a pre-shared key or a passphrase, not both: "
                "give only one.",
                code="usage.pskc_two_keys",
            )
        bad = _xml.unwritable_problems(records, self.id)
        if bad:
            raise unsupported(bad, self.id)
        pskc = PSKC()
        for record in records:
            totp = record.kind is OtpKind.TOTP
            pskc.add_key(
                id=record.serial,
                serial=record.serial,
                manufacturer=record.manufacturer or None,
                model=record.model or None,
                algorithm=TOTP_URI if totp else HOTP_URI,
                secret=record.secret.reveal(),
                algorithm_suite=spell_hash(record.algorithm, "HMAC-SHA1"),
                response_length=record.digits,
                response_encoding="DECIMAL",
                time_offset=record.t0 if totp else None,
                time_interval=record.period if totp else None,
                counter=None if totp else record.counter,
                key_userid=record.user or None,
                friendly_name=record.display_name or None,
            )
        if options.pskc_key is not None:
            key = options.pskc_key.reveal()
            if len(key) not in (16, 24, 32):
                raise UsageError(
                    "The pre-shared key must be 16, 24 or 32 bytes (AES-128, -192 or -256), "
                    f"not {len(key)}.",
                    code="usage.bad_pskc_key",
                )
            algorithm = f"aes{len(key) * 8}-cbc"
            pskc.encryption.setup_preshared_key(key=key, algorithm=algorithm, key_name=PSK_KEY_NAME)
        elif options.passphrase is not None:
            pskc.encryption.setup_pbkdf2(
                options.passphrase.reveal(),
                iterations=options.pbkdf2_iterations,
                key_name=PASSPHRASE_KEY_NAME,
            )
        out = io.BytesIO()
        pskc.write(out)
        return out.getvalue()
