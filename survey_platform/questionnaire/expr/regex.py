"""A small linear-time regex engine (Thompson NFA, simulated state-set by state-set), mirrored in ``expr.js``.

Python's ``re`` and JavaScript's ``RegExp`` backtrack (``(a+)+$`` on ``"aaaa…b"`` takes exponential time) and differ
in dialect, so both evaluators use this engine. Matching time is O(len(text) × len(program)); in Python a cache of
visited state sets (a lazy DFA) makes the common case one dictionary look-up per character.

Syntax (anything else is an error with its offset in the pattern):

* literal characters; ``\\`` + ASCII punctuation is that character; ``\\n \\t \\r \\f \\v``; ``\\uXXXX``;
* ``\\d \\D \\w \\W \\s \\S`` (ASCII: ``[0-9]``, ``[A-Za-z0-9_]``, ``[ \\t\\n\\r\\f\\v]``), ``.`` (anything but newline);
* classes ``[abc]``, ``[a-z0-9_]``, ``[^0-9]`` (``-`` literal first or last; ``]``, ``[``, ``\\`` escaped);
* anchors ``^`` (start of text) and ``$`` (end of text only, unlike Python's ``$``);
* groups ``( )`` and ``(?: )``, alternation ``|``;
* greedy quantifiers ``* + ?`` and ``{m}``, ``{m,}``, ``{m,n}`` with m, n <= ``max_regex_repeat``.

Not supported: backreferences, lookaround, lazy/possessive quantifiers, flags, ``\\b``. ``regex(s, p)`` *searches*
(like ``re.search``): write ``^...$`` to require the whole answer to match. Positions are code points.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from .caps import CAPS, Caps
from .errors import ExprRegexError

MAX_CODE_POINT = 0x10FFFF
Ranges = tuple[tuple[int, int], ...]

DIGIT: Ranges = ((48, 57),)
WORD: Ranges = ((48, 57), (65, 90), (95, 95), (97, 122))
SPACE: Ranges = ((9, 13), (32, 32))
NEWLINE: Ranges = ((10, 10),)
_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11}
_CLASS_ESCAPES = {
    "d": (DIGIT, False),
    "D": (DIGIT, True),
    "w": (WORD, False),
    "W": (WORD, True),
    "s": (SPACE, False),
    "S": (SPACE, True),
}
_QUANTIFIERS = "*+?{"


def _error(offset: int, zh: str, en: str) -> ExprRegexError:
    return ExprRegexError(f"正则表达式错误：{zh}", f"regex error: {en}", offset)


def merge_ranges(ranges: list[tuple[int, int]]) -> Ranges:
    """Sort and merge overlapping or adjacent code-point ranges."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def complement(ranges: Ranges) -> Ranges:
    """All code points not in ``ranges`` (which must be merged)."""
    result: list[tuple[int, int]] = []
    start = 0
    for lo, hi in ranges:
        if lo > start:
            result.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_CODE_POINT:
        result.append((start, MAX_CODE_POINT))
    return tuple(result)


# Syntax tree: ("set", ranges) | ("cat", [nodes]) | ("alt", [nodes]) | ("rep", node, min, max|None)
# | ("bol",) | ("eol",) | ("empty",). Each parse function returns (node, program size).
Node = tuple


