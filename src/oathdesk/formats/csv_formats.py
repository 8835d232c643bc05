"""The named CSV formats: each a built-in profile of the CSV engine, plus ``custom-csv``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import ClassVar

from oathdesk.domain import SeedRecord, UsageError
from oathdesk.formats.base import Capabilities, ReadOptions, ReadResult, WriteOptions
from oathdesk.formats.csv_engine import CsvProfile, load_profile, normalize_header
from oathdesk.formats.csv_io import _content_lines, _split, read_csv, sniff_delimiter, write_csv
from oathdesk.formats.text import decode_text, looks_binary

_HEX_CHARS = frozenset("0123456789abcdefABCDEF")


@cache
def builtin_profile(fmt: str) -> CsvProfile:
    data = resources.files("oathdesk.formats").joinpath(f"profiles/{fmt}.toml").read_bytes()
    return load_profile(data, f"{fmt}.toml")


def _first_lines(data: bytes, profile: CsvProfile, count: int = 5) -> list[str]:
    if looks_binary(data):
        return []
    text, _ = decode_text(data[:16384], "sniff")
    return [line for _, line in _content_lines(text, profile.comment_prefix)[:count]]


class ProfileFormat:
    """A format defined entirely by a built-in profile file."""

    id: ClassVar[str]
    title: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".txt")
    capabilities: ClassVar[Capabilities]

    @property
    def profile(self) -> CsvProfile:
        return builtin_profile(self.id)

    def sniff(self, data: bytes) -> int:
        profile = self.profile
        lines = _first_lines(data, profile)
        if not lines:
            return 0
        delimiter = sniff_delimiter(lines[0], profile)
        if profile.header_row:
            cells = {normalize_header(c) for c in _split(lines[0], delimiter)}
            required = [c for c in profile.columns if c.property and not c.optional]
            if not all(c.names() & cells for c in required):
                return 0
            known = set().union(*(c.names() for c in profile.columns))
            return 2 if cells <= known else 1
        return self._sniff_headerless(lines, delimiter)

    def _sniff_headerless(self, lines: list[str], delimiter: str) -> int:
        return 0

    def read(self, data: bytes, source: str, options: ReadOptions) -> ReadResult:
        return read_csv(self.profile, self.id, data, source, options)

    def write(self, records: Sequence[SeedRecord], options: WriteOptions) -> bytes:
        return write_csv(self.profile, records, options)


class EntraCsv(ProfileFormat):
    id = "entra-csv"
    title = "Entra ID OATH token CSV (upn optional)"
    capabilities = builtin_profile("entra-csv").capabilities


class DuoCsv(ProfileFormat):
    id = "duo-csv"
    title = "Duo hardware token import (serial,hex[,step|counter])"
    capabilities = builtin_profile("duo-csv").capabilities

    def _sniff_headerless(self, lines: list[str], delimiter: str) -> int:
        for line in lines:
            cells = [c.strip() for c in _split(line, delimiter)]
            if len(cells) not in (2, 3):
                return 0
            secret = cells[1]
            if len(secret) < 20 or not set(secret) <= _HEX_CHARS:
                return 0
            if len(cells) == 3 and not cells[2].isdigit():
                return 0
        return 1


class OktaCsv(ProfileFormat):
    id = "okta-csv"
    title = "Okta Custom OTP CSV (oathdesk definition)"
    capabilities = builtin_profile("okta-csv").capabilities


class SalesforceCsv(ProfileFormat):
    id = "salesforce-csv"
    title = "Salesforce TwoFactorInfo CSV (oathdesk definition)"
    capabilities = builtin_profile("salesforce-csv").capabilities


class SafeIdCsv(ProfileFormat):
    id = "safeid-csv"
    title = "SafeID token CSV (oathdesk definition)"
    capabilities = builtin_profile("safeid-csv").capabilities


class CustomCsv:
    """A layout the user describes in a TOML profile (``--profile``); never detected."""

    id: ClassVar[str] = "custom-csv"
    title: ClassVar[str] = "Custom CSV described by a TOML profile (--profile)"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".txt")
    capabilities: ClassVar[Capabilities] = Capabilities()

    @staticmethod
    def _profile(profile: CsvProfile | None) -> CsvProfile:
        if profile is None:
            raise UsageError(
                "The custom-csv format needs a layout: pass --profile FILE (a TOML profile, see "
                "docs/formats.md).",
                code="usage.profile_required",
            )
        return profile

    def sniff(self, data: bytes) -> int:
        return 0

    def read(self, data: bytes, source: str, options: ReadOptions) -> ReadResult:
        return read_csv(self._profile(options.profile), self.id, data, source, options)

    def write(self, records: Sequence[SeedRecord], options: WriteOptions) -> bytes:
        return write_csv(self._profile(options.profile), records, options)
