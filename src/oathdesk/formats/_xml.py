"""Hardened XML for the XML seed formats: no DTD, no entities, no network, with line numbers.

Seed files come from outside, so a DOCTYPE is refused before any tree is built: defusedxml
(``forbid_dtd``) is the gatekeeper, then lxml parses the same bytes with entity resolution and
network access off, because only lxml tells each element's line for the problem report.
Namespaces are stripped after parsing: vendors use every prefix style (``pskc:``, default
namespace, none), and both formats are matched on local names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as defused_fromstring
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from oathdesk.domain import Problem, SeedRecord

Element = Any  # an lxml element; lxml ships no type stubs

_LINE_SUFFIX = re.compile(r":\s*line \d+, column \d+$")
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_FIRST_TAG = re.compile(r"<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SNIFF_BYTES = 4096


def parse_xml(data: bytes, source: str) -> tuple[Element | None, list[Problem]]:
    """The root element with namespaces stripped, or ``None`` and the problem that says why."""
    try:
        defused_fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        doctype = data.find(b"<!DOCTYPE")
        line = data[:doctype].count(b"\n") + 1 if doctype >= 0 else 1
        return None, [
            Problem(
                f"{source}:{line}",
                "seed.xml_dtd_forbidden",
                "the file declares a DTD (<!DOCTYPE ...>) or entities; oathdesk refuses them "
                "because they can expand without limit or fetch other files. Genuine seed files "
                "have none: ask the vendor for the file without a DOCTYPE",
            )
        ]
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 1
        reason = _LINE_SUFFIX.sub("", str(exc))
        return None, [
            Problem(
                f"{source}:{line}",
                "seed.not_xml",
                f"not well-formed XML ({reason}); the file is damaged or not XML. "
                "Check it was not cut short or edited, or name its real format with --from",
            )
        ]
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:  # pragma: no cover - expat accepted it already
        return None, [Problem(f"{source}:{exc.lineno or 1}", "seed.not_xml", "not well-formed XML")]
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = etree.QName(element).localname
    return root, []


def root_name(data: bytes) -> str | None:
    """Local name of the first element in the first few KB, for cheap sniffing."""
    head = data[:SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "ignore")
    else:
        text = head.decode("latin-1")
    text = _COMMENT.sub("", text.lstrip("\ufeff\xef\xbb\xbf \t\r\n"))
    if not text.startswith("<"):
        return None
    match = _FIRST_TAG.search(text)
    return match.group(1) if match else None


def unwritable_problems(records: Sequence[SeedRecord], fmt: str) -> list[Problem]:
    """Records whose text fields hold characters XML 1.0 cannot carry (control characters)."""
    return [
        Problem(
            f"token {index}",
            "seed.not_expressible",
            f"{fmt} cannot carry control characters found in the serial, manufacturer, model, "
            "user or name",
            serial=record.serial,
        )
        for index, record in enumerate(records, start=1)
        if any(
            _NOT_XML_CHAR.search(value)
            for value in (
                record.serial,
                record.manufacturer,
                record.model,
                record.user,
                record.display_name,
            )
        )
    ]


def kids(element: Element, name: str | tuple[str, ...] | None = None) -> list[Element]:
    """Element children, optionally only those with the given local name(s)."""
    names = (name,) if isinstance(name, str) else name
    return [c for c in element if isinstance(c.tag, str) and (names is None or c.tag in names)]


def kid(element: Element | None, *path: str) -> Element | None:
    """The first descendant along ``path`` (local names), or ``None``."""
    for name in path:
        if element is None:
            return None
        found = kids(element, name)
        element = found[0] if found else None
    return element


def present(element: Element | None, fallback: Element) -> Element:
    """``element`` unless ``None`` (not ``or``: an lxml element without children is falsy)."""
    return fallback if element is None else element


def text(element: Element | None) -> str | None:
    """Stripped text of an element; ``None`` when absent or blank."""
    if element is None or element.text is None:
        return None
    value = str(element.text).strip()
    return value or None


class Locator:
    """Names elements as ``file:line (/Root/Child[2]/Leaf)`` with sibling indexes cached."""

    def __init__(self, source: str, data: bytes, indexed: frozenset[str] = frozenset()) -> None:
        self.source = source
        self.indexed = indexed  # tags that always carry an index, e.g. KeyPackage
        self._paths: dict[Element, str] = {}
        self._lines = data.decode("utf-8", "replace").splitlines()

    def _path(self, element: Element) -> str:
        cached = self._paths.get(element)
        if cached is not None:
            return cached
        parent = element.getparent()
        if parent is None:
            path = f"/{element.tag}"
        else:
            if parent not in self._paths:
                self._path(parent)
            counts: dict[str, int] = {}
            for child in kids(parent):
                counts[child.tag] = counts.get(child.tag, 0) + 1
            seen: dict[str, int] = {}
            base = self._paths[parent]
            for child in kids(parent):
                seen[child.tag] = seen.get(child.tag, 0) + 1
                name = child.tag
                if counts[name] > 1 or name in self.indexed:
                    name = f"{name}[{seen[child.tag]}]"
                self._paths[child] = f"{base}/{name}"
            path = self._paths[element]
        self._paths[element] = path
        return path

    def line(self, element: Element) -> int:
        """The line where the start tag opens (libxml2 reports where it closes)."""
        end = int(element.sourceline or 1)
        opening = re.compile(rf"<(?:[\w.\-]+:)?{re.escape(element.tag)}(?=[\s/>]|$)")
        for line in range(end, max(end - 20, 0), -1):
            if line <= len(self._lines) and opening.search(self._lines[line - 1]):
                return line
        return end

    def at(self, element: Element) -> str:
        return f"{self.source}:{self.line(element)} ({self._path(element)})"