class _Parser:
    def __init__(self, pattern: str, caps: Caps) -> None:
        self.text = pattern
        self.pos = 0
        self.caps = caps
        self.depth = 0

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def check_size(self, size: int, offset: int) -> int:
        if size + 1 > self.caps.max_regex_program:
            raise _error(
                offset,
                f"展开后超过 {self.caps.max_regex_program} 条指令",
                f"pattern larger than {self.caps.max_regex_program} instructions once expanded",
            )
        return size

    def parse(self) -> tuple[Node, int]:
        node, size = self.alternation()
        if self.pos < len(self.text):  # only an unmatched ')' stops an alternation early
            raise _error(self.pos, "多余的 ')'", "unmatched ')'")
        return node, size

    def alternation(self) -> tuple[Node, int]:
        start = self.pos
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        if len(branches) == 1:
            return branches[0]
        size = sum(size for _, size in branches) + 2 * (len(branches) - 1)
        return ("alt", [node for node, _ in branches]), self.check_size(size, start)

    def sequence(self) -> tuple[Node, int]:
        items: list[Node] = []
        size = 0
        while (char := self.peek()) is not None and char not in "|)":
            start = self.pos
            atom, atom_size, repeatable = self.atom()
            next_char = self.peek()
            if next_char is not None and next_char in _QUANTIFIERS:
                if not repeatable:
                    raise _error(self.pos, "量词前面没有可重复的内容", "nothing to repeat")
                atom, atom_size = self.quantified(atom, atom_size, start)
            items.append(atom)
            size = self.check_size(size + atom_size, start)
        if not items:
            return ("empty",), 0
        return (items[0] if len(items) == 1 else ("cat", items)), size

    def quantified(self, atom: Node, size: int, start: int) -> tuple[Node, int]:
        at = self.pos
        char = self.text[at]
        self.pos += 1
        if char == "*":
            low, high = 0, None
        elif char == "+":
            low, high = 1, None
        elif char == "?":
            low, high = 0, 1
        else:
            low, high = self.braces(at)
        following = self.peek()
        if following == "?":
            raise _error(self.pos, "不支持非贪婪量词", "lazy quantifiers are not supported")
        if following is not None and following in _QUANTIFIERS:
            raise _error(self.pos, "量词重复", "multiple repeat")
        total = low * size + (size + 2 if high is None else (high - low) * (size + 1))
        return ("rep", atom, low, high), self.check_size(total, at)

    def braces(self, at: int) -> tuple[int, int | None]:
        close = self.text.find("}", at)
        body = self.text[at + 1 : close] if close != -1 else ""
        low_text, comma, high_text = body.partition(",")
        if (
            close == -1
            or not low_text.isascii()
            or not low_text.isdigit()
            or (high_text and not (high_text.isascii() and high_text.isdigit()))
        ):
            raise _error(
                at,
                "重复次数格式错误，应为 {m}、{m,} 或 {m,n}",
                "malformed repetition, use {m}, {m,} or {m,n}",
            )
        low = int(low_text)
        high: int | None = low if not comma else (int(high_text) if high_text else None)
        limit = self.caps.max_regex_repeat
        if low > limit or (high is not None and high > limit):
            raise _error(at, f"重复次数不能超过 {limit}", f"repetition count above {limit}")
        if high is not None and high < low:
            raise _error(at, "重复次数 {m,n} 中 m 大于 n", "repetition {m,n} with m > n")
        self.pos = close + 1
        return low, high

    def atom(self) -> tuple[Node, int, bool]:
        at = self.pos
        char = self.text[at]
        self.pos += 1
        if char == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.peek() == "?":
                raise _error(
                    at, "不支持的分组（只支持 ( ) 和 (?: )）", "unsupported group (only ( ) and (?: ))"
                )
            self.depth += 1
            if self.depth > self.caps.max_depth:
                raise _error(at, "分组嵌套过深", "groups nested too deeply")
            node, size = self.alternation()
            self.depth -= 1
            if self.peek() != ")":
                raise _error(at, "缺少 ')'", "missing ')'")
            self.pos += 1
            return node, size, True
        if char == "[":
            return ("set", self.char_class(at)), 1, True
        if char == "^":
            return ("bol",), 1, False
        if char == "$":
            return ("eol",), 1, False
        if char == ".":
            return ("set", complement(NEWLINE)), 1, True
        if char == "\\":
            ranges, _ = self.escape(at, in_class=False)
            return ("set", ranges), 1, True
        if char in "*+?{":
            raise _error(at, "量词前面没有可重复的内容", "nothing to repeat")
        if char in "]}":
            raise _error(at, f"'{char}' 需要转义为 '\\{char}'", f"unescaped '{char}', write '\\{char}'")
        return ("set", ((ord(char), ord(char)),)), 1, True

    def escape(self, at: int, *, in_class: bool) -> tuple[Ranges, bool]:
        """Parse ``\\x`` starting at ``at`` (the backslash). Returns (ranges, is_single_character)."""
        if self.pos >= len(self.text):
            raise _error(at, "末尾的 '\\' 没有转义任何字符", "trailing '\\'")
        char = self.text[self.pos]
        self.pos += 1
        if char in _CLASS_ESCAPES:
            ranges, negated = _CLASS_ESCAPES[char]
            return (complement(ranges) if negated else ranges), False
        if char in _SIMPLE_ESCAPES:
            code = _SIMPLE_ESCAPES[char]
            return ((code, code),), True
        if char == "u":
            digits = self.text[self.pos : self.pos + 4]
            if len(digits) != 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise _error(at, "\\u 后面需要 4 位十六进制数字", "\\u needs 4 hex digits")
            self.pos += 4
            code = int(digits, 16)
            return ((code, code),), True
        if (char.isascii() and not char.isalnum() and 33 <= ord(char) <= 126) or char == " ":
            return ((ord(char), ord(char)),), True
        raise _error(at, f"未知的转义 '\\{char}'", f"unknown escape '\\{char}'")

    def char_class(self, at: int) -> Ranges:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            char = self.peek()
            if char is None:
                raise _error(at, "缺少 ']'", "missing ']'")
            if char == "]":
                if first:
                    raise _error(self.pos, "空的字符类，']' 需要转义", "empty class; escape ']' as '\\]'")
                self.pos += 1
                break
            first = False
            item_at = self.pos
            low, single = self.class_item()
            if (
                single
                and self.peek() == "-"
                and self.pos + 1 < len(self.text)
                and self.text[self.pos + 1] != "]"
            ):
                self.pos += 1
                high_at = self.pos
                high, high_single = self.class_item()
                if not high_single:
                    raise _error(high_at, "范围的端点不能是字符类", "a range cannot end with a class escape")
                if high[0][0] < low[0][0]:
                    raise _error(item_at, "范围的起点大于终点", "range start above range end")
                ranges.append((low[0][0], high[0][0]))
            else:
                ranges.extend(low)
        merged = merge_ranges(ranges)
        return complement(merged) if negated else merged

    def class_item(self) -> tuple[Ranges, bool]:
        at = self.pos
        char = self.text[at]
        self.pos += 1
        if char == "\\":
            return self.escape(at, in_class=True)
        if char == "[":
            raise _error(at, "字符类中的 '[' 需要转义", "escape '[' inside a class")
        return ((ord(char), ord(char)),), True


