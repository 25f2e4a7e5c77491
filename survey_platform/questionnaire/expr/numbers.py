"""Numbers exactly as JavaScript sees them: IEEE-754 doubles, integral values returned as ``int``.

Every arithmetic result goes through :func:`normalize`, which rejects non-finite results and turns integral
floats of magnitude <= 2**53 into ``int`` (so ``4 / 2`` is ``2``, never ``2.0``; ``-0.0`` becomes ``0``).
:func:`format_number` reproduces JavaScript's ``String(x)`` and :func:`round_half_away` rounds on the shortest
decimal representation, so both evaluators give identical results.
"""

from __future__ import annotations

import math

from .errors import ExprEvalError

MAX_SAFE_INTEGER = 2**53
Number = int | float


def is_number(value: object) -> bool:
    """True for int and float (but not bool, which Python counts as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def normalize(value: float | int) -> Number:
    """Round to a double, reject inf/NaN, and return integral values as ``int``."""
    as_float = float(value)
    if not math.isfinite(as_float):
        raise ExprEvalError(
            "range", "数值超出范围（无穷大或非数）", "number out of range (infinite or not a number)"
        )
    if as_float.is_integer() and abs(as_float) <= MAX_SAFE_INTEGER:
        return int(as_float)
    return as_float


def shortest_digits(value: float) -> tuple[bool, str, int]:
    """(negative, digits, point) with ``|value| == 0.digits × 10**point`` and digits the shortest round-trip ones.

    Python's ``repr`` and JavaScript's ``String`` both produce the shortest digit string that round-trips and,
    among those, the one closest to the value, so both sides obtain the same digits.
    """
    text = repr(float(value))
    negative = text.startswith("-")
    text = text.lstrip("-")
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0)
    leading_zeros = len(whole + fraction) - len((whole + fraction).lstrip("0"))
    point -= leading_zeros
    digits = digits.rstrip("0")
    if not digits:
        return negative, "0", 1
    return negative, digits, point


def format_number(value: Number) -> str:
    """``String(x)`` of JavaScript (ECMA-262 Number::toString) for a finite number."""
    if value == 0:
        return "0"
    negative, digits, n = shortest_digits(float(value))
    k = len(digits)
    sign = "-" if negative else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exponent = n - 1
    exp_text = ("+" if exponent >= 0 else "-") + str(abs(exponent))
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return sign + mantissa + "e" + exp_text


def round_half_away(value: Number, digits: int) -> Number:
    """Round to ``digits`` decimals, halves away from zero, on the shortest decimal form (round(1.005, 2) = 1.01)."""
    if float(value).is_integer():
        return normalize(value)
    negative, text, point = shortest_digits(float(value))
    keep = point + digits
    if keep >= len(text):
        return normalize(value)
    if keep < 0:
        return 0
    prefix = text[:keep]
    mantissa = int(prefix or "0") + (1 if text[keep] >= "5" else 0)
    result = float(f"{'-' if negative else ''}{mantissa}e{point - keep}")
    return normalize(result)


def parse_number(text: str) -> Number | None:
    """``number(s)``: a decimal literal with optional sign, fraction, exponent and surrounding spaces, else None."""
    stripped = text.strip(" \t\n\r")
    if not _is_decimal_literal(stripped):
        return None
    value = float(stripped)
    if not math.isfinite(value):
        return None
    return normalize(value)


def _is_decimal_literal(text: str) -> bool:
    """``[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`` with ASCII digits only."""
    i, n = 0, len(text)
    if i < n and text[i] in "+-":
        i += 1
    start = i
    while i < n and "0" <= text[i] <= "9":
        i += 1
    int_digits = i - start
    frac_digits = 0
    if i < n and text[i] == ".":
        i += 1
        start = i
        while i < n and "0" <= text[i] <= "9":
            i += 1
        frac_digits = i - start
    if int_digits == 0 and frac_digits == 0:
        return False
    if i < n and text[i] in "eE":
        i += 1
        if i < n and text[i] in "+-":
            i += 1
        start = i
        while i < n and "0" <= text[i] <= "9":
            i += 1
        if i == start:
            return False
    return i == n
