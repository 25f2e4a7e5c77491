"""Structural reading of the YAML node graph against :mod:`.spec`: unknown keys (with "did you mean"), duplicate
keys, wrong types, missing keys. Produces plain values (:class:`Obj` for mappings, :class:`Seq` for lists) that keep
their nodes, so later checks can point at the exact line and column.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import replace

from .problems import Problem
from .spec import (
    ALL_QUESTION_KEYS,
    CODE_PATTERN,
    ID_PATTERN,
    LANGUAGE_PATTERN,
    OBJECTS,
    QUESTION_TYPES,
    Field,
    question_fields,
)
from .yamlsrc import (
    MAP,
    SEQ,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    SourceSpan,
    UnsupportedTag,
    pos,
    scalar_value,
    span,
)

_ID = re.compile(ID_PATTERN)
_CODE = re.compile(CODE_PATTERN)
_LANGUAGE = re.compile(LANGUAGE_PATTERN)


class _Missing:
    """The value of a key that is absent or invalid (already reported)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


class Obj(dict):
    """A YAML mapping read against an object spec; ``nodes[key]`` / ``key_nodes[key]`` are the YAML nodes."""

    __slots__ = ("key_nodes", "node", "nodes")

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        self.nodes: dict[object, Node] = {}
        self.key_nodes: dict[object, Node] = {}

    def pos(self, key: object = None) -> tuple[int, int]:
        """Position of a key's value (of the mapping itself when key is None or absent)."""
        node = self.nodes.get(key) if key is not None else None
        return pos(node if node is not None else self.node)

    def key_pos(self, key: object) -> tuple[int, int]:
        node = self.key_nodes.get(key)
        return pos(node if node is not None else self.node)


class Seq(list):
    """A YAML sequence; ``nodes[i]`` is the node of item ``i`` (invalid items are left out)."""

    __slots__ = ("node", "nodes")

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        self.nodes: list[Node] = []


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``", did you mean 'x'?"`` or an empty string."""
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f", did you mean '{close[0]}'?" if close else ""


def describe(node: Node) -> str:
    """How a node is described in a type error."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    try:
        value = scalar_value(node)  # type: ignore[arg-type]
    except UnsupportedTag:
        return f"a value tagged {node.tag}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int | float):
        return f"a number ({node.value})"
    text = str(value)
    return f"a string ('{text[:40]}')"


_EXPECTED = {
    "id": "a snake_case id",
    "code": "a code (string)",
    "string": "a string",
    "version": "a string or an integer",
    "language": "a language tag (e.g. zh-CN)",
    "label": "a text or a map of languages to texts",
    "bool": "true or false",
    "number": "a number",
    "integer": "an integer",
    "expr": "an expression (a string)",
    "list": "a list",
    "object": "a mapping",
    "map": "a mapping",
}


