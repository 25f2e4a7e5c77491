"""The release's survey design: strata = city, equal design weights within a city, each city raked to its margins.

Design weights are N_c / n_c (resident population over the city's interviews; Lohr 2019 §3.2). Each city with
margins is raked to them (IPF, ``SurveyDesign.rake``: survey::calibrate(calfun = "raking"), Deville & Särndal
1992), all cities in one call with (city, category) interaction codes; a city without margins keeps its equal
weights (for a variable it has no margin for, its respondents form one cell with total N_c, a constraint its weights
already meet, so neither its weights nor its linearisation variance change). A margin's values are stored as counts or shares; each
variable's values are used as proportions of their sum, times N_c, so that every variable of a city has the same
total and raking converges.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scoring.survey import SurveyDesign
from scoring.weights import CalibrationError
from survey_platform.questionnaire.model import Questionnaire

from .errors import ReleaseInputError
from .model import CityInput, CompositionRow

RAKED = "raked"
EQUAL = "equal_weights_no_margins"
WEIGHTING_LABELS = {
    RAKED: "按本市人口边际迭代加权 / raked to the city's population margins",
    EQUAL: "等权（未提供人口边际） / equal weights: no margins",
    "no_data": "有效样本不足 2 份 / fewer than 2 valid interviews",
}


@dataclass(frozen=True)
class Weighting:
    """The calibrated design and what each city got. Cities are positions in ``cities`` (sorted codes), categories
    positions in the weighting question's choice list (−1: unanswered): integer codes keep numpy's factorising
    fast."""

    design: SurveyDesign
    cities: list[str]  # sorted city codes; city_index[i] is a position in this list
    city_index: NDArray[np.int64]
    status: dict[str, str]  # city → RAKED or EQUAL
    variables: dict[str, list[str]]  # city → the raked variables
    categories: dict[str, list[str]]  # weighting variable → its choice codes
    codes: dict[
        str, NDArray[np.int64]
    ]  # weighting variable → category position per respondent (−1 unanswered)
    population_shares: dict[str, dict[str, dict[str, float]]]  # city → variable → category → share


def margin_shares(city: CityInput, questionnaire: Questionnaire) -> dict[str, dict[str, float]]:
    """A city's margins as population shares per variable, checked against the questionnaire.

    Errors (ReleaseInputError naming city, variable, category): a variable that is not a weighting question, a
    category that is not one of its choices, a negative or non-finite value, a variable whose values are all zero.
    """
    weighting = set(questionnaire.weighting_variables())
    out: dict[str, dict[str, float]] = {}
    for variable, values in sorted(city.margins.items()):
        if variable not in weighting:
            raise ReleaseInputError(
                f"城市 {city.code} 的加权边际 {variable!r} 不是问卷的加权题目（{sorted(weighting)}） / city "
                f"{city.code}: margin variable {variable!r} is not a weighting question of the questionnaire "
                f"(one of {sorted(weighting)})"
            )
        question = questionnaire.question(variable)
        codes = set(question.choices.codes()) if question.choices is not None else set()
        for category, value in values.items():
            if category not in codes:
                raise ReleaseInputError(
                    f"城市 {city.code} 的加权边际 {variable!r} 含未知类别 {category!r}（可用：{sorted(codes)}） / "
                    f"city {city.code}: margin {variable!r} has category {category!r}, which is not one of the "
                    f"question's choices {sorted(codes)}"
                )
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ReleaseInputError(
                    f"城市 {city.code} 的加权边际 {variable!r} 类别 {category!r} 的值 {value!r} 无效 / city "
                    f"{city.code}: margin {variable!r}, category {category!r}: value {value!r} must be a finite "
                    "number >= 0"
                )
        total = float(sum(values.values()))
        if total <= 0:
            raise ReleaseInputError(
                f"城市 {city.code} 的加权边际 {variable!r} 合计为 0 / city {city.code}: margin {variable!r} sums "
                "to 0"
            )
        out[variable] = {category: float(value) / total for category, value in sorted(values.items())}
    return out


def build_design(
    questionnaire: Questionnaire,
    cities: Sequence[CityInput],
    city_codes: NDArray[np.str_],
    answers: Sequence[Mapping[str, Any]],
    *,
    tol: float = 1e-10,
) -> Weighting:
    """Stratified design (strata = city, weights N_c / n_c), raked city by city to the margins (module docstring).

    ``city_codes`` holds every respondent's city; every city in it has at least 2 respondents. Errors
    (ReleaseInputError naming city, variable and category): a respondent of a raked city without an answer to a
    raked variable; respondents in a category the margins give no population; a category with population but no
    respondents in the city (merge it with a neighbouring category).
    """
    by_code = {c.code: c for c in cities}
    present, city_index, n_c = np.unique(city_codes, return_inverse=True, return_counts=True)
    present_codes = present.tolist()
    city_index = city_index.reshape(-1).astype(np.int64)
    population = np.array([by_code[c].population for c in present_codes], dtype=np.float64)
    weights = (population / n_c)[city_index]
    shares = {c.code: margin_shares(c, questionnaire) for c in cities}
    variables = list(questionnaire.weighting_variables())
    categories = {v: list(_choices(questionnaire, v)) for v in variables}
    codes = {v: category_index(answers, v, categories[v]) for v in variables}
    raked_vars = sorted({v for code in present_codes for v in shares[code]})
    margins: dict[str, tuple[Any, dict[Any, float]]] = {}
    for variable in raked_vars:
        raw = codes[variable]
        has = np.array([variable in shares[c] for c in present_codes])
        cell = np.where(has[city_index], raw, _NO_MARGIN)
        totals: dict[Any, float] = {}
        for i, code in enumerate(present_codes):
            pop = float(by_code[code].population)
            if variable not in shares[code]:
                totals[(i, _NO_MARGIN)] = pop
                continue
            _check_cells(code, variable, shares[code][variable], categories[variable], raw[city_index == i])
            for category, share in shares[code][variable].items():
                if share > 0:
                    totals[(i, categories[variable].index(category))] = share * pop
        margins[variable] = ((city_index, cell), totals)
    design = SurveyDesign(weights, strata=city_index)
    if margins:
        try:
            design = design.rake(margins, tol=tol)
        except CalibrationError as exc:  # inconsistent margins the checks above did not foresee
            raise ReleaseInputError(f"加权失败 / raking failed: {exc}") from None
    return Weighting(
        design=design,
        cities=present_codes,
        city_index=city_index,
        status={code: (RAKED if shares[code] else EQUAL) for code in present_codes},
        variables={code: sorted(shares[code]) for code in present_codes},
        categories=categories,
        codes=codes,
        population_shares={code: shares[code] for code in present_codes},
    )


_NO_MARGIN = -2  # the one cell of a city without margins for a variable


def _choices(questionnaire: Questionnaire, variable: str) -> tuple[str, ...]:
    question = questionnaire.question(variable)
    return question.choices.codes() if question.choices is not None else ()


def category_index(
    answers: Sequence[Mapping[str, Any]], question: str, categories: list[str]
) -> NDArray[np.int64]:
    """Position of each answer to ``question`` in ``categories`` (−1 when unanswered or not a category)."""
    table = {c: i for i, c in enumerate(categories)}
    return np.fromiter(
        map(table.get, map(dict.get, answers, repeat(question)), repeat(-1)),  # type: ignore[arg-type]
        np.int64,
        len(answers),
    )


def _check_cells(
    city: str, variable: str, shares: Mapping[str, float], categories: list[str], answered: NDArray[np.int64]
) -> None:
    """Every respondent in a category with population, every category with population has respondents."""
    if (answered < 0).any():
        k = int((answered < 0).sum())
        raise ReleaseInputError(
            f"城市 {city} 有 {k} 位受访者未回答加权题目 {variable!r} / city {city}: {k} respondent(s) did not "
            f"answer the weighting question {variable!r}"
        )
    counts = np.bincount(answered, minlength=len(categories))
    for j, category in enumerate(categories):
        share = shares.get(category, 0.0)
        if counts[j] > 0 and share <= 0:
            raise ReleaseInputError(
                f"城市 {city} 的加权题目 {variable!r} 类别 {category!r} 有 {int(counts[j])} 位受访者，但边际中其人口为 0 "
                f"或缺失 / city {city}: {int(counts[j])} respondent(s) in category {category!r} of {variable!r}, "
                "which has no population in the margins"
            )
        if share > 0 and counts[j] == 0:
            raise ReleaseInputError(
                f"城市 {city} 的加权题目 {variable!r} 类别 {category!r} 没有受访者，无法加权（请与相邻类别合并） / "
                f"city {city}: category {category!r} of {variable!r} has population but no respondents, so the "
                "weights cannot reach it (merge it with a neighbouring category)"
            )


def composition(weighting: Weighting, city: str, mask: NDArray[np.bool_]) -> list[CompositionRow]:
    """Sample share, weighted share and population share of every category of every weighting variable."""
    w = weighting.design.weights[mask]
    total_w = float(w.sum())
    n = int(mask.sum())
    rows: list[CompositionRow] = []
    for variable, categories in weighting.categories.items():
        answered = weighting.codes[variable][mask]
        ok = answered >= 0
        counts = np.bincount(answered[ok], minlength=len(categories))
        sums = np.bincount(answered[ok], weights=w[ok], minlength=len(categories))
        pop = weighting.population_shares.get(city, {}).get(variable)
        for j, category in enumerate(categories):
            rows.append(
                CompositionRow(
                    variable=variable,
                    category=category,
                    sample_count=int(counts[j]),
                    sample_share=int(counts[j]) / n if n else 0.0,
                    weighted_share=float(sums[j]) / total_w if total_w > 0 else 0.0,
                    population_share=None if pop is None else float(pop.get(category, 0.0)),
                )
            )
    return rows
