"""Schemathesis over the REST API as its own OpenAPI document describes it: no operation answers
with a 5xx, and every answer keeps to the description (status, content type, body schema).

Why: the OpenAPI document is what automation is written against; generated requests, valid and
invalid, find the crash and the undocumented answer that hand-written tests do not think of. Real
parts only: the app ``create_app`` builds, served by real uvicorn over TLS, a real SQLite inventory
holding tokens in several states, the real HTTPS emulator as Entra, an administrator signed in with
a fresh session (and its CSRF token from ``GET /api/v1/me``) for every request, so an operation that
ends its session (``DELETE /api/v1/session``) cannot starve the ones after it, and an account name
no generated request hits, so disabling accounts cannot either. The document is read from the
running app, so every route that exists when the suite runs is tested; nothing is excluded. Besides
random names, path parameters also name a token and a user that exist, and every integer parameter
without a maximum is sent at 2**63 (past the database's 64-bit integers: valid by the description,
so it must not crash). Deterministic: derandomized Hypothesis, a bounded number of examples per
operation, no example database. Schemathesis's pytest plugin is not used (its fixture loader does
not run under pytest 9); each operation runs as its own Hypothesis test and failures are collected.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation, BaseSchema
from starlette.responses import Response

from oathdesk.bootstrap import build_inventory
from oathdesk.domain import Secret
from oathdesk.service import Inventory
from oathdesk.service.accounts import create_account, open_session
from oathdesk.store import upgrade
from oathdesk.web import WebSettings
from oathdesk.web.errors import status_for
from oathdesk.web.security import set_session_cookie
from tests.browser import artifacts_folder
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import Server, add_tokens

__all__ = ["emu", "emu_session"]  # the emulator fixtures, used by ``inv`` below

EXAMPLES = 20  # per operation and generation mode
ADMIN = "schemathesis-admin-q7x"  # no generated path parameter is this name
SERIALS = [f"SC{n:04d}" for n in range(40)]
# Path parameters that name something that exists: each operation taking one also runs with it
KNOWN = {"serial": SERIALS[25], "upn": support.upn("ada")}
# Operations left out, with the reason (none: sessions are fresh per request, see above).
EXCLUDED: dict[str, str] = {}
# Faults found and reported, not yet fixed: (operation, text its failure report must contain) ->
# what is wrong. Such a failure is written to the report (artifacts) instead of failing the
# test; a failure without that text, of any operation, still fails it. Remove once fixed.
KNOWN_FAULTS: dict[tuple[str, str], str] = {}


def error_code(response: Any) -> str | None:
    """The ``error.code`` of an answer in the error envelope, else None."""
    try:
        body = response.json()
        error = body["error"]
        code = error["code"]
        valid = isinstance(code, str) and isinstance(error["message"], str)
        return code if valid and isinstance(error["details"], dict) else None
    except (ValueError, KeyError, TypeError):
        return None


class UndocumentedError(Failure):
    """An error answer whose status the operation does not document and that is not the error
    envelope with the status web/errors.py gives its code."""

    code = "OD901"
    checks = ("documented_status",)
    kind_title = "Undocumented status code"


def documented_status(ctx: Any, response: Any, case: Case[Any]) -> bool | None:
    """``status_code_conformance``, except for one thing the app documents globally instead of
    per operation: an error answer (4xx) in the envelope ``{"error": {code, message, details}}``
    whose status is the one ``web/errors.py`` maps its code to (400/404/409/429 are not listed
    per operation; FastAPI only lists 401/403/422). Those are recorded in ``UNDOCUMENTED``."""
    try:
        status_code_conformance(ctx, response, case)
        return None
    except Failure:
        code = error_code(response)
        status = response.status_code
        if 400 <= status < 500 and code is not None and status_for(code) == status:
            UNDOCUMENTED.add((case.operation.label, status, code))
            return None
        raise UndocumentedError(
            operation=case.operation.label,
            title="Undocumented status code",
            message=f"Received {status} ({code or 'not the error envelope'}), neither documented "
            "for this operation nor the error envelope with the status of its code",
        ) from None


UNDOCUMENTED: set[tuple[str, int, str]] = set()
CHECKS = [
    not_a_server_error,
    documented_status,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def inv(tmp_path: Path, sqlite_url: str, emu: Emu) -> Iterator[Inventory]:
    """A migrated SQLite inventory whose Entra is the emulator (overrides the web one)."""
    upgrade(sqlite_url)
    inventory = build_inventory(support.config(sqlite_url, tmp_path, emu.url, emu.ca))
    yield inventory
    inventory.close()


class Admin:
    """Signs every request in as an administrator with a session of its own (and its CSRF
    token), as a browser that has just signed in would."""

    def __init__(self, inv: Inventory, settings: WebSettings, app_url: str, ca: Path) -> None:
        self.inv, self.settings = inv, settings
        self.web = httpx.Client(base_url=app_url, verify=ssl.create_default_context(cafile=ca))

    def fresh(self) -> tuple[dict[str, str], dict[str, str]]:
        token, _ = open_session(
            self.inv, ADMIN, address="127.0.0.1", lifetime=self.settings.session_lifetime
        )
        response = Response()
        set_session_cookie(response, self.settings, token)
        name = self.settings.session_cookie
        value = SimpleCookie(response.headers["set-cookie"])[name].value
        me = self.web.get("/api/v1/me", headers={"Cookie": f"{name}={value}"})
        assert me.status_code == 200, me.text
        return {name: value}, {"X-CSRF-Token": me.json()["csrf_token"]}


@pytest.fixture
def admin(app_url: str, server: Server, inv: Inventory, settings: WebSettings) -> Iterator[Admin]:
    create_account(inv, ADMIN, Secret(b"schemathesis password"), ["admin"], actor="test")
    signer = Admin(inv, settings, app_url, server.ca)
    yield signer
    signer.web.close()


@pytest.fixture
def api_schema(app_url: str, server: Server, inv: Inventory, admin: Admin) -> BaseSchema:
    """The app's own OpenAPI document, read over HTTPS, with tokens in the inventory."""
    quarter = len(SERIALS) // 4
    add_tokens(
        inv,
        SERIALS,
        states={
            "available": SERIALS[quarter : 2 * quarter],
            "assigned": SERIALS[2 * quarter : 3 * quarter],
            "activated": SERIALS[3 * quarter :],
        },
    )
    document = admin.web.get("/api/v1/openapi.json")
    assert document.status_code == 200, document.text
    schema: BaseSchema = schemathesis.openapi.from_dict(document.json())
    schema.config.update(base_url=app_url, tls_verify=str(server.ca))
    for label in EXCLUDED:
        method, path = label.split(" ", 1)
        schema = schema.exclude(method=method, path=path)
    return schema


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """``trust_env`` off: the environment's REQUESTS_CA_BUNDLE would replace the test CA."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


def run_operation(
    operation: APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    send: Callable[[Case[Any]], object],
    fixed: dict[str, dict[str, Any]] | None = None,
) -> str | None:
    """Up to ``EXAMPLES`` cases of one operation in one mode (``fixed``: parameters by location,
    e.g. ``{"query": {"limit": 5}}``, the rest generated); the failure's report, or None (also
    when the mode cannot make a case: no parameter to get wrong, say)."""

    fixed = fixed or {}
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters=fixed.get("path_parameters"), query=fixed.get("query")
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case[Any]) -> None:
        send(case)

    try:
        run()
    except Unsatisfiable:
        return None
    except (Exception, FailureGroup) as exc:  # the check's own report names case and fault
        return f"{operation.label} ({mode.value}): {type(exc).__name__}: {exc}"
    return None


def passes(operation: APIOperation[Any, Any, Any, Any]) -> list[dict[str, dict[str, Any]]]:
    """The extra positive passes an operation gets: path parameters naming things that exist
    (``KNOWN``), and every integer parameter without a maximum at 2**63, one past SQLite's and
    PostgreSQL's 64-bit integers (valid by the description, so never a 5xx)."""
    extra = []
    names = {p.name for p in operation.path_parameters}
    if names & set(KNOWN):
        extra.append({"path_parameters": {k: v for k, v in KNOWN.items() if k in names}})
    huge: dict[str, dict[str, Any]] = {}
    for location, parameters in (
        ("path_parameters", operation.path_parameters),
        ("query", operation.query),
    ):
        for parameter in parameters:
            schema = parameter.definition.get("schema", {})
            branches = schema.get("anyOf", [schema])
            if any(b.get("type") == "integer" and "maximum" not in b for b in branches):
                huge.setdefault(location, {})[parameter.name] = 2**63
    return [*extra, huge] if huge else extra


