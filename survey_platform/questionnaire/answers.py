"""Validate a submitted answer set against a questionnaire (the server's check of a response or an audit).

Pure: :func:`validate_answers` returns an :class:`AnswerCheck` with every bad field (``answers.<id>`` or
``answers.<matrix>.<item>``), the eligibility after screening and the clean values (calculations filled in).

Rules (docs/questionnaire-format.md, "Answer sets"):

* unknown keys are errors; a value of ``null`` is the same as no answer; every answer sent is type-checked, even
  one that is then dropped (a malformed response is an error whatever the skip logic says);
* answers to questions that are not relevant (skip logic, a non-relevant section, or after a failed screening
  question) are **dropped**, not rejected: they are left out of ``values`` and listed in ``dropped`` (a client may
  keep stale answers after the respondent changed an earlier answer); expressions see them as null;
* required applies only to relevant questions; a likert "don't know"/"not applicable" code is an answer;
* a constraint evaluating to null is satisfied; an evaluation error of a constraint is a field error;
* a failed screening question makes ``eligible`` false and every later question non-relevant;
* calculations are computed here; a value sent for a calculation is replaced (an evaluation error gives null);
* a self-completed response (the respondent alone: QR code or online) is not asked the sections filled by the
  interviewer (``filled_by: interviewer``): their questions are not relevant.

Messages are bilingual, Chinese first: ``"中文 / English"``, and each says what was expected and what came
(``"expected an integer 1–10 or one of dont_know, not_applicable, not the text '7'"``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .expr import ExprEvalError, evaluate
from .expr.fast import Evaluator, evaluator_for
from .expr.temporal import temporal_key
from .model import Question, Questionnaire, Scale, text
from .read import did_you_mean

MAX_VENUE_LENGTH = 200
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TEMPORAL = {
    "date": ("日期", "YYYY-MM-DD"),
    "time": ("时间", "HH:MM[:SS]"),
    "datetime": ("日期时间", "YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]"),
}


@dataclass(frozen=True, slots=True)
class FieldError:
    """A bad field: ``path`` like ``answers.q_age`` or ``answers.supply_matrix.q_variety``."""

    path: str
    code: str  # unknown, type, range, choice, duplicate, count, length, format, required, constraint, expression
    message: str


@dataclass(frozen=True, slots=True)
class AnswerCheck:
    """The verdict on an answer set; ``values`` holds the accepted answers and the calculations."""

    errors: tuple[FieldError, ...]
    eligible: bool
    values: dict[str, Any]
    dropped: tuple[str, ...] = field(
        default=()
    )  # answer keys dropped because their question was not relevant

    @property
    def ok(self) -> bool:
        return not self.errors


def _bi(zh: str, en: str) -> str:
    return f"{zh} / {en}"


class _Errors(list):
    def add(self, path: str, code: str, zh: str, en: str) -> None:
        self.append(FieldError(path, code, _bi(zh, en)))


# -- what was expected, what came ------------------------------------------------------------------------------

MAX_LISTED = 20  # codes named in one message
MAX_SHOWN = 40  # characters of a sent value quoted in one message


def _listed(codes: Iterable[str], zh: bool = False) -> str:
    """``a, b, c`` (``a、b、c`` in Chinese), at most MAX_LISTED of them."""
    items = list(codes)
    shown = items[:MAX_LISTED]
    more = len(items) - len(shown)
    joined = ("、" if zh else ", ").join(shown)
    if more:
        joined += f" 等 {len(items)} 项" if zh else f" … ({len(items)} in all)"
    return joined


def _got(value: object, zh: bool = False) -> str:
    """How a sent value is named in a message: ``the text '7'``, ``true``, ``3.5``, ``a list``."""
    if isinstance(value, str):
        return f"文本 '{value[:MAX_SHOWN]}'" if zh else f"the text '{value[:MAX_SHOWN]}'"
    space = " " if zh else ""
    if isinstance(value, bool):
        return space + ("true" if value else "false")
    if isinstance(value, int | float):
        return space + repr(value)[:MAX_SHOWN]
    if isinstance(value, list | tuple):
        return "列表" if zh else "a list"
    if isinstance(value, Mapping):
        return "对象" if zh else "an object"
    return space + type(value).__name__


def _expect(errors: _Errors, path: str, code: str, expected: tuple[str, str], value: object) -> None:
    """``应为 X，而不是 Y / expected X, not Y``."""
    zh, en = expected
    errors.add(path, code, f"应为{zh}，而不是{_got(value, True)}", f"expected {en}, not {_got(value)}")


def _span(low: float | None, high: float | None) -> tuple[str, str]:
    """The bounds in words: `` 1–10``, `` ≥ 18``, `` ≤ 99`` or nothing."""
    if low is not None and high is not None:
        return f" {low}–{high}", f" {low}–{high}"
    if low is not None:
        return f" ≥ {low}", f" ≥ {low}"
    if high is not None:
        return f" ≤ {high}", f" ≤ {high}"
    return "", ""


def _on_scale(scale: Scale) -> tuple[str, str]:
    """What a likert answer may be: ``an integer 1–10 or one of dont_know, not_applicable``."""
    codes = scale.missing_codes()
    zh = f" {scale.min}–{scale.max} 的整数"
    en = f"an integer {scale.min}–{scale.max}"
    if codes:
        zh += f"或 {_listed(codes, True)} 之一"
        en += f" or one of {_listed(codes)}"
    return zh, en


def _one_of(codes: Iterable[str]) -> tuple[str, str]:
    items = list(codes)
    return f" {_listed(items, True)} 之一", f"one of {_listed(items)}"


# -- per-type coercion -------------------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)  # type: ignore[arg-type]


K = TypeVar("K")
V = TypeVar("V")


class _ByIdentity(Generic[K, V]):
    """A bounded memo keyed by the identity of immutable objects (hashing a whole questionnaire would cost more
    than it saves); each entry keeps its object alive, so an id is never reused while its entry exists."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._entries: dict[int, tuple[K, V]] = {}

    def get(self, owner: K, build: Callable[[K], V]) -> V:
        entry = self._entries.get(id(owner))
        if entry is None or entry[0] is not owner:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            entry = self._entries[id(owner)] = (owner, build(owner))
        return entry[1]


