"""OData query options as far as the emulator honours them: ``eq``/``and`` filters (plus
``startswith`` and ``or`` where Graph documents them, on users), ``$select``, ``$top`` and opaque
``$skiptoken`` paging; everything else is a 400, as §11.7 of the design asks.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from oathdesk.emulator.errors import bad_request

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<word>[A-Za-z_][\w/]*))")
_STARTSWITH = re.compile(
    r"\s*startswith\(\s*(?P<prop>[A-Za-z_][\w/]*)\s*,\s*(?P<str>'(?:[^']|'')*')\s*\)",
    re.IGNORECASE,
)
OR = "$or"  # a clause whose value is a list of alternatives, each a list of and-ed clauses


@dataclass(frozen=True)
class StartsWith:
    """The literal of a ``startswith(property,'text')`` clause."""

    text: str


def _invalid(message: str) -> Exception:
    return bad_request(message, inner_code="invalidQueryOption")


def _eq_clause(text: str, pos: int, allowed: Mapping[str, type]) -> tuple[tuple[str, Any], int]:
    parts: list[re.Match[str]] = []
    for _ in range(3):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _invalid(
                f"$filter: cannot read '{text[pos : pos + 30]}'; only "
                "\"property eq 'value'\" joined by 'and' is supported"
            )
        parts.append(match)
        pos = match.end()
    name, op, value = parts
    prop = name.group("word")
    if prop is None or prop not in allowed:
        raise _invalid(f"$filter: property not filterable here; use one of {sorted(allowed)}")
    if op.group("word") != "eq":
        raise _invalid("$filter: only the 'eq' operator is supported")
    if value.group("str") is not None:
        literal: Any = value.group("str")[1:-1].replace("''", "'")
        if allowed[prop] is int:
            raise _invalid(f"$filter: {prop} takes a number, not a string")
    elif value.group("num") is not None:
        if allowed[prop] is not int:
            raise _invalid(f"$filter: {prop} takes a quoted string")
        literal = int(value.group("num"))
    else:
        raise _invalid("$filter: the value must be a quoted string or a number")
    return (prop, literal), pos


def parse_filter(
    text: str,
    allowed: Mapping[str, type],
    *,
    prefixable: Collection[str] = (),
    disjunction: bool = False,
) -> list[tuple[str, Any]]:
    """``a eq 'x' and b eq 30`` → ``[("a", "x"), ("b", 30)]``; anything richer is refused.

    Where Graph supports more (users), ``prefixable`` names the properties that take
    ``startswith(p,'x')`` (→ ``(p, StartsWith("x"))``) and ``disjunction`` allows ``or``, which
    binds looser than ``and``: the result is then one ``(OR, [[clauses], [clauses]])`` clause.
    """
    pos, alternatives, clauses = 0, [], []
    while True:
        fn = _STARTSWITH.match(text, pos) if prefixable else None
        if fn is not None:
            if fn.group("prop") not in prefixable:
                raise _invalid(f"$filter: startswith works here on {sorted(prefixable)} only")
            clauses.append((fn.group("prop"), StartsWith(fn.group("str")[1:-1].replace("''", "'"))))
            pos = fn.end()
        else:
            clause, pos = _eq_clause(text, pos, allowed)
            clauses.append(clause)
        if not text[pos:].strip():
            alternatives.append(clauses)
            return [(OR, alternatives)] if len(alternatives) > 1 else clauses
        conj = _TOKEN.match(text, pos)
        word = conj.group("word") if conj is not None else None
        if conj is None or word not in ("and", "or") or (word == "or" and not disjunction):
            raise _invalid("$filter: clauses can only be joined with 'and'")
        if word == "or":
            alternatives.append(clauses)
            clauses = []
        pos = conj.end()


def apply_filter(
    items: Sequence[dict[str, Any]], clauses: list[tuple[str, Any]]
) -> list[dict[str, Any]]:
    def value(item: dict[str, Any], path: str) -> Any:
        current: Any = item
        for part in path.split("/"):
            current = current.get(part) if isinstance(current, dict) else None
        return current

    def match(item: dict[str, Any], prop: str, literal: Any) -> bool:
        if prop == OR:
            return any(all(match(item, p, v) for p, v in alt) for alt in literal)
        actual = value(item, prop)
        if isinstance(literal, StartsWith):
            return isinstance(actual, str) and actual.lower().startswith(literal.text.lower())
        if isinstance(actual, str) and isinstance(literal, str):
            return actual.lower() == literal.lower()
        return bool(actual == literal)

    return [i for i in items if all(match(i, p, v) for p, v in clauses)]


def select(item: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if not fields:
        return item
    return {k: v for k, v in item.items() if k in fields or k == "id" or k.startswith("@")}


@dataclass
class Query:
    filter: list[tuple[str, Any]]
    select: list[str] | None
    top: int | None
    skip: int


def read_query(
    params: Mapping[str, str],
    *,
    filterable: Mapping[str, type],
    selectable: Sequence[str],
    extra: Sequence[str] = (),
    prefixable: Collection[str] = (),
    disjunction: bool = False,
) -> Query:
    """Check the ``$`` options of a collection request; unknown ones are a 400."""
    known = {"$filter", "$select", "$top", "$skiptoken", *extra}
    for key in params:
        if key.startswith("$") and key not in known:
            raise _invalid(f"query option {key} is not supported on this resource")
    clauses = (
        parse_filter(params["$filter"], filterable, prefixable=prefixable, disjunction=disjunction)
        if "$filter" in params
        else []
    )
    fields = None
    if "$select" in params:
        fields = [f.strip() for f in params["$select"].split(",") if f.strip()]
        unknown = sorted(set(fields) - set(selectable))
        if unknown:
            raise _invalid(f"$select: unknown properties {unknown}")
    top = None
    if "$top" in params:
        if not params["$top"].isdigit() or int(params["$top"]) < 1:
            raise _invalid("$top must be a positive whole number")
        top = int(params["$top"])
    skip = 0
    if "$skiptoken" in params:
        skip = decode_skiptoken(params["$skiptoken"])
    return Query(clauses, fields, top, skip)


def encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_skiptoken(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not raw.startswith("o:"):
            raise ValueError(raw)
        return max(0, int(raw[2:]))
    except ValueError as exc:
        raise _invalid("$skiptoken is not one this service issued; follow @odata.nextLink") from exc


def page(
    items: list[dict[str, Any]],
    query: Query,
    page_size: int,
    base_url: str,
    params: Mapping[str, str],
    context: str,
    shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One page of ``items`` as a Graph collection with ``@odata.nextLink`` when more remain."""
    size = min(query.top or page_size, page_size)
    chunk = items[query.skip : query.skip + size]
    body: dict[str, Any] = {"@odata.context": context}
    if query.skip + size < len(items):
        carried = {k: v for k, v in params.items() if k != "$skiptoken"}
        carried["$skiptoken"] = encode_skiptoken(query.skip + size)
        body["@odata.nextLink"] = f"{base_url}?{urlencode(carried, safe='$/,')}"
    body["value"] = [select(shape(i) if shape else i, query.select) for i in chunk]
    return body
