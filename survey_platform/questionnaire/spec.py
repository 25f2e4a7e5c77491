"""The questionnaire format as data: every object kind, its keys, their value kinds and short documentation.

One table drives both the loader's structural checks (unknown keys with "did you mean", wrong types, missing keys;
see :mod:`.read`) and the JSON Schema (:mod:`.schema`), so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

QUESTION_TYPES: tuple[str, ...] = (
    "likert",
    "matrix",
    "single_choice",
    "multiple_choice",
    "yes_no",
    "integer",
    "decimal",
    "text",
    "date",
    "time",
    "datetime",
    "geopoint",
    "photo",
    "venue",
    "calculate",
    "note",
)
SEVERITIES: tuple[str, ...] = ("critical", "major", "minor")
KINDS: tuple[str, ...] = ("survey", "inspection")
FILLED_BY: tuple[str, ...] = ("respondent", "interviewer")
AGGREGATIONS: tuple[str, ...] = ("arithmetic", "geometric")


@dataclass(frozen=True, slots=True)
class Field:
    """The kind of value a key holds.

    ``kind``: id, code, string, version, language, label, bool, number, integer, expr, enum, list, object, map,
    oneof. ``of``: the element Field (list, map values), the object name (object) or the alternatives (oneof).
    ``keys``: the key kind of a map ("id", "integer"). ``values``: the allowed strings of an enum.
    """

    kind: str
    of: object = None
    values: tuple[str, ...] = ()
    keys: str = "id"
    required: bool = False
    doc: str = ""
    min_items: int = 0


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """An object kind: its keys and what the author calls it in messages."""

    name: str
    what: str
    fields: dict[str, Field] = field(default_factory=dict)
    doc: str = ""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(key for key, spec in self.fields.items() if spec.required)


def _f(kind: str, doc: str = "", **kwargs: object) -> Field:
    return Field(kind, doc=doc, **kwargs)  # type: ignore[arg-type]


LABEL = "label"

OBJECTS: dict[str, ObjectSpec] = {}


def _obj(name: str, what: str, doc: str, **fields: Field) -> ObjectSpec:
    spec = ObjectSpec(name, what, dict(fields), doc)
    OBJECTS[name] = spec
    return spec


_obj(
    "questionnaire",
    "questionnaire",
    "A survey or inspection questionnaire.",
    id=_f("id", "Stable snake_case id of the questionnaire.", required=True),
    version=_f(
        "version",
        "Version (a string or an integer); a published questionnaire is changed by a new version.",
        required=True,
    ),
    kind=_f(
        "enum", "survey (respondents) or inspection (field audits of venues).", values=KINDS, required=True
    ),
    title=_f(LABEL, "Title.", required=True),
    description=_f(LABEL, "Longer description (methodology, provenance of the weights...)."),
    languages=_f(
        "list",
        "Languages of the labels; the first is the default (zh-CN when omitted).",
        of=_f("language"),
        min_items=1,
    ),
    defaults=_f("object", "Defaults for every question.", of="defaults"),
    choice_lists=_f(
        "map", "Reusable choice lists by id.", of=_f("list", of=_f("object", of="choice"), min_items=1)
    ),
    scales=_f("map", "Reusable likert scales by id.", of=_f("object", of="scale")),
    legal_basis=_f("map", "Legal provisions cited by inspection checks, by id.", of=_f("object", of="legal")),
    sections=_f(
        "list",
        "Sections (groups of questions), in order.",
        of=_f("object", of="section"),
        required=True,
        min_items=1,
    ),
    index=_f("object", "The weighted index tree: dimensions → indicators → items.", of="index"),
)
_obj(
    "defaults",
    "defaults",
    "Defaults applied to every question.",
    required=_f("bool", "Whether questions are required unless they say otherwise (default false)."),
)
_obj(
    "choice",
    "choice",
    "One choice of a choice list.",
    code=_f(
        "code", "The stored answer code (a string; integers are read as their decimal string).", required=True
    ),
    label=_f(LABEL, "What the respondent sees.", required=True),
    score=_f("number", "Score of this choice when the question is an index item."),
)
_obj(
    "scale",
    "scale",
    "A likert scale of consecutive integer points min..max.",
    min=_f("integer", "Lowest point (the worst end).", required=True),
    max=_f("integer", "Highest point (the best end).", required=True),
    labels=_f("map", "Labels of points; both ends must be labelled.", of=_f(LABEL), keys="integer"),
    missing=_f(
        "list",
        "Answers such as don't know / not applicable that count as missing.",
        of=_f("object", of="missing_code"),
    ),
)
_obj(
    "missing_code",
    "missing answer",
    "A non-substantive answer of a scale, counted as missing when scoring.",
    code=_f("code", "The stored answer code, e.g. dont_know.", required=True),
    label=_f(LABEL, "What the respondent sees.", required=True),
)
_obj(
    "legal",
    "legal basis",
    "A legal provision.",
    law=_f(LABEL, "The law, e.g. 消费者权益保护法.", required=True),
    article=_f(LABEL, "The article, e.g. 第十六条第二款 / Art. 16 ¶2.", required=True),
    summary=_f(LABEL, "What the provision requires, as shown in reports."),
)
_obj(
    "section",
    "section",
    "A group of questions.",
    id=_f("id", "Stable snake_case id.", required=True),
    title=_f(LABEL, "Title."),
    description=_f(LABEL, "Text shown before the questions."),
    relevant=_f("expr", "Skip logic: the section is shown when this is true."),
    filled_by=_f(
        "enum",
        "Who fills it in: respondent (default) or interviewer (an interview record, left out when the respondent "
        "answers alone by QR code or online).",
        values=FILLED_BY,
    ),
    questions=_f("list", "Questions, in order.", of=_f("object", of="question"), required=True, min_items=1),
)
_obj(
    "matrix_item",
    "matrix item",
    "One likert item of a matrix.",
    id=_f("id", "Stable snake_case id: the answer key and the index item id.", required=True),
    label=_f(LABEL, "Item wording.", required=True),
    hint=_f(LABEL, "Help text."),
    reverse=_f("bool", "Reversed item: a high point means low satisfaction."),
    in_index=_f("bool", "Whether the item must appear in the index tree (default true when there is one)."),
)
_obj(
    "check",
    "check",
    "Pass/fail semantics of an inspection yes/no question.",
    pass_if=_f("bool", "The answer (true = yes, false = no) that means the venue complies.", required=True),
    severity=_f("enum", "Severity of a failure.", values=SEVERITIES, required=True),
    legal_basis=_f("list", "Ids of legal_basis entries behind the check.", of=_f("id")),
    evidence=_f("id", "The photo question holding the evidence of a failure."),
    recommendation=_f(LABEL, "The recommended fix, shown in reports."),
)
_obj(
    "index",
    "index",
    "The weighted index tree.",
    id=_f("id", "Id of the root (e.g. overall).", required=True),
    label=_f(LABEL, "Name of the index."),
    aggregation=_f("enum", "How the dimensions combine (default arithmetic).", values=AGGREGATIONS),
    min_share=_f("number", "Minimum answered share of the dimensions' weight for an overall score."),
    dimension_min_share=_f(
        "number", "Default min_share of every dimension (default 0: any child is enough)."
    ),
    indicator_min_share=_f("number", "Default min_share of every indicator (default 0: any item is enough)."),
    dimensions=_f(
        "list", "First-level dimensions.", of=_f("object", of="dimension"), required=True, min_items=1
    ),
)
_obj(
    "dimension",
    "dimension",
    "A first-level dimension of the index.",
    id=_f("id", "Stable snake_case id.", required=True),
    label=_f(LABEL, "Name."),
    weight=_f("number", "Weight relative to the other dimensions (> 0; default 1; normalised)."),
    min_share=_f("number", "Minimum answered share of the indicators' weight (0-1)."),
    indicators=_f(
        "list", "Second-level indicators.", of=_f("object", of="indicator"), required=True, min_items=1
    ),
)
_obj(
    "indicator",
    "indicator",
    "A second-level indicator of the index.",
    id=_f("id", "Stable snake_case id.", required=True),
    label=_f(LABEL, "Name."),
    weight=_f("number", "Weight relative to the other indicators of the dimension (> 0; default 1)."),
    min_share=_f("number", "Minimum answered share of the items' weight (0-1)."),
    items=_f(
        "list",
        "Items: question ids, or {id, weight}.",
        of=_f("oneof", of=(_f("id"), _f("object", of="index_item"))),
        required=True,
        min_items=1,
    ),
)
_obj(
    "index_item",
    "index item",
    "An item of an indicator with its weight.",
    id=_f(
        "id", "Id of a likert question, matrix item, scored single choice or inspection check.", required=True
    ),
    weight=_f("number", "Weight relative to the other items of the indicator (> 0; default 1)."),
)

# Questions: common keys, then the keys of each type.
_EXPR_KEYS = {
    "relevant": _f("expr", "Skip logic: the question is asked when this is true (null counts as false)."),
}
_ANSWERABLE = {
    "required": _f("bool", "An answer is required when the question is relevant."),
    "constraint": _f("expr", "Must be true for the answer ('.' is the answer); null counts as satisfied."),
    "constraint_message": _f(LABEL, "Message shown when the constraint fails."),
    "screen": _f("expr", "Screening: the respondent is eligible only if this is true ('.' is the answer)."),
    "screen_message": _f(LABEL, "Message shown to an ineligible respondent."),
}
_BASE = {
    "id": _f("id", "Stable snake_case id: the answer key.", required=True),
    "type": _f("enum", "Question type.", values=QUESTION_TYPES, required=True),
    "label": _f(LABEL, "Question wording."),
    "hint": _f(LABEL, "Help text."),
}
_SCALE_REF = _f(
    "oneof", "A scale id from scales, or an inline scale.", of=(_f("id"), _f("object", of="scale"))
)
_CHOICES_REF = _f(
    "oneof",
    "A choice list id from choice_lists, or an inline list of choices.",
    of=(_f("id"), _f("list", of=_f("object", of="choice"), min_items=1)),
)
_WEIGHTING = {"weighting_variable": _f("bool", "A categorical variable used for survey weights.")}
_IN_INDEX = {"in_index": _f("bool", "Whether the question must appear in the index tree.")}

_TYPE_KEYS: dict[str, dict[str, Field]] = {
    "likert": {"scale": _SCALE_REF, "reverse": _f("bool", "Reversed item."), **_IN_INDEX},
    "matrix": {
        "scale": _SCALE_REF,
        "items": _f(
            "list", "The likert items sharing the scale.", of=_f("object", of="matrix_item"), min_items=1
        ),
    },
    "single_choice": {"choices": _CHOICES_REF, **_IN_INDEX, **_WEIGHTING},
    "multiple_choice": {
        "choices": _CHOICES_REF,
        "min_selected": _f("integer", "Minimum number of choices."),
        "max_selected": _f("integer", "Maximum number of choices."),
    },
    "yes_no": {
        "check": _f("object", "Inspection check: pass/fail, severity, legal basis, evidence.", of="check"),
        **_IN_INDEX,
        **_WEIGHTING,
    },
    "integer": {
        "min": _f("integer", "Smallest allowed value."),
        "max": _f("integer", "Largest allowed value."),
        "unit": _f(LABEL, "Unit shown after the field."),
        **_WEIGHTING,
    },
    "decimal": {
        "min": _f("number", "Smallest allowed value."),
        "max": _f("number", "Largest allowed value."),
        "unit": _f(LABEL, "Unit shown after the field."),
    },
    "text": {
        "max_length": _f("integer", "Maximum number of characters (default 2000)."),
        "multiline": _f("bool", "A multi-line text box."),
    },
    "date": {},
    "time": {},
    "datetime": {},
    "geopoint": {"max_accuracy": _f("number", "Largest accepted accuracy radius, in metres.")},
    "photo": {
        "min_count": _f("integer", "Minimum number of photos when answered (default 1)."),
        "max_count": _f("integer", "Maximum number of photos (default 10)."),
    },
    "venue": {},
    "calculate": {"calculation": _f("expr", "The computed value.", required=True)},
    "note": {},
}

_REQUIRED_TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "likert": ("scale",),
    "matrix": ("scale", "items"),
    "single_choice": ("choices",),
    "multiple_choice": ("choices",),
}


def question_fields(question_type: str) -> dict[str, Field]:
    """The keys a question of ``question_type`` accepts."""
    keys = dict(_BASE)
    keys.update(_EXPR_KEYS)
    if question_type not in ("calculate", "note"):
        keys.update(_ANSWERABLE)
    keys.update(_TYPE_KEYS[question_type])
    for key in _REQUIRED_TYPE_KEYS.get(question_type, ()):
        keys[key] = replace(keys[key], required=True)
    if question_type != "calculate":
        keys["label"] = replace(keys["label"], required=True)
    return keys


ALL_QUESTION_KEYS: frozenset[str] = frozenset(k for t in QUESTION_TYPES for k in question_fields(t))
