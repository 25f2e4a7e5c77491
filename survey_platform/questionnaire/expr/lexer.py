"""Tokens of the expression language.

* references ``${question_id}`` (id: a letter or ``_``, then letters, digits, ``_``, ``-`` or ``.``) and ``.``;
* numbers ``12``, ``3.5``, ``.5``, ``1e3``; strings in ``'single'`` or ``"double"`` quotes with the escapes
  ``\\\\ \\' \\" \\n \\t \\r \\uXXXX`` (any other backslash is kept as is, so regex patterns like ``'\\d+'`` read
  naturally);
* names: functions and the keywords ``and or not in true false null``;
* operators ``+ - * / % = == != < <= > >= ( ) ,``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ExprSyntaxError

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_OPERATORS = ("==", "!=", "<=", ">=", "<>", "+", "-", "*", "/", "%", "=", "<", ">", "(", ")", ",")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True, slots=True)
class Token:
    """One token. ``kind``: number, string, ref, this, name, op, end. ``positions``: for a string, the source
    offset of each decoded character (so a regex error can point into the literal)."""

    kind: str
    text: str
    offset: int
    value: object = None
    positions: tuple[int, ...] = field(default=(), repr=False)


def _is_id_start(char: str) -> bool:
    return char == "_" or char.isalpha()


def _is_id_char(char: str) -> bool:
    return char in "_-." or char.isalnum()


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens, ending with an ``end`` token; ExprSyntaxError with the offset otherwise."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char in " \t\r\n":
            i += 1
        elif char == "$":
            i = _reference(source, i, tokens)
        elif (char.isascii() and char.isdigit()) or (
            char == "." and i + 1 < n and source[i + 1].isascii() and source[i + 1].isdigit()
        ):
            i = _number(source, i, tokens)
        elif char == ".":
            tokens.append(Token("this", ".", i))
            i += 1
        elif char in "'\"":
            i = _string(source, i, tokens)
        elif _is_id_start(char):
            start = i
            while i < n and (source[i] == "_" or source[i].isalnum()):
                i += 1
            tokens.append(Token("name", source[start:i], start))
        else:
            for op in _OPERATORS:
                if source.startswith(op, i):
                    if op == "<>":
                        raise ExprSyntaxError("请用 '!=' 表示不等于", "use '!=' for 'not equal'", i)
                    tokens.append(Token("op", op, i))
                    i += len(op)
                    break
            else:
                raise ExprSyntaxError(f"无法识别的字符 '{char}'", f"unexpected character '{char}'", i)
    tokens.append(Token("end", "", n))
    return tokens


def _reference(source: str, start: int, tokens: list[Token]) -> int:
    if not source.startswith("${", start):
        raise ExprSyntaxError("引用题目应写成 ${题目编号}", "a reference is written ${question_id}", start)
    close = source.find("}", start + 2)
    name = source[start + 2 : close] if close != -1 else ""
    if close == -1:
        raise ExprSyntaxError("引用缺少 '}'", "reference without closing '}'", start)
    if not name or not _is_id_start(name[0]) or not all(_is_id_char(c) for c in name):
        raise ExprSyntaxError(f"无效的题目编号 '{name}'", f"invalid question id '{name}'", start + 2)
    tokens.append(Token("ref", source[start : close + 1], start, name))
    return close + 1


def _number(source: str, start: int, tokens: list[Token]) -> int:
    i, n = start, len(source)
    while i < n and source[i].isascii() and source[i].isdigit():
        i += 1
    is_decimal = False
    if i < n and source[i] == ".":
        if not (i + 1 < n and source[i + 1].isascii() and source[i + 1].isdigit()):
            raise ExprSyntaxError("小数点后需要数字", "digits expected after the decimal point", i)
        is_decimal = True
        i += 1
        while i < n and source[i].isascii() and source[i].isdigit():
            i += 1
    if i < n and source[i] in "eE":
        j = i + 1
        if j < n and source[j] in "+-":
            j += 1
        if not (j < n and source[j].isascii() and source[j].isdigit()):
            raise ExprSyntaxError("指数部分需要数字", "digits expected in the exponent", i)
        is_decimal = True
        i = j
        while i < n and source[i].isascii() and source[i].isdigit():
            i += 1
    if i < n and (_is_id_start(source[i]) or source[i].isdigit()):
        raise ExprSyntaxError("数字后面紧跟了字母", "a number followed by letters", i)
    text = source[start:i]
    tokens.append(Token("number", text, start, ("decimal" if is_decimal else "integer", text)))
    return i


def _string(source: str, start: int, tokens: list[Token]) -> int:
    quote = source[start]
    i, n = start + 1, len(source)
    chars: list[str] = []
    positions: list[int] = []
    while True:
        if i >= n:
            raise ExprSyntaxError("字符串缺少结束引号", "unterminated string", start)
        char = source[i]
        if char == quote:
            break
        if char == "\\" and i + 1 < n:
            escaped = source[i + 1]
            if escaped in _ESCAPES:
                chars.append(_ESCAPES[escaped])
                positions.append(i)
                i += 2
                continue
            if escaped == "u":
                digits = source[i + 2 : i + 6]
                if len(digits) != 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                    raise ExprSyntaxError("\\u 后面需要 4 位十六进制数字", "\\u needs 4 hex digits", i)
                if 0xD800 <= int(digits, 16) <= 0xDFFF:
                    raise ExprSyntaxError("\\u 不能表示代理项", "\\u cannot denote a surrogate", i)
                chars.append(chr(int(digits, 16)))
                positions.append(i)
                i += 6
                continue
        chars.append(char)
        positions.append(i)
        i += 1
    tokens.append(Token("string", source[start : i + 1], start, "".join(chars), tuple(positions)))
    return i + 1
