"""Numbers and dates shared by both evaluators: normalisation, JavaScript's number formatting, rounding half away
from zero, number(), ISO date arithmetic and comparison keys (checked against Python's decimal and datetime)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey_platform.questionnaire.expr import ExprEvalError
from survey_platform.questionnaire.expr.numbers import format_number, normalize, parse_number, round_half_away
from survey_platform.questionnaire.expr.temporal import (
    add_days,
    civil_from_days,
    days_from_civil,
    temporal_key,
)

finite = st.floats(allow_nan=False, allow_infinity=False)


def test_normalize() -> None:
    assert normalize(2.0) == 2 and type(normalize(2.0)) is int
    assert type(normalize(-0.0)) is int and normalize(-0.0) == 0
    assert type(normalize(2.0**53)) is int
    assert type(normalize(2.0**53 * 2)) is float
    assert normalize(2.5) == 2.5
    with pytest.raises(ExprEvalError) as caught:
        normalize(math.inf)
    assert caught.value.code == "range"


@pytest.mark.parametrize(
    ("value", "text"),
    [  # JavaScript's String(x), from ECMA-262 Number::toString
        (0, "0"),
        (1, "1"),
        (-1.5, "-1.5"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (2.0**60, "1152921504606847000"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-10, "1.5e-10"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-1e21, "-1e+21"),
    ],
)
def test_format_number_is_javascripts_string(value: float, text: str) -> None:
    assert format_number(value) == text


@given(finite)
def test_format_number_round_trips(value: float) -> None:
    assert float(format_number(value)) == value


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(0, 10))
def test_round_half_away_matches_decimal_on_the_shortest_form(value: float, digits: int) -> None:
    expected = float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    assert round_half_away(value, digits) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (2.5, 0, 3),
        (-2.5, 0, -3),
        (0.5, 0, 1),
        (1.005, 2, 1.01),
        (2.675, 2, 2.68),
        (-0.0049, 2, 0),
        (99.95, 1, 100),
        (1e-11, 10, 0),
        (5e-11, 10, 1e-10),
        (123.0, 3, 123),
    ],
)
def test_round_half_away_examples(value: float, digits: int, expected: float) -> None:
    result = round_half_away(value, digits)
    assert result == expected
    if float(expected).is_integer():
        assert type(result) is int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        ("-3.5", -3.5),
        ("+.5", 0.5),
        ("1.", 1),
        ("1e3", 1000),
        ("2E-2", 0.02),
        ("", None),
        (" ", None),
        ("abc", None),
        ("1 2", None),
        ("0x1f", None),
        ("1_000", None),
        ("١٢", None),
        ("nan", None),
        ("inf", None),
        ("1e400", None),
        (".", None),
        ("e5", None),
        ("1e", None),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_day_numbers_match_the_proleptic_gregorian_calendar(day: dt.date) -> None:
    number = days_from_civil(day.year, day.month, day.day)
    assert number == day.toordinal() - dt.date(1970, 1, 1).toordinal()
    assert civil_from_days(number) == (day.year, day.month, day.day)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)), st.integers(-5000, 5000))
def test_add_days_matches_timedelta(day: dt.date, days: int) -> None:
    assert add_days(day.isoformat(), days) == (day + dt.timedelta(days=days)).isoformat()


@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2100, 12, 30)),
    st.integers(-23 * 60, 23 * 60),
)
def test_datetime_keys_are_utc_instants(moment: dt.datetime, offset_minutes: int) -> None:
    moment = moment.replace(microsecond=0)
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = f"{moment.isoformat()}{sign}{hours:02d}:{minutes:02d}"
    utc = moment - dt.timedelta(minutes=offset_minutes)
    assert temporal_key("datetime", text) == utc.strftime("%Y-%m-%dT%H:%M:%S") + ".000000000"


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("date", "2026-2-01"),
        ("date", "2026-02-29"),
        ("date", "0000-01-01"),
        ("date", "2026-13-01"),
        ("date", "２０２６-01-01"),
        ("time", "24:00"),
        ("time", "12:60"),
        ("time", "9:00"),
        ("time", "12:00:00.1234567890"),
        ("datetime", "2026-01-01"),
        ("datetime", "2026-01-01T10:00+24:00"),
        ("datetime", "2026-01-01T10:00+0800"),
        ("datetime", "2026-02-30T10:00"),
    ],
)
def test_malformed_temporal_values(kind: str, text: str) -> None:
    with pytest.raises(ExprEvalError) as caught:
        temporal_key(kind, text)
    assert caught.value.code == "format"
    assert text[:20] in caught.value.message
