"""The hot-loop helpers of the read and write paths: records, secrets and base32 at C speed.

Why: a 100,000-row file spends most of its time in three places that are slow only by
accident. The frozen dataclass ``SeedRecord.__init__`` sets each of its twelve fields through
``object.__setattr__``; ``Secret.__init__`` type-checks and copies bytes a reader has just
made; and ``base64.b32decode``/``b32encode`` are Python loops on 3.11. Here records and secrets
are built by their slot descriptors (the same values, no checks the constructors would make:
neither has a ``__post_init__``), and base32 goes through ``int`` parsing and bit spreading.
If ``SeedRecord`` ever gains a field or a ``__post_init__``, :func:`make_record` falls back to
the real constructor on its own.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from operator import attrgetter

from oathdesk.domain import HashAlgorithm, OtpKind, Secret, SeedRecord

RECORD_FIELDS = (
    "serial",
    "secret",
    "kind",
    "period",
    "t0",
    "digits",
    "algorithm",
    "counter",
    "manufacturer",
    "model",
    "user",
    "display_name",
)
_new = object.__new__


def _trusted_secret() -> Callable[[bytes], Secret]:
    store = getattr(Secret, "_value").__set__  # noqa: B009  # the slot's descriptor, not a value

    def make(value: bytes) -> Secret:
        secret: Secret = _new(Secret)
        store(secret, value)
        return secret

    return make


secret_from_bytes: Callable[[bytes], Secret] = _trusted_secret()
"""A :class:`Secret` around ``value`` (which must be ``bytes``, freshly made by the caller)."""

_secret_of = attrgetter("secret")
_value_of: Callable[[Secret], bytes] = getattr(Secret, "_value").__get__  # noqa: B009


def secret_values(records: Iterable[SeedRecord]) -> Iterator[bytes]:
    """Each record's secret bytes, as ``record.secret.reveal()`` gives them, read through the
    slot at C speed: a writer asks for 100,000 of them at once."""
    return map(_value_of, map(_secret_of, records))


def _record_maker() -> Callable[..., SeedRecord]:
    """A plain twin of ``SeedRecord`` (same slots) that becomes one once its fields are set.

    Assigning ``__class__`` between classes of the same slot layout is ordinary Python; the
    twin's ``__init__`` stores each field with one slot write instead of a frozen setattr.
    Checked once here: should the layouts ever differ, the real constructor is used.
    """
    names = tuple(f.name for f in dataclasses.fields(SeedRecord))
    if names != RECORD_FIELDS or hasattr(SeedRecord, "__post_init__"):
        return SeedRecord  # pragma: no cover - the domain changed; stay correct, not fast

    class Twin:
        __slots__ = RECORD_FIELDS

        def __init__(
            self,
            serial: str,
            secret: Secret,
            kind: OtpKind,
            period: int,
            t0: int,
            digits: int,
            algorithm: HashAlgorithm,
            counter: int,
            manufacturer: str,
            model: str,
            user: str,
            display_name: str,
        ) -> None:
            self.serial = serial
            self.secret = secret
            self.kind = kind
            self.period = period
            self.t0 = t0
            self.digits = digits
            self.algorithm = algorithm
            self.counter = counter
            self.manufacturer = manufacturer
            self.model = model
            self.user = user
            self.display_name = display_name
            self.__class__ = SeedRecord  # type: ignore[assignment]

    sample = ("1", Secret(b"k"), OtpKind.TOTP, 30, 0, 6, HashAlgorithm.SHA1, 0, "m", "n", "", "")
    try:
        made: object = Twin(*sample)
    except TypeError:  # pragma: no cover - layouts differ
        return SeedRecord
    if type(made) is not SeedRecord or made != SeedRecord(*sample):  # pragma: no cover
        return SeedRecord
    maker: Callable[..., SeedRecord] = Twin  # type: ignore[assignment]  # it returns records
    return maker


make_record: Callable[..., SeedRecord] = _record_maker()
"""``SeedRecord(...)`` with all twelve fields given by position, in declaration order."""

# -- base32 ------------------------------------------------------------------------------
_B32_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_DIGITS = bytes.maketrans(_B32_ALPHABET, b"0123456789abcdefghijklmnopqrstuv")
_TO_ALPHABET = bytes(range(256)).translate(bytes.maketrans(bytes(range(32)), _B32_ALPHABET))


def b32decode_plain(text: str) -> bytes | None:
    """Bytes of unpadded upper-case base32 (what Entra files hold); ``None`` for anything else.

    ``None`` sends the caller to ``Secret.decode``, which takes every tolerated spelling and
    names what is wrong. Trailing bits past the last whole byte are dropped, as b32decode does.
    """
    length = len(text)
    if not length or length % 8 in (1, 3, 6):
        return None
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    if raw.translate(None, _B32_ALPHABET):  # any byte left is not a base32 letter
        return None
    size = length * 5 // 8
    return (int(raw.translate(_TO_DIGITS), 32) >> (length * 5 - size * 8)).to_bytes(size, "big")


_SPREAD_MASKS: dict[int, list[tuple[int, int, int]]] = {}


def _spread_plan(groups: int) -> list[tuple[int, int, int]]:
    """Masks that move 5-bit group i of an integer to bits 8i..8i+4, in log2(groups) steps.

    At each step every block of ``size`` groups already sits at its final byte offset with its
    groups packed 5 bits apart; the upper half of each block moves up by 3 bits per group.
    """
    plan = _SPREAD_MASKS.get(groups)
    if plan is not None:
        return plan
    size = 1
    while size < groups:
        size *= 2
    plan = []
    while size > 1:
        half = size // 2
        low = high = 0
        for block in range(0, groups, size):
            base = block * 8
            low |= ((1 << (5 * half)) - 1) << base
            high |= ((1 << (5 * half)) - 1) << (base + 5 * half)
        plan.append((low, high, 3 * half))
        size = half
    _SPREAD_MASKS[groups] = plan
    return plan


def b32encode_plain(value: bytes) -> str:
    """Unpadded upper-case base32 of ``value``, as ``Secret.to_base32()`` writes it."""
    if not value:
        return ""
    bits = len(value) * 8
    groups = -(-bits // 5)
    number = int.from_bytes(value, "big") << (groups * 5 - bits)
    for low, high, shift in _spread_plan(groups):
        number = (number & low) | ((number & high) << shift)
    return number.to_bytes(groups, "big").translate(_TO_ALPHABET).decode("ascii")


@lru_cache(maxsize=2)
def _repeated_plan(groups: int, slot: int, count: int) -> list[tuple[int, int, int]]:
    """:func:`_spread_plan`'s masks repeated for ``count`` slots of ``slot`` bytes; kept for
    the next chunk of a file, which has the same shape (a third of the encoding's time).
    A writer calls :func:`forget_masks` when done: the masks are megabytes."""
    return [
        (
            int.from_bytes(low.to_bytes(slot, "big") * count, "big"),
            int.from_bytes(high.to_bytes(slot, "big") * count, "big"),
            shift,
        )
        for low, high, shift in _spread_plan(groups)
    ]


def forget_masks() -> None:
    """Drops the masks :func:`b32encode_many` kept for a file's chunks."""
    _repeated_plan.cache_clear()


def b32encode_many(values: Sequence[bytes]) -> list[str]:
    """``b32encode_plain`` of each value, done for all values of one length at once.

    Each value of length L is placed in a zero-padded slot of G' bytes (G' the power of two
    at or above its group count), so one integer holds them all and each masking step of
    :func:`_spread_plan` moves every value's groups at once; the masks repeat per slot.
    """
    out: list[str] = [""] * len(values)
    by_length: dict[int, list[int]] = {}
    for index, value in enumerate(values):
        by_length.setdefault(len(value), []).append(index)
    for length, indexes in by_length.items():
        if not length:
            continue
        groups = -(-length * 8 // 5)
        slot = 1
        while slot < groups:
            slot *= 2
        count = len(indexes)
        padding = bytes(slot - length)
        joined = padding + padding.join([values[i] for i in indexes])
        number = int.from_bytes(joined, "big") << (groups * 5 - length * 8)
        for low_all, high_all, shift in _repeated_plan(groups, slot, count):
            number = (number & low_all) | ((number & high_all) << shift)
        text = number.to_bytes(slot * count, "big").translate(_TO_ALPHABET).decode("ascii")
        skip = slot - groups
        texts = [text[start + skip : start + slot] for start in range(0, len(text), slot)]
        if count == len(values):
            return texts
        for index, encoded in zip(indexes, texts, strict=True):
            out[index] = encoded
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a file's records are made, back on after.

    Why: reading 100,000 tokens makes some 400,000 objects and no reference cycle; the
    collector, triggered every 700 allocations, would walk the growing heap again and again
    (40 % of a CSV read). Reference counting still frees everything as usual. Left off if it
    was off already; turned back on even when the read raises.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def intern_text(cache: dict[str, str], text: str) -> str:
    """One string object per distinct value (models, manufacturers repeat on every row)."""
    return cache.setdefault(text, text)


__all__ = [
    "b32decode_plain",
    "b32encode_plain",
    "gc_paused",
    "intern_text",
    "make_record",
    "secret_from_bytes",
    "secret_values",
]
