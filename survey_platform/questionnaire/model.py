"""The typed, immutable questionnaire: frozen dataclasses built by :mod:`.load` from a valid YAML file.

Plain-data views for the other packages: :meth:`Questionnaire.index_tree` (the contract with ``scoring``),
:meth:`Questionnaire.item_specs`, :meth:`Questionnaire.item_values` and :meth:`Questionnaire.to_client_json`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .expr import CompiledExpr

DEFAULT_LANGUAGE = "zh-CN"
DEFAULT_TEXT_MAX_LENGTH = 2000
DEFAULT_PHOTO_MAX_COUNT = 10

# Expression type of each question type's answer (None: the question has no value to refer to).
EXPR_TYPES: dict[str, str | None] = {
    "likert": "integer",
    "matrix": None,
    "single_choice": "choice",
    "multiple_choice": "choices",
    "yes_no": "boolean",
    "integer": "integer",
    "decimal": "number",
    "text": "string",
    "date": "date",
    "time": "time",
    "datetime": "datetime",
    "geopoint": "geopoint",
    "photo": "choices",
    "venue": "string",
    "calculate": "any",
    "note": None,
}


@dataclass(frozen=True, slots=True)
class Label:
    """A text in one or more languages; ``texts[0]`` is in the questionnaire's default language."""

    texts: tuple[tuple[str, str], ...]

    def get(self, language: str | None = None) -> str:
        """The text in ``language``, falling back to the default language."""
        for lang, text in self.texts:
            if lang == language:
                return text
        return self.texts[0][1]

    def to_json(self) -> dict[str, str]:
        return dict(self.texts)


def text(label: Label | None, language: str | None = None) -> str:
    """``label.get(language)`` or an empty string."""
    return label.get(language) if label is not None else ""


@dataclass(frozen=True, slots=True)
class Expression:
    """An expression as written, with its compiled form."""

    source: str
    compiled: CompiledExpr = field(compare=False, repr=False)

    @property
    def references(self) -> frozenset[str]:
        return self.compiled.references


@dataclass(frozen=True, slots=True)
class Choice:
    """A choice (or a scale's missing-answer code). ``score`` is used when the question is an index item."""

    code: str
    label: Label
    score: float | None = None


@dataclass(frozen=True, slots=True)
class ChoiceList:
    id: str
    choices: tuple[Choice, ...]

    def codes(self) -> tuple[str, ...]:
        return tuple(choice.code for choice in self.choices)

    def scored(self) -> bool:
        """True when every choice has a score."""
        return all(choice.score is not None for choice in self.choices)


@dataclass(frozen=True, slots=True)
class Scale:
    """A likert scale of the integer points ``min..max``; ``missing`` answers (don't know, N/A) count as missing."""

    id: str
    min: int
    max: int
    labels: tuple[tuple[int, Label], ...]
    missing: tuple[Choice, ...] = ()

    @property
    def points(self) -> range:
        return range(self.min, self.max + 1)

    def missing_codes(self) -> tuple[str, ...]:
        return tuple(choice.code for choice in self.missing)

    def rescale(self, point: float, *, reverse: bool = False) -> float:
        """Fixed goalposts: (x − min) / (max − min) × 100 (reversed items: 100 minus that)."""
        score = (point - self.min) / (self.max - self.min) * 100.0
        return 100.0 - score if reverse else score


@dataclass(frozen=True, slots=True)
class LegalBasis:
    id: str
    law: Label
    article: Label
    summary: Label | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """Pass/fail semantics of an inspection yes/no question."""

    pass_if: bool
    severity: str
    legal_basis: tuple[str, ...] = ()
    evidence: str | None = None
    recommendation: Label | None = None


@dataclass(frozen=True, slots=True)
class MatrixItem:
    id: str
    label: Label
    hint: Label | None = None
    reverse: bool = False
    in_index: bool = True


@dataclass(frozen=True, slots=True)
class Question:
    """A question; the fields that do not apply to its type keep their defaults."""

    id: str
    type: str
    section: str
    label: Label | None = None
    hint: Label | None = None
    required: bool = False
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_message: Label | None = None
    screen: Expression | None = None
    screen_message: Label | None = None
    calculation: Expression | None = None
    weighting_variable: bool = False
    in_index: bool = True
    reverse: bool = False
    scale: Scale | None = None
    choices: ChoiceList | None = None
    items: tuple[MatrixItem, ...] = ()
    min: float | None = None
    max: float | None = None
    unit: Label | None = None
    max_length: int = DEFAULT_TEXT_MAX_LENGTH
    multiline: bool = False
    min_selected: int | None = None
    max_selected: int | None = None
    max_accuracy: float | None = None
    min_count: int = 1
    max_count: int = DEFAULT_PHOTO_MAX_COUNT
    check: Check | None = None
    expr_type: str | None = None  # the expression type of the answer (calculate: the calculation's type)

    @property
    def answerable(self) -> bool:
        """Whether the respondent answers it (not a note or a calculation)."""
        return self.type not in ("note", "calculate")

    @property
    def scorable(self) -> bool:
        """Whether it can be an index item (matrix: its items are)."""
        if self.type == "likert":
            return True
        if self.type == "yes_no":
            return self.check is not None
        if self.type == "single_choice":
            return self.choices is not None and self.choices.scored()
        return False


@dataclass(frozen=True, slots=True)
class Section:
    """A group of questions. ``filled_by``: ``respondent``, or ``interviewer`` for an interview record that a
    self-completed response (QR code, online) leaves out (:func:`.answers.validate_answers`)."""

    id: str
    title: Label | None
    description: Label | None
    relevant: Expression | None
    questions: tuple[Question, ...]
    filled_by: str = "respondent"