_CHOICE_CODES: _ByIdentity[Any, frozenset[str]] = _ByIdentity(4096)
_ITEM_IDS: _ByIdentity[Any, frozenset[str]] = _ByIdentity(4096)


def _choice_codes(question: Question) -> frozenset[str]:
    choices = question.choices
    return _CHOICE_CODES.get(choices, lambda owner: frozenset(owner.codes())) if choices else frozenset()


def _item_ids(question: Question) -> frozenset[str]:
    return _ITEM_IDS.get(question.items, lambda items: frozenset(item.id for item in items))


def _likert(scale: Scale, value: object, path: str, errors: _Errors) -> object:
    if isinstance(value, str):
        if value in scale.missing_codes():
            return value
        _expect(errors, path, "choice", _on_scale(scale), value)
        return None
    if not _is_int(value):
        _expect(errors, path, "type", _on_scale(scale), value)
        return None
    if not scale.min <= value <= scale.max:  # type: ignore[operator]
        _expect(errors, path, "range", _on_scale(scale), value)
        return None
    return value


def _codes(question: Question, value: object, path: str, errors: _Errors) -> object:
    codes = question.choices.codes() if question.choices else ()
    if not isinstance(value, list):
        _expect(
            errors,
            path,
            "type",
            (f"由 {_listed(codes, True)} 中的代码组成的列表", f"a list of codes from {_listed(codes)}"),
            value,
        )
        return None
    allowed = _choice_codes(question)
    seen: set[str] = set()
    for n, code in enumerate(value):
        if not isinstance(code, str) or code not in allowed:
            _expect(errors, f"{path}.{n}", "choice", _one_of(codes), code)
        elif code in seen:
            errors.add(
                f"{path}.{n}",
                "duplicate",
                f"选项 '{code}' 重复：每个选项至多选一次",
                f"'{code}' is listed twice: expected each code at most once",
            )
        if isinstance(code, str):
            seen.add(code)
    if not value:
        return None
    low, high = question.min_selected, question.max_selected
    if low is not None and len(value) < low:
        errors.add(
            path,
            "count",
            f"应至少选择 {low} 项，实际 {len(value)} 项",
            f"expected at least {low} choices, got {len(value)}",
        )
    if high is not None and len(value) > high:
        errors.add(
            path,
            "count",
            f"应最多选择 {high} 项，实际 {len(value)} 项",
            f"expected at most {high} choices, got {len(value)}",
        )
    return list(value)


