"""Type checker and code generator: syntax tree to the plain-JSON compiled tree, inferring every node's type.

Compiled tree (version 1): a literal is a bare JSON scalar (number, string, true, false, null); everything else is
a list ``[op, ...operands]``:

* ``["ref", id]``, ``["this"]``, ``["list", v1, v2, ...]`` (raw literal items);
* ``["+", a, b, ...]``, ``["-", ...]``, ``["*", ...]``, ``["/", ...]``, ``["%", ...]`` (left to right),
  ``["neg", a]``;
* ``["=", a, b]``, ``["!=", a, b]``, ``["<", a, b]``, ``["<=", a, b]``, ``[">", a, b]``, ``[">=", a, b]``;
* ``["and", a, b, ...]``, ``["or", a, b, ...]``, ``["not", a]``, ``["in", x, list]``;
* ``["tkey", kind, a]``: a date/time/datetime turned into its comparison key (inserted by the compiler);
* ``["<function>", args...]`` for the functions; ``["regex", s, "pattern"]`` carries its pattern as a raw string.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .caps import CAPS, Caps
from .errors import (
    ExprError,
    ExprEvalError,
    ExprLimitError,
    ExprReferenceError,
    ExprRegexError,
    ExprTypeError,
)
from .numbers import MAX_SAFE_INTEGER, normalize
from .parser import Node
from .regex import compile_regex
from .temporal import temporal_key
from .typesys import (
    LISTS,
    NUMERIC,
    TEMPORAL,
    TEXT,
    TYPES,
    assignable,
    is_boolean,
    is_numeric,
    is_text,
    unify,
    zh,
)

Json = object


@dataclass(slots=True)
class Typed:
    """A compiled subtree: its JSON, its static type, its depth and the syntax node it came from."""

    json: Json
    type: str
    depth: int
    node: Node


def _type_error(offset: int, zh_text: str, en_text: str) -> ExprTypeError:
    return ExprTypeError(zh_text, en_text, offset)


@dataclass
class Checker:
    """Compiles one expression; collects the referenced question ids."""

    refs: Mapping[str, str]
    this: str | None
    caps: Caps = CAPS
    references: set[str] = field(default_factory=set)

    def make(self, json: list[Json], type_: str, node: Node, children: list[Typed]) -> Typed:
        depth = 1 + max((child.depth for child in children), default=0)
        if depth > self.caps.max_depth:
            raise ExprLimitError(
                f"表达式嵌套过深（超过 {self.caps.max_depth} 层）",
                f"expression nested too deeply (more than {self.caps.max_depth} levels)",
                node.offset,
            )
        return Typed(json, type_, depth, node)

    def check(self, node: Node) -> Typed:
        method: Callable[[Node], Typed] = getattr(self, f"_{node.kind}")
        return method(node)

    # --- leaves -------------------------------------------------------------------------------------------------
    def _lit(self, node: Node) -> Typed:
        kind, payload = node.value  # type: ignore[misc]
        if kind in ("integer", "decimal"):
            try:
                value = normalize(float(payload))
            except ExprEvalError:
                raise _type_error(node.offset, "数字超出范围", "number out of range") from None
            exact = kind == "integer" and abs(int(payload)) <= MAX_SAFE_INTEGER
            return Typed(value, "integer" if exact else "number", 1, node)
        if kind == "string":
            return Typed(payload, "string", 1, node)
        return Typed(payload, kind, 1, node)  # boolean / null

    def _list(self, node: Node) -> Typed:
        items = [self._lit(child) for child in node.children]
        kinds = {"list:string" if item.type == "string" else "list:number" for item in items}
        if len(kinds) > 1:
            raise _type_error(
                node.offset, "列表中不能混合数字和文本", "a list cannot mix numbers and strings"
            )
        return Typed(["list", *(item.json for item in items)], kinds.pop(), 1, node)

    def _ref(self, node: Node) -> Typed:
        name = str(node.value)
        if name not in self.refs:
            close = difflib.get_close_matches(name, list(self.refs), n=1, cutoff=0.6)
            if close:
                raise ExprReferenceError(
                    f"未知的题目 '{name}'，是否应为 '{close[0]}'？",
                    f"unknown question '{name}', did you mean '{close[0]}'?",
                    node.offset,
                )
            raise ExprReferenceError(f"未知的题目 '{name}'", f"unknown question '{name}'", node.offset)
        self.references.add(name)
        return Typed(["ref", name], self.refs[name], 1, node)

    def _this(self, node: Node) -> Typed:
        if self.this is None:
            raise ExprReferenceError(
                "此处不能使用 '.'（本题答案）", "'.' (this answer) is not allowed here", node.offset
            )
        return Typed(["this"], self.this, 1, node)

    # --- operators ----------------------------------------------------------------------------------------------
    def _operands(self, node: Node, kind: str) -> list[Node]:
        """Flatten a left-leaning chain of the same operator: ((a + b) + c) -> [a, b, c]."""
        left, right = node.children
        if left.kind == kind and left.value == node.value and len(left.children) == 2:
            return [*self._operands(left, kind), right]
        return [left, right]

    def _no_list(self, typed: Typed, offset: int) -> None:
        if typed.type in LISTS:
            raise _type_error(
                typed.node.offset, "列表常量只能用在 in 之后", "a list literal is only allowed after 'in'"
            )

    def _arith(self, node: Node) -> Typed:
        op = str(node.value)
        operands = [self.check(child) for child in self._operands(node, "arith")]
        for operand in operands:
            self._no_list(operand, node.offset)
            if not is_numeric(operand.type):
                hint_zh, hint_en = (
                    ("；连接文本请用 concat()", "; use concat() to join strings")
                    if (op == "+" and operand.type in TEXT)
                    else ("", "")
                )
                if operand.type in TEMPORAL and op == "-":
                    hint_zh, hint_en = "；日期相减请用 days_between()", "; use days_between() for dates"
                raise _type_error(
                    node.offset,
                    f"'{op}' 需要数值，却得到{zh(operand.type)}{hint_zh}",
                    f"'{op}' needs numbers, got {operand.type}{hint_en}",
                )
        integer = op != "/" and all(operand.type in ("integer", "null") for operand in operands)
        return self.make(
            [op, *(operand.json for operand in operands)], "integer" if integer else "number", node, operands
        )

    def _neg(self, node: Node) -> Typed:
        operand = self.check(node.children[0])
        self._no_list(operand, node.offset)
        if not is_numeric(operand.type):
            raise _type_error(
                node.offset,
                f"'-' 需要数值，却得到{zh(operand.type)}",
                f"'-' needs a number, got {operand.type}",
            )
        return self.make(
            ["neg", operand.json], "integer" if operand.type == "integer" else "number", node, [operand]
        )

    def _boolean_operand(self, typed: Typed, word: str, offset: int) -> None:
        self._no_list(typed, offset)
        if not is_boolean(typed.type):
            raise _type_error(
                offset,
                f"'{word}' 需要布尔值，却得到{zh(typed.type)}",
                f"'{word}' needs booleans, got {typed.type}",
            )

    def _not(self, node: Node) -> Typed:
        operand = self.check(node.children[0])
        self._boolean_operand(operand, "not", node.offset)
        return self.make(["not", operand.json], "boolean", node, [operand])

    def _logical(self, node: Node) -> Typed:
        operands = [self.check(child) for child in self._operands(node, node.kind)]
        for operand in operands:
            self._boolean_operand(operand, node.kind, node.offset)
        return self.make([node.kind, *(operand.json for operand in operands)], "boolean", node, operands)

    _and = _logical
    _or = _logical

    def _temporal_side(self, typed: Typed, kind: str) -> Typed:
        """Wrap one side of a temporal comparison in a comparison key (a literal is checked and converted now)."""
        if typed.node.kind == "lit" and isinstance(typed.json, str):
            try:
                return Typed(temporal_key(kind, typed.json), kind, 1, typed.node)
            except ExprEvalError as error:
                raise _type_error(typed.node.offset, error.message_zh, error.message_en) from None
        return self.make(["tkey", kind, typed.json], kind, typed.node, [typed])

    def _cmp(self, node: Node) -> Typed:
        op = str(node.value)
        left, right = (self.check(child) for child in node.children)
        for side in (left, right):
            self._no_list(side, node.offset)
            if side.type == "null":
                raise _type_error(
                    node.offset,
                    "不能与 null 比较；判断是否为空请用 empty(x)",
                    "cannot compare with null; use empty(x) to test for a missing answer",
                )
            if side.type in ("choices", "geopoint"):
                what_zh, what_en = (
                    (
                        "多选答案请用 selected() 或 count_selected()",
                        "use selected() or count_selected() on multiple choices",
                    )
                    if (side.type == "choices")
                    else ("地理位置只能用 empty() 等函数", "use empty() etc. on a geopoint")
                )
                raise _type_error(
                    node.offset,
                    f"'{op}' 不能比较{zh(side.type)}；{what_zh}",
                    f"'{op}' cannot compare {side.type}; {what_en}",
                )
        types = (left.type, right.type)
        temporal = [t for t in types if t in TEMPORAL]
        if temporal:
            kind = temporal[0]
            for t in types:
                if t != kind and not is_text(t):
                    raise _type_error(
                        node.offset,
                        f"不能比较{zh(types[0])}与{zh(types[1])}",
                        f"cannot compare {types[0]} with {types[1]}",
                    )
            left, right = self._temporal_side(left, kind), self._temporal_side(right, kind)
            return self.make([op, left.json, right.json], "boolean", node, [left, right])
        if "any" not in types:
            same_family = (
                all(t in NUMERIC for t in types)
                or all(t in TEXT for t in types)
                or types == ("boolean", "boolean")
            )
            if not same_family:
                raise _type_error(
                    node.offset,
                    f"不能比较{zh(types[0])}与{zh(types[1])}",
                    f"cannot compare {types[0]} with {types[1]}",
                )
        if "boolean" in types and op not in ("=", "!="):
            raise _type_error(
                node.offset, f"布尔值不能用 '{op}' 比较大小", f"booleans cannot be compared with '{op}'"
            )
        return self.make([op, left.json, right.json], "boolean", node, [left, right])

    def _in(self, node: Node) -> Typed:
        item, collection = (self.check(child) for child in node.children)
        self._no_list(item, node.offset)
        if collection.type == "list:number":
            ok = is_numeric(item.type)
        elif collection.type in ("list:string", "choices", "any", "null"):
            ok = is_text(item.type)
        else:
            raise _type_error(
                node.children[1].offset,
                f"'in' 右边应为列表如 ('a', 'b')（单项写作 ('a',)）或多选答案，却得到{zh(collection.type)}",
                f"the right of 'in' must be a list like ('a', 'b') (one item: ('a',)) or multiple choices, got "
                f"{collection.type}",
            )
        if not ok:
            raise _type_error(
                node.offset,
                f"'in' 左边的{zh(item.type)}与右边的{zh(collection.type)}不匹配",
                f"'in' cannot look for {item.type} in {collection.type}",
            )
        result = self.make(["in", item.json, collection.json], "boolean", node, [item, collection])
        if node.value:  # not in
            return self.make(["not", result.json], "boolean", node, [result])
        return result

    # --- functions ----------------------------------------------------------------------------------------------
    def _call(self, node: Node) -> Typed:
        name = str(node.value)
        spec = FUNCTIONS.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.6)
            hint_zh, hint_en = (
                (f"，是否应为 {close[0]}()？", f", did you mean {close[0]}()?") if close else ("", "")
            )
            raise _type_error(
                node.offset, f"未知的函数 '{name}'{hint_zh}", f"unknown function '{name}'{hint_en}"
            )
        low, high, rule = spec
        count = len(node.children)
        if count < low or (high is not None and count > high):
            wanted = str(low) if low == high else (f"{low}+" if high is None else f"{low}-{high}")
            raise _type_error(
                node.offset,
                f"{name}() 需要 {wanted} 个参数，却给了 {count} 个",
                f"{name}() takes {wanted} arguments, got {count}",
            )
        args = [self.check(child) for child in node.children]
        for arg in args:
            self._no_list(arg, node.offset)
        result_type, json = rule(self, node, args)
        return self.make(
            json if json is not None else [name, *(arg.json for arg in args)], result_type, node, args
        )


# --- function rules: (checker, call node, typed args) -> (result type, json or None for the default) -----------

Rule = Callable[[Checker, Node, list[Typed]], tuple[str, Json | None]]


def _require(
    name: str, arg: Typed, index: int, allowed: Callable[[str], bool], wanted_zh: str, wanted_en: str
) -> None:
    if not allowed(arg.type):
        raise _type_error(
            arg.node.offset,
            f"{name}() 的第 {index + 1} 个参数应为{wanted_zh}，却得到{zh(arg.type)}",
            f"argument {index + 1} of {name}() must be {wanted_en}, got {arg.type}",
        )


def _choices_like(t: str) -> bool:
    return t in ("choices", "choice", "string", "any", "null")


def _rule_selected(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    _require("selected", args[0], 0, _choices_like, "多选或单选答案", "choices or a choice")
    _require("selected", args[1], 1, is_text, "选项编码（文本）", "a choice code (string)")
    return "boolean", None


def _rule_count_selected(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    _require("count_selected", args[0], 0, lambda t: t in ("choices", "any", "null"), "多选答案", "choices")
    return "integer", None


def _rule_empty(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    return "boolean", None


def _unify_all(name: str, args: list[Typed]) -> str:
    result = args[0].type
    for arg in args[1:]:
        unified = unify(result, arg.type)
        if unified is None:
            raise _type_error(
                arg.node.offset,
                f"{name}() 的参数类型不一致：{zh(result)}与{zh(arg.type)}",
                f"{name}() mixes {result} and {arg.type}",
            )
        result = unified
    return result


def _rule_coalesce(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    return _unify_all("coalesce", args), None


def _rule_if(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    _require("if", args[0], 0, is_boolean, "布尔值（条件）", "a boolean (the condition)")
    return _unify_all("if", args[1:]), None


def _rule_round(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    _require("round", args[0], 0, is_numeric, "数值", "a number")
    if len(args) == 1:
        return "integer", None
    digits = args[1]
    _require(
        "round",
        digits,
        1,
        lambda t: t in ("integer", "any", "null"),
        "整数（小数位数）",
        "an integer (the number of decimals)",
    )
    limit = checker.caps.max_round_digits
    if isinstance(digits.json, int) and not isinstance(digits.json, bool) and not 0 <= digits.json <= limit:
        raise _type_error(
            digits.node.offset, f"小数位数应在 0 到 {limit} 之间", f"digits must be between 0 and {limit}"
        )
    return ("integer" if digits.json == 0 and digits.node.kind == "lit" else "number"), None


def _rule_len(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    _require(
        "len",
        args[0],
        0,
        lambda t: t in ("string", "choice", "choices", "any", "null"),
        "文本或多选答案",
        "a string or choices",
    )
    return "integer", None


def _rule_regex(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, Json]:
    _require("regex", args[0], 0, is_text, "文本", "a string")
    pattern = args[1]
    if pattern.node.kind != "lit" or not isinstance(pattern.json, str):
        raise _type_error(
            pattern.node.offset,
            "regex() 的模式必须是字符串常量",
            "the pattern of regex() must be a string literal",
        )
    try:
        compile_regex(pattern.json, checker.caps)
    except ExprRegexError as error:
        token = pattern.node.token
        positions = token.positions if token is not None else ()
        offset = (
            positions[error.offset]
            if error.offset < len(positions)
            else pattern.node.offset + len(token.text if token else "") - 1
        )
        raise ExprRegexError(error.message_zh, error.message_en, offset) from None
    return "boolean", ["regex", args[0].json, pattern.json]


def _numeric_args(name: str) -> Rule:
    def rule(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
        for index, arg in enumerate(args):
            _require(name, arg, index, is_numeric, "数值", "a number")
        integer = all(arg.type in ("integer", "null") for arg in args)
        return ("integer" if integer else "number"), None

    return rule


def _to_integer(name: str) -> Rule:
    def rule(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
        _require(name, args[0], 0, is_numeric, "数值", "a number")
        return "integer", None

    return rule


def _rule_number(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    _require("number", args[0], 0, is_text, "文本", "a string")
    return "number", None


def _scalar(t: str) -> bool:
    return t not in ("geopoint",) and t not in LISTS


def _rule_string(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    _require(
        "string",
        args[0],
        0,
        _scalar,
        "数值、文本、布尔值、日期或多选答案",
        "a number, string, boolean, date or choices",
    )
    return "string", None


def _textual(t: str) -> bool:
    return t in TEXT or t in TEMPORAL or t in ("any", "null")


def _rule_concat(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    for index, arg in enumerate(args):
        _require(
            "concat",
            arg,
            index,
            _textual,
            "文本（数字请先用 string() 转换）",
            "a string (convert numbers with string())",
        )
    return "string", None


def _two_strings(name: str) -> Rule:
    def rule(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
        for index, arg in enumerate(args):
            _require(name, arg, index, is_text, "文本", "a string")
        return "boolean", None

    return rule


def _date_like(t: str) -> bool:
    return t in ("date", "datetime", "any", "null") or t in TEXT


def _rule_days_between(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, Json]:
    jsons = []
    for index, arg in enumerate(args):
        _require("days_between", arg, index, _date_like, "日期或日期时间", "a date or datetime")
        if arg.node.kind == "lit" and isinstance(arg.json, str):
            try:
                temporal_key("datetime" if len(arg.json) > 10 else "date", arg.json)
            except ExprEvalError as error:
                raise _type_error(arg.node.offset, error.message_zh, error.message_en) from None
        jsons.append(arg.json)
    return "integer", ["days_between", *jsons]


def _rule_add_days(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
    _require("add_days", args[0], 0, lambda t: t in ("date", "any", "null") or t in TEXT, "日期", "a date")
    _require(
        "add_days", args[1], 1, lambda t: t in ("integer", "any", "null"), "整数（天数）", "an integer (days)"
    )
    if args[0].node.kind == "lit" and isinstance(args[0].json, str):
        try:
            temporal_key("date", args[0].json)
        except ExprEvalError as error:
            raise _type_error(args[0].node.offset, error.message_zh, error.message_en) from None
    return "date", None


def _geo(name: str) -> Rule:
    def rule(checker: Checker, node: Node, args: list[Typed]) -> tuple[str, None]:
        _require(name, args[0], 0, lambda t: t in ("geopoint", "any", "null"), "地理位置", "a geopoint")
        return "number", None

    return rule


FUNCTIONS: dict[str, tuple[int, int | None, Rule]] = {
    "selected": (2, 2, _rule_selected),
    "count_selected": (1, 1, _rule_count_selected),
    "empty": (1, 1, _rule_empty),
    "coalesce": (1, None, _rule_coalesce),
    "if": (3, 3, _rule_if),
    "round": (1, 2, _rule_round),
    "len": (1, 1, _rule_len),
    "regex": (2, 2, _rule_regex),
    "min": (1, None, _numeric_args("min")),
    "max": (1, None, _numeric_args("max")),
    "sum": (1, None, _numeric_args("sum")),
    "abs": (1, 1, _numeric_args("abs")),
    "int": (1, 1, _to_integer("int")),
    "floor": (1, 1, _to_integer("floor")),
    "ceil": (1, 1, _to_integer("ceil")),
    "number": (1, 1, _rule_number),
    "string": (1, 1, _rule_string),
    "concat": (1, None, _rule_concat),
    "contains": (2, 2, _two_strings("contains")),
    "starts_with": (2, 2, _two_strings("starts_with")),
    "ends_with": (2, 2, _two_strings("ends_with")),
    "days_between": (2, 2, _rule_days_between),
    "add_days": (2, 2, _rule_add_days),
    "lat": (1, 1, _geo("lat")),
    "lon": (1, 1, _geo("lon")),
    "accuracy": (1, 1, _geo("accuracy")),
}
"""Every function: name -> (minimum arguments, maximum arguments or None, type rule)."""


def check_expect(typed: Typed, expect: str | None) -> None:
    """Raise ExprTypeError when the expression's type is not usable where ``expect`` is required."""
    if typed.type in LISTS:
        raise _type_error(
            typed.node.offset, "列表常量只能用在 in 之后", "a list literal is only allowed after 'in'"
        )
    if not assignable(typed.type, expect):
        hint_zh, hint_en = (
            ("；可用 round() 或 int() 取整", "; use round() or int()")
            if (expect == "integer" and typed.type == "number")
            else ("", "")
        )
        raise _type_error(
            typed.node.offset,
            f"表达式的结果应为{zh(str(expect))}，却是{zh(typed.type)}{hint_zh}",
            f"the expression must give {expect}, it gives {typed.type}{hint_en}",
        )


def validate_type_name(name: str, what: str) -> None:
    """ValueError for a type name the loader should never pass."""
    if name not in TYPES:
        raise ValueError(f"{what}: unknown type {name!r}; expected one of {sorted(TYPES)}")


__all__ = ["FUNCTIONS", "Checker", "ExprError", "Typed", "check_expect", "validate_type_name"]
