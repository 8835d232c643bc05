"""The import form's rules that need no server: the order problems are listed in (every locator
shape the readers make), which refusals keep the file and which ask for the password."""

from __future__ import annotations

from oathdesk.domain import DecryptionError, Problem, UsageError
from oathdesk.web.import_form import by_line, keeps_file, line_of, needs_password, size_text


def test_locators_of_every_reader_sort_by_line_numerically() -> None:
    locators = [
        "f.csv:10",
        "f.zip!in.csv:9",
        "f.json:3:17",
        "f.json:3:2",
        "f.xml:12 (/KeyContainer/KeyPackage[2]/Key)",
        "f.csv",  # the whole file: first
        "f.xml:2 (/KeyContainer)",
    ]
    ordered = [p.locator for p in by_line(Problem(loc, "c", "m") for loc in locators)]
    assert ordered == [
        "f.csv",
        "f.xml:2 (/KeyContainer)",
        "f.json:3:2",
        "f.json:3:17",
        "f.zip!in.csv:9",
        "f.csv:10",
        "f.xml:12 (/KeyContainer/KeyPackage[2]/Key)",
    ]
    assert line_of("a:b.csv:7") == (7, 0), "a colon in the file name is not a line"


def test_one_lines_problems_keep_the_readers_order() -> None:
    first, second = Problem("f.csv:4", "seed.a", "m"), Problem("f.csv:4", "entra.b", "m")
    assert by_line([Problem("f.csv:5", "x", "m"), first, second])[:2] == [first, second]


def test_which_refusals_keep_the_file_and_ask_for_the_password() -> None:
    missing = DecryptionError("f.zip: encrypted", code="container.password_required")
    wrong = DecryptionError("f.zip: wrong ZIP password", code="container.wrong_password")
    passphrase = DecryptionError(
        "x", code="seed.pskc_key_required", details={"needs": "password-file"}
    )
    psk = DecryptionError("x", code="seed.pskc_key_required", details={"needs": "key-file"})
    pgp = DecryptionError("x", code="container.wrong_pgp_passphrase")
    for exc in (missing, wrong, passphrase):
        assert needs_password(exc) and keeps_file(exc), exc.code
    assert keeps_file(psk) and not needs_password(psk), "a hex key is not the form's password"
    assert not needs_password(pgp) and not keeps_file(pgp), "the server's key is not typed here"
    assert not keeps_file(UsageError("the format must be one of ...")), "nothing to retry"


def test_sizes_read_as_people_read_them() -> None:
    assert [size_text(n) for n in (349, 2048, 3 * 1024 * 1024)] == ["349 bytes", "2.0 KB", "3.0 MB"]
