"""Evaluator of compiled trees (mirrored line by line in ``survey_platform/pages/static/js/expr.js``).

Steps: one per node visited (literals included), plus one per character a ``regex`` scans. ``and``, ``or``,
``if`` and ``coalesce`` evaluate lazily (left to right, stopping as soon as the result is known); every other
operator and function evaluates all its operands left to right first. Errors: :class:`ExprEvalError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .caps import AST_VERSION, CAPS
from .errors import ExprEvalError, ExprRegexError
from .numbers import MAX_SAFE_INTEGER, format_number, is_number, normalize, parse_number, round_half_away
from .regex import compile_regex
from .temporal import add_days, day_number, temporal_key

MAX_ADD_DAYS = 3_660_000
_KIND_ZH = {
    "null": "空值",
    "number": "数值",
    "string": "文本",
    "boolean": "布尔值",
    "list": "列表",
    "geopoint": "地理位置",
}


def kind(value: object) -> str:
    """The run-time kind of a value: null, number, string, boolean, list or geopoint."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "geopoint"
    raise ExprEvalError(
        "type", f"不支持的值类型 {type(value).__name__}", f"unsupported value of type {type(value).__name__}"
    )


def _type_error(what: str, wanted_zh: str, wanted_en: str, value: object) -> ExprEvalError:
    got = kind(value)
    return ExprEvalError(
        "type", f"{what} 需要{wanted_zh}，却得到{_KIND_ZH[got]}", f"{what} needs {wanted_en}, got {got}"
    )