# Program: ["char", [[lo, hi], ...]] | ["split", x, y] | ["jmp", x] | ["bol"] | ["eol"] | ["match"]
Instruction = list


def _emit(node: Node, program: list[Instruction]) -> None:
    kind = node[0]
    if kind == "set":
        program.append(["char", [list(r) for r in node[1]]])
    elif kind in ("bol", "eol"):
        program.append([kind])
    elif kind == "cat":
        for item in node[1]:
            _emit(item, program)
    elif kind == "alt":
        jumps = []
        branches = node[1]
        for index, branch in enumerate(branches):
            if index < len(branches) - 1:
                split = len(program)
                program.append(["split", split + 1, -1])
                _emit(branch, program)
                jumps.append(len(program))
                program.append(["jmp", -1])
                program[split][2] = len(program)
            else:
                _emit(branch, program)
        for jump in jumps:
            program[jump][1] = len(program)
    elif kind == "rep":
        _, body, low, high = node
        for _ in range(low):
            _emit(body, program)
        if high is None:
            split = len(program)
            program.append(["split", split + 1, -1])
            _emit(body, program)
            program.append(["jmp", split])
            program[split][2] = len(program)
        else:
            splits = []
            for _ in range(high - low):
                splits.append(len(program))
                program.append(["split", len(program) + 1, -1])
                _emit(body, program)
            for split in splits:
                program[split][2] = len(program)
    # "empty" emits nothing


