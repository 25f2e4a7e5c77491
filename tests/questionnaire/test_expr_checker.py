"""Type checker: inferred types, type errors with offsets, declared types, required result types, the JSON shape."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from survey_platform.questionnaire.expr import (
    AST_VERSION,
    CAPS,
    FUNCTIONS,
    TYPES,
    CompiledExpr,
    ExprReferenceError,
    ExprTypeError,
    compile_expr,
    evaluate,
)
from survey_platform.questionnaire.expr.evaluator import _HANDLERS

REFS = {
    "age": "integer",
    "score": "number",
    "name": "string",
    "ok": "boolean",
    "sex": "choice",
    "multi": "choices",
    "visit": "date",
    "t": "time",
    "dt": "datetime",
    "gp": "geopoint",
    "x": "any",
}
JS = Path(__file__).parents[2] / "survey_platform" / "pages" / "static" / "js" / "expr.js"


def test_types_are_the_contract() -> None:
    assert (
        frozenset(
            {
                "number",
                "integer",
                "string",
                "boolean",
                "date",
                "time",
                "datetime",
                "choices",
                "choice",
                "geopoint",
                "any",
            }
        )
        == TYPES
    )


@pytest.mark.parametrize(
    ("source", "type_"),
    [
        ("${age} + 1", "integer"),
        ("${age} * ${age} % 3", "integer"),
        ("${age} / 1", "number"),
        ("${age} + ${score}", "number"),
        ("-${age}", "integer"),
        ("${x} + 1", "number"),
        ("${age} > 1", "boolean"),
        ("${sex}", "choice"),
        ("if(${ok}, ${sex}, 'x')", "string"),
        ("if(${ok}, ${age}, null)", "integer"),
        ("coalesce(${age}, ${score})", "number"),
        ("coalesce(${visit}, '2026-01-01')", "date"),
        ("coalesce(${x}, 1)", "any"),
        ("null", "any"),
        ("round(${score})", "integer"),
        ("round(${score}, 2)", "number"),
        ("int(${score}) + floor(1.5) + ceil(1.5)", "integer"),
        ("abs(${score})", "number"),
        ("min(${age}, 2)", "integer"),
        ("max(${age}, 2.5)", "number"),
        ("sum(${age})", "integer"),
        ("len(${multi}) + count_selected(${multi}) + days_between(${visit}, ${dt})", "integer"),
        ("number(${name})", "number"),
        ("string(${score})", "string"),
        ("concat(${visit}, ${t}, ${sex})", "string"),
        ("add_days(${visit}, 1)", "date"),
        ("lat(${gp}) + lon(${gp}) + accuracy(${gp})", "number"),
        ("regex(${name}, 'a') and contains(${name}, 'b') and empty(${gp})", "boolean"),
        ("${multi}", "choices"),
    ],
)
def test_inferred_types(source: str, type_: str) -> None:
    assert compile_expr(source, refs=REFS).type == type_


@pytest.mark.parametrize(
    ("source", "offset", "english"),
    [
        ("${name} + 1", 8, "'+' needs numbers, got string; use concat() to join strings"),
        ("1 + ${ok}", 2, "'+' needs numbers, got boolean"),
        ("${visit} - 1", 9, "use days_between() for dates"),
        ("-${name}", 0, "'-' needs a number, got string"),
        ("${age} and true", 7, "'and' needs booleans, got integer"),
        ("not ${name}", 0, "'not' needs booleans, got string"),
        ("${age} = 'a'", 7, "cannot compare integer with string"),
        ("${ok} > false", 6, "booleans cannot be compared with '>'"),
        ("${visit} = ${t}", 9, "cannot compare date with time"),
        ("${visit} = '2026-02-29'", 11, "invalid date '2026-02-29'"),
        ("${t} < '24:00'", 7, "invalid time '24:00'"),
        ("${age} = null", 7, "use empty(x)"),
        ("${gp} = ${gp}", 6, "cannot compare geopoint"),
        ("selected(${age}, 'x')", 9, "argument 1 of selected() must be choices or a choice, got integer"),
        ("selected(${multi}, 2)", 19, "argument 2 of selected() must be a choice code (string), got integer"),
        ("count_selected(${sex})", 15, "argument 1 of count_selected() must be choices, got choice"),
        ("len(${age})", 4, "argument 1 of len() must be a string or choices"),
        ("round(1.5, 11)", 11, "digits must be between 0 and 10"),
        ("round(1.5, ${score})", 11, "must be an integer (the number of decimals)"),
        ("regex(${name}, ${name})", 15, "must be a string literal"),
        ("concat(${name}, ${age})", 16, "convert numbers with string()"),
        ("if(${age}, 1, 2)", 3, "argument 1 of if() must be a boolean"),
        ("coalesce(${age}, 'a')", 17, "coalesce() mixes integer and string"),
        ("'a' in (1, 2)", 4, "'in' cannot look for string in list:number"),
        ("1 in ${multi}", 2, "'in' cannot look for integer in choices"),
        ("'a' in 'abc'", 7, "the right of 'in' must be a list"),
        ("('a', 1)", 0, "a list cannot mix numbers and strings"),
        ("('a', 'b') = 1", 0, "a list literal is only allowed after 'in'"),
        ("len(('a', 'b'))", 4, "a list literal is only allowed after 'in'"),
        ("frobnicate(1)", 0, "unknown function 'frobnicate'"),
        ("coalesce()", 0, "coalesce() takes 1+ arguments, got 0"),
        ("selected(${multi})", 0, "selected() takes 2 arguments, got 1"),
        ("add_days('2026-01-01', 1.5)", 23, "argument 2 of add_days() must be an integer"),
        ("days_between('2026-01-32', ${visit})", 13, "invalid date '2026-01-32'"),
        ("lat(${score})", 4, "argument 1 of lat() must be a geopoint"),
        ("string(${gp})", 7, "argument 1 of string() must be"),
    ],
)
def test_type_errors_name_the_problem_and_its_offset(source: str, offset: int, english: str) -> None:
    with pytest.raises(ExprTypeError) as caught:
        compile_expr(source, refs=REFS)
    assert english in caught.value.message_en
    assert caught.value.offset == offset


def test_unknown_references_suggest_a_close_match() -> None:
    with pytest.raises(ExprReferenceError) as caught:
        compile_expr("1 + ${agee}", refs=REFS)
    assert caught.value.offset == 4
    assert caught.value.message_en == "unknown question 'agee', did you mean 'age'?"
    with pytest.raises(ExprReferenceError) as caught:
        compile_expr("${qqqqq}", refs=REFS)
    assert caught.value.message_en == "unknown question 'qqqqq'"


def test_this_is_only_allowed_when_typed() -> None:
    with pytest.raises(ExprReferenceError) as caught:
        compile_expr("${age} > 1 and . > 2", refs=REFS)
    assert caught.value.offset == 15
    compiled = compile_expr(". > 2", refs=REFS, this="integer", expect="boolean")
    assert compiled.ast == [">", ["this"], 2]
    assert evaluate(compiled, {}, this=3) is True


@pytest.mark.parametrize(
    ("source", "expect", "ok"),
    [
        ("${age}", "number", True),
        ("${score}", "integer", False),
        ("round(${score})", "integer", True),
        ("${sex}", "string", True),
        ("${name}", "choice", True),
        ("concat('2026-', '01-01')", "date", True),
        ("${age} > 1", "boolean", True),
        ("${age}", "boolean", False),
        ("${x}", "boolean", True),
        ("null", "boolean", True),
        ("${multi}", "choices", True),
        ("${multi}", "string", False),
        ("${gp}", "geopoint", True),
        ("${visit}", "datetime", False),
        ("${visit}", None, True),
        ("${visit}", "any", True),
    ],
)
def test_required_result_type(source: str, expect: str | None, ok: bool) -> None:
    if ok:
        compile_expr(source, refs=REFS, expect=expect)
    else:
        with pytest.raises(ExprTypeError) as caught:
            compile_expr(source, refs=REFS, expect=expect)
        assert f"the expression must give {expect}" in caught.value.message_en
        assert caught.value.offset == 0


def test_declared_types_are_validated() -> None:
    with pytest.raises(ValueError, match="refs\\['a'\\]: unknown type 'text'"):
        compile_expr("1", refs={"a": "text"})
    with pytest.raises(ValueError, match="this: unknown type"):
        compile_expr("1", refs={}, this="int")
    with pytest.raises(ValueError, match="expect: unknown type"):
        compile_expr("1", refs={}, expect="bool")


def test_compiled_expr_is_frozen_and_serialisable() -> None:
    compiled = compile_expr("${age} >= 18 and regex(${name}, '^a')", refs=REFS, expect="boolean")
    assert isinstance(compiled, CompiledExpr)
    assert compiled.source == "${age} >= 18 and regex(${name}, '^a')"
    assert compiled.type == "boolean"
    assert compiled.references == frozenset({"age", "name"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.type = "number"  # type: ignore[misc]
    shipped = json.loads(json.dumps(compiled.to_json()))
    assert shipped == {"v": AST_VERSION, "type": "boolean", "caps": CAPS.eval_json(), "ast": compiled.ast}
    assert compiled.ast == ["and", [">=", ["ref", "age"], 18], ["regex", ["ref", "name"], "^a"]]
    assert evaluate(shipped, {"age": 20, "name": "ab"}) is True


def test_every_function_has_an_evaluator_on_both_sides() -> None:
    js_handlers = (
        JS.read_text(encoding="utf-8").split("const HANDLERS = Object.freeze({", 1)[1].split("});", 1)[0]
    )
    js_names = set(re.findall(r"(?:^|[\s,{])'?([a-z_]+)'?:", js_handlers)) | set(
        re.findall(r"(?:^|[\s,])([a-z_]+),", js_handlers)
    )
    for name in FUNCTIONS:
        assert name in _HANDLERS, name
        assert name in js_names, f"{name} missing from expr.js HANDLERS"
