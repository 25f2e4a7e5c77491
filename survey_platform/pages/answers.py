"""Stored answers as the reviewer reads them: one row per answered question, in the questionnaire's order, with the
value in words (choice labels, yes/no, units), the photos, and for an inspection check its verdict, severity and
legal basis. Pure: the page passes the questionnaire, the validated values and the language.

Everything here is plain text for the template, which escapes it: nothing an inspector or a citizen typed is ever
marked safe or turned into a link.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from survey_platform.pages.i18n import translate
from survey_platform.questionnaire.model import Question, Questionnaire, text


@dataclasses.dataclass(frozen=True, slots=True)
class LegalReference:
    law: str
    article: str
    summary: str


@dataclasses.dataclass(frozen=True, slots=True)
class CheckView:
    """An inspection check's verdict (pass / fail / na), severity and the law it rests on."""

    verdict: str
    severity: str
    legal: tuple[LegalReference, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class AnswerRow:
    question: str
    label: str
    section: str
    value: str  # the answer in words ("" for photos and matrices, which use the fields below)
    items: tuple[tuple[str, str], ...] = ()  # a matrix: (item label, answer)
    photos: tuple[str, ...] = ()  # SHA-256 of each photo
    check: CheckView | None = None


def _number(value: Any, question: Question, language: str) -> str:
    unit = text(question.unit, language)
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{shown} {unit}".strip()


def _scale_point(question: Question, value: Any, language: str) -> str:
    scale = question.scale
    if scale is None:
        return str(value)
    for choice in scale.missing:
        if choice.code == value:
            return choice.label.get(language)
    labels = dict(scale.labels)
    if isinstance(value, int) and value in labels:
        return (
            f"{value}（{labels[value].get(language)}）"
            if language == "zh-CN"
            else f"{value} ({labels[value].get(language)})"
        )
    return f"{value} / {scale.max}" if isinstance(value, int) else str(value)


def _choice(question: Question, code: Any, language: str) -> str:
    if question.choices is not None:
        for choice in question.choices.choices:
            if choice.code == code:
                return choice.label.get(language)
    return str(code)


def answer_value(question: Question, value: Any, language: str) -> str:
    """One answer in words (pure)."""
    kind = question.type
    if kind == "yes_no" and isinstance(value, bool):
        return translate(language, "desk.answer.yes" if value else "desk.answer.no")
    if kind == "single_choice":
        return _choice(question, value, language)
    if kind == "multiple_choice" and isinstance(value, list):
        return ("、" if language == "zh-CN" else ", ").join(_choice(question, v, language) for v in value)
    if kind == "likert":
        return _scale_point(question, value, language)
    if kind in ("integer", "decimal"):
        return _number(value, question, language)
    if kind == "geopoint" and isinstance(value, Mapping):
        accuracy = value.get("accuracy")
        place = f"{value.get('lat')}, {value.get('lon')}"
        return f"{place} (± {accuracy} m)" if accuracy is not None else place
    if isinstance(value, dict | list):
        return ", ".join(str(v) for v in (value.values() if isinstance(value, dict) else value))
    return str(value)


def _legal(questionnaire: Questionnaire, ids: tuple[str, ...], language: str) -> tuple[LegalReference, ...]:
    found = []
    for basis_id in ids:
        basis = questionnaire.legal_basis.get(basis_id)
        if basis is None:
            found.append(LegalReference(basis_id, "", ""))
        else:
            found.append(
                LegalReference(
                    basis.law.get(language), basis.article.get(language), text(basis.summary, language)
                )
            )
    return tuple(found)


def answer_rows(
    questionnaire: Questionnaire,
    values: Mapping[str, Any],
    language: str,
    verdicts: Mapping[str, str] | None = None,
) -> list[AnswerRow]:
    """The answered questions (and every check, answered or not, with ``verdicts``: check id → pass/fail/na)."""
    verdicts = verdicts or {}
    rows: list[AnswerRow] = []
    for section in questionnaire.sections:
        section_title = text(section.title, language) or section.id
        for question in section.questions:
            if not question.answerable:
                continue
            value = values.get(question.id)
            check = None
            if question.check is not None:
                check = CheckView(
                    verdict=verdicts.get(question.id, "na"),
                    severity=question.check.severity,
                    legal=_legal(questionnaire, question.check.legal_basis, language),
                )
            elif value is None or value == [] or value == {}:
                continue
            label = text(question.label, language) or question.id
            if question.type == "photo":
                photos = tuple(v for v in value or [] if isinstance(v, str))
                rows.append(AnswerRow(question.id, label, section_title, "", photos=photos, check=check))
            elif question.type == "matrix" and isinstance(value, Mapping):
                items = tuple(
                    (item.label.get(language), _scale_point(question, value[item.id], language))
                    for item in question.items
                    if item.id in value
                )
                rows.append(AnswerRow(question.id, label, section_title, "", items=items, check=check))
            else:
                shown = "" if value is None else answer_value(question, value, language)
                rows.append(AnswerRow(question.id, label, section_title, shown, check=check))
    return rows


__all__ = ["AnswerRow", "CheckView", "LegalReference", "answer_rows", "answer_value"]
