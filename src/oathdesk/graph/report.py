"""What an upload did, token by token: created, already present, failed (with a code and a
reason that never holds a secret) or, in a dry run, planned."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("created", "present", "failed", "planned")


@dataclass(frozen=True)
class ItemResult:
    serial: str
    outcome: str
    device_id: str = ""
    code: str = ""
    reason: str = ""

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class UploadReport:
    """Per-serial outcomes in input order, plus request counts for the curious."""

    order: list[str]
    results: dict[str, ItemResult] = field(default_factory=dict)
    bulk_requests: int = 0
    lookups: int = 0
    unknown_outcomes: int = 0

    def of(self, outcome: str) -> list[ItemResult]:
        return [
            self.results[s]
            for s in self.order
            if s in self.results and self.results[s].outcome == outcome
        ]

    def counts(self) -> dict[str, int]:
        return {o: len(self.of(o)) for o in OUTCOMES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "items": [self.results[s].to_dict() for s in self.order if s in self.results],
            "requests": {
                "bulk": self.bulk_requests,
                "lookups": self.lookups,
                "unknown_outcomes": self.unknown_outcomes,
            },
        }
