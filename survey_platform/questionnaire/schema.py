"""JSON Schema (draft 2020-12) of the questionnaire format, generated from :mod:`.spec` for editors."""

from __future__ import annotations

from typing import Any

from .spec import CODE_PATTERN, ID_PATTERN, LANGUAGE_PATTERN, OBJECTS, QUESTION_TYPES, Field, question_fields

SCHEMA_ID = "https://survey-platform.invalid/schemas/questionnaire.schema.json"


def _field(spec: Field) -> dict[str, Any]:
    kind = spec.kind
    out: dict[str, Any]
    if kind == "id":
        out = {"type": "string", "pattern": ID_PATTERN}
    elif kind == "code":
        out = {"anyOf": [{"type": "string", "pattern": CODE_PATTERN}, {"type": "integer"}]}
    elif kind in ("string", "expr"):
        out = {"type": "string"}
    elif kind == "version":
        out = {"type": ["string", "number"]}
    elif kind == "language":
        out = {"type": "string", "pattern": LANGUAGE_PATTERN}
    elif kind == "label":
        out = {"$ref": "#/$defs/label"}
    elif kind == "bool":
        out = {"type": "boolean"}
    elif kind == "number":
        out = {"type": "number"}
    elif kind == "integer":
        out = {"type": "integer"}
    elif kind == "enum":
        out = {"enum": list(spec.values)}
    elif kind == "list":
        out = {"type": "array", "items": _field(spec.of)}  # type: ignore[arg-type]
        if spec.min_items:
            out["minItems"] = spec.min_items
    elif kind == "object":
        out = {"$ref": f"#/$defs/{spec.of}"}
    elif kind == "map":
        # (no "type": YAML gives integer keys for scale points; editors see them as strings)
        pattern = "^-?[0-9]+$" if spec.keys == "integer" else ID_PATTERN
        out = {
            "type": "object",
            "propertyNames": {"pattern": pattern},
            "additionalProperties": _field(spec.of),  # type: ignore[arg-type]
        }
    elif kind == "oneof":
        out = {"anyOf": [_field(alternative) for alternative in spec.of]}  # type: ignore[union-attr]
    else:  # pragma: no cover - the spec table only uses the kinds above
        raise ValueError(kind)
    if spec.doc:
        out = {"description": spec.doc, **out}
    return out


def _object(fields: dict[str, Field], doc: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "description": doc,
        "properties": {key: _field(spec) for key, spec in fields.items()},
        "additionalProperties": False,
    }
    required = [key for key, spec in fields.items() if spec.required]
    if required:
        out["required"] = required
    return out


def questionnaire_schema() -> dict[str, Any]:
    """The JSON Schema of a questionnaire file."""
    defs: dict[str, Any] = {
        "label": {
            "description": "A text, or a map from language tag to text (the default language is required).",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "propertyNames": {"pattern": LANGUAGE_PATTERN},
                    "additionalProperties": {"type": "string"},
                    "minProperties": 1,
                },
            ],
        },
    }
    for name, spec in OBJECTS.items():
        if name != "questionnaire":
            defs[name] = _object(spec.fields, spec.doc)
    defs["question"] = {
        "type": "object",
        "description": "A question; the keys it accepts depend on its type.",
        "required": ["id", "type"],
        "properties": {"type": {"enum": list(QUESTION_TYPES)}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": qtype}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/question_{qtype}"},
            }
            for qtype in QUESTION_TYPES
        ],
    }
    for qtype in QUESTION_TYPES:
        defs[f"question_{qtype}"] = _object(question_fields(qtype), f"A {qtype} question.")
    root = OBJECTS["questionnaire"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Questionnaire",
        **_object(root.fields, root.doc),
        "$defs": defs,
    }
