"""Recursive-descent parser: tokens to a syntax tree of :class:`Node` with source offsets.

Grammar (lowest precedence first)::

    expr       := or
    or         := and ('or' and)*
    and        := not ('and' not)*
    not        := 'not' not | comparison
    comparison := sum [('=' | '==' | '!=' | '<' | '<=' | '>' | '>=') sum | ['not'] 'in' sum]
    sum        := product (('+' | '-') product)*
    product    := unary (('*' | '/' | '%') unary)*
    unary      := '-' unary | primary
    primary    := number | string | 'true' | 'false' | 'null' | '${' id '}' | '.'
                | name '(' [expr (',' expr)*] ')' | '(' expr ')' | '(' literal ',' [literal (',' literal)*] [','] ')'

Comparisons do not chain (``a < b < c`` is an error). A parenthesised list of two or more literals (or one with a
trailing comma) is a list literal, allowed only after ``in``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .caps import CAPS, Caps
from .errors import ExprLimitError, ExprSyntaxError
from .lexer import KEYWORDS, Token, tokenize

COMPARISONS = frozenset({"=", "==", "!=", "<", "<=", ">", ">="})


@dataclass(slots=True)
class Node:
    """A syntax-tree node. ``kind``: lit, list, ref, this, arith, neg, not, and, or, cmp, in, call."""

    kind: str
    offset: int
    value: object = None
    children: list[Node] = field(default_factory=list)
    token: Token | None = None  # the string token of a literal (for offsets into regex patterns)


class _Parser:
    def __init__(self, source: str, caps: Caps) -> None:
        self.tokens = tokenize(source)
        self.index = 0
        self.caps = caps
        self.depth = 0
        self.nodes = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_op(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.text in ops

    def at_name(self, *names: str) -> bool:
        return self.token.kind == "name" and self.token.text in names

    def node(
        self,
        kind: str,
        offset: int,
        value: object = None,
        children: list[Node] | None = None,
        token: Token | None = None,
    ) -> Node:
        self.nodes += 1
        if self.nodes > self.caps.max_nodes:
            raise ExprLimitError(
                f"表达式过大（超过 {self.caps.max_nodes} 个节点）",
                f"expression too large (more than {self.caps.max_nodes} nodes)",
                offset,
            )
        return Node(kind, offset, value, children or [], token)

    def enter(self, offset: int) -> None:
        self.depth += 1
        if self.depth > self.caps.max_depth:
            raise ExprLimitError(
                f"表达式嵌套过深（超过 {self.caps.max_depth} 层）",
                f"expression nested too deeply (more than {self.caps.max_depth} levels)",
                offset,
            )

    def expect_op(self, op: str) -> Token:
        if not self.at_op(op):
            raise self.unexpected(f"'{op}'", f"'{op}'")
        return self.advance()

    def unexpected(self, wanted_zh: str, wanted_en: str) -> ExprSyntaxError:
        token = self.token
        if token.kind == "end":
            return ExprSyntaxError(
                f"表达式不完整，缺少{wanted_zh}", f"incomplete expression, expected {wanted_en}", token.offset
            )
        return ExprSyntaxError(
            f"此处应为{wanted_zh}，却是 '{token.text}'",
            f"expected {wanted_en}, found '{token.text}'",
            token.offset,
        )

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise ExprSyntaxError("表达式为空", "empty expression", 0)
        tree = self.or_expr()
        if self.token.kind != "end":
            raise self.unexpected("运算符或结尾", "an operator or the end")
        return tree

    def or_expr(self) -> Node:
        left = self.and_expr()
        while self.at_name("or"):
            token = self.advance()
            left = self.node("or", token.offset, None, [left, self.and_expr()])
        return left

    def and_expr(self) -> Node:
        left = self.not_expr()
        while self.at_name("and"):
            token = self.advance()
            left = self.node("and", token.offset, None, [left, self.not_expr()])
        return left

    def not_expr(self) -> Node:
        if self.at_name("not") and self.tokens[self.index + 1].text != "in":
            token = self.advance()
            self.enter(token.offset)
            operand = self.not_expr()
            self.depth -= 1
            return self.node("not", token.offset, None, [operand])
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum_expr()
        if self.token.kind == "op" and self.token.text in COMPARISONS:
            token = self.advance()
            op = "=" if token.text == "==" else token.text
            node = self.node("cmp", token.offset, op, [left, self.sum_expr()])
        elif self.at_name("in") or (self.at_name("not") and self.tokens[self.index + 1].text == "in"):
            token = self.advance()
            negated = token.text == "not"
            if negated:
                self.advance()
            node = self.node("in", token.offset, negated, [left, self.sum_expr()])
        else:
            return left
        if (self.token.kind == "op" and self.token.text in COMPARISONS) or self.at_name("in"):
            raise ExprSyntaxError(
                "比较不能连写（如 a < b < c），请用 and 连接",
                "comparisons do not chain (a < b < c); join them with 'and'",
                self.token.offset,
            )
        return node

    def sum_expr(self) -> Node:
        left = self.product()
        while self.at_op("+", "-"):
            token = self.advance()
            left = self.node("arith", token.offset, token.text, [left, self.product()])
        return left

    def product(self) -> Node:
        left = self.unary()
        while self.at_op("*", "/", "%"):
            token = self.advance()
            left = self.node("arith", token.offset, token.text, [left, self.unary()])
        return left

    def unary(self) -> Node:
        if self.at_op("-"):
            token = self.advance()
            self.enter(token.offset)
            operand = self.unary()
            self.depth -= 1
            if (
                operand.kind == "lit"
                and isinstance(operand.value, tuple)
                and operand.value[0] in ("integer", "decimal")
                and not operand.value[1].startswith("-")
            ):
                operand.value = (operand.value[0], "-" + operand.value[1])
                operand.offset = token.offset
                return operand
            return self.node("neg", token.offset, None, [operand])
        return self.primary()

    def primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.advance()
            return self.node("lit", token.offset, token.value)
        if token.kind == "string":
            self.advance()
            return self.node("lit", token.offset, ("string", token.value), token=token)
        if token.kind == "ref":
            self.advance()
            return self.node("ref", token.offset, token.value)
        if token.kind == "this":
            self.advance()
            return self.node("this", token.offset)
        if token.kind == "op" and token.text == "(":
            return self.parenthesised()
        if token.kind == "name":
            return self.name()
        raise self.unexpected("一个值", "a value")

    def name(self) -> Node:
        token = self.advance()
        word = token.text
        if word in ("true", "false"):
            return self.node("lit", token.offset, ("boolean", word == "true"))
        if word == "null":
            return self.node("lit", token.offset, ("null", None))
        if word in KEYWORDS:
            raise ExprSyntaxError(f"此处不应出现 '{word}'", f"unexpected '{word}'", token.offset)
        if not self.at_op("("):
            raise ExprSyntaxError(
                f"未知的名称 '{word}'：引用题目请写 ${{{word}}}，调用函数请写 {word}(...)",
                f"unknown name '{word}': write ${{{word}}} for a question or {word}(...) for a function",
                token.offset,
            )
        self.advance()
        self.enter(token.offset)
        args: list[Node] = []
        if not self.at_op(")"):
            args.append(self.or_expr())
            while self.at_op(","):
                self.advance()
                args.append(self.or_expr())
        self.expect_op(")")
        self.depth -= 1
        return self.node("call", token.offset, word, args)

    def parenthesised(self) -> Node:
        open_token = self.advance()
        self.enter(open_token.offset)
        first = self.or_expr()
        if not self.at_op(","):
            self.expect_op(")")
            self.depth -= 1
            return first
        items = [first]
        while self.at_op(","):
            self.advance()
            if self.at_op(")"):
                break
            items.append(self.or_expr())
        self.expect_op(")")
        self.depth -= 1
        for item in items:
            if item.kind != "lit" or item.value[0] not in ("string", "integer", "decimal"):
                raise ExprSyntaxError(
                    "列表中只能是数字或字符串常量",
                    "list items must be number or string literals",
                    item.offset,
                )
        if len(items) > self.caps.max_list_items:
            raise ExprLimitError(
                f"列表超过 {self.caps.max_list_items} 项",
                f"list longer than {self.caps.max_list_items} items",
                open_token.offset,
            )
        return self.node("list", open_token.offset, None, items)


def parse(source: str, caps: Caps = CAPS) -> Node:
    """Parse ``source`` into a syntax tree; ExprSyntaxError / ExprLimitError with the offset otherwise."""
    if len(source) > caps.max_source_length:
        raise ExprLimitError(
            f"表达式超过 {caps.max_source_length} 个字符",
            f"expression longer than {caps.max_source_length} characters",
            caps.max_source_length,
        )
    return _Parser(source, caps).parse()
