"""Dates, times and datetimes as ISO-8601 strings: validation, comparison keys and day arithmetic.

Accepted forms (the same in ``expr.js``):

* date ``YYYY-MM-DD`` (a real calendar day, years 0001-9999);
* time ``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.fraction`` (1-9 fraction digits);
* datetime ``<date>T<time>`` (or a space instead of ``T``), optionally followed by ``Z`` or ``±HH:MM``.

Comparison keys are fixed-width strings, so ``"14:05" = "14:05:00"`` and ``"2026-11-23T08:00+08:00" =
"2026-11-23T00:00Z"``. A datetime without an offset is taken as UTC when it is compared with one that has one.
"""

from __future__ import annotations

import re

from .errors import ExprEvalError

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?")
_DATETIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)(Z|[+-][0-9]{2}:[0-9]{2})?"
)
TEMPORAL_KINDS = ("date", "time", "datetime")


def _bad(kind: str, value: str) -> ExprEvalError:
    zh = {"date": "日期", "time": "时间", "datetime": "日期时间"}[kind]
    return ExprEvalError("format", f"无效的{zh} '{value[:40]}'", f"invalid {kind} '{value[:40]}'")


def days_in_month(year: int, month: int) -> int:
    """Days of a month in the proleptic Gregorian calendar."""
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (H. Hinnant's algorithm; integer arithmetic only, mirrored in expr.js)."""
    y = year - 1 if month <= 2 else year
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """Inverse of :func:`days_from_civil`."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


def parse_date(value: str) -> tuple[int, int, int]:
    """(year, month, day) of a ``YYYY-MM-DD`` string, or a "format" evaluation error."""
    match = _DATE.fullmatch(value)
    if not match:
        raise _bad("date", value)
    year, month, day = (int(part) for part in match.groups())
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        raise _bad("date", value)
    return year, month, day


def _time_parts(value: str, kind: str) -> tuple[int, int, int, str]:
    match = _TIME.fullmatch(value)
    if not match:
        raise _bad(kind, value)
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3) or "0")
    fraction = (match.group(4) or "").ljust(9, "0")
    if hour > 23 or minute > 59 or second > 59:
        raise _bad(kind, value)
    return hour, minute, second, fraction


def format_date(year: int, month: int, day: int) -> str:
    """``YYYY-MM-DD``."""
    return f"{year:04d}-{month:02d}-{day:02d}"


def temporal_key(kind: str, value: str) -> str:
    """A fixed-width string that orders like the instant ``value`` denotes; "format" error when malformed."""
    if kind == "date":
        return format_date(*parse_date(value))
    if kind == "time":
        hour, minute, second, fraction = _time_parts(value, "time")
        return f"{hour:02d}:{minute:02d}:{second:02d}.{fraction}"
    match = _DATETIME.fullmatch(value)
    if not match:
        raise _bad("datetime", value)
    try:
        year, month, day = parse_date(match.group(1))
        hour, minute, second, fraction = _time_parts(match.group(2), "datetime")
    except ExprEvalError:
        raise _bad("datetime", value) from None
    offset = match.group(3)
    if offset and offset != "Z":
        off_h, off_m = int(offset[1:3]), int(offset[4:6])
        if off_h > 23 or off_m > 59:
            raise _bad("datetime", value)
        sign = 1 if offset[0] == "+" else -1
        total = (days_from_civil(year, month, day) * 1440 + hour * 60 + minute) - sign * (off_h * 60 + off_m)
        days, minutes = divmod(total, 1440)
        year, month, day = civil_from_days(days)
        hour, minute = divmod(minutes, 60)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{fraction}"


def day_number(value: str) -> int:
    """Days since 1970-01-01 of a date, or of the (written) date part of a datetime."""
    if len(value) > 10:
        temporal_key("datetime", value)  # validates the whole datetime
        return days_from_civil(*parse_date(value[:10]))
    return days_from_civil(*parse_date(value))


def add_days(value: str, days: int) -> str:
    """The date ``days`` days after ``value`` (a date); "range" error outside years 0001-9999."""
    year, month, day = civil_from_days(day_number(value) + days)
    if not 1 <= year <= 9999:
        raise ExprEvalError("range", "日期超出 0001-9999 年的范围", "date outside the years 0001-9999")
    return format_date(year, month, day)
