"""A shortcut for the commonest expression shape: an answer (or ``this``) compared with a literal.

Skip logic and screening are mostly ``${q} = 'code'``, ``. = true`` or ``. <= 100``. :func:`evaluator_for` turns
such a compiled tree into a small function that answers the plain cases directly (the answer is null, or of the
literal's kind: a string, a boolean, or an integer within ±2^53) and hands everything else to :func:`evaluate`,
so results and errors are the evaluator's by construction (``tests/questionnaire/test_fast_paths.py`` checks both
agree on every kind of value). Any other shape simply gets :func:`evaluate`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from .caps import CAPS
from .compiler import CompiledExpr
from .evaluator import evaluate
from .numbers import MAX_SAFE_INTEGER

Evaluator = Callable[[Mapping[str, object], object], object]
"""``(answers, this) -> value``, raising :class:`ExprEvalError` exactly like :func:`evaluate`."""

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SHAPE_STEPS = 3  # nodes visited: the comparison, the reference, the literal
assert CAPS.max_steps >= _SHAPE_STEPS and CAPS.max_depth >= 2, "caps too small for the shortcut"


def _plain(literal: object) -> Callable[[object], bool] | None:
    """A test for answers of the literal's kind that the evaluator takes unchanged (None: no shortcut)."""
    if isinstance(literal, bool):
        return lambda value: type(value) is bool
    if isinstance(literal, str):
        return lambda value: type(value) is str
    if type(literal) is int or (type(literal) is float and literal == literal):
        return lambda value: type(value) is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return None


def evaluator_for(compiled: CompiledExpr) -> Evaluator:
    """A function evaluating ``compiled`` (a shortcut for ``answer op literal``, :func:`evaluate` otherwise)."""

    def general(answers: Mapping[str, object], this: object) -> object:
        return evaluate(compiled, answers, this=this)

    tree = compiled.ast
    if not (isinstance(tree, list) and len(tree) == 3 and tree[0] in _OPERATORS):
        return general
    op, left, literal = tree
    plain = _plain(literal)
    if plain is None or (isinstance(literal, bool) and op not in ("=", "!=")):
        return general
    compare = _OPERATORS[op]
    if left == ["this"]:

        def this_shortcut(answers: Mapping[str, object], this: object) -> object:
            if this is None:
                return None
            if plain(this):
                return compare(this, literal)
            return evaluate(compiled, answers, this=this)

        return this_shortcut
    if isinstance(left, list) and len(left) == 2 and left[0] == "ref" and isinstance(left[1], str):
        name = left[1]

        def ref_shortcut(answers: Mapping[str, object], this: object) -> object:
            value = answers.get(name)
            if value is None:
                return None
            if plain(value):
                return compare(value, literal)
            return evaluate(compiled, answers, this=this)

        return ref_shortcut
    return general


__all__ = ["Evaluator", "evaluator_for"]
