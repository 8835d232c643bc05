"""Roster files read like the seed CSVs: a header or none, any column order, BOM, UTF-16,
semicolons and tabs; a bad line is a problem with its file:line and code, not a stop."""

from __future__ import annotations

import codecs

from oathdesk.formats.roster import read_roster


def test_a_headerless_roster_is_serial_upn_and_name() -> None:
    got = read_roster(b"S1,ada@x.example,Ada's token\nS2,grace@x.example\n", "r.csv")
    assert got.problems == []
    assert [(r.line, r.serial, r.user, r.display_name, r.locator) for r in got.rows] == [
        (1, "S1", "ada@x.example", "Ada's token", "r.csv:1"),
        (2, "S2", "grace@x.example", "", "r.csv:2"),
    ]


def test_a_header_names_the_columns_in_any_order() -> None:
    data = b"Display Name;UPN;Serial Number\nFront desk;ada@x.example;S1\n"
    (row,) = read_roster(data, "r.csv").rows
    assert (row.serial, row.user, row.display_name, row.line) == (
        "S1",
        "ada@x.example",
        "Front desk",
        2,
    )


def test_bom_and_utf16_from_excel_are_read_as_their_utf8_twin() -> None:
    text = "serial\tupn\nS1\tzoë@x.example\n"
    plain = read_roster(text.encode(), "a.csv").rows
    assert read_roster(codecs.BOM_UTF8 + text.encode(), "b.csv").rows[0].user == "zoë@x.example"
    utf16 = read_roster(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "c.csv")
    assert [(r.serial, r.user, r.line) for r in utf16.rows] == [
        (r.serial, r.user, r.line) for r in plain
    ]


def test_bad_lines_are_reported_with_their_place_and_code() -> None:
    data = (
        b"serial,upn,display name\nS1,\n,ada@x.example\n# a comment\n\nS4,alan@x.example,"
        + b"n" * 201
        + b"\nS5,ok@x.example\n"
    )
    got = read_roster(data, "r.csv")
    assert [(p.locator, p.code) for p in got.problems] == [
        ("r.csv:2", "roster.missing_field"),
        ("r.csv:3", "roster.missing_field"),
        ("r.csv:6", "roster.bad_name"),
    ]
    assert [r.serial for r in got.rows] == ["S5"]
    assert all(p.message[0].isupper() and p.message.endswith(".") for p in got.problems)
    assert [p.code for p in read_roster(b"\n\n", "e.csv").problems] == ["roster.empty"]
