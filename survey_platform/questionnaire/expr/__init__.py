"""The questionnaire expression language: ``relevant``, ``constraint`` and ``calculate`` expressions.

One small, closed language, compiled once on the server to a plain-JSON tree that two evaluators run with the same
results: :func:`evaluate` here and ``evaluate`` in ``survey_platform/pages/static/js/expr.js`` (offline, in the
browser). ``tests/conformance/cases.yaml`` is run against both. Full reference: ``docs/expressions.md``.

Syntax: ``${question_id}`` (an answer), ``.`` (this question's answer, in constraints), numbers (``12``, ``3.5``,
``1e3``), strings (``'…'`` or ``"…"``, escapes ``\\\\ \\' \\" \\n \\t \\r \\uXXXX``), ``true false null``, list
literals ``('a', 'b')`` (only after ``in``), ``+ - * / %`` (``%`` keeps the sign of the dividend), unary ``-``,
``= == != < <= > >=`` (not chained), ``and or not``, ``in`` / ``not in``, and functions. ``+`` is numbers only:
strings are joined with ``concat()``. No attribute access, loops, user functions or eval.

Values: null, number (a double; integral results are ``int``), string, boolean, list of strings (the codes of a
multiple choice, or photo ids), geopoint ``{"lat", "lon", "accuracy"}``; dates/times/datetimes are ISO-8601
strings compared by instant (``"14:05" = "14:05:00"``).

Null: a missing answer, or the answer of a non-relevant question, is null. Arithmetic, comparisons, ``not`` and
most functions give null when an operand is null (``${age} >= 18`` is null, not an error); ``and``/``or`` are
three-valued (``false and null`` = false, ``true or null`` = true); ``if`` takes a null condition as false;
``coalesce`` returns its first non-null argument. Functions that measure a collection treat null as empty:
``empty(null)``, ``selected(null, 'a')`` = false, ``count_selected(null)`` = ``len(null)`` = 0. Comparing with the
literal ``null`` is a compile error (use ``empty()``). **The caller decides** what a null result means; the loader
treats a null ``relevant`` as *not relevant* and a null ``constraint`` as *satisfied*.

Errors: compile-time :class:`ExprError` (``message``, ``offset``; subclasses per kind); evaluation-time
:class:`ExprEvalError` (``message``, ``code``: steps, division_by_zero, type, format, range, too_long, depth, ast).
Caps (source length, nodes, depth, steps, produced string length, regex size) live in :mod:`.caps`.
"""

from .caps import AST_VERSION, CAPS, Caps
from .checker import FUNCTIONS
from .compiler import CompiledExpr, compile_expr, references
from .errors import (
    EVAL_ERROR_CODES,
    ExprError,
    ExprEvalError,
    ExprLimitError,
    ExprReferenceError,
    ExprRegexError,
    ExprSyntaxError,
    ExprTypeError,
)
from .evaluator import evaluate
from .typesys import TYPES

__all__ = [
    "AST_VERSION",
    "CAPS",
    "EVAL_ERROR_CODES",
    "FUNCTIONS",
    "TYPES",
    "Caps",
    "CompiledExpr",
    "ExprError",
    "ExprEvalError",
    "ExprLimitError",
    "ExprReferenceError",
    "ExprRegexError",
    "ExprSyntaxError",
    "ExprTypeError",
    "compile_expr",
    "evaluate",
    "references",
]
