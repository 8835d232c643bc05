"""How messages read: every message a person meets is one sentence (capital, final stop).

Why: the same message reaches a console page, the JSON API and a terminal; fixing its shape
where it is made (and once more where it is shown) keeps all three alike, and composing a
message from another one (``"x: <reason>"``) stays one sentence with :func:`clause`.
"""

from __future__ import annotations

ENDINGS = (".", "?", "!")
# a sentence may close with a quote, bracket or code span after its stop: "(... 30.)"
_CLOSERS = ")]\"'`»”’"


def _starts_with_a_word(text: str) -> bool:
    """Whether ``text`` starts with a lowercase word (``no such token``), not with a name that
    must keep its case: a file (``seeds.csv: ...``), a command, an id (``x509``)."""
    first = text.split(" ", 1)[0].rstrip(",:;")
    return first[:1].islower() and first.replace("-", "").replace("'", "").isalpha()


def is_sentence(text: str) -> bool:
    """Whether ``text`` starts with no lowercase word and ends with ``.``, ``?`` or ``!``."""
    text = text.strip()
    return bool(text) and not _starts_with_a_word(text) and text.rstrip(_CLOSERS).endswith(ENDINGS)


def sentence(text: str) -> str:
    """``text`` as a sentence: a first lowercase word capitalised (a file name or an id such
    as ``seeds.csv`` keeps its case), a full stop added when it has no final ``.``, ``?`` or
    ``!``; an empty text stays empty."""
    text = text.strip()
    if not text:
        return text
    if _starts_with_a_word(text):
        text = text[0].upper() + text[1:]
    return text if text.rstrip(_CLOSERS).endswith(ENDINGS) else text + "."


def clause(text: str) -> str:
    """A sentence made part of another one (``f"Not saved: {clause(reason)}."``): the final
    full stop dropped and a capitalised first word lowered, unless it is an acronym or a name
    such as ``PGP`` or ``Entra``."""
    text = text.strip()
    if text.endswith("."):
        text = text[:-1]
    first = text.split(" ", 1)[0].rstrip(",:;")
    if first[:1].isupper() and first[1:].islower() and first not in _NAMES:
        text = text[0].lower() + text[1:]
    return text


# capitalised words that stay so inside a sentence (acronyms such as PGP are kept anyway)
_NAMES = frozenset({"Entra", "Graph", "Microsoft", "Debian", "Unix", "Windows", "I"})
