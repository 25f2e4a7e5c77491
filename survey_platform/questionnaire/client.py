"""The questionnaire as plain JSON for browsers: labels, options and compiled expression trees."""

from __future__ import annotations

from typing import Any

from .model import Choice, ChoiceList, Expression, Label, Question, Questionnaire, Scale


def _label(label: Label | None) -> dict[str, str] | None:
    return label.to_json() if label is not None else None


def _expr(expression: Expression | None) -> dict[str, Any] | None:
    if expression is None:
        return None
    return {"source": expression.source, **expression.compiled.to_json()}


def _choice(choice: Choice) -> dict[str, Any]:
    out: dict[str, Any] = {"code": choice.code, "label": choice.label.to_json()}
    if choice.score is not None:
        out["score"] = choice.score
    return out


def _choices(choices: ChoiceList) -> dict[str, Any]:
    return {"id": choices.id, "choices": [_choice(c) for c in choices.choices]}


def _scale(scale: Scale) -> dict[str, Any]:
    return {
        "id": scale.id,
        "min": scale.min,
        "max": scale.max,
        "labels": {str(point): label.to_json() for point, label in scale.labels},
        "missing": [_choice(c) for c in scale.missing],
    }


def _question(q: Question) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": q.id,
        "type": q.type,
        "expr_type": q.expr_type,
        "label": _label(q.label),
        "hint": _label(q.hint),
        "required": q.required,
        "relevant": _expr(q.relevant),
        "constraint": _expr(q.constraint),
        "constraint_message": _label(q.constraint_message),
        "screen": _expr(q.screen),
        "screen_message": _label(q.screen_message),
        "calculation": _expr(q.calculation),
    }
    if q.scale is not None:
        out["scale"] = _scale(q.scale)
        out["reverse"] = q.reverse
    if q.choices is not None:
        out["choices"] = _choices(q.choices)
    if q.items:
        out["items"] = [
            {"id": i.id, "label": i.label.to_json(), "hint": _label(i.hint), "reverse": i.reverse}
            for i in q.items
        ]
    if q.type in ("integer", "decimal"):
        out.update(min=q.min, max=q.max, unit=_label(q.unit))
    if q.type == "text":
        out.update(max_length=q.max_length, multiline=q.multiline)
    if q.type == "multiple_choice":
        out.update(min_selected=q.min_selected, max_selected=q.max_selected)
    if q.type == "geopoint":
        out["max_accuracy"] = q.max_accuracy
    if q.type == "photo":
        out.update(min_count=q.min_count, max_count=q.max_count)
    if q.check is not None:
        out["check"] = {
            "pass_if": q.check.pass_if,
            "severity": q.check.severity,
            "legal_basis": list(q.check.legal_basis),
            "evidence": q.check.evidence,
            "recommendation": _label(q.check.recommendation),
        }
    if q.weighting_variable:
        out["weighting_variable"] = True
    return {key: value for key, value in out.items() if value is not None}


def client_json(q: Questionnaire) -> dict[str, Any]:
    """Everything a browser needs to show the questionnaire and run its expressions offline."""
    return {
        "id": q.id,
        "version": q.version,
        "content_hash": q.content_hash,
        "kind": q.kind,
        "languages": list(q.languages),
        "title": q.title.to_json(),
        "description": _label(q.description),
        "legal_basis": {
            key: {
                "law": entry.law.to_json(),
                "article": entry.article.to_json(),
                "summary": _label(entry.summary),
            }
            for key, entry in q.legal_basis.items()
        },
        "sections": [
            {
                "id": s.id,
                "title": _label(s.title),
                "description": _label(s.description),
                "relevant": _expr(s.relevant),
                "filled_by": s.filled_by,
                "questions": [_question(question) for question in s.questions],
            }
            for s in q.sections
        ],
        "index": q.index_tree(),
        "effective_weights": q.effective_weights(),
    }