def _number_expected(question: Question) -> tuple[str, str]:
    """``an integer 18–99`` / ``a number ≥ 0.5`` for an integer or decimal question."""
    zh_span, en_span = _span(question.min, question.max)
    if question.type == "integer":
        return (f"{zh_span} 的整数" if zh_span else "整数"), f"an integer{en_span}"
    return (f"{zh_span} 的数值" if zh_span else "数值"), f"a number{en_span}"


def _bounds(question: Question, value: float, path: str, errors: _Errors) -> bool:
    low, high = question.min, question.max
    if (low is not None and value < low) or (high is not None and value > high):
        _expect(errors, path, "range", _number_expected(question), value)
        return False
    return True


GEOPOINT_FIELDS: dict[str, tuple[float, float | None, str, str]] = {
    "lat": (-90, 90, "度", "degrees"),
    "lon": (-180, 180, "度", "degrees"),
    "accuracy": (0, None, "米", "metres"),
}


def _temporal(qtype: str, value: object, path: str, errors: _Errors) -> object:
    """A date, time or datetime as text in its ISO 8601 form (``_TEMPORAL``), or None with the error added."""
    zh, form = _TEMPORAL[qtype]
    if not isinstance(value, str):
        _expect(errors, path, "type", (f" {form} 格式的{zh}文本", f"a {qtype} as text {form}"), value)
        return None
    try:
        temporal_key(qtype, value)
    except ExprEvalError:
        _expect(errors, path, "format", (f"有效的{zh} {form}", f"a valid {qtype} {form}"), value)
        return None
    return value


#: the optional field of a geopoint saying when the position was taken (a datetime, like a datetime answer)
GEOPOINT_TIME = "time"


def _geopoint(question: Question, value: object, path: str, errors: _Errors) -> object:
    if not isinstance(value, Mapping):
        _expect(
            errors,
            path,
            "type",
            ("对象 {lat: 纬度, lon: 经度, accuracy: 精度（米）}", "an object {lat, lon, accuracy}"),
            value,
        )
        return None
    ok = True
    for key in value:
        if key not in GEOPOINT_FIELDS and key != GEOPOINT_TIME:
            errors.add(
                f"{path}.{key}",
                "unknown",
                f"未知的字段 '{str(key)[:MAX_SHOWN]}'：应只含 lat、lon、accuracy、time",
                f"unknown field '{str(key)[:MAX_SHOWN]}': expected only lat, lon, accuracy, time",
            )
            ok = False
    if value.get(GEOPOINT_TIME) is not None:
        ok = _temporal("datetime", value[GEOPOINT_TIME], f"{path}.{GEOPOINT_TIME}", errors) is not None and ok
    for key, (low, high, zh_unit, en_unit) in GEOPOINT_FIELDS.items():
        number = value.get(key)
        if number is None and key == "accuracy" and question.max_accuracy is None:
            continue
        span = f"{low}–{high}" if high is not None else f"≥ {low}"
        expected = (f" {key}：{span} {zh_unit}的数值", f"{key} as a number {span} {en_unit}")
        if number is None:
            errors.add(
                f"{path}.{key}",
                "required",
                f"缺少 {key}，应为 {span} {zh_unit}的数值",
                f"{key} is missing: expected a number {span} {en_unit}",
            )
            ok = False
        elif not _is_number(number) or not (low <= number and (high is None or number <= high)):
            _expect(errors, f"{path}.{key}", "type" if not _is_number(number) else "range", expected, number)
            ok = False
    accuracy = value.get("accuracy")
    if ok and question.max_accuracy is not None and accuracy > question.max_accuracy:
        errors.add(
            f"{path}.accuracy",
            "range",
            f"定位精度应不超过 {question.max_accuracy} 米，实际 {accuracy} 米",
            f"expected an accuracy of at most {question.max_accuracy} m, got {accuracy} m",
        )
        ok = False
    return dict(value) if ok else None


