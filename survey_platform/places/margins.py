"""Population margins of a city for survey weighting: which variables and categories, and what the values mean.

A city's margins are ``{variable: {category: value}}``. They are checked against the registered survey
questionnaires (pure functions here; the service gathers the questionnaires):

- a **variable** is the id of a weighting question (``weighting_variable: true``) of a registered survey
  questionnaire (:meth:`Questionnaire.weighting_variables`);
- its **categories** are that question's answers as text: the choice codes of a single-choice question,
  ``true``/``false`` for a yes/no question, the integers ``min..max`` of a bounded integer question (at most
  :data:`MAX_INTEGER_CATEGORIES` of them). Every category must have a value and no other category may appear;
  when several registered versions declare the variable with different categories, the margin must match one
  of them exactly;
- the **values** of one variable are either all **shares** or all **counts**, told apart by their size: when every
  value is at most 1 they are shares and must sum to 1 (± :data:`SHARE_TOLERANCE`); otherwise they are population
  counts. Every value must be positive and finite (a category with no population would give its respondents a
  weight of zero; such a category does not belong in the questionnaire).

Every problem names the city, the variable and, where it has one, the category.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from survey_platform.questionnaire import Questionnaire
from survey_platform.storage.errors import FieldProblem

SHARE_TOLERANCE = 1e-6
MAX_INTEGER_CATEGORIES = 200
MAX_LISTED = 20

#: variable id -> the category sets it may have (one per distinct declaration, newest first)
WeightingCategories = Mapping[str, Sequence[tuple[str, ...]]]


def question_categories(questionnaire: Questionnaire, question_id: str) -> tuple[str, ...] | None:
    """The margin categories of one weighting question, or None when they cannot be listed."""
    question = next(q for q in questionnaire.questions if q.id == question_id)
    if question.type == "single_choice" and question.choices is not None:
        return question.choices.codes()
    if question.type == "yes_no":
        return ("true", "false")
    if question.type == "integer" and question.min is not None and question.max is not None:
        low, high = math.ceil(question.min), math.floor(question.max)
        if 0 < high - low + 1 <= MAX_INTEGER_CATEGORIES:
            return tuple(str(k) for k in range(low, high + 1))
    return None


def weighting_categories(questionnaires: Iterable[Questionnaire]) -> dict[str, list[tuple[str, ...]]]:
    """Every weighting variable of ``questionnaires`` (give them newest first) with its distinct category sets.

    A variable whose categories cannot be listed (an unbounded integer question) maps to an empty list.
    """
    found: dict[str, list[tuple[str, ...]]] = {}
    for questionnaire in questionnaires:
        for variable in questionnaire.weighting_variables():
            options = found.setdefault(variable, [])
            categories = question_categories(questionnaire, variable)
            if categories is not None and categories not in options:
                options.append(categories)
    return found


def _listed(items: Iterable[str]) -> str:
    values = list(items)
    text = ", ".join(values[:MAX_LISTED])
    return text + (f" … ({len(values)} in all)" if len(values) > MAX_LISTED else "")


def _closest(given: set[str], options: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """The declaration sharing most categories with the margin (the newest among equals)."""
    return max(options, key=lambda option: len(given & set(option)))


def margin_problems(
    city: str, margins: Mapping[str, Mapping[str, float]], known: WeightingCategories, at: str = "$.margins"
) -> list[FieldProblem]:
    """Every problem of one city's margins (empty when they can be used for weighting); paths start with ``at``."""
    problems: list[FieldProblem] = []
    for variable, values in margins.items():
        path = f"{at}.{variable}"
        where = f"城市 {city} 的变量 {variable} / city {city!r}, variable {variable!r}"
        if variable not in known:
            problems.append(
                FieldProblem(
                    path,
                    "unknown",
                    f"城市 {city}：{variable} 不是已登记调查问卷的加权变量 / city {city!r}: {variable!r} is not a "
                    "weighting variable of a registered survey questionnaire (expected one of "
                    f"{_listed(sorted(known)) or 'none: no survey questionnaire declares one'})",
                )
            )
            continue
        options = known[variable]
        if not options:
            problems.append(
                FieldProblem(
                    path,
                    "categories",
                    f"{where}: 该题的类别无法列举（无界整数题），不能给出边际 / the question's categories cannot be "
                    "listed (an integer question without both bounds), so it cannot hold margins",
                )
            )
            continue
        given = set(values)
        if given not in ({*option} for option in options):
            expected = _closest(given, options)
            problems.extend(
                FieldProblem(
                    f"{path}.{category}",
                    "unknown",
                    f"{where}: 未知类别 {category} / unknown category {category!r} (expected the categories "
                    f"{_listed(expected)})",
                )
                for category in values
                if category not in expected
            )
            problems.extend(
                FieldProblem(
                    f"{path}.{category}",
                    "required",
                    f"{where}: 缺少类别 {category} / category {category!r} is missing (every category of the "
                    f"variable needs a value: {_listed(expected)})",
                )
                for category in expected
                if category not in given
            )
        problems.extend(_value_problems(path, where, values))
    return problems


def _value_problems(path: str, where: str, values: Mapping[str, float]) -> list[FieldProblem]:
    problems = [
        FieldProblem(
            f"{path}.{category}",
            "range",
            f"{where}, 类别 {category}: 应为正的有限数值 / category {category!r}: expected a positive share or "
            f"count, got {value!r}",
        )
        for category, value in values.items()
        if not (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and value > 0
        )
    ]
    if problems or not values:
        return problems
    if all(value <= 1 for value in values.values()):
        total = math.fsum(values.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            problems.append(
                FieldProblem(
                    path,
                    "sum",
                    f"{where}: 各值均不大于 1，按比例读取，其和应为 1（±{SHARE_TOLERANCE:g}），实为 {total:.6g} / "
                    f"all values are at most 1, so they are shares and must sum to 1 ± {SHARE_TOLERANCE:g}, got "
                    f"{total:.6g} (counts need at least one value above 1)",
                )
            )
    return problems


__all__ = [
    "MAX_INTEGER_CATEGORIES",
    "SHARE_TOLERANCE",
    "WeightingCategories",
    "margin_problems",
    "question_categories",
    "weighting_categories",
]
