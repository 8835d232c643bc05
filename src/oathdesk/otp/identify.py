"""Which token showed this code: an index of current codes over tens of thousands of tokens.

Why: a help desk agent holding a token whose serial has worn off types the code it shows (then
a second one) and needs the serial. Computing every token's codes per question would take a
second per 100,000 tokens; instead the index keeps, per time step around now, a table from
code to token, and when time moves on it computes only the step that enters the window and
drops the one that leaves it: one HMAC per token per step, from ``OtpKey`` pads made once.
HOTP tokens are indexed once at their next few counters. Lookups are dictionary reads, so they
are not constant-time: this finds tokens, it never decides a sign-in (use ``verify`` for that).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from oathdesk.domain import OtpError, OtpKind, SeedRecord
from oathdesk.otp.core import MAX_COUNTER, OtpKey, check_window, time_step, well_formed
from oathdesk.otp.verify import DEFAULT_HOTP_LOOKAHEAD, OtpState

Table = tuple[dict[int, int], dict[int, list[int]]]  # code -> first token, code -> the others


@dataclass(frozen=True, slots=True)
class Candidate:
    """A token that shows the code(s) asked about."""

    serial: str
    step: int  # time step (TOTP) or counter (HOTP) of the last code given
    offset: int  # TOTP: that step minus ours; HOTP: counters past the next expected one


@dataclass
class _TotpGroup:
    """Tokens sharing period, T0, digits and drift: their tables cover the same steps."""

    period: int
    t0: int
    digits: int
    drift: int
    tokens: list[int] = field(default_factory=list)
    tables: dict[int, Table] = field(default_factory=dict)  # our step -> table


class CodeIndex:
    """Codes of every token for the steps ``now ± window``, refreshed as time moves on."""

    def __init__(
        self,
        tokens: Iterable[tuple[str, OtpKey, OtpState]],
        *,
        at: float,
        window: int = 1,
        hotp_lookahead: int = DEFAULT_HOTP_LOOKAHEAD,
    ) -> None:
        self.window = check_window(window)
        lookahead = check_window(hotp_lookahead)
        self._serials: list[str] = []
        self._keys: list[OtpKey] = []
        self._groups: dict[tuple[int, int, int, int], _TotpGroup] = {}
        self._hotp: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (digits, code) -> hits
        self._hotp_next: dict[int, int] = {}
        self.hmacs = 0  # HMACs computed so far (for the bench, and to see the cost)
        for serial, key, state in tokens:
            index = len(self._serials)
            self._serials.append(serial)
            self._keys.append(key)
            spec = key.spec
            if spec.kind is OtpKind.HOTP:
                self._index_hotp(index, state.next_counter, lookahead)
                continue
            group_key = (spec.period, spec.t0, spec.digits, state.drift)
            group = self._groups.get(group_key)
            if group is None:
                group = _TotpGroup(spec.period, spec.t0, spec.digits, state.drift)
                self._groups[group_key] = group
            group.tokens.append(index)
        self.advance(at)

    @classmethod
    def of_records(
        cls,
        records: Iterable[SeedRecord],
        *,
        at: float,
        window: int = 1,
        hotp_lookahead: int = DEFAULT_HOTP_LOOKAHEAD,
    ) -> CodeIndex:
        tokens = ((r.serial, OtpKey.of(r), OtpState.of(r)) for r in records)
        return cls(tokens, at=at, window=window, hotp_lookahead=hotp_lookahead)

    def __len__(self) -> int:
        return len(self._serials)

    def __repr__(self) -> str:
        return f"CodeIndex(<{len(self)} tokens>, window={self.window})"

    # -- building ---------------------------------------------------------------------------
    def _index_hotp(self, index: int, start: int, lookahead: int) -> None:
        self._hotp_next[index] = start
        key = self._keys[index]
        for counter in range(start, min(start + lookahead, MAX_COUNTER) + 1):
            code = key.value(counter)
            self._hotp.setdefault((key.digits, code), []).append((index, counter))
            self.hmacs += 1

    def _table(self, group: _TotpGroup, step: int) -> Table:
        """One HMAC per token of the group for our ``step`` (the token's ``step + drift``)."""
        first: dict[int, int] = {}
        others: dict[int, list[int]] = {}
        token_step = step + group.drift
        if not 0 <= token_step <= MAX_COUNTER:
            return first, others
        keys = self._keys
        for index in group.tokens:
            code = keys[index].value(token_step)
            if code in first:
                others.setdefault(code, []).append(index)
            else:
                first[code] = index
        self.hmacs += len(group.tokens)
        return first, others

    def advance(self, at: float) -> int:
        """Bring every group to the steps around ``at``; returns how many tables were computed."""
        made = 0
        for group in self._groups.values():
            now = time_step(at, period=group.period, t0=group.t0)
            wanted = range(now - self.window, now + self.window + 1)
            for step in [s for s in group.tables if s not in wanted]:
                del group.tables[step]
            for step in wanted:
                if step not in group.tables:
                    group.tables[step] = self._table(group, step)
                    made += 1
        return made

    # -- asking -----------------------------------------------------------------------------
    def _hits(self, code: str, at: float) -> dict[int, Candidate]:
        if not (isinstance(code, str) and 6 <= len(code) <= 8 and well_formed(code, len(code))):
            raise OtpError(
                "A code is 6 to 8 digits and nothing else; type it as the token shows it.",
                code="otp.malformed_code",
            )
        self.advance(at)
        digits, value = len(code), int(code)
        found: dict[int, Candidate] = {}
        for group in self._groups.values():
            if group.digits != digits:
                continue
            now = time_step(at, period=group.period, t0=group.t0)
            for step in sorted(group.tables, key=lambda s: (abs(s - now), s)):
                first, others = group.tables[step]
                index = first.get(value)
                if index is None:
                    continue
                token_step = step + group.drift
                for hit in (index, *others.get(value, ())):
                    if hit not in found:
                        found[hit] = Candidate(self._serials[hit], token_step, token_step - now)
        for index, counter in self._hotp.get((digits, value), ()):
            if index not in found:
                skipped = counter - self._hotp_next[index]
                found[index] = Candidate(self._serials[index], counter, skipped)
        return found

    def lookup(self, code: str, at: float) -> list[Candidate]:
        """Every token showing ``code`` within the window around ``at`` (nearest steps first)."""
        return list(self._hits(code, at).values())

    def identify(self, codes: Sequence[str], at: float) -> list[Candidate]:
        """Tokens that showed ``codes`` (one, or two consecutive ones) around ``at``.

        With two codes, each token showing the first is checked for the second at its next step
        (constant-time); a token that showed the first by chance passes with probability 10⁻⁶."""
        if not 1 <= len(codes) <= 2:
            raise OtpError(
                "Identifying a token takes one code or two consecutive codes.", code="otp.bad_codes"
            )
        found = self._hits(codes[0], at)
        if len(codes) == 1:
            return list(found.values())
        second = codes[1]
        narrowed = []
        for index, candidate in found.items():
            step = candidate.step + 1
            if self._keys[index].matches(second, step):
                narrowed.append(Candidate(candidate.serial, step, candidate.offset + 1))
        return narrowed
