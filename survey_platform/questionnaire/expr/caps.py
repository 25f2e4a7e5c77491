"""Every limit of the expression language, in one place.

The compile-time caps protect the server from pathological questionnaires; the evaluation caps are exported into
each compiled expression's JSON (``CompiledExpr.to_json()["caps"]``) so that the JavaScript evaluator enforces the
very same numbers. ``expr.js`` also carries the same numbers as its defaults (a test checks they agree).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Caps:
    """Limits of the expression language (compile time and evaluation time)."""

    max_source_length: int = 2000  # characters of expression source
    max_nodes: int = 400  # syntax-tree nodes
    max_depth: int = 32  # nesting depth of the syntax tree
    max_list_items: int = 100  # items of a list literal ('a', 'b', ...)
    max_steps: int = 10_000  # evaluation steps: one per node visit, plus one per character a regex scans
    max_string_length: int = 10_000  # characters (code points) of a string produced by an operation
    max_regex_length: int = 500  # characters of a regex pattern
    max_regex_repeat: int = 100  # largest m or n in a bounded repetition {m,n}
    max_regex_program: int = 1000  # NFA instructions after expanding {m,n}
    max_round_digits: int = 10  # round(x, digits): 0 <= digits <= this

    def eval_json(self) -> dict[str, int]:
        """The caps the evaluators need at run time, as shipped to the browser (a fresh dict each call)."""
        return dict(_eval_json(self))


_EVAL_KEYS = (
    "max_depth",
    "max_steps",
    "max_string_length",
    "max_regex_length",
    "max_regex_repeat",
    "max_regex_program",
    "max_round_digits",
)


@lru_cache(maxsize=32)
def _eval_json(caps: Caps) -> dict[str, int]:
    """Cached body of :meth:`Caps.eval_json` (callers get a copy; the cache is never mutated)."""
    values = asdict(caps)
    return {key: values[key] for key in _EVAL_KEYS}


CAPS = Caps()
"""The caps in force."""

AST_VERSION = 1
"""Version of the compiled-expression JSON shape (``{"v": 1, "type": ..., "caps": {...}, "ast": ...}``)."""