def _photos(question: Question, value: object, path: str, errors: _Errors) -> object:
    if not isinstance(value, list):
        _expect(
            errors,
            path,
            "type",
            (
                "照片 ID（64 位小写十六进制 SHA-256）的列表",
                "a list of photo ids (SHA-256 in 64 lowercase hex digits)",
            ),
            value,
        )
        return None
    seen: set[str] = set()
    ok = True
    for n, photo in enumerate(value):
        if not isinstance(photo, str) or not _SHA256.fullmatch(photo):
            _expect(
                errors,
                f"{path}.{n}",
                "format",
                ("照片 ID：64 位小写十六进制 SHA-256", "a photo id: a SHA-256 in 64 lowercase hex digits"),
                photo,
            )
            ok = False
        elif photo in seen:
            errors.add(
                f"{path}.{n}",
                "duplicate",
                "照片重复：每张照片只应列出一次",
                "the photo is listed twice: expected each photo once",
            )
            ok = False
        else:
            seen.add(photo)
    if not value:
        return None
    low, high, count = question.min_count, question.max_count, len(value)
    if count < low:
        errors.add(
            path,
            "count",
            f"应至少 {low} 张照片，实际 {count} 张",
            f"expected at least {low} photos, got {count}",
        )
        ok = False
    if count > high:
        errors.add(
            path,
            "count",
            f"应最多 {high} 张照片，实际 {count} 张",
            f"expected at most {high} photos, got {count}",
        )
        ok = False
    return list(value) if ok else None


def coerce(question: Question, value: object, path: str, errors: _Errors) -> object:
    """The accepted form of one answer (None when missing or invalid; problems go to ``errors``)."""
    if value is None:
        return None
    qtype = question.type
    if qtype == "likert":
        return _likert(question.scale, value, path, errors)  # type: ignore[arg-type]
    if qtype == "matrix":
        if not isinstance(value, Mapping):
            item_list = [item.id for item in question.items]
            zh_scale, en_scale = _on_scale(question.scale)  # type: ignore[arg-type]
            _expect(
                errors,
                path,
                "type",
                (
                    f"对象 {{条目: 答案}}，条目为 {_listed(item_list, True)}，答案为{zh_scale}",
                    f"an object {{item: answer}} with items {_listed(item_list)}, each answer {en_scale}",
                ),
                value,
            )
            return None
        items = _item_ids(question)
        out: dict[str, object] = {}
        for key, answer in value.items():
            if key not in items:
                hint = did_you_mean(str(key), items)
                item_list = [item.id for item in question.items]
                errors.add(
                    f"{path}.{key}",
                    "unknown",
                    f"未知的条目 '{str(key)[:MAX_SHOWN]}'：应为 {_listed(item_list, True)} 之一",
                    f"unknown item '{str(key)[:MAX_SHOWN]}'{hint} (expected one of {_listed(item_list)})",
                )
                continue
            accepted = (
                _likert(question.scale, answer, f"{path}.{key}", errors) if answer is not None else None
            )  # type: ignore[arg-type]
            if accepted is not None:
                out[key] = accepted
        return out or None
    if qtype == "single_choice":
        allowed = _choice_codes(question)
        if not isinstance(value, str) or value not in allowed:
            codes = question.choices.codes() if question.choices else ()
            _expect(errors, path, "choice", _one_of(codes), value)
            return None
        return value
    if qtype == "multiple_choice":
        return _codes(question, value, path, errors)
    if qtype == "yes_no":
        if not isinstance(value, bool):
            _expect(errors, path, "type", (" true 或 false", "true or false"), value)
            return None
        return value
    if qtype == "integer":
        if not _is_int(value):
            _expect(errors, path, "type", _number_expected(question), value)
            return None
        return value if _bounds(question, value, path, errors) else None  # type: ignore[arg-type]
    if qtype == "decimal":
        if not _is_number(value):
            _expect(errors, path, "type", _number_expected(question), value)
            return None
        return value if _bounds(question, value, path, errors) else None  # type: ignore[arg-type]
    if qtype in ("text", "venue"):
        limit = question.max_length if qtype == "text" else MAX_VENUE_LENGTH
        if not isinstance(value, str):
            _expect(
                errors,
                path,
                "type",
                (f"不超过 {limit} 个字符的文本", f"text of at most {limit} characters"),
                value,
            )
            return None
        if len(value) > limit:
            errors.add(
                path,
                "length",
                f"应不超过 {limit} 个字符，实际 {len(value)} 个",
                f"expected at most {limit} characters, got {len(value)}",
            )
            return None
        return value if value.strip() else None
    if qtype in ("date", "time", "datetime"):
        return _temporal(qtype, value, path, errors)
    if qtype == "geopoint":
        return _geopoint(question, value, path, errors)
    if qtype == "photo":
        return _photos(question, value, path, errors)
    return None


