"""The inventory list's query: filters, sort and direction as one dependency shared by the page,
its ``/api/v1/tokens`` twin and both exports, and the links a sortable header needs.

Why: "export what I am looking at" only holds if the page, the API and the export read the same
parameters into the same filter and order; one dependency makes that a fact rather than a hope.
Header sorting is plain links (``?sort=user&dir=desc``), so it works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, Query
from starlette.responses import Response, StreamingResponse

from oathdesk.service import Inventory, TokenFilter, TokenState
from oathdesk.service.token_export import EntraStatus, SortKey, SortName, export_tokens
from oathdesk.web.security import Principal
from oathdesk.web.views import SearchQ, StatesQ

ENTRA_CHOICES: list[tuple[str, str]] = [
    ("absent", "Not in Entra"),
    ("present", "In Entra (any status)"),
    ("available", "In Entra: available"),
    ("assigned", "In Entra: assigned"),
    ("activated", "In Entra: activated"),
    ("failedActivation", "In Entra: failed activation"),
]
# (sort name, or None for a column that does not sort; header text)
COLUMNS: list[tuple[SortName | None, str]] = [
    ("serial", "Serial"),
    ("state", "State"),
    (None, "Kind"),
    ("manufacturer", "Manufacturer / model"),
    ("name", "Display name"),
    ("user", "User"),
    ("batch", "Batch"),
    ("created", "Imported"),
    ("last_used", "Last used"),
]

UserQ = Annotated[
    str | None, Query(max_length=320, description="Any part of the assigned user's UPN, any case.")
]
NameQ = Annotated[
    str | None, Query(max_length=200, description="Any part of the display name, any case.")
]
ModelQ = Annotated[str | None, Query(max_length=200, description="The model, exactly.")]
MakerQ = Annotated[str | None, Query(max_length=200, description="The manufacturer, exactly.")]
BatchQ = Annotated[
    str | None, Query(pattern=r"^[0-9]{0,9}$", description="The import batch's id (empty: any).")
]
EntraQ = Annotated[
    EntraStatus | Literal[""] | None,
    Query(
        description="absent (not in Entra), present, or Entra's status as our record expects it."
    ),
]
SortQ = Annotated[
    SortKey, Query(description="Sort order; a leading '-' (or dir=desc) sorts descending.")
]
DirQ = Annotated[
    Literal["asc", "desc", ""] | None,
    Query(description="asc or desc; overrides the '-' of sort (the console's header links)."),
]
FormatQ = Annotated[Literal["csv", "json"], Query(description="csv or json.")]


def _text(value: str | None) -> str:
    return value.strip() if value else ""


@dataclass(frozen=True)
class InventoryQuery:
    """What the reader asked to see, as typed (empty text means any)."""

    q: str
    states: list[TokenState]
    user: str
    name: str
    model: str
    manufacturer: str
    batch: str
    entra: str
    sort_name: str
    desc: bool

    @property
    def sort(self) -> SortKey:
        key: SortKey = ("-" if self.desc else "") + self.sort_name  # type: ignore[assignment]
        return key

    def token_filter(self) -> TokenFilter:
        return TokenFilter(
            serial_prefix=self.q or None,
            states=self.states or None,
            user_contains=self.user or None,
            name_contains=self.name or None,
            model=self.model or None,
            manufacturer=self.manufacturer or None,
            batch_id=int(self.batch) if self.batch else None,
            entra=self.entra or None,  # type: ignore[arg-type]  # checked by EntraQ
        )

    def params(self, **override: str) -> list[tuple[str, str]]:
        """The query string's pairs (no cursor), without empty values; ``override`` wins."""
        pairs = {
            "q": self.q,
            "user": self.user,
            "name": self.name,
            "model": self.model,
            "manufacturer": self.manufacturer,
            "batch": self.batch,
            "entra": self.entra,
            "sort": self.sort_name,
            "dir": "desc" if self.desc else "asc",
        }
        pairs.update(override)
        out = [(k, v) for k, v in pairs.items() if v]
        return out + [("state", s.value) for s in self.states]

    def url(self, path: str, **override: str) -> str:
        return path + "?" + urlencode(self.params(**override))

    def headers(self) -> list[dict[str, Any]]:
        """The table's header cells: a link that sorts by the column (flipping the direction
        when it is the current one) and ``aria-sort`` on the sorted one."""
        cells = []
        for name, label in COLUMNS:
            current = name == self.sort_name
            flip = "asc" if current and self.desc else ("desc" if current else "asc")
            cells.append(
                {
                    "label": label,
                    "name": name,
                    "href": self.url("/inventory", sort=name, dir=flip) if name else None,
                    "aria_sort": ("descending" if self.desc else "ascending") if current else None,
                }
            )
        return cells

    def to_dict(self) -> dict[str, Any]:
        return self.token_filter().to_dict()


def inventory_query(
    q: SearchQ = None,
    state: StatesQ = None,
    user: UserQ = None,
    name: NameQ = None,
    model: ModelQ = None,
    manufacturer: MakerQ = None,
    batch: BatchQ = None,
    entra: EntraQ = None,
    sort: SortQ = "serial",
    dir: DirQ = None,
) -> InventoryQuery:
    desc = dir == "desc" if dir else sort.startswith("-")
    return InventoryQuery(
        q=_text(q),
        states=list(dict.fromkeys(state or [])),
        user=_text(user),
        name=_text(name),
        model=_text(model),
        manufacturer=_text(manufacturer),
        batch=_text(batch).lstrip("0"),
        entra=entra or "",
        sort_name=sort.removeprefix("-"),
        desc=desc,
    )


def export_response(
    inv: Inventory, principal: Principal, query: InventoryQuery, fmt: str
) -> Response:
    """The filtered view as a streamed download (``Content-Disposition: attachment``)."""
    chunks = export_tokens(
        inv,
        query.token_filter(),
        sort=query.sort,
        fmt="json" if fmt == "json" else "csv",
        actor=principal.actor,
    )
    stamp = inv.now().strftime("%Y%m%dT%H%M%SZ")
    media = "application/json" if fmt == "json" else "text/csv; charset=utf-8"
    return StreamingResponse(
        chunks,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="oathdesk-tokens-{stamp}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


QueryDep = Annotated[InventoryQuery, Depends(inventory_query)]
