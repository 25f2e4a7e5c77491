"""Parser and lexer of the expression language: syntax errors with offsets, tree shapes, caps, references()."""

from __future__ import annotations

import pytest

from survey_platform.questionnaire.expr import (
    CAPS,
    ExprError,
    ExprLimitError,
    ExprSyntaxError,
    compile_expr,
    evaluate,
    references,
)

REFS = {"age": "integer", "name": "string", "multi": "choices", "a.b-c": "number", "年龄": "integer"}


@pytest.mark.parametrize(
    ("source", "offset", "english"),
    [
        ("", 0, "empty expression"),
        ("1 +", 3, "incomplete expression, expected a value"),
        ("(1 + 2", 6, "expected ')'"),
        ("1 + * 2", 4, "expected a value, found '*'"),
        ("${age} < 1 < 2", 11, "do not chain"),
        ("'abc", 0, "unterminated string"),
        ("${age", 0, "without closing '}'"),
        ("$age", 0, "written ${question_id}"),
        ("${} > 1", 2, "invalid question id ''"),
        ("${1x} > 1", 2, "invalid question id '1x'"),
        ("age > 1", 0, "write ${age} for a question"),
        ("1 <> 2", 2, "use '!='"),
        ("${age} # 1", 7, "unexpected character '#'"),
        ("12abc", 2, "a number followed by letters"),
        ("1.", 1, "digits expected after the decimal point"),
        ("1e+", 1, "digits expected in the exponent"),
        ("'\\u12'", 1, "\\u needs 4 hex digits"),
        ("${name}.length", 7, "found '.'"),
        ("true and", 8, "incomplete expression"),
        ("(1, ${age})", 4, "list items must be number or string literals"),
        ("selected(${multi} 'a')", 18, "expected ')'"),
        ("1 2", 2, "expected an operator or the end, found '2'"),
        ("and", 0, "unexpected 'and'"),
    ],
)
def test_syntax_errors_name_the_problem_and_its_offset(source: str, offset: int, english: str) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        compile_expr(source, refs=REFS)
    error = caught.value
    assert error.offset == offset
    assert english in error.message
    assert str(error) == error.message == f"{error.message_zh} / {error.message_en}"
    assert isinstance(error, ExprError) and error.code == "syntax"


def test_messages_are_chinese_first() -> None:
    with pytest.raises(ExprError) as caught:
        compile_expr("${agee} > 1", refs=REFS)
    zh, en = caught.value.message.split(" / ", 1)
    assert "未知的题目" in zh and "是否应为 'age'" in zh
    assert en == "unknown question 'agee', did you mean 'age'?"


@pytest.mark.parametrize(
    ("source", "ast"),
    [
        ("1 + 2 * 3", ["+", 1, ["*", 2, 3]]),
        ("(1 + 2) * 3", ["*", ["+", 1, 2], 3]),
        ("1 - 2 - 3", ["-", 1, 2, 3]),  # a left chain of one operator is one n-ary node
        ("1 - (2 - 3)", ["-", 1, ["-", 2, 3]]),
        ("1 + 2 - 3", ["-", ["+", 1, 2], 3]),
        ("-5", -5),  # a negative literal is folded
        ("-${age}", ["neg", ["ref", "age"]]),
        ("not 1 = 2", ["not", ["=", 1, 2]]),
        ("true or false and true", ["or", True, ["and", False, True]]),
        ("'a' not in ('a', 'b')", ["not", ["in", "a", ["list", "a", "b"]]]),
        ("${年龄} >= 18", [">=", ["ref", "年龄"], 18]),
        ("${a.b-c} == 1.5", ["=", ["ref", "a.b-c"], 1.5]),
        ("'x\\ty\\\\'", "x\ty\\"),
        ('"\\d"', "\\d"),
    ],
)
def test_tree_shapes(source: str, ast: object) -> None:
    assert compile_expr(source, refs=REFS).ast == ast


def test_subtraction_chains_keep_their_meaning() -> None:
    assert evaluate(compile_expr("1 - (2 - 3)", refs={}), {}) == 2
    assert evaluate(compile_expr("1 - 2 - 3", refs={}), {}) == -4
    assert evaluate(compile_expr("64 / 4 / 2", refs={}), {}) == 8


def test_source_length_is_capped() -> None:
    source = "1" + " + 1" * ((CAPS.max_source_length - 1) // 4 + 1)
    assert len(source) > CAPS.max_source_length
    with pytest.raises(ExprLimitError) as caught:
        compile_expr(source, refs={})
    assert caught.value.offset == CAPS.max_source_length
    assert "longer than 2000 characters" in caught.value.message


def test_node_count_is_capped() -> None:
    terms = CAPS.max_nodes // 2 + 1  # n literals and n - 1 operators
    with pytest.raises(ExprLimitError) as caught:
        compile_expr("+".join(["1"] * terms), refs={})
    assert "more than 400 nodes" in caught.value.message


def test_a_long_sum_of_answers_stays_shallow_and_evaluates() -> None:
    refs = {f"q{i}": "integer" for i in range(150)}
    source = " + ".join(f"${{q{i}}}" for i in range(150))
    compiled = compile_expr(source, refs=refs)
    assert compiled.ast[0] == "+" and len(compiled.ast) == 151
    assert evaluate(compiled, {f"q{i}": i for i in range(150)}) == sum(range(150))


def test_nesting_depth_is_capped() -> None:
    ok = "abs(" * (CAPS.max_depth - 1) + "1" + ")" * (CAPS.max_depth - 1)
    assert evaluate(compile_expr(ok, refs={}), {}) == 1
    deep = "abs(" * (CAPS.max_depth + 1) + "1" + ")" * (CAPS.max_depth + 1)
    with pytest.raises(ExprLimitError) as caught:
        compile_expr(deep, refs={})
    assert "nested too deeply" in caught.value.message


def test_unary_chains_are_capped_too() -> None:
    with pytest.raises(ExprLimitError):
        compile_expr("not " * 40 + "true", refs={})
    assert evaluate(compile_expr("not not true", refs={}), {}) is True


def test_list_literal_length_is_capped() -> None:
    items = ", ".join(f"'{i}'" for i in range(CAPS.max_list_items + 1))
    with pytest.raises(ExprLimitError) as caught:
        compile_expr(f"${{name}} in ({items})", refs=REFS)
    assert caught.value.offset == len("${name} in ")


def test_references_parses_without_type_checking() -> None:
    assert references("${a} + ${b.c} * coalesce(${a}, ${d})") == frozenset({"a", "b.c", "d"})
    assert references("concat(${name}, 1)") == frozenset({"name"})  # a type error, but parsing is enough
    assert references("1 + 2") == frozenset()
    with pytest.raises(ExprSyntaxError):
        references("${a} +")


def test_compiled_references_are_the_ids_used() -> None:
    compiled = compile_expr("${age} > 1 and selected(${multi}, 'a') or ${age} < 0", refs=REFS)
    assert compiled.references == frozenset({"age", "multi"})