Coercer = Callable[[object, str, "_Errors"], object]
_JUST_INT = {int}


def _coercer(question: Question) -> Coercer:
    """:func:`coerce` for one question, answering the common valid values directly (same results by construction)."""
    qtype = question.type
    scale = question.scale
    if qtype == "likert" and scale is not None:
        low, high = scale.min, scale.max

        def likert(value: object, path: str, errors: _Errors) -> object:
            if type(value) is int and low <= value <= high:
                return value
            return coerce(question, value, path, errors)

        return likert
    if qtype == "matrix" and scale is not None:
        items = _item_ids(question)
        on_scale = frozenset(range(scale.min, scale.max + 1))

        def matrix(value: object, path: str, errors: _Errors) -> object:
            if type(value) is dict and value and value.keys() <= items:
                points = value.values()
                # types first: True and 1.0 equal a point of the scale (and a list would not hash)
                if set(map(type, points)) == _JUST_INT and on_scale.issuperset(points):
                    return dict(value)
            return coerce(question, value, path, errors)

        return matrix
    if qtype == "single_choice":
        allowed = _choice_codes(question)

        def single_choice(value: object, path: str, errors: _Errors) -> object:
            if type(value) is str and value in allowed:
                return value
            return coerce(question, value, path, errors)

        return single_choice
    if qtype == "yes_no":

        def yes_no(value: object, path: str, errors: _Errors) -> object:
            return value if type(value) is bool else coerce(question, value, path, errors)

        return yes_no

    def general(value: object, path: str, errors: _Errors) -> object:
        return coerce(question, value, path, errors)

    return general


# -- evaluation environment ------------------------------------------------------------------------------------


class _Env(Mapping[str, object]):
    """Question id -> value as expressions see it (null when not relevant), computed lazily and memoised.

    ``cut``: position (in document order) of the failed screening question; later questions are not relevant.
    ``skipped``: questions not asked at all (the interviewer's sections of a self-completed response).
    """

    def __init__(
        self,
        questionnaire: Questionnaire,
        accepted: Mapping[str, object],
        cut: int | None,
        skipped: frozenset[str] = frozenset(),
    ) -> None:
        plan = _plan(questionnaire)
        self.plan = plan
        self.known = plan.known
        self.names = plan.names
        self.accepted = accepted
        self.cut = cut
        self.order = plan.order
        self.owner = plan.owner
        self._gates = plan.gates
        self._values: dict[str, object] = {}
        self._skipped = skipped
        self._relevant: dict[str, bool] = dict(plan.ungated) if cut is None else {}
        for key in skipped:
            self._relevant[key] = False
        self._busy: set[str] = set()

    def __iter__(self) -> Iterator[str]:
        return iter([*self.order, *self.owner])

    def __len__(self) -> int:
        return len(self.order) + len(self.owner)

    def __getitem__(self, key: str) -> object:
        values = self._values
        if key in values:
            return values[key]
        if key not in self.names:
            raise KeyError(key)
        if key in self._busy:  # cannot happen for a loaded questionnaire (cycles are rejected)
            return None
        self._busy.add(key)
        value = values[key] = self._value(key)
        self._busy.discard(key)
        return value

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        """``Mapping.get`` without its exception round trip (expressions read answers through it)."""
        values = self._values
        if key in values:
            return values[key]
        return self[key] if key in self.names else default

    def _value(self, key: str) -> object:
        if key in self.owner:
            owner = self.owner[key]
            if not self.relevant(owner):
                return None
            row = self.accepted.get(owner)
            point = row.get(key) if isinstance(row, Mapping) else None
            return point if _is_int(point) else None
        question = self.known[key]
        if not self.relevant(key):
            return None
        if question.type == "calculate" and question.calculation is not None:
            try:
                return evaluate(question.calculation.compiled, self)
            except ExprEvalError:
                return None
        value = self.accepted.get(key)
        if question.type == "likert" and isinstance(value, str):
            return None  # don't know / not applicable: missing
        if question.type == "matrix":
            return None
        return value

    def relevant(self, key: str) -> bool:
        found = self._relevant.get(key)
        if found is None:
            found = self._relevant[key] = self._relevance(key)
        return found

    def _relevance(self, key: str) -> bool:
        if key in self._skipped:
            return False
        if self.cut is not None and self.order[key] > self.cut:
            return False
        for gate in self._gates[key]:
            try:
                if gate(self, None) is not True:
                    return False
            except ExprEvalError:
                return False
        return True


