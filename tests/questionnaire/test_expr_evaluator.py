"""Evaluator: the JSON form, caps shipped in it, steps, answer normalisation, purity, malformed trees."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml

from survey_platform.questionnaire.expr import (
    CAPS,
    EVAL_ERROR_CODES,
    ExprEvalError,
    compile_expr,
    evaluate,
)

REFS = {"age": "integer", "name": "string", "multi": "choices", "x": "any", "score": "number"}


def _error(expr: object, answers: dict[str, object] | None = None, **kwargs: object) -> ExprEvalError:
    with pytest.raises(ExprEvalError) as caught:
        evaluate(expr, answers or {}, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_compiled_and_json_forms_agree() -> None:
    compiled = compile_expr("if(${age} >= 18, concat('成年 ', ${name}), 'minor')", refs=REFS)
    answers = {"age": 30, "name": "张三"}
    assert evaluate(compiled, answers) == evaluate(compiled.to_json(), answers) == "成年 张三"


def test_unknown_versions_are_refused() -> None:
    compiled = compile_expr("1", refs={}).to_json()
    assert _error({**compiled, "v": 2}).code == "ast"
    assert _error({"v": 1}).code == "ast"


def test_default_step_cap_applies() -> None:
    compiled = compile_expr("regex(${name}, 'z')", refs=REFS)
    fits = "a" * (CAPS.max_steps - 2)  # regex node + ref node + one step per character
    assert evaluate(compiled, {"name": fits}) is False
    error = _error(compiled, {"name": fits + "a"})
    assert error.code == "steps"
    assert f"more than {CAPS.max_steps} evaluation steps" in error.message


def test_caps_shipped_in_the_json_are_used() -> None:
    shipped = compile_expr("1 + 2 + 3", refs={}).to_json()
    shipped["caps"] = {**shipped["caps"], "max_steps": 3}
    assert _error(shipped).code == "steps"
    assert evaluate(shipped, {}, max_steps=4) == 6  # an explicit max_steps wins


def test_answers_are_not_modified() -> None:
    answers = {"multi": ("a", "b"), "age": 2**60, "name": "x"}
    before = copy.deepcopy(answers)
    compiled = compile_expr("count_selected(${multi}) + ${age} > 0 and selected(${multi}, 'a')", refs=REFS)
    assert evaluate(compiled, answers) is True
    assert answers == before
    listed = {"multi": ["a"]}
    result = evaluate(compile_expr("${multi}", refs=REFS), listed)
    assert result == ["a"] and result is not listed["multi"]  # a copy, never the caller's list


def test_answers_are_normalised_like_javascript_numbers() -> None:
    compiled = compile_expr("${age} + 1", refs=REFS)
    result = evaluate(compiled, {"age": 2**60})
    assert result == float(2**60) and isinstance(result, float)  # beyond 2**53 a number is a double
    assert evaluate(compile_expr("${x}", refs=REFS), {"x": 4.0}) == 4
    assert type(evaluate(compile_expr("${x}", refs=REFS), {"x": 4.0})) is int
    assert evaluate(compile_expr("${x}", refs=REFS), {"x": ("a", "b")}) == ["a", "b"]
    assert _error(compile_expr("${x} > 1", refs=REFS), {"x": math.nan}).code == "type"
    assert _error(compile_expr("${x} > 1", refs=REFS), {"x": {1, 2}}).code == "type"


def test_booleans_are_not_numbers() -> None:
    assert _error(compile_expr("${x} + 1", refs=REFS), {"x": True}).code == "type"
    assert _error(compile_expr("${x} = 1", refs=REFS), {"x": True}).code == "type"


def test_hand_made_trees_are_checked() -> None:
    deep: object = 1
    for _ in range(CAPS.max_depth + 1):
        deep = ["abs", deep]
    assert _error({"v": 1, "ast": deep}).code == "depth"
    assert _error({"v": 1, "ast": ["nope", 1]}).code == "ast"
    assert _error({"v": 1, "ast": []}).code == "ast"
    assert _error({"v": 1, "ast": {"a": 1}}).code == "ast"
    assert _error({"v": 1, "ast": ["+"]}).code == "ast"
    assert _error({"v": 1, "ast": ["regex", "abc", "("]}).code == "ast"


def test_every_error_code_in_the_cases_is_documented() -> None:
    cases = yaml.safe_load(
        (Path(__file__).parents[1] / "conformance" / "cases.yaml").read_text(encoding="utf-8")
    )
    used = {case["error"]["code"] for case in cases["cases"] if case.get("error", {}).get("phase") == "eval"}
    assert used <= EVAL_ERROR_CODES
    assert {"steps", "division_by_zero", "type", "too_long", "format", "range"} <= used


def test_relevant_and_constraint_conventions() -> None:
    # The caller's conventions (docs/expressions.md): null relevant -> not relevant; null constraint -> satisfied.
    relevant = compile_expr("${age} >= 18", refs=REFS, expect="boolean")
    constraint = compile_expr(". <= 120", refs=REFS, this="integer", expect="boolean")
    assert evaluate(relevant, {}) is None
    assert evaluate(constraint, {}, this=None) is None
    assert evaluate(constraint, {}, this=121) is False
