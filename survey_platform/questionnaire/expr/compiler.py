"""``compile_expr``: source text to a type-checked :class:`CompiledExpr` (compiled once, evaluated many times)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .caps import AST_VERSION, CAPS
from .checker import Checker, check_expect, validate_type_name
from .parser import Node, parse


@dataclass(frozen=True, slots=True)
class CompiledExpr:
    """A compiled expression: its source, plain-JSON tree, referenced question ids and result type."""

    source: str
    ast: Any
    references: frozenset[str]
    type: str

    def to_json(self) -> dict[str, Any]:
        """The versioned JSON shipped to the browser: ``{"v": 1, "type": ..., "caps": {...}, "ast": ...}``."""
        return {"v": AST_VERSION, "type": self.type, "caps": CAPS.eval_json(), "ast": self.ast}


def compile_expr(
    source: str, *, refs: Mapping[str, str], this: str | None = None, expect: str | None = None
) -> CompiledExpr:
    """Parse and type-check ``source``.

    ``refs`` maps every question id that may be referenced to its type (one of ``TYPES``); ``this`` is the type
    of ``.`` (None: ``.`` is not allowed); ``expect`` is the required result type (None: any). Raises
    :class:`ExprError` (with ``message`` and ``offset``) for syntax errors, unknown references, type errors and
    caps.
    """
    for name, type_name in refs.items():
        validate_type_name(type_name, f"refs[{name!r}]")
    if this is not None:
        validate_type_name(this, "this")
    if expect is not None:
        validate_type_name(expect, "expect")
    tree = parse(source)
    checker = Checker(refs=refs, this=this)
    typed = checker.check(tree)
    check_expect(typed, expect)
    result_type = "any" if typed.type == "null" else typed.type
    return CompiledExpr(
        source=source, ast=typed.json, references=frozenset(checker.references), type=result_type
    )


def references(source: str) -> frozenset[str]:
    """The question ids ``${...}`` that ``source`` references (parses, does not type-check)."""
    found: set[str] = set()
    stack: list[Node] = [parse(source)]
    while stack:
        node = stack.pop()
        if node.kind == "ref":
            found.add(str(node.value))
        stack.extend(node.children)
    return frozenset(found)
