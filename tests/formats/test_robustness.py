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


BIG = "M" * (200 * 1024)  # over the 128 KiB a CSV field may hold
ROW = ",HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL,30,Token2,"
HEAD = "upn,serial number,secret key,time interval,manufacturer,model\n"
GOOD = ",20250001" + ROW + "C200\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (HEAD + GOOD + ",20250002" + ROW + BIG + "\n", 3),  # plain: the block lane
        (HEAD + GOOD + ',20250002,"' + BIG + '",30,Token2,C200\n', 3),  # quoted: csv module
        (HEAD + GOOD * 3 + '"x",20250009' + ROW + BIG + "\n", 5),  # quoted row: row lane
        (HEAD.rstrip("\n") + ',"' + BIG + '"\n' + GOOD, 1),  # the header
    ],
    ids=["plain", "quoted", "row-lane", "header"],
)
@pytest.mark.parametrize("fmt", ["entra-csv", None])
def test_a_field_over_128_kib_is_a_coded_error_naming_the_line(
    text: str, line: int, fmt: str | None
) -> None:
    with pytest.raises(OathdeskError) as raised:
        read_seeds(text.encode(), "big.csv", fmt, ReadOptions())
    error = raised.value
    assert error.code == "seed.field_too_large"
    assert f"big.csv:{line}" in error.message and "128 KiB" in error.message
    assert BIG[:100] not in error.message