class Reader:
    """Reads one file's node graph; every problem goes to :attr:`problems`."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.problems: list[Problem] = []
        self._seen: set[int] = set()

    # -- reporting -----------------------------------------------------------------------------------------------
    def error(self, where: Node | tuple[int, int], message: str) -> None:
        line, column = where if isinstance(where, tuple) else pos(where)
        self.problems.append(Problem(self.path, line, column, message))

    def span(self, node: Node) -> SourceSpan:
        return span(node, self.text)  # type: ignore[arg-type]

    # -- values --------------------------------------------------------------------------------------------------
    def read(self, node: Node, spec: Field, key: str, what: str) -> object:
        """The value of ``node`` read as ``spec`` (``key``/``what`` name it in messages), or MISSING."""
        if id(node) in self._seen and not isinstance(node, ScalarNode):
            self.error(
                node,
                "this value is reused through a YAML alias: anchors and aliases (&name, *name) "
                "are not supported, write the value out",
            )
            return MISSING
        self._seen.add(id(node))
        if not isinstance(node, ScalarNode) and node.tag not in (MAP, SEQ):
            self.error(node, f"unsupported YAML tag '{node.tag}' for '{key}' in {what}")
            return MISSING
        kind = spec.kind
        if kind == "oneof":
            return self._oneof(node, spec, key, what)
        if kind in ("object", "map", "list"):
            return self._container(node, spec, key, what)
        if kind == "label":
            return self._label(node, key, what)
        if not isinstance(node, ScalarNode):
            return self._wrong(node, spec, key, what)
        try:
            value = scalar_value(node)
        except UnsupportedTag:
            self.error(node, f"unsupported YAML tag '{node.tag}' for '{key}' in {what}")
            return MISSING
        return self._scalar(node, value, spec, key, what)

    def _wrong(self, node: Node, spec: Field, key: str, what: str) -> _Missing:
        expected = _EXPECTED.get(spec.kind) or "one of " + ", ".join(spec.values)
        self.error(node, f"'{key}' in {what} must be {expected}, not {describe(node)}")
        return MISSING

    def _scalar(self, node: ScalarNode, value: object, spec: Field, key: str, what: str) -> object:
        kind = spec.kind
        if kind in ("string", "expr"):
            if isinstance(value, str):
                return value
        elif kind == "id":
            if isinstance(value, str):
                if _ID.match(value):
                    return value
                self.error(
                    node,
                    f"invalid id '{value[:60]}' for '{key}' in {what}: use snake_case "
                    "(a-z, 0-9 and _, starting with a letter)",
                )
                return MISSING
        elif kind == "code":
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str):
                if _CODE.match(value):
                    return value
                self.error(
                    node,
                    f"invalid code '{value[:60]}' for '{key}' in {what}: use letters, digits, "
                    "'_', '.' or '-'",
                )
                return MISSING
        elif kind == "version":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(node.value)
            if isinstance(value, str) and value.strip():
                return value
        elif kind == "language":
            if isinstance(value, str):
                if _LANGUAGE.match(value):
                    return value
                self.error(node, f"invalid language tag '{value[:40]}' in {what}: write e.g. zh-CN or en")
                return MISSING
        elif kind == "bool":
            if isinstance(value, bool):
                return value
        elif kind == "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
        elif kind == "integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif kind == "enum" and isinstance(value, str):
            if value in spec.values:
                return value
            noun = "question type" if key == "type" and what == "question" else f"{key}"
            hint = did_you_mean(value, spec.values) or f" (expected one of {', '.join(spec.values)})"
            self.error(node, f"unknown {noun} '{value[:40]}' in {what}{hint}")
            return MISSING
        return self._wrong(node, spec, key, what)

    def _label(self, node: Node, key: str, what: str) -> object:
        if isinstance(node, ScalarNode):
            try:
                value = scalar_value(node)
            except UnsupportedTag:
                value = None
            if isinstance(value, str):
                return value
            return self._wrong(node, Field("label"), key, what)
        if not isinstance(node, MappingNode):
            return self._wrong(node, Field("label"), key, what)
        out = Obj(node)
        for key_node, value_node in node.value:
            language = self._key(key_node, "language", f"'{key}' of {what}", out)
            if language is MISSING:
                continue
            if not (isinstance(value_node, ScalarNode) and isinstance(_safe(value_node), str)):
                self._wrong(value_node, Field("string"), f"{key}.{language}", what)
                continue
            out[language] = value_node.value
            out.nodes[language] = value_node
        return out

    def _oneof(self, node: Node, spec: Field, key: str, what: str) -> object:
        alternatives: tuple[Field, ...] = spec.of  # type: ignore[assignment]
        self._seen.discard(id(node))  # read again below as the fitting alternative
        for alternative in alternatives:
            if _shape_fits(node, alternative):
                return self.read(node, alternative, key, what)
        expected = " or ".join(_EXPECTED[a.kind] if a.kind != "object" else "a mapping" for a in alternatives)
        self.error(node, f"'{key}' in {what} must be {expected}, not {describe(node)}")
        return MISSING

    def _container(self, node: Node, spec: Field, key: str, what: str) -> object:
        if spec.kind == "list":
            if not isinstance(node, SequenceNode) or node.tag != SEQ:
                return self._wrong(node, spec, key, what)
            items = Seq(node)
            for item_node in node.value:
                value = self.read(item_node, spec.of, key, what)  # type: ignore[arg-type]
                if value is not MISSING:
                    items.append(value)
                    items.nodes.append(item_node)
            if len(node.value) < spec.min_items:
                self.error(node, f"'{key}' in {what} must not be empty")
            return items
        if not isinstance(node, MappingNode) or node.tag != MAP:
            return self._wrong(node, spec, key, what)
        if spec.kind == "map":
            out = Obj(node)
            for key_node, value_node in node.value:
                map_key = self._key(key_node, spec.keys, f"'{key}' of {what}", out)
                if map_key is MISSING:
                    continue
                value = self.read(value_node, spec.of, f"{key}.{map_key}", what)  # type: ignore[arg-type]
                if value is not MISSING:
                    out[map_key] = value
                    out.nodes[map_key] = value_node
            return out
        return self.object(node, str(spec.of))

    def _key(self, key_node: Node, kind: str, where: str, out: Obj) -> object:
        """A mapping key of the given kind; reports bad and duplicate keys."""
        value = _safe(key_node) if isinstance(key_node, ScalarNode) else MISSING
        if kind == "integer":
            good = isinstance(value, int) and not isinstance(value, bool)
            expected = "an integer"
        elif kind == "language":
            good = isinstance(value, str) and bool(_LANGUAGE.match(value))
            expected = "a language tag (e.g. zh-CN)"
        else:
            good = isinstance(value, str) and bool(_ID.match(value))
            expected = "a snake_case id"
        if not good:
            shown = f"'{key_node.value}'" if isinstance(key_node, ScalarNode) else describe(key_node)
            self.error(key_node, f"invalid key {shown} in {where}: expected {expected}")
            return MISSING
        if value in out.key_nodes:
            line, _ = pos(out.key_nodes[value])
            self.error(key_node, f"duplicate key '{value}' in {where} (first at line {line})")
            return MISSING
        out.key_nodes[value] = key_node
        return value

    # -- objects -------------------------------------------------------------------------------------------------
    def object(self, node: Node, name: str) -> Obj | _Missing:
        """A mapping read against ``OBJECTS[name]`` (questions dispatch on their ``type``)."""
        what = "question" if name == "question" else OBJECTS[name].what
        if isinstance(node, MappingNode) and node.tag != MAP:
            self.error(node, f"unsupported YAML tag '{node.tag}' for a {what}")
            return MISSING
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping, not {describe(node)}")
            return MISSING
        if name == "question":
            return self._question(node)
        spec = OBJECTS[name]
        return self._fields(node, spec.fields, spec.what, None)

    def _question(self, node: MappingNode) -> Obj | _Missing:
        type_node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == "type"), None)
        question_type = _safe(type_node) if isinstance(type_node, ScalarNode) else None
        if question_type in QUESTION_TYPES:
            fields = question_fields(question_type)  # type: ignore[arg-type]
            return self._fields(node, fields, "question", question_type)  # type: ignore[arg-type]
        # unknown or missing type: still check the keys against every type, then give up on this question
        fields = {
            key: spec if key in ("id", "type") else replace(spec, required=False)
            for t in QUESTION_TYPES
            for key, spec in question_fields(t).items()
        }
        return self._fields(node, fields, "question", None)

    def _fields(
        self, node: MappingNode, fields: dict[str, Field], what: str, question_type: str | None
    ) -> Obj:
        out = Obj(node)
        for key_node, value_node in node.value:
            raw_key = _safe(key_node) if isinstance(key_node, ScalarNode) else MISSING
            if not isinstance(raw_key, str):
                self.error(key_node, f"key {describe(key_node)} in {what} must be a string")
                continue
            if raw_key in out.key_nodes:
                line, _ = pos(out.key_nodes[raw_key])
                self.error(key_node, f"duplicate key '{raw_key}' in {what} (first at line {line})")
                continue
            out.key_nodes[raw_key] = key_node
            spec = fields.get(raw_key)
            if spec is None:
                if question_type is not None and raw_key in ALL_QUESTION_KEYS:
                    self.error(key_node, f"key '{raw_key}' does not apply to a {question_type} question")
                else:
                    self.error(key_node, f"unknown key '{raw_key}' in {what}{did_you_mean(raw_key, fields)}")
                continue
            value = self.read(value_node, spec, raw_key, what)
            if value is not MISSING:
                out[raw_key] = value
                out.nodes[raw_key] = value_node
        named = f" '{out['id']}'" if isinstance(out.get("id"), str) else ""
        for key, spec in fields.items():
            if spec.required and key not in out.key_nodes:
                self.error(node, f"missing key '{key}' in {what}{named}")
        return out


def _safe(node: ScalarNode) -> object:
    try:
        return scalar_value(node)
    except UnsupportedTag:
        return MISSING


def _shape_fits(node: Node, spec: Field) -> bool:
    if spec.kind in ("object", "map"):
        return isinstance(node, MappingNode)
    if spec.kind == "list":
        return isinstance(node, SequenceNode)
    return isinstance(node, ScalarNode)