class _Plan:
    """Everything about a questionnaire that validation needs and that does not depend on the answers."""

    __slots__ = (
        "coercers",
        "constraints",
        "gates",
        "interviewer",
        "known",
        "names",
        "order",
        "owner",
        "paths",
        "questions",
        "screened",
        "screens",
        "steps",
        "ungated",
    )

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.questions = questionnaire.questions
        self.known = {q.id: q for q in self.questions}
        self.order = {q.id: n for n, q in enumerate(self.questions)}
        self.owner = {item.id: q.id for q in self.questions if q.type == "matrix" for item in q.items}
        gates: dict[str, tuple[Evaluator, ...]] = {}
        for question in self.questions:
            section = questionnaire.section_of(question.id)
            gates[question.id] = tuple(
                evaluator_for(expression.compiled)
                for expression in (section.relevant, question.relevant)
                if expression is not None
            )
        self.gates = gates
        self.interviewer = frozenset(
            q.id
            for section in questionnaire.sections
            if section.filled_by == "interviewer"
            for q in section.questions
        )
        """Questions of the sections filled by the interviewer (not asked in a self-completed response)."""
        self.ungated = {
            qid: True for qid, found in gates.items() if not found
        }  # relevant unless screened out
        self.coercers = {q.id: _coercer(q) for q in self.questions if q.type not in ("note", "calculate")}
        self.screens = {
            q.id: evaluator_for(q.screen.compiled) for q in self.questions if q.screen is not None
        }
        self.constraints = {
            q.id: evaluator_for(q.constraint.compiled) for q in self.questions if q.constraint is not None
        }
        self.paths = {q.id: f"answers.{q.id}" for q in self.questions}
        self.names = frozenset(self.order) | frozenset(self.owner)
        self.screened = tuple(
            (position, q.id, self.screens[q.id])
            for position, q in enumerate(self.questions)
            if q.id in self.screens
        )
        self.steps = tuple(
            (
                q,
                q.id,
                q.type,
                self.paths[q.id],
                q.required,
                self.constraints.get(q.id),
                _item_ids(q) if q.type == "matrix" else None,
            )
            for q in self.questions
        )
        """Per question, in order: (question, id, type, path, required, constraint, matrix item ids or None)."""


_PLANS: _ByIdentity[Questionnaire, _Plan] = _ByIdentity(256)


def _plan(questionnaire: Questionnaire) -> _Plan:
    """The (cached) plan of ``questionnaire``."""
    return _PLANS.get(questionnaire, _Plan)


def _screen(
    questionnaire: Questionnaire, accepted: Mapping[str, object], skipped: frozenset[str] = frozenset()
) -> tuple[int | None, _Env]:
    """(cut, env): ``env`` is the uncut environment, memoised; it is exactly ``_Env(..., cut)`` when cut is None."""
    env = _Env(questionnaire, accepted, None, skipped)
    return _find_cut(env), env


