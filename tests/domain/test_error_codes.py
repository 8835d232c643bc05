"""The error registry against the source and the docs: every code raised in src/ is registered,
every registered code is documented in docs/errors.md with its kind and statuses, and each kind
has one HTTP status and one exit status.

Why: a code raised without a kind would get a status by accident, and one missing from the docs
leaves a person with a code nobody explains. The scan reads src/ as the interpreter would (AST),
so adding ``raise X(..., code="new.code")`` fails here until the code is registered and documented.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from oathdesk.cli.exits import Exit, exit_for
from oathdesk.domain import (
    ConfigError,
    DecryptionError,
    ErrorKind,
    OathdeskError,
    exit_status,
    http_status,
    kind_of,
)
from oathdesk.domain.error_codes import CODES, FALLBACK, KIND_STATUS
from oathdesk.emulator.app import _FAULT_CODES
from oathdesk.store.errors import SerialConflict, StateConflict

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "oathdesk"
DOC = ROOT / "docs" / "errors.md"

# Codes the web apps answer with that no exception carries (web/errors.py, delivery/web_app.py).
ANSWERED = {
    "http.not_found",
    "http.method_not_allowed",
    "request.invalid",
    "request.bad_json",
    "internal",
}
# ``code=`` arguments that are not string literals, each with why it adds no code of its own:
# (file under src/oathdesk, the call, the argument).
DYNAMIC = {
    # constructors that pass a caller's code (or None for the class default) up to OathdeskError
    ("domain/errors.py", "super().__init__", "code"),
    ("graph/errors.py", "super().__init__", "code"),
    ("store/errors.py", "super().__init__", "code"),
    # a refused request move keeps the store's code (delivery.state_conflict, registered)
    ("delivery/requesting.py", "DeliveryError", "exc.code"),
    # the emulator's Graph and OAuth errors: their codes are read from the constructor calls
    ("emulator/errors.py", "super().__init__", "f'emulator.{graph_code}'"),
    ("emulator/errors.py", "super().__init__", "f'emulator.oauth.{error}'"),
    # not errors: an HTML template field, an audit entry's detail, the OTP code a user typed
    ("emulator/routes_signin.py", "_DEVICE_FIELDS.format", "html.escape(entered)"),
    ("service/accounts.py", "_audit", "code"),
    ("service/entra_signin.py", "_audit", "code"),
    ("web/routes_tokens.py", "ActionRequest", "code or None"),
    ("web/routes_users.py", "ActionRequest", "code"),
    ("cli/tokens_lifecycle_cmd.py", "ActionRequest", "code"),
    ("cli/tokens_lifecycle_cmd.py", "ActionRequest", "first"),
}
# ``code="..."`` literals given to calls that are not errors.
NOT_ERRORS = {("emulator/routes_signin.py", "_DEVICE_FIELDS.format")}
# Emulator Graph errors whose wire code is not a literal: (file, argument) -> the codes it takes.
EMULATOR_DYNAMIC = {
    ("emulator/app.py", "_FAULT_CODES.get(rule.status, 'faultInjected')"): {
        *(f"emulator.{code}" for code in _FAULT_CODES.values()),
        "emulator.faultInjected",
    },
}
EMULATOR_PREFIX = {"GraphError": "emulator.", "OAuthError": "emulator.oauth."}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _error_classes(modules: list[tuple[str, ast.Module]]) -> set[str]:
    """Names of the classes that derive from OathdeskError (by base name, across src/)."""
    bases: dict[str, set[str]] = {}
    for _, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
                bases.setdefault(node.name, set()).update(names)
    found = {"OathdeskError"}
    while True:
        more = {name for name, of in bases.items() if of & found} - found
        if not more:
            return found
        found |= more


def scan() -> tuple[dict[str, list[str]], set[tuple[str, str, str]]]:
    """Every error code src/ can raise -> where; and the non-literal ``code=`` arguments seen."""
    modules = list(_modules())
    errors = _error_classes(modules)
    codes: dict[str, list[str]] = {}
    dynamic: set[tuple[str, str, str]] = set()

    def add(code: str, where: str) -> None:
        codes.setdefault(code, []).append(where)

    for rel, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in errors:
                for stmt in node.body:
                    targets = (
                        stmt.targets
                        if isinstance(stmt, ast.Assign)
                        else [stmt.target]
                        if isinstance(stmt, ast.AnnAssign)
                        else []
                    )
                    value = getattr(stmt, "value", None)
                    if (
                        any(isinstance(t, ast.Name) and t.id == "code" for t in targets)
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        add(value.value, f"{rel}:{stmt.lineno} class {node.name}")
            if not isinstance(node, ast.Call):
                continue
            call = ast.unparse(node.func)
            for kw in node.keywords:
                if kw.arg != "code":
                    continue
                if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    if (rel, call) not in NOT_ERRORS:
                        add(kw.value.value, f"{rel}:{node.lineno} {call}")
                else:
                    dynamic.add((rel, call, ast.unparse(kw.value)))
            prefix = EMULATOR_PREFIX.get(call)
            if rel.startswith("emulator/") and prefix and len(node.args) >= 2:
                wire = node.args[1]
                if isinstance(wire, ast.Constant) and isinstance(wire.value, str):
                    add(prefix + wire.value, f"{rel}:{node.lineno} {call}")
                else:
                    for code in EMULATOR_DYNAMIC.get((rel, ast.unparse(wire)), {"?unlisted"}):
                        add(code, f"{rel}:{node.lineno} {call} {ast.unparse(wire)}")
    return codes, dynamic


RAISED, DYNAMIC_SEEN = scan()


def doc_rows() -> dict[str, tuple[str, int, int]]:
    """code -> (kind, HTTP, exit) from the code table of docs/errors.md."""
    rows: dict[str, tuple[str, int, int]] = {}
    row = re.compile(r"^\| `([^`]+)` \| `([a-z_]+)` \| (\d{3}) \| (\d+) \| .+ \|$")
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = row.match(line)
        if match:
            assert match[1] not in rows, f"{match[1]} is documented twice"
            rows[match[1]] = (match[2], int(match[3]), int(match[4]))
    return rows


def test_the_scan_sees_the_codes_it_must() -> None:
    """The scan itself works: class defaults, raise sites, emulator wire codes, fault codes."""
    for code in (
        "oathdesk.error",  # OathdeskError's class default
        "store.key_file_invalid",  # a subclass default
        "inventory.serial_conflict",  # a default whose class sets no code at its raise sites
        "service.push_running",  # a raise site
        "emulator.itemNotFound",  # emulator/errors.py not_found()
        "emulator.oauth.invalid_client",  # emulator/identity.py
        "emulator.gatewayTimeout",  # emulator/app.py _FAULT_CODES
    ):
        assert code in RAISED, code
    assert "" not in RAISED and "?unlisted" not in RAISED


def test_every_code_raised_in_src_is_registered() -> None:
    missing = {code: where for code, where in RAISED.items() if code not in CODES}
    assert not missing, f"register these in src/oathdesk/domain/error_registry.py: {missing}"


def test_every_dynamic_code_argument_is_accounted_for() -> None:
    """A ``code=`` that is not a literal must be listed above with why it adds no new code."""
    assert DYNAMIC_SEEN == DYNAMIC


def test_every_registered_code_is_raised_or_answered() -> None:
    """No stale entry: a renamed code leaves no row behind."""
    stale = set(CODES) - set(RAISED) - ANSWERED
    assert not stale


def test_every_registered_code_is_documented_with_its_kind_and_statuses() -> None:
    rows = doc_rows()
    assert set(rows) == set(CODES), (
        f"missing from docs/errors.md: {sorted(set(CODES) - set(rows))}; "
        f"documented but not registered: {sorted(set(rows) - set(CODES))}"
    )
    for code, info in CODES.items():
        status = KIND_STATUS[info.kind]
        assert rows[code] == (info.kind.value, status.http, status.exit), code


def test_each_kind_has_one_http_status_and_one_exit_status() -> None:
    assert set(KIND_STATUS) == set(ErrorKind)
    for kind, status in KIND_STATUS.items():
        assert 400 <= status.http <= 599, kind
        assert status.exit in {int(e) for e in Exit} - {int(Exit.OK)}, kind
    text = DOC.read_text(encoding="utf-8")
    for kind, status in KIND_STATUS.items():
        assert f"| `{kind.value}` | {status.http} | {status.exit} | {status.summary} |" in text


@pytest.mark.parametrize(
    ("code", "http", "exit"),
    [
        ("inventory.serial_conflict", 409, Exit.CONFLICT),
        ("inventory.state_conflict", 409, Exit.CONFLICT),
        ("graph.conflict", 409, Exit.CONFLICT),
        ("inventory.not_found", 404, Exit.NOT_FOUND),
        ("auth.required", 401, Exit.INVALID_INPUT),
        ("auth.throttled", 429, Exit.SERVICE),
        ("store.busy", 503, Exit.SERVICE),
        ("service.code_rejected", 400, Exit.INVALID_INPUT),
        ("store.key_file_missing", 400, Exit.CONFIG),
        ("container.wrong_password", 400, Exit.DECRYPTION),
        ("request.invalid", 422, Exit.USAGE),
        ("delivery.link_gone", 410, Exit.NOT_FOUND),
    ],
)
def test_a_code_answers_with_its_kinds_statuses(code: str, http: int, exit: Exit) -> None:
    assert http_status(code) == http and exit_status(code) == exit
    assert exit_for(OathdeskError("x", code=code)) == exit


def test_an_error_carries_the_kind_of_its_code() -> None:
    assert SerialConflict("taken", ["S1"]).kind is ErrorKind.CONFLICT
    assert StateConflict("late", code="inventory.concurrent_change").kind is ErrorKind.CONFLICT
    assert DecryptionError("wrong").kind is ErrorKind.DECRYPTION
    assert http_status(SerialConflict("taken", ["S1"])) == 409


def test_an_unregistered_code_falls_back_to_its_class_default_then_the_catch_all() -> None:
    """Only code outside src/ can do this (the scan above sees all of src/)."""
    assert ConfigError("x", code="config.not_registered").kind is ErrorKind.CONFIG
    assert exit_for(ConfigError("x", code="config.not_registered")) == Exit.CONFIG
    assert kind_of("nobody.registered_this") is FALLBACK
    assert http_status("nobody.registered_this") == 400
    assert exit_status(OathdeskError("x", code="nobody.registered_this")) == Exit.INVALID_INPUT
