"""Errors of the expression language: compile-time (:class:`ExprError`) and evaluation-time (:class:`ExprEvalError`).

Messages are bilingual, Chinese first: ``"中文 / English"``.
"""

from __future__ import annotations


def bilingual(zh: str, en: str) -> str:
    """Join a Chinese and an English message the way every message of this package is shown."""
    return f"{zh} / {en}"


class ExprError(Exception):
    """A compile-time error: syntax, unknown reference, type error or cap, at ``offset`` (0-based) in the source."""

    code: str = "error"

    def __init__(self, zh: str, en: str, offset: int) -> None:
        self.message_zh = zh
        self.message_en = en
        self.message = bilingual(zh, en)
        self.offset = offset
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, offset={self.offset})"


class ExprSyntaxError(ExprError):
    """The source does not follow the grammar."""

    code = "syntax"


class ExprReferenceError(ExprError):
    """A ``${id}`` names no known question, or ``.`` is used where there is no current answer."""

    code = "reference"


class ExprTypeError(ExprError):
    """An operator or function is applied to operands of the wrong static type, or a function is unknown."""

    code = "type"


class ExprLimitError(ExprError):
    """The expression is too long, too big or too deeply nested."""

    code = "limit"


class ExprRegexError(ExprError):
    """A regex pattern is malformed or too big."""

    code = "regex"


class ExprEvalError(Exception):
    """An evaluation-time error. ``code`` is one of :data:`EVAL_ERROR_CODES` (the same codes as ``expr.js``)."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        self.code = code
        self.message_zh = zh
        self.message_en = en
        self.message = bilingual(zh, en)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ExprEvalError({self.code!r}, {self.message!r})"


EVAL_ERROR_CODES = frozenset(
    {
        "steps",  # more than max_steps evaluation steps
        "division_by_zero",  # x / 0 or x % 0
        "type",  # a value of the wrong kind at run time (e.g. an answer of type any, or a malformed answer)
        "format",  # a malformed date, time or datetime string
        "range",  # an argument out of its range (round digits, add_days beyond year 9999) or a non-finite number
        "too_long",  # a produced string longer than max_string_length
        "depth",  # a compiled tree nested deeper than max_depth (only for hand-made JSON)
        "ast",  # a malformed or unknown-version compiled expression
    }
)