def _input(value: object) -> object:
    """An answer (or ``this``) as the evaluator sees it: numbers as doubles, lists and tuples as new lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return normalize(value) if abs(value) > MAX_SAFE_INTEGER else value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExprEvalError("type", "答案不是有限数值", "an answer is not a finite number")
        return normalize(value)
    if isinstance(value, list | tuple):
        return list(value)  # a copy: results never alias the caller's answers
    kind(value)  # raises for unsupported values
    return value


def _check_length(text: str, max_length: int) -> str:
    if len(text) > max_length:
        raise ExprEvalError(
            "too_long",
            f"生成的文本超过 {max_length} 个字符",
            f"produced string longer than {max_length} characters",
        )
    return text


class _Evaluation:
    """One evaluation: answers, ``this``, caps and the step counter."""

    def __init__(self, answers: Mapping[str, object], this: object, caps: Mapping[str, int], max_steps: int):
        self.answers = answers
        self.this = this
        self.caps = caps
        self.max_depth = caps["max_depth"]
        self.max_steps = max_steps
        self.steps = 0

    def add_steps(self, count: int) -> None:
        self.steps += count
        if self.steps > self.max_steps:
            raise ExprEvalError(
                "steps", f"计算步数超过 {self.max_steps}", f"more than {self.max_steps} evaluation steps"
            )

    def eval(self, node: Any, depth: int) -> Any:
        self.steps += 1  # add_steps(1), inlined: this is the hot path
        if self.steps > self.max_steps:
            raise ExprEvalError(
                "steps", f"计算步数超过 {self.max_steps}", f"more than {self.max_steps} evaluation steps"
            )
        if depth > self.max_depth:
            raise ExprEvalError("depth", "表达式嵌套过深", "expression nested too deeply")
        if not isinstance(node, list):
            if node is None or isinstance(node, bool | str) or is_number(node):
                return node
            raise ExprEvalError("ast", "编译结果格式错误", f"malformed compiled expression: {node!r:.40}")
        handler = _HANDLERS.get(node[0]) if node and isinstance(node[0], str) else None
        if handler is None:
            raise ExprEvalError("ast", "编译结果格式错误", f"malformed compiled expression: {node!r:.40}")
        try:
            return handler(self, node, depth + 1)
        except (IndexError, TypeError, ValueError) as error:
            raise ExprEvalError(
                "ast", "编译结果格式错误", f"malformed compiled expression: {error}"
            ) from None

    def all(self, node: list[Any], depth: int) -> list[Any]:
        return [self.eval(child, depth) for child in node[1:]]


# --- handlers: (evaluation, node, depth of the children) -> value ---------------------------------------------

Handler = Callable[[_Evaluation, list[Any], int], Any]


def _ref(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    return _input(ev.answers.get(node[1]))


def _this(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    return _input(ev.this)


def _list(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    return list(node[1:])


def _arith(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    op = node[0]
    values = ev.all(node, depth)
    for value in values:
        if value is not None and not is_number(value):
            raise _type_error(f"'{op}'", "数值", "numbers", value)
    if any(value is None for value in values):
        return None
    result = values[0]
    for value in values[1:]:
        if op == "+":
            result = normalize(float(result) + float(value))
        elif op == "-":
            result = normalize(float(result) - float(value))
        elif op == "*":
            result = normalize(float(result) * float(value))
        else:
            if value == 0:
                raise ExprEvalError("division_by_zero", "除数为零", "division by zero")
            quotient = float(result) / float(value) if op == "/" else math.fmod(float(result), float(value))
            result = normalize(quotient)
    return result


def _neg(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    value = ev.eval(node[1], depth)
    if value is None:
        return None
    if not is_number(value):
        raise _type_error("'-'", "数值", "a number", value)
    return normalize(-float(value))


def _logical(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    op = node[0]
    decisive = op == "or"  # the value that decides: false for and, true for or
    saw_null = False
    for child in node[1:]:
        value = ev.eval(child, depth)
        if value is None:
            saw_null = True
        elif not isinstance(value, bool):
            raise _type_error(f"'{op}'", "布尔值", "booleans", value)
        elif value is decisive:
            return decisive
    return None if saw_null else not decisive


def _not(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    value = ev.eval(node[1], depth)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _type_error("'not'", "布尔值", "a boolean", value)
    return not value


def _compare(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    op = node[0]
    left, right = ev.eval(node[1], depth), ev.eval(node[2], depth)
    kinds = (kind(left), kind(right))
    for value, value_kind in zip((left, right), kinds, strict=True):
        if value_kind in ("list", "geopoint"):
            raise _type_error(f"'{op}'", "数值、文本或布尔值", "numbers, strings or booleans", value)
    if left is None or right is None:
        return None
    if kinds[0] != kinds[1]:
        raise ExprEvalError(
            "type",
            f"'{op}' 不能比较{_KIND_ZH[kinds[0]]}与{_KIND_ZH[kinds[1]]}",
            f"'{op}' cannot compare {kinds[0]} with {kinds[1]}",
        )
    if kinds[0] == "boolean" and op not in ("=", "!="):
        raise ExprEvalError(
            "type", f"布尔值不能用 '{op}' 比较大小", f"booleans cannot be compared with '{op}'"
        )
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def _tkey(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    value = ev.eval(node[2], depth)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _type_error(node[1], "ISO 格式的文本", "an ISO-8601 string", value)
    return temporal_key(node[1], value)


def _in(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    item, collection = ev.eval(node[1], depth), ev.eval(node[2], depth)
    if item is None:
        return None
    if collection is None:
        return False
    if kind(item) not in ("string", "number"):
        raise _type_error("'in'", "数值或文本", "a number or a string", item)
    if not isinstance(collection, list):
        raise _type_error("'in'", "列表", "a list", collection)
    item_kind = kind(item)
    return any(kind(element) == item_kind and element == item for element in collection)


def _selected(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    collection, code = ev.all(node, depth)
    if collection is None or code is None:
        return False
    if not isinstance(code, str):
        raise _type_error("selected()", "选项编码（文本）", "a choice code (string)", code)
    if isinstance(collection, str):
        return collection == code
    if not isinstance(collection, list):
        raise _type_error("selected()", "多选或单选答案", "choices", collection)
    return any(isinstance(element, str) and element == code for element in collection)


def _count_selected(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    value = ev.eval(node[1], depth)
    if value is None:
        return 0
    if not isinstance(value, list):
        raise _type_error("count_selected()", "多选答案（列表）", "choices (a list)", value)
    return len(value)


def _empty(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    value = ev.eval(node[1], depth)
    kind(value)
    return value is None or value == "" or (isinstance(value, list) and not value)


def _coalesce(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    for child in node[1:]:
        value = ev.eval(child, depth)
        if value is not None:
            return value
    return None


def _if(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    condition = ev.eval(node[1], depth)
    if condition is not None and not isinstance(condition, bool):
        raise _type_error("if()", "布尔值（条件）", "a boolean condition", condition)
    return ev.eval(node[2] if condition is True else node[3], depth)


def _round(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    values = ev.all(node, depth)
    value = values[0]
    digits = values[1] if len(values) > 1 else 0
    if value is None or digits is None:
        return None
    if not is_number(value):
        raise _type_error("round()", "数值", "a number", value)
    limit = ev.caps["max_round_digits"]
    if not is_number(digits) or digits != int(digits) or not 0 <= digits <= limit:
        raise ExprEvalError(
            "range",
            f"round() 的小数位数应为 0 到 {limit} 的整数",
            f"round() digits must be an integer from 0 to {limit}",
        )
    return round_half_away(value, int(digits))


def _len(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    value = ev.eval(node[1], depth)
    if value is None:
        return 0
    if not isinstance(value, str | list):
        raise _type_error("len()", "文本或列表", "a string or a list", value)
    return len(value)


def _regex(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    text = ev.eval(node[1], depth)
    if text is None:
        return None
    if not isinstance(text, str):
        raise _type_error("regex()", "文本", "a string", text)
    ev.add_steps(len(text))
    try:
        regex = compile_regex(node[2])
    except ExprRegexError as error:
        raise ExprEvalError("ast", error.message_zh, error.message_en) from None
    return regex.search(text)


def _numbers(ev: _Evaluation, node: list[Any], depth: int) -> list[Any]:
    values = ev.all(node, depth)
    for value in values:
        if value is not None and not is_number(value):
            raise _type_error(f"{node[0]}()", "数值", "numbers", value)
    return [value for value in values if value is not None]


def _min(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    values = _numbers(ev, node, depth)
    return min(values) if values else None


def _max(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    values = _numbers(ev, node, depth)
    return max(values) if values else None


def _sum(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    total: int | float = 0
    for value in _numbers(ev, node, depth):
        total = normalize(float(total) + float(value))
    return total


def _unary_number(function: Callable[[float], float]) -> Handler:
    def handler(ev: _Evaluation, node: list[Any], depth: int) -> Any:
        value = ev.eval(node[1], depth)
        if value is None:
            return None
        if not is_number(value):
            raise _type_error(f"{node[0]}()", "数值", "a number", value)
        return normalize(function(float(value)))

    return handler


def _number(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    value = ev.eval(node[1], depth)
    if value is None or is_number(value):
        return value
    if not isinstance(value, str):
        raise _type_error("number()", "文本", "a string", value)
    return parse_number(value)


def _string(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    value = ev.eval(node[1], depth)
    value_kind = kind(value)
    if value_kind == "null":
        return None
    if value_kind == "number":
        return format_number(value)
    if value_kind == "boolean":
        return "true" if value else "false"
    if value_kind == "string":
        return value
    if value_kind == "list" and all(isinstance(element, str) for element in value):
        return _check_length(" ".join(value), ev.caps["max_string_length"])
    raise _type_error(
        "string()", "数值、文本、布尔值或多选答案", "a number, string, boolean or choices", value
    )


def _concat(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    values = ev.all(node, depth)
    for value in values:
        if value is not None and not isinstance(value, str):
            raise _type_error(
                "concat()",
                "文本（数字请先用 string() 转换）",
                "strings (convert numbers with string())",
                value,
            )
    return _check_length(
        "".join(value for value in values if value is not None), ev.caps["max_string_length"]
    )


def _string_test(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    text, part = ev.all(node, depth)
    for value in (text, part):
        if value is not None and not isinstance(value, str):
            raise _type_error(f"{node[0]}()", "文本", "strings", value)
    if text is None or part is None:
        return None
    if node[0] == "contains":
        return part in text
    if node[0] == "starts_with":
        return text.startswith(part)
    return text.endswith(part)


def _days_between(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    start, end = ev.all(node, depth)
    for value in (start, end):
        if value is not None and not isinstance(value, str):
            raise _type_error("days_between()", "日期", "dates", value)
    if start is None or end is None:
        return None
    return day_number(end) - day_number(start)


def _add_days(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    date, days = ev.all(node, depth)
    if date is not None and not isinstance(date, str):
        raise _type_error("add_days()", "日期", "a date", date)
    if days is not None and not (is_number(days) and days == int(days)):
        raise _type_error("add_days()", "整数（天数）", "an integer number of days", days)
    if date is None or days is None:
        return None
    if abs(days) > MAX_ADD_DAYS:
        raise ExprEvalError("range", "add_days() 的天数过大", "add_days(): too many days")
    return add_days(date, int(days))


def _geo(ev: _Evaluation, node: list[Any], depth: int) -> Any:
    value = ev.eval(node[1], depth)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _type_error(f"{node[0]}()", "地理位置", "a geopoint", value)
    part = _input(value.get(node[0]))
    if part is not None and not is_number(part):
        raise _type_error(f"{node[0]}()", "数值坐标", "a numeric coordinate", part)
    return part


_HANDLERS: dict[str, Handler] = {
    "ref": _ref,
    "this": _this,
    "list": _list,
    "+": _arith,
    "-": _arith,
    "*": _arith,
    "/": _arith,
    "%": _arith,
    "neg": _neg,
    "and": _logical,
    "or": _logical,
    "not": _not,
    "=": _compare,
    "!=": _compare,
    "<": _compare,
    "<=": _compare,
    ">": _compare,
    ">=": _compare,
    "tkey": _tkey,
    "in": _in,
    "selected": _selected,
    "count_selected": _count_selected,
    "empty": _empty,
    "coalesce": _coalesce,
    "if": _if,
    "round": _round,
    "len": _len,
    "regex": _regex,
    "min": _min,
    "max": _max,
    "sum": _sum,
    "abs": _unary_number(abs),
    "int": _unary_number(math.trunc),
    "floor": _unary_number(math.floor),
    "ceil": _unary_number(math.ceil),
    "number": _number,
    "string": _string,
    "concat": _concat,
    "contains": _string_test,
    "starts_with": _string_test,
    "ends_with": _string_test,
    "days_between": _days_between,
    "add_days": _add_days,
    "lat": _geo,
    "lon": _geo,
    "accuracy": _geo,
}


_DEFAULT_CAPS: dict[str, int] = CAPS.eval_json()


def evaluate(
    expr: Any, answers: Mapping[str, object], *, this: object = None, max_steps: int | None = None
) -> object:
    """Evaluate a :class:`CompiledExpr` or its ``to_json()`` dict against ``answers`` (question id -> value).

    Missing answers and answers of non-relevant questions are null. Pure; raises :class:`ExprEvalError`.
    """
    caps: dict[str, int] = _DEFAULT_CAPS  # shared and never mutated; copied below when a compile ships others
    if isinstance(expr, Mapping):
        if expr.get("v") != AST_VERSION or "ast" not in expr:
            raise ExprEvalError(
                "ast", "不支持的编译结果版本", f"unsupported compiled expression (v={expr.get('v')!r})"
            )
        shipped = expr.get("caps")
        if isinstance(shipped, Mapping) and shipped != caps:
            caps = {**caps, **{key: int(value) for key, value in shipped.items() if key in caps}}
        tree = expr["ast"]
    else:
        tree = expr.ast
    evaluation = _Evaluation(answers, this, caps, caps["max_steps"] if max_steps is None else max_steps)
    return evaluation.eval(tree, 1)