def is_known(failure: str) -> bool:
    return any(failure.startswith(f"{label} (") and text in failure for label, text in KNOWN_FAULTS)


def report(tested: list[str], sent: list[int], failures: list[str]) -> None:
    """What was tested and what the description lacks, for people: ``schemathesis.json`` in
    ``$OATHDESK_TEST_ARTIFACTS/web`` (default ``artifacts/web`` in the checkout)."""
    folder = artifacts_folder("web")
    statuses = {str(s): sent.count(s) for s in sorted(set(sent))}
    document = {
        "operations": tested,
        "requests_by_status": statuses,
        "undocumented_error_answers": [
            {"operation": op, "status": status, "code": code}
            for op, status, code in sorted(UNDOCUMENTED)
        ],
        "failures": [f for f in failures if not is_known(f)],
        "known_faults": [f for f in failures if is_known(f)],
    }
    (folder / "schemathesis.json").write_text(json.dumps(document, indent=2) + "\n")


def test_api_keeps_to_its_description(
    api_schema: BaseSchema, admin: Admin, http: requests.Session, server: Server
) -> None:
    sent: list[int] = []
    UNDOCUMENTED.clear()

    def send(case: Case[Any]) -> None:
        cookies, headers = admin.fresh()
        response = case.call_and_validate(
            session=http, cookies=cookies, headers=headers, checks=CHECKS, verify=str(server.ca)
        )
        sent.append(response.status_code)

    tested, failures = [], []
    for result in api_schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"a part of the description is not valid: {result.err()}")
            continue
        operation = result.ok()
        tested.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = run_operation(operation, mode, send)
            if failure:
                failures.append(failure)
        for fixed in passes(operation):
            failure = run_operation(operation, GenerationMode.POSITIVE, send, fixed)
            if failure:
                failures.append(f"{failure} with {fixed}")
    report(tested, sent, failures)
    assert {"GET /api/v1/tokens", "GET /api/v1/me", "DELETE /api/v1/session"} <= set(tested)
    assert sent.count(200) > len(tested), "too few requests succeeded to mean anything"
    failures = [f for f in failures if not is_known(f)]
    assert not failures, f"{len(failures)} failure(s) over {len(tested)} operations:\n\n" + (
        "\n\n".join(failures)
    )
    # every error answer the app gave is described by its operation (none left to the
    # envelope rule): a new undocumented one names itself here
    assert not UNDOCUMENTED, sorted(UNDOCUMENTED)