def _find_cut(env: _Env) -> int | None:
    """Position of the first relevant screening question whose screen is false (None: eligible)."""
    for position, qid, screen in env.plan.screened:
        if not env.relevant(qid):
            continue
        this = env[qid]
        if this is None:
            continue
        try:
            result = screen(env, this)
        except ExprEvalError:
            result = None
        if result is False:
            return position
    return None


_CONTAINERS = (list, dict)


def validate_answers(
    questionnaire: Questionnaire, answers: Mapping[str, object], *, self_completed: bool = False
) -> AnswerCheck:
    """Check an answer set (question id -> answer; a matrix answer is ``{item id: point or code}``).

    ``self_completed``: the respondent answered alone (QR code, online), so the sections filled by the interviewer
    were not asked: their questions are not relevant (not required; answers sent for them are dropped).
    """
    errors = _Errors()
    if not isinstance(answers, Mapping):
        errors.add(
            "answers", "type", "答案应为映射 {题目: 答案}", "answers must be a mapping {question: answer}"
        )
        return AnswerCheck(tuple(errors), True, {})
    plan = _plan(questionnaire)
    known = plan.known
    accepted: dict[str, object] = {}
    invalid: set[str] = set()
    paths = plan.paths
    coercers = plan.coercers
    for key, value in answers.items():
        coercer = coercers.get(key)  # a key that is not a string is no question id either
        if coercer is None:
            question = known.get(key) if isinstance(key, str) else None
            if question is not None and question.type == "calculate":
                continue  # computed below
            path = paths.get(key) or f"answers.{key}"
            hint = did_you_mean(str(key), [q for q in known if known[q].type != "note"])
            errors.add(path, "unknown", f"未知的题目 '{key}'", f"unknown question '{key}'{hint}")
            continue
        before = len(errors)
        accepted[key] = coercer(value, paths[key], errors)
        if len(errors) > before:
            invalid.add(key)
    skipped = plan.interviewer if self_completed else frozenset()
    cut, env = _screen(questionnaire, accepted, skipped)
    if cut is not None:  # an eligible respondent keeps the screening environment and its memoised values
        env = _Env(questionnaire, accepted, cut, skipped)
    values: dict[str, Any] = {}
    dropped: list[str] = []
    for question, qid, qtype, path, required, check, items in plan.steps:
        if not env.relevant(qid):
            if qid in answers and answers[qid] is not None and qtype != "calculate":
                dropped.append(qid)
            continue
        if qtype == "calculate":
            if env[qid] is not None:
                values[qid] = env[qid]
            continue
        if qid in invalid and (qtype != "matrix" or not isinstance(answers.get(qid), Mapping)):
            continue  # already reported as malformed
        value = accepted.get(qid)
        empty = value is None or (not value and type(value) in _CONTAINERS)  # no answer: null, [] or {}
        if items is not None and required:
            if not (type(value) is dict and value.keys() >= items):  # some item of the matrix unanswered
                row = value if isinstance(value, Mapping) else {}
                raw = answers.get(qid)
                raw_row = raw if isinstance(raw, Mapping) else {}
                for item in question.items:
                    if item.id not in row and raw_row.get(item.id) is None:
                        errors.add(f"{path}.{item.id}", "required", "必答", "an answer is required")
        elif required and empty:
            errors.add(path, "required", "必答", "an answer is required")
        if empty:
            continue
        if check is not None:
            _constraint(question, check, env, path, errors)
        values[qid] = value
    return AnswerCheck(tuple(errors), cut is None, values, tuple(dropped))


def _constraint(question: Question, check: Evaluator, env: _Env, path: str, errors: _Errors) -> None:
    this = env[question.id] if question.type != "matrix" else None
    try:
        result = check(env, this)
    except ExprEvalError as exc:
        errors.append(FieldError(path, "expression", exc.message))
        return
    if result is False:
        message = question.constraint_message
        if message is not None:
            zh, en = text(message, "zh-CN"), text(message, "en")
            errors.append(FieldError(path, "constraint", zh if zh == en else _bi(zh, en)))
        else:
            rule = question.constraint.source if question.constraint is not None else ""
            errors.add(
                path,
                "constraint",
                f"答案不符合约束条件：应满足 {rule}",
                f"the answer does not satisfy the constraint: expected {rule}",
            )