def compile_program(pattern: str, caps: Caps = CAPS) -> list[Instruction]:
    """Parse and compile ``pattern`` to NFA instructions (plain JSON lists); ExprRegexError with the offset."""
    if len(pattern) > caps.max_regex_length:
        raise _error(
            caps.max_regex_length,
            f"正则表达式超过 {caps.max_regex_length} 个字符",
            f"pattern longer than {caps.max_regex_length} characters",
        )
    node, _ = _Parser(pattern, caps).parse()
    program: list[Instruction] = []
    _emit(node, program)
    program.append(["match"])
    return program


@dataclass(eq=False)
class Regex:
    """A compiled pattern; :meth:`search` tells whether it matches anywhere in a text.

    The simulation keeps the set of live character instructions. Per character it intersects that set with the
    instructions accepting the character, then unions the precomputed epsilon-closures of their successors (set
    operations in C). Visited (state, character) transitions are cached (a lazy DFA, bounded in size).
    """

    pattern: str
    program: list[Instruction]
    _closures: dict[tuple[int, bool, bool], frozenset[int]] = field(default_factory=dict, repr=False)
    _accepting: dict[str, frozenset[int]] = field(default_factory=dict, repr=False)
    _cache: dict[tuple[frozenset[int], str, bool], frozenset[int]] = field(default_factory=dict, repr=False)

    def _closure(self, start: int, at_start: bool, at_end: bool) -> frozenset[int]:
        """The character and match instructions reachable from ``start`` without consuming a character."""
        key = (start, at_start, at_end)
        cached = self._closures.get(key)
        if cached is not None:
            return cached
        program = self.program
        seen: set[int] = set()
        kept: set[int] = set()
        stack = [start]
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            op = program[pc]
            kind = op[0]
            if kind == "jmp":
                stack.append(op[1])
            elif kind == "split":
                stack.append(op[2])
                stack.append(op[1])
            elif kind == "bol":
                if at_start:
                    stack.append(pc + 1)
            elif kind == "eol":
                if at_end:
                    stack.append(pc + 1)
            else:
                kept.add(pc)
        result = frozenset(kept)
        self._closures[key] = result
        return result

    def _accepting_pcs(self, char: str) -> frozenset[int]:
        """The character instructions that accept ``char``."""
        cached = self._accepting.get(char)
        if cached is None:
            code = ord(char)
            cached = frozenset(
                pc
                for pc, op in enumerate(self.program)
                if op[0] == "char" and any(lo <= code <= hi for lo, hi in op[1])
            )
            if len(self._accepting) >= 4096:
                self._accepting.clear()
            self._accepting[char] = cached
        return cached

    def _step(self, state: frozenset[int], char: str, at_end: bool) -> frozenset[int]:
        key = (state, char, at_end)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        matched = state & self._accepting_pcs(char)
        # unanchored search: a new attempt starts at every position (the closure of pc 0)
        result = self._closure(0, False, at_end).union(
            *(self._closure(pc + 1, False, at_end) for pc in matched)
        )
        if len(self._cache) >= 4096:
            self._cache.clear()
        self._cache[key] = result
        return result

    def search(self, text: str) -> bool:
        """True when the pattern matches somewhere in ``text`` (linear in ``len(text)``)."""
        match_pc = len(self.program) - 1
        state = self._closure(0, True, len(text) == 0)
        if match_pc in state:
            return True
        last = len(text) - 1
        for index, char in enumerate(text):
            state = self._step(state, char, index == last)
            if match_pc in state:
                return True
        return False


_COMPILED: OrderedDict[str, Regex] = OrderedDict()


def compile_regex(pattern: str, caps: Caps = CAPS) -> Regex:
    """A compiled :class:`Regex` (cached, 256 most recent patterns)."""
    cached = _COMPILED.get(pattern)
    if cached is not None and caps is CAPS:
        _COMPILED.move_to_end(pattern)
        return cached
    regex = Regex(pattern, compile_program(pattern, caps))
    if caps is CAPS:
        _COMPILED[pattern] = regex
        if len(_COMPILED) > 256:
            _COMPILED.popitem(last=False)
    return regex
