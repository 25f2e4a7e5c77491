"""YAML source with positions: compose (never construct) with a safe loader, read scalars by their resolved tag,
and map an offset inside a scalar's value back to a line and column of the file.

PyYAML marks are 0-based; everything returned here is 1-based. Both the C (libyaml) and the pure-Python composer
count ``index`` and ``column`` in characters, so positions are right for Chinese text too.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
TIMESTAMP = "tag:yaml.org,2002:timestamp"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"

_constructor = yaml.constructor.SafeConstructor()
_CONSTRUCT = {
    INT: _constructor.construct_yaml_int,
    FLOAT: _constructor.construct_yaml_float,
    BOOL: _constructor.construct_yaml_bool,
    NULL: _constructor.construct_yaml_null,
}

__all__ = [
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "SourceSpan",
    "YamlSyntaxError",
    "compose",
    "pos",
    "scalar_value",
    "span",
]


class YamlSyntaxError(Exception):
    """The text is not well-formed YAML: ``message`` at 1-based ``line``/``column``."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def compose(text: str) -> Node | None:
    """The node graph of a single YAML document (None for an empty file); raises :class:`YamlSyntaxError`."""
    try:
        return yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise YamlSyntaxError(f"YAML syntax error: {problem}{context}", line, column) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, other control characters)
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        raise YamlSyntaxError(
            f"YAML syntax error: {exc.reason} (U+{exc.character:04X})", line, column
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise YamlSyntaxError(f"YAML syntax error: {str(exc).splitlines()[0]}", line, column) from None


def pos(node: Node) -> tuple[int, int]:
    """The 1-based (line, column) where a node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


class UnsupportedTag(ValueError):
    """A scalar carries an explicit tag the format does not accept (e.g. ``!!python/object``)."""


def scalar_value(node: ScalarNode) -> object:
    """The Python value of a scalar: str, int, float, bool or None (timestamps stay strings)."""
    tag = node.tag
    if tag in (STR, TIMESTAMP):
        return node.value
    construct = _CONSTRUCT.get(tag)
    if construct is None:
        raise UnsupportedTag(tag)
    return construct(node)


@dataclass(frozen=True, slots=True)
class SourceSpan:
    """Where a scalar's text is in the file, to turn an offset inside its *value* into a file position."""

    line: int  # 1-based line of the scalar's first character (its quote or block indicator)
    column: int  # 1-based column of the same
    raw: str  # the scalar's source text as written (quotes, escapes, indentation included)

    def locate(self, value: str, offset: int) -> tuple[int, int]:
        """1-based (line, column) of ``value[offset]`` (or just after the value's end) in the file.

        Aligns the decoded value with the raw text: plain and quoted one-line scalars map exactly (a quote shifts
        by one); block scalars map line by line (indentation skipped); escapes and folded line breaks are
        approximated by skipping the raw characters that produce no value character.
        """
        raw_index = _align(self.raw, value, offset)
        before = self.raw[:raw_index]
        newlines = before.count("\n")
        if newlines == 0:
            return self.line, self.column + raw_index
        return self.line + newlines, raw_index - before.rfind("\n")


_SKIPPABLE = " \t\r\n'\"\\|>+-"


def _align(raw: str, value: str, offset: int) -> int:
    """Index in ``raw`` of the character that produced ``value[offset]`` (``offset == len(value)``: just after)."""
    raw_index = 0
    for value_index, char in enumerate(value):
        found = _find(raw, raw_index, char)
        if found is None:  # an escape sequence or a folded break: look a little ahead
            ahead = raw.find(char, raw_index, raw_index + 12)
            found = ahead if ahead >= 0 else None
        if value_index == offset:
            return found if found is not None else min(raw_index, len(raw))
        raw_index = raw_index + 1 if found is None else found + 1
    return min(raw_index, len(raw))


def _find(raw: str, start: int, char: str) -> int | None:
    """First index >= start where ``raw`` yields ``char``, skipping only characters that yield nothing."""
    index = start
    while index < len(raw):
        here = raw[index]
        if here == char or (char == " " and here == "\n"):
            return index
        if here not in _SKIPPABLE:
            return None
        index += 1
    return None


def span(node: ScalarNode, text: str) -> SourceSpan:
    """The :class:`SourceSpan` of a scalar node of ``text``."""
    line, column = pos(node)
    return SourceSpan(line, column, text[node.start_mark.index : node.end_mark.index])
