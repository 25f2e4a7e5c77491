"""The validation shortcuts give exactly what the general code gives, for every kind of value.

``expr.fast.evaluator_for`` (``answer op literal``) against ``evaluate``, and the per-question coercers of
``answers._coercer`` against ``coerce``: results, error codes and messages must be identical.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_platform.questionnaire import load_questionnaire
from survey_platform.questionnaire.answers import _coercer, _Errors, coerce
from survey_platform.questionnaire.expr import ExprEvalError, compile_expr, evaluate
from survey_platform.questionnaire.expr.fast import evaluator_for

ROOT = Path(__file__).resolve().parents[2]

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.sampled_from([0, 1, 5, 10, 11, 100, 101, -1, 2**53, 2**53 + 1, -(2**53) - 1])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "a", "intercept", "online", "better", "x" * 300, "10", "true"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)

SOURCES = [
    f"{left} {op} {right}"
    for left in ("${q}", ".")
    for op in ("=", "!=", "<", "<=", ">", ">=")
    for right in ("'intercept'", "10", "2.5", "-3", "true", "false", "''")
    if not (right in ("true", "false") and op not in ("=", "!="))
] + ["${q} = 'a' or ${q} = 'b'", "not(${q})", "${q} + 1 > 3", ". in ('a', 'b')"]


def _outcome(function, *args: object) -> tuple[str, object]:
    try:
        result = function(*args)
    except ExprEvalError as error:
        return "error", (error.code, error.message)
    if isinstance(result, float) and math.isnan(result):
        return "value", "nan"
    return "value", (type(result).__name__, result)


def _compile(source: str):
    return compile_expr(source, refs={"q": "any"}, this="any")


def test_the_shortcut_is_taken_for_comparisons_with_a_literal() -> None:
    assert evaluator_for(_compile("${q} = 'intercept'")).__name__ == "ref_shortcut"
    assert evaluator_for(_compile(". <= 100")).__name__ == "this_shortcut"
    assert evaluator_for(_compile("${q} + 1 > 3")).__name__ == "general"


@pytest.mark.parametrize("source", SOURCES)
@settings(max_examples=60, deadline=None)
@given(value=values)
def test_shortcut_evaluation_equals_the_evaluator(source: str, value: object) -> None:
    compiled = _compile(source)
    fast = evaluator_for(compiled)
    answers = {"q": value}
    expected = _outcome(lambda: evaluate(compiled, answers, this=value))
    assert _outcome(fast, answers, value) == expected


def _questions():
    questions = []
    for name in ("city_satisfaction.yaml", "qr_code_inspection.yaml", "appliance_after_sales.yaml"):
        questionnaire = load_questionnaire(ROOT / "questionnaires" / name).questionnaire
        assert questionnaire is not None
        questions.extend(q for q in questionnaire.questions if q.type not in ("note", "calculate"))
    return questions


QUESTIONS = _questions()


def _matrix_rows(question) -> st.SearchStrategy[object]:
    ids = [item.id for item in question.items] or ["x"]
    return st.dictionaries(st.sampled_from([*ids, "unknown_item"]), values, max_size=len(ids) + 1)


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_question_coercers_equal_coerce(question, data) -> None:
    strategy = values
    if question.type == "matrix":
        strategy = values | _matrix_rows(question)
    elif question.type == "single_choice" and question.choices:
        strategy = values | st.sampled_from(question.choices.codes())
    elif question.scale is not None:
        strategy = values | st.integers(question.scale.min - 1, question.scale.max + 1)
    value = data.draw(strategy)
    expected_errors, errors = _Errors(), _Errors()
    expected = coerce(question, value, "answers.x", expected_errors)
    assert _coercer(question)(value, "answers.x", errors) == expected
    assert errors == expected_errors
