"""Garbage in never crashes: any bytes give a report or an OathdeskError, never another exception,
and no problem message repeats a secret-looking value from the file."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oathdesk.domain import OathdeskError
from oathdesk.formats import FORMAT_IDS, ReadOptions, read_seeds
from oathdesk.formats.csv_engine import load_profile

PROFILE = load_profile(
    b'[[columns]]\nheader = "s"\nproperty = "serial"\n[[columns]]\nheader = "k"\n'
    b'property = "secret"\n',
    "inline",
)
CSV_LIKE = st.lists(
    st.lists(st.text(alphabet="0123456789abcdefABCXYZ=+/ \"'-.;:\t", max_size=12), max_size=7).map(
        ",".join
    ),
    max_size=6,
).map(lambda rows: "\n".join(rows).encode())
ANY = st.one_of(st.binary(max_size=300), CSV_LIKE, st.text(max_size=200).map(str.encode))


@pytest.mark.parametrize("fmt", [*FORMAT_IDS, None])
@given(data=ANY)
def test_reader_never_raises_a_foreign_exception(fmt: str | None, data: bytes) -> None:
    try:
        result = read_seeds(data, "fuzz.dat", fmt, ReadOptions(profile=PROFILE))
    except OathdeskError as exc:
        assert exc.code and exc.message
        return
    for problem in result.problems:
        assert problem.locator.startswith("fuzz.dat")
        assert problem.code and problem.message


def test_problem_messages_do_not_repeat_secret_text() -> None:
    secret_text = "3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b"
    data = f"serial number,secret key,time interval,manufacturer,model\n1,{secret_text},30,V,M\n"
    result = read_seeds(data.encode(), "leak.csv", "entra-csv")
    assert result.errors
    for problem in result.problems:
        assert secret_text not in problem.message
        assert secret_text not in repr(problem)
