"""Every message written in src/ for an error is a sentence: capital first letter, a final
``.``, ``?`` or ``!``; and the wording helpers keep composed messages one sentence.

Why: the same message reaches a console page, the JSON API and a terminal; a lowercase
fragment on a page reads like a crash. The scan reads src/ as the interpreter would (AST): the
first argument (or ``message=``) of every call to a class deriving from ``OathdeskError`` that
is a string literal, an f-string or a sum of them, so a new ``raise X("oops")`` fails here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from oathdesk.domain import OathdeskError, UsageError
from oathdesk.domain.wording import clause, is_sentence, sentence

SRC = Path(__file__).resolve().parents[2] / "src" / "oathdesk"


def _trees() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text()) for p in sorted(SRC.rglob("*.py"))}


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """Names of classes deriving from ``OathdeskError`` anywhere in src (by name)."""
    bases: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                named = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                bases.setdefault(node.name, set()).update(named)
    found = {"OathdeskError"}
    grew = True
    while grew:
        grew = False
        for name, of in bases.items():
            if name not in found and of & found:
                found.add(name)
                grew = True
    return found


def _pieces(node: ast.expr) -> list[str | None] | None:
    """The literal pieces of a message (None for a ``{...}`` part), or None if not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else None
            for v in node.values
        ]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _pieces(node.left), _pieces(node.right)
        return None if left is None or right is None else left + right
    return None


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _message_arg(call: ast.Call, position: int = 0) -> ast.expr | None:
    keyword = next((k.value for k in call.keywords if k.arg == "message"), None)
    return call.args[position] if len(call.args) > position else keyword


def _factories(trees: dict[Path, ast.Module], errors: set[str]) -> dict[str, int]:
    """Helpers that pass one of their parameters on as an error's message (``def _bad(message):
    return DeliveryError(message, ...)``): name -> that parameter's position."""
    found: dict[str, int] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            params = [a.arg for a in node.args.args]
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and _name(call.func) in errors:
                    arg = _message_arg(call)
                    if isinstance(arg, ast.Name) and arg.id in params:
                        found[node.name] = params.index(arg.id)
    return found


def _constants(tree: ast.Module) -> dict[str, ast.expr]:
    """The module's ``NAME = "text"`` assignments, so ``raise X(NAME)`` is checked too."""
    found: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node.value
    return found


def _messages() -> Iterator[tuple[str, list[str | None]]]:
    trees = _trees()
    errors = _error_classes(trees)
    factories = _factories(trees, errors)
    for path, tree in trees.items():
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name in errors:
                arg = _message_arg(node)
            elif name in factories and "emulator" not in path.parts:
                # the emulator's helpers answer as Graph does (which quotes them on, as a clause)
                arg = _message_arg(node, factories[name])
            else:
                continue
            if isinstance(arg, ast.Name) and arg.id in constants:
                arg = constants[arg.id]
            pieces = _pieces(arg) if arg is not None else None
            if pieces is not None:
                yield f"{path.relative_to(SRC)}:{node.lineno}", pieces


def _problem(pieces: list[str | None]) -> str | None:
    first, last = pieces[0], pieces[-1]
    if first is not None and first[:1].islower():
        return "starts with a lowercase letter"
    if last is None:
        return "ends with a {value}: end it with a literal '.', '?' or '!'"
    if not is_sentence("X" + last):
        return "has no final '.', '?' or '!'"
    return None


def test_the_scan_finds_the_error_messages() -> None:
    found = dict(_messages())
    assert len(found) > 300  # the scan sees the tree (not a vacuous pass)
    assert any(p.startswith("store/") for p in found)
    assert any(p.startswith("delivery/") for p in found)


def test_every_error_message_in_src_is_a_sentence() -> None:
    wrong = [
        f"{where}: {problem}: {''.join(p if p is not None else '{...}' for p in pieces)[:90]!r}"
        for where, pieces in _messages()
        if (problem := _problem(pieces)) is not None
    ]
    assert wrong == []


def test_the_check_catches_a_fragment() -> None:
    assert _problem(["no such token"]) == "starts with a lowercase letter"
    assert _problem(["No such token"]) == "has no final '.', '?' or '!'"
    assert _problem(["No token ", None]) is not None
    assert _problem(["No token ", None, "."]) is None
    assert _problem([None, ": wrong password (or the file is damaged)."]) is None


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("no such token", "No such token."),
        ("No such token.", "No such token."),
        ("  is it yours?  ", "Is it yours?"),
        ("type 'yes' (or 'no').", "Type 'yes' (or 'no')."),
        ("`oathdesk db upgrade` first", "`oathdesk db upgrade` first."),
        ("seeds.csv: the file is empty", "seeds.csv: the file is empty."),  # a name keeps its case
        ("x509 certificate expired", "x509 certificate expired."),
        ("", ""),
    ],
)
def test_sentence(raw: str, shown: str) -> None:
    assert sentence(raw) == shown


@pytest.mark.parametrize(
    ("raw", "inner"),
    [
        ("The key is wrong.", "the key is wrong"),
        ("PGP key expired.", "PGP key expired"),
        ("Entra refused it.", "Entra refused it"),
        ("it does not parse", "it does not parse"),
    ],
)
def test_clause(raw: str, inner: str) -> None:
    assert clause(raw) == inner


def test_a_message_composed_at_run_time_becomes_a_sentence() -> None:
    reason = "the disk is full"
    assert UsageError(reason).message == "The disk is full."
    assert str(OathdeskError(f"{reason}; free some space")) == "The disk is full; free some space."