@dataclass(frozen=True, slots=True)
class IndexNode:
    """A node of the index tree (root, dimension, indicator or item) with its normalised weights."""

    id: str
    level: str  # root, dimension, indicator, item
    label: Label | None
    weight: float  # as written (relative to the siblings)
    min_share: float
    children: tuple[IndexNode, ...] = ()
    normalised_weight: float = 1.0  # weight / sum of the siblings' weights
    effective_weight: float = 1.0  # product of the normalised weights from the root

    def walk(self) -> Iterator[IndexNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def to_plain(self) -> dict[str, Any]:
        """The plain-dict form of the scoring contract (items are leaves without min_share)."""
        if self.level == "item":
            return {"id": self.id, "weight": float(self.weight)}
        node: dict[str, Any] = {"id": self.id}
        if self.level != "root":
            node["weight"] = float(self.weight)
        node["min_share"] = float(self.min_share)
        node["children"] = [child.to_plain() for child in self.children]
        return node


@dataclass(frozen=True, slots=True)
class Index:
    root: IndexNode
    aggregation: str = "arithmetic"


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A loaded questionnaire. Identity for storage: ``(id, version, content_hash)``."""

    id: str
    version: str
    kind: str
    title: Label
    description: Label | None
    languages: tuple[str, ...]
    choice_lists: Mapping[str, ChoiceList]
    scales: Mapping[str, Scale]
    legal_basis: Mapping[str, LegalBasis]
    sections: tuple[Section, ...]
    index: Index | None
    content_hash: str  # SHA-256 (hex) of the file's bytes
    source_path: str = ""
    _questions: Mapping[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        questions = {q.id: q for section in self.sections for q in section.questions}
        object.__setattr__(self, "_questions", MappingProxyType(questions))

    # -- lookups -------------------------------------------------------------------------------------------------
    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.id, self.version, self.content_hash)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question in document order."""
        return tuple(self._questions.values())

    def question(self, question_id: str) -> Question:
        return self._questions[question_id]

    def section_of(self, question_id: str) -> Section:
        section_id = self._questions[question_id].section
        return next(section for section in self.sections if section.id == section_id)

    def scored_items(self) -> dict[str, tuple[Question, MatrixItem | None]]:
        """Every index item id -> (question, matrix item or None), in document order."""
        items: dict[str, tuple[Question, MatrixItem | None]] = {}
        for question in self.questions:
            if question.type == "matrix":
                for item in question.items:
                    items[item.id] = (question, item)
            elif question.scorable:
                items[question.id] = (question, None)
        return items

    def weighting_variables(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions if q.weighting_variable)

    def screening_questions(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions if q.screen is not None)

    # -- the scoring contract ------------------------------------------------------------------------------------
    def index_tree(self) -> dict[str, Any] | None:
        """The weighted index tree as plain nested dicts (see docs/questionnaire-format.md), or None."""
        if self.index is None:
            return None
        tree = self.index.root.to_plain()
        return {"id": tree.pop("id"), "aggregation": self.index.aggregation, **tree}

    def effective_weights(self) -> dict[str, float]:
        """Item id -> effective weight (product of the normalised weights down the path; they sum to 1)."""
        if self.index is None:
            return {}
        return {node.id: node.effective_weight for node in self.index.root.walk() if node.level == "item"}

    def item_specs(self) -> dict[str, dict[str, Any]]:
        """Index item id -> ``{"min", "max", "reverse"}`` on the numeric scale of :meth:`item_values`."""
        specs: dict[str, dict[str, Any]] = {}
        in_tree = set(self.effective_weights())
        for item_id, (question, item) in self.scored_items().items():
            if item_id not in in_tree:
                continue
            if question.scale is not None:
                reverse = item.reverse if item is not None else question.reverse
                specs[item_id] = {"min": question.scale.min, "max": question.scale.max, "reverse": reverse}
            elif question.check is not None:
                specs[item_id] = {"min": 0, "max": 1, "reverse": False}
            elif question.choices is not None:
                scores = [float(c.score) for c in question.choices.choices if c.score is not None]
                specs[item_id] = {"min": min(scores), "max": max(scores), "reverse": False}
        return specs

    def item_values(self, values: Mapping[str, object]) -> dict[str, float]:
        """Index item id -> numeric value for :meth:`item_specs` (NaN when missing).

        Likert: the point (a missing-answer code such as dont_know is NaN); inspection check: 1 = pass, 0 = fail;
        scored single choice: the choice's score. ``values`` is :attr:`AnswerCheck.values` (matrices nested).
        """
        out: dict[str, float] = {}
        scored = self.scored_items()
        for item_id in self.item_specs():
            question, item = scored[item_id]
            raw = values.get(question.id)
            if item is not None:
                raw = raw.get(item.id) if isinstance(raw, Mapping) else None
            out[item_id] = _numeric(question, raw)
        return out

    def to_client_json(self) -> dict[str, Any]:
        """The questionnaire for browsers: labels, types, options and compiled expression trees (plain JSON)."""
        from .client import client_json

        return client_json(self)


def _numeric(question: Question, raw: object) -> float:
    if raw is None or (isinstance(raw, str) and question.scale is not None):
        return math.nan
    if question.check is not None:
        if not isinstance(raw, bool):
            return math.nan
        return 1.0 if raw == question.check.pass_if else 0.0
    if question.scale is not None and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if question.choices is not None and isinstance(raw, str):
        for choice in question.choices.choices:
            if choice.code == raw and choice.score is not None:
                return float(choice.score)
    return math.nan
