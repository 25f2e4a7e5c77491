"""Static types of the expression language.

The loader declares each question's type with one of :data:`TYPES`. Inside the checker two more types exist:
``null`` (the literal ``null``) and list types ``list:string`` / ``list:number`` (list literals, only after ``in``).
``integer`` is a kind of ``number``; ``choice`` (one selected code) is a kind of ``string``; ``any`` is accepted
everywhere and checked at run time instead.
"""

from __future__ import annotations

TYPES: frozenset[str] = frozenset(
    {
        "number",
        "integer",
        "string",
        "boolean",
        "date",
        "time",
        "datetime",
        "choices",
        "choice",
        "geopoint",
        "any",
    }
)
NUMERIC = frozenset({"number", "integer"})
TEXT = frozenset({"string", "choice"})
TEMPORAL = frozenset({"date", "time", "datetime"})
LISTS = frozenset({"list:string", "list:number"})

TYPE_NAMES_ZH = {
    "number": "数值",
    "integer": "整数",
    "string": "文本",
    "boolean": "布尔值",
    "date": "日期",
    "time": "时间",
    "datetime": "日期时间",
    "choices": "多选答案",
    "choice": "单选答案",
    "geopoint": "地理位置",
    "any": "任意类型",
    "null": "空值 null",
    "list:string": "文本列表",
    "list:number": "数值列表",
}


def zh(type_name: str) -> str:
    """Chinese name of a type, for messages."""
    return TYPE_NAMES_ZH.get(type_name, type_name)


def is_numeric(t: str) -> bool:
    """A number, an integer, or something only known at run time."""
    return t in NUMERIC or t in ("any", "null")


def is_text(t: str) -> bool:
    """A string or a single choice code, or something only known at run time."""
    return t in TEXT or t in ("any", "null")


def is_boolean(t: str) -> bool:
    """A boolean, or something only known at run time."""
    return t in ("boolean", "any", "null")


def unify(a: str, b: str) -> str | None:
    """The type of a value that is either ``a`` or ``b`` (if/coalesce), or None when they do not mix."""
    if a == b:
        return a
    if a == "null":
        return b
    if b == "null":
        return a
    if "any" in (a, b):
        return "any"
    if {a, b} <= NUMERIC:
        return "number"
    if {a, b} <= TEXT:
        return "string"
    for temporal in TEMPORAL:
        if {a, b} in ({temporal, "string"}, {temporal, "choice"}):
            return temporal
    return None


def assignable(actual: str, expected: str | None) -> bool:
    """Whether a value of type ``actual`` may be used where ``expected`` is required (None: anything)."""
    if expected is None or expected == "any" or actual in ("any", "null") or actual == expected:
        return True
    if expected == "number":
        return actual == "integer"
    if expected in ("string", "choice"):
        return actual in TEXT
    if expected in TEMPORAL:
        return actual in TEXT
    return False
