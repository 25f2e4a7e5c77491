"""The pure "answers → results" function of a release (issue 11's method), and the inputs' fingerprint.

Survey releases (Lumley 2010 *Complex Surveys*; R survey's calibrate + svyby + svycontrast):

1. Respondent scores: items rescaled with the questionnaire's goalposts (reversed items turned), aggregated up the
   index tree with its ``min_share`` rules (``scoring.index``: OECD/JRC 2008 Handbook §5–6).
2. Design: strata = city, design weights N_c / n_c, each city raked to its own margins on the weighting questions
   (``publishing.weighting``; survey::calibrate(calfun = "raking")); a city without margins keeps equal weights.
3. City estimates of the index, every dimension and indicator: design-based means with linearisation SEs from the
   calibration residuals and t intervals on the design df (``scoring.cities.city_results``; survey::svyby(svymean)).
4. National figure: cities weighted by population (or population and retail sales), SE from the city covariance
   (``scoring.cities.national_figure``; survey::svycontrast); provinces the same way over their cities.
5. Ranks: point rank, marginal and simultaneous rank confidence sets, tiers (``scoring.ranking.rank_cities``;
   Mogstad, Romano, Shaikh & Wilhelm 2024; R csranks); cities below the minimum sample are not ranked.
6. City detail: every node against the national figure (z-tests of ``scoring.cities.compare_to_national``,
   Holm-adjusted over the city's tests: statsmodels ``multipletests(method="holm")``, Holm 1979); key drivers
   (``scoring.drivers.key_drivers``, Johnson 2000 relative weights) and the importance–performance grid (Martilla &
   James 1977); rank robustness under weight perturbation (``scoring.sensitivity``, Saisana et al. 2005); sample
   composition before and after weighting; exclusions.
7. Change since the previous release: independent samples, d = θ − θ_prev, se = √(se² + se_prev²), normal interval.

Inspection releases: ``publishing.inspections``. Everything is deterministic for given inputs (the only randomness,
rank sets and sensitivity, uses ``numpy.random.default_rng(method.seed)``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats
from threadpoolctl import threadpool_limits

from scoring.cities import CityResults, NodeResults, city_results, combine_city_weights, national_figure
from scoring.drivers import importance_performance, key_drivers
from scoring.index import compute_index, score_items
from scoring.ranking import CityRanking, rank_cities, rank_confidence_sets
from scoring.sensitivity import weight_sensitivity
from scoring.survey import Estimate, InsufficientDataError
from scoring.weights import kish_effective_n
from survey_platform.questionnaire.columns import item_columns, scale_points
from survey_platform.questionnaire.model import Questionnaire, text

from .errors import ReleaseInputError
from .inspections import inspection_results
from .model import (
    Change,
    CityCounts,
    CityDetail,
    CityInput,
    CityRankingRow,
    Claim,
    DriverAnalysisResult,
    DriverRow,
    EstimateSE,
    Exclusions,
    Figure,
    MethodSettings,
    NationalResults,
    NodeComparison,
    NodeFigure,
    Note,
    ProvinceResult,
    Rankings,
    ReleaseInputs,
    ReleaseResults,
    Robustness,
    SurveyInputs,
    TreeNode,
    driver_outcome_problem,
)
from .weighting import WEIGHTING_LABELS, build_design, composition

__all__ = ["ReleaseInputError", "compute_release", "holm_adjust", "inputs_fingerprint"]

_NO_FIGURE = Figure(score=None, se=None, ci_low=None, ci_high=None)


def inputs_fingerprint(inputs: ReleaseInputs) -> str:
    """SHA-256 (hex) naming exactly which responses and audits feed a release.

    It covers, in this order, UTF-8 lines ending in "\\n": the line ``responses``, then one line
    ``"{response UUID} {body hash}"`` per response sorted by UUID; the line ``audits``, then one line
    ``"{audit UUID} {body hash}"`` per audit sorted by UUID. Nothing else: cities, margins, counts, method settings
    and the questionnaire are recorded in the release beside it, not hashed here.
    """
    digest = hashlib.sha256(b"responses\n")
    if inputs.survey is not None:
        pairs = sorted(zip(inputs.survey.ids, inputs.survey.body_hashes, strict=True))
        digest.update("".join(f"{uuid} {body}\n" for uuid, body in pairs).encode())
    digest.update(b"audits\n")
    if inputs.audits is not None:
        pairs = sorted((a.id, a.body_hash) for a in inputs.audits)
        digest.update("".join(f"{uuid} {body}\n" for uuid, body in pairs).encode())
    return digest.hexdigest()


def compute_release(inputs: ReleaseInputs, questionnaire: Questionnaire) -> ReleaseResults:
    """Every number of a release from its inputs (module docstring; issue 11). Pure and deterministic.

    Raises ReleaseInputError (message names the city / variable / category / setting) when the inputs cannot be
    computed: another questionnaire than the inputs name, bad method settings, duplicate or unknown cities, a city
    without population, unsorted or ragged survey lists, margins that do not fit the questionnaire or the sample.

    BLAS runs on one thread meanwhile (threadpoolctl): the matrices are small (at most cities × cities), and
    OpenBLAS threads spinning on a busy machine made the driver regressions ten times slower.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _compute(inputs, questionnaire)


def _compute(inputs: ReleaseInputs, questionnaire: Questionnaire) -> ReleaseResults:
    _check_common(inputs, questionnaire)
    base: dict[str, Any] = {
        "campaign_code": inputs.campaign_code,
        "campaign_name": inputs.campaign_name,
        "campaign_kind": inputs.campaign_kind,
        "questionnaire_id": inputs.questionnaire_id,
        "questionnaire_version": inputs.questionnaire_version,
        "questionnaire_hash": inputs.questionnaire_hash,
        "method": inputs.method,
        "fingerprint": inputs_fingerprint(inputs),
    }
    if inputs.campaign_kind == "inspection":
        if inputs.survey is not None:
            raise ReleaseInputError(
                "检查活动的发布不含问卷回答 / an inspection release takes audits, not survey responses"
            )
        inspections, notes = inspection_results(
            questionnaire, inputs.audits or [], inputs.cities, inputs.method
        )
        return ReleaseResults(**base, inspections=inspections, notes=notes)
    if inputs.audits:
        raise ReleaseInputError("调查活动的发布不含检查记录 / a survey release takes responses, not audits")
    return _survey_release(inputs, questionnaire, base)


# ----------------------------------------------------------------------------------------------- validation


def _check_common(inputs: ReleaseInputs, questionnaire: Questionnaire) -> None:
    named = (inputs.questionnaire_id, inputs.questionnaire_version, inputs.questionnaire_hash)
    if named != questionnaire.identity:
        raise ReleaseInputError(
            f"输入对应问卷 {named}，但给出的是 {questionnaire.identity} / the inputs name questionnaire {named} but "
            f"{questionnaire.identity} was given"
        )
    if inputs.campaign_kind != questionnaire.kind:
        raise ReleaseInputError(
            f"活动类型 {inputs.campaign_kind} 与问卷类型 {questionnaire.kind} 不符 / campaign kind "
            f"{inputs.campaign_kind!r} does not match the questionnaire's kind {questionnaire.kind!r}"
        )
    _check_method(inputs.method)
    seen: set[str] = set()
    for city in inputs.cities:
        if city.code in seen:
            raise ReleaseInputError(f"城市 {city.code} 重复 / city {city.code} is listed twice")
        seen.add(city.code)


def _check_method(m: MethodSettings) -> None:
    rules: list[tuple[str, bool, str]] = [
        ("level", 0 < m.level < 1, "in (0, 1)"),
        ("rank_coverage", 0 < m.rank_coverage < 1, "in (0, 1)"),
        ("rank_draws", m.rank_draws >= 10, ">= 10"),
        ("min_sample_per_city", m.min_sample_per_city >= 1, ">= 1"),
        ("sales_share", 0 <= m.sales_share <= 1, "in [0, 1]"),
        ("suppression_min_n", m.suppression_min_n >= 1, ">= 1"),
        ("sensitivity_draws", m.sensitivity_draws >= 1, ">= 1"),
        ("sensitivity_perturbation", 0 <= m.sensitivity_perturbation < 1, "in [0, 1)"),
        ("claim_top_k", m.claim_top_k >= 1, ">= 1"),
    ]
    for name, ok, expected in rules:
        if not ok:
            raise ReleaseInputError(
                f"方法设置 {name} = {getattr(m, name)!r} 无效，应为 {expected} / method setting {name} = "
                f"{getattr(m, name)!r} must be {expected}"
            )


def _check_survey(inputs: ReleaseInputs, survey: SurveyInputs) -> None:
    n = len(survey.ids)
    for name in ("body_hashes", "cities", "answers", "channels"):
        if len(getattr(survey, name)) != n:
            raise ReleaseInputError(
                f"survey.{name} 有 {len(getattr(survey, name))} 项，应为 {n} / survey.{name} has "
                f"{len(getattr(survey, name))} entries for {n} responses"
            )
    if n == 0:
        raise ReleaseInputError("没有可发布的有效回答 / no valid responses to publish")
    for i in range(1, n):
        if not survey.ids[i - 1] < survey.ids[i]:
            raise ReleaseInputError(
                f"survey.ids 须按 UUID 升序且不重复：第 {i} 项 {survey.ids[i]} / survey.ids must be sorted by UUID "
                f"without repeats: entry {i} ({survey.ids[i]}) does not follow {survey.ids[i - 1]}"
            )
    codes = {c.code: c for c in inputs.cities}
    unknown = sorted(set(survey.cities) - set(codes))
    if unknown:
        first = survey.cities.index(unknown[0])
        raise ReleaseInputError(
            f"回答 {survey.ids[first]} 的城市 {unknown[0]} 不在活动城市中 / response {survey.ids[first]}: city "
            f"{unknown[0]!r} is not one of the campaign's cities"
        )
    for city in inputs.cities:
        if city.population <= 0:
            raise ReleaseInputError(
                f"城市 {city.code} 没有常住人口数 / city {city.code} has no resident population (got "
                f"{city.population})"
            )
        if inputs.method.city_weighting == "population_and_sales" and not (
            city.retail_sales is not None and math.isfinite(city.retail_sales) and city.retail_sales > 0
        ):
            raise ReleaseInputError(
                f"城市 {city.code} 缺少社会消费品零售总额，无法按人口和零售额加权 / city {city.code} has no retail "
                "sales, which the population_and_sales city weighting needs"
            )
    for code, counts in survey.counts.items():
        if code not in codes:
            raise ReleaseInputError(
                f"survey.counts 含未知城市 {code} / survey.counts names unknown city {code!r}"
            )
        values = (counts.collected, counts.screened_out, counts.excluded_by_review, counts.flagged_kept)
        if min(values) < 0 or counts.screened_out + counts.excluded_by_review > counts.collected:
            raise ReleaseInputError(
                f"城市 {code} 的样本计数不一致 / city {code}: counts {counts} are negative or exceed the collected"
            )


# ----------------------------------------------------------------------------------------------- survey releases


def _survey_release(
    inputs: ReleaseInputs, questionnaire: Questionnaire, base: dict[str, Any]
) -> ReleaseResults:
    survey = inputs.survey
    if survey is None:
        raise ReleaseInputError("调查活动的发布需要回答 / a survey release needs responses")
    _check_survey(inputs, survey)
    tree = questionnaire.index_tree()
    if tree is None or questionnaire.index is None:
        raise ReleaseInputError(
            f"问卷 {questionnaire.id} 没有指标体系 / questionnaire {questionnaire.id} has no index"
        )
    method = inputs.method
    notes: list[Note] = []
    all_codes = np.array(survey.cities, dtype=np.str_)
    seen, counts = np.unique(all_codes, return_counts=True)
    n_by_city = dict(zip(seen.tolist(), (int(k) for k in counts), strict=True))
    keep = np.isin(all_codes, [c for c, k in n_by_city.items() if k >= 2])
    answers = survey.answers if keep.all() else [a for a, k in zip(survey.answers, keep, strict=True) if k]
    city_arr = all_codes[keep]
    if city_arr.size == 0:
        raise ReleaseInputError("没有城市有至少 2 份有效回答 / no city has 2 or more valid responses")

    weighting = build_design(questionnaire, inputs.cities, city_arr, answers)
    design = weighting.design
    index = compute_index(tree, score_items(item_columns(questionnaire, answers), questionnaire.item_specs()))
    levels = {node.id: node.level for node in questionnaire.index.root.walk()}
    root = questionnaire.index.root.id
    nodes = [node.id for node in questionnaire.index.root.walk() if node.level != "item"]
    dimensions = [k for k in nodes if levels[k] == "dimension"]
    indicators = [k for k in nodes if levels[k] == "indicator"] or dimensions
    city_weights = _city_weights(inputs.cities, method)
    present = weighting.cities
    try:
        results = city_results(
            design,
            weighting.city_index,
            index,
            nodes=nodes,
            city_weights={i: city_weights[c] for i, c in enumerate(present)},
            level=method.level,
        )
    except InsufficientDataError as exc:
        raise ReleaseInputError(f"无法估计城市得分 / city scores cannot be estimated: {exc}") from None
    results = _relabel(results, present)
    top = results.nodes[root]
    ranking = _ranking(inputs.cities, top, n_by_city, method)
    ranked = {r.label: r for r in ranking.ranked}
    excluded = {e.label: e.reason for e in ranking.excluded}
    robustness = _robustness(tree, results, indicators, [r.label for r in ranking.ranked], method)
    comparisons = _comparisons(results, nodes, method.level)
    outcome = _outcome(questionnaire, answers, method.driver_outcome)
    X = np.column_stack([index.scores[k] for k in indicators])
    weights = design.weights
    national_drivers = None
    if outcome is not None:
        national_drivers = _drivers(outcome, X, weights, indicators, method.driver_outcome, "national", notes)

    city_rows: list[CityRankingRow] = []
    details: list[CityDetail] = []
    prev = inputs.previous
    for city in sorted(inputs.cities, key=lambda c: c.code):
        code = city.code
        n = n_by_city.get(code, 0)
        fig = _city_figure(top, code)
        dims = {d: _city_figure(results.nodes[d], code) for d in dimensions}
        r = ranked.get(code)
        reason = None if r else excluded.get(code, _NO_DATA_REASON)
        if r is None:
            notes.append(Note(code="not_ranked", city=code, text=f"{city.name_zh}未排名：{reason}"))
        city_rows.append(
            CityRankingRow(
                city=code,
                name_zh=city.name_zh,
                name_en=city.name_en,
                province=city.province,
                n=n,
                **_fig_fields(fig),
                rank=r.rank if r else None,
                rank_low=r.marg_lower if r else None,
                rank_high=r.marg_upper if r else None,
                rank_sim_low=r.sim_lower if r else None,
                rank_sim_high=r.sim_upper if r else None,
                tier=r.tier if r else None,
                ranked=r is not None,
                reason=reason,
                dimensions=dims,
            )
        )
        mask = weighting.city_index == present.index(code) if code in weighting.status else np.zeros(0, bool)
        has_data = bool(mask.any())
        status = weighting.status.get(code, "no_data")
        if status == "equal_weights_no_margins":
            notes.append(
                Note(code="no_margins", city=code, text=f"{city.name_zh}：{WEIGHTING_LABELS[status]}")
            )
        city_drivers = None
        if outcome is not None and has_data:
            city_drivers = _drivers(
                outcome[mask], X[mask], weights[mask], indicators, method.driver_outcome, code, notes
            )
        details.append(
            CityDetail(
                city=code,
                name_zh=city.name_zh,
                name_en=city.name_en,
                province=city.province,
                population=city.population,
                retail_sales=city.retail_sales,
                city_weight=_share(city_weights, code, top.cities),
                n=n,
                n_effective=kish_effective_n(weights[mask]) if has_data else None,
                weighting=status,  # type: ignore[arg-type]
                weighting_label=WEIGHTING_LABELS[status],
                weighting_variables=weighting.variables.get(code, []),
                score=fig,
                ranked=r is not None,
                rank=r.rank if r else None,
                rank_low=r.marg_lower if r else None,
                rank_high=r.marg_upper if r else None,
                rank_sim_low=r.sim_lower if r else None,
                rank_sim_high=r.sim_upper if r else None,
                tier=r.tier if r else None,
                reason=reason,
                nodes=_city_nodes(results, nodes, levels, comparisons, code, method.level),
                change=_change(prev.cities.get(code) if prev else None, fig, prev, method.level),
                drivers=city_drivers,
                robustness=robustness.get(code),
                composition=composition(weighting, code, mask) if has_data else [],
                exclusions=_exclusions(survey.counts.get(code, CityCounts()), n),
            )
        )
    order = {code: i for i, code in enumerate(r.label for r in ranking.ranked)}
    city_rows.sort(key=lambda row: (order.get(row.city, len(order)), row.city))
    national = results.national[root]
    national_fig = _estimate_figure(national, method.level)
    national_nodes = [
        NodeFigure(
            node=k,
            level=levels[k],  # type: ignore[arg-type]
            figure=_estimate_figure(results.national[k], method.level),
            n_cities=len(results.nodes[k].cities),
            change=_change(
                (prev.national if k == root else prev.dimensions.get(k)) if prev else None,
                _estimate_figure(results.national[k], method.level),
                prev,
                method.level,
            ),
        )
        for k in nodes
    ]
    if len(top.cities) < len(inputs.cities):
        notes.append(
            Note(
                code="national_cities",
                text=f"全国得分基于 {len(top.cities)} 个有得分的城市（共 {len(inputs.cities)} 个） / the national figure "
                f"covers the {len(top.cities)} cities with a score (of {len(inputs.cities)})",
            )
        )
    return ReleaseResults(
        **base,
        rankings=Rankings(national=national_fig, cities=city_rows),
        national=NationalResults(
            score=national_fig,
            nodes=national_nodes,
            change=national_nodes[0].change,
            n=int(city_arr.size),
            n_cities=len(top.cities),
        ),
        cities=details,
        provinces=_provinces(inputs.cities, results, root, dimensions, city_weights, n_by_city, method),
        tree=_tree(questionnaire),
        claims=_claims(ranking, {c.code: c for c in inputs.cities}, method),
        drivers=national_drivers,
        notes=notes,
    )


def _relabel(results: CityResults, codes: list[str]) -> CityResults:
    """City results labelled by city code (they were estimated with integer city positions, which numpy
    factorises much faster than strings)."""

    def node(res: NodeResults) -> NodeResults:
        return dataclasses.replace(
            res,
            cities=tuple(codes[int(i)] for i in res.cities),
            insufficient={codes[int(i)]: why for i, why in res.insufficient.items()},
        )

    return dataclasses.replace(
        results,
        nodes={k: node(v) for k, v in results.nodes.items()},
        insufficient={codes[int(i)]: why for i, why in results.insufficient.items()},
    )


_NO_DATA_REASON = "有效样本不足 2 份，无法估计 / fewer than 2 valid interviews: no estimate"


def _city_weights(cities: Sequence[CityInput], method: MethodSettings) -> dict[str, float]:
    """City → weight in the national and province figures: population, or population and retail sales mixed."""
    population = {c.code: float(c.population) for c in cities}
    if method.city_weighting == "population":
        return population
    sales = {c.code: float(c.retail_sales or 0.0) for c in cities}
    return combine_city_weights(
        {"population": population, "retail_sales": sales},
        {"population": 1.0 - method.sales_share, "retail_sales": method.sales_share},
    )


def _share(weights: Mapping[str, float], code: str, included: Sequence[Any]) -> float | None:
    if code not in included:
        return None
    return weights[code] / sum(weights[c] for c in included)


def _ranking(
    cities: Sequence[CityInput], top: NodeResults, n_by_city: Mapping[str, int], method: MethodSettings
) -> CityRanking:
    """``rank_cities`` over every campaign city (those without an estimate are listed as not ranked)."""
    labels = sorted(c.code for c in cities)
    pos = {c: i for i, c in enumerate(top.cities)}
    est = np.full(len(labels), np.nan)
    cov = np.zeros(
        (len(labels), len(labels))
    )  # cities are independent strata; no estimate: NaN variance only
    np.fill_diagonal(cov, np.nan)
    have = [i for i, c in enumerate(labels) if c in pos]
    src = np.array([pos[labels[i]] for i in have], dtype=np.int64)
    est[have] = top.estimate[src]
    cov[np.ix_(have, have)] = top.covariance[np.ix_(src, src)]
    return rank_cities(
        labels,
        est,
        n=[n_by_city.get(c, 0) for c in labels],
        cov=cov,
        min_n=method.min_sample_per_city,
        coverage=method.rank_coverage,
        draws=method.rank_draws,
        seed=method.seed,
    )


def _robustness(
    tree: Mapping[str, Any],
    results: CityResults,
    indicators: list[str],
    ranked: list[str],
    method: MethodSettings,
) -> dict[str, Robustness]:
    """Ranks of the ranked cities under weight perturbation, on their indicator scores (weight_sensitivity)."""
    if len(ranked) < 2:
        return {}
    scores = {k: np.array([_value(results.nodes[k], c) for c in ranked]) for k in indicators}
    sens = weight_sensitivity(
        tree,
        scores,
        cities=ranked,
        draws=method.sensitivity_draws,
        perturbation=method.sensitivity_perturbation,
        seed=method.seed,
    )
    return {
        c: Robustness(
            nominal_rank=int(sens.nominal_rank[j]),
            median_rank=float(sens.median_rank[j]),
            mean_rank=float(sens.mean_rank[j]),
            rank_q05=float(sens.q05[j]),
            rank_q95=float(sens.q95[j]),
        )
        for j, c in enumerate(sens.cities)
    }


def _comparisons(results: CityResults, nodes: list[str], level: float) -> dict[str, dict[str, Any]]:
    """Node → city → NationalComparison (nodes estimated for fewer than 2 cities have none)."""
    out: dict[str, dict[str, Any]] = {}
    for k in nodes:
        if len(results.nodes[k].cities) < 2:
            out[k] = {}
            continue
        try:
            out[k] = {c.city: c for c in results.compare_to_national(k, alpha=1 - level)}
        except InsufficientDataError:
            out[k] = {}
    return out


def _city_nodes(
    results: CityResults,
    nodes: list[str],
    levels: Mapping[str, str],
    comparisons: Mapping[str, Mapping[str, Any]],
    code: str,
    level: float,
) -> list[NodeComparison]:
    """Every node of one city against the national figure, Holm-adjusted over the city's tests (Holm 1979)."""
    tested = [k for k in nodes if code in comparisons[k]]
    adjusted: dict[str, float] = {}
    if tested:
        p = [comparisons[k][code].p_value for k in tested]
        adjusted = dict(zip(tested, holm_adjust(p).tolist(), strict=True))
    out = []
    for k in nodes:
        res = results.nodes[k]
        cmp = comparisons[k].get(code)
        p_holm = adjusted.get(k)
        verdict = None
        if cmp is not None and p_holm is not None:
            verdict = (
                "not_significant" if p_holm >= 1 - level else ("above" if cmp.difference > 0 else "below")
            )
        out.append(
            NodeComparison(
                node=k,
                level=levels[k],  # type: ignore[arg-type]
                figure=_city_figure(res, code),
                n=int(res.n[res.cities.index(code)]) if code in res.cities else 0,
                national=_num(results.national[k].estimate),
                difference=_num(cmp.difference) if cmp else None,
                difference_se=_num(cmp.se) if cmp else None,
                p_value=_num(cmp.p_value) if cmp else None,
                p_holm=_num(p_holm) if p_holm is not None else None,
                verdict=verdict,  # type: ignore[arg-type]
            )
        )
    return out


def holm_adjust(p_values: Sequence[float]) -> NDArray[np.float64]:
    """Holm (1979) step-down adjusted p-values: sorted ascending, p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)).

    The same numbers as statsmodels ``multipletests(p, method="holm")[1]`` (tests/publishing/test_compute.py checks
    them); that function is not called per city because it runs ``gc.collect()`` on every call, which costs about a
    second with a national campaign's answers in memory.
    """
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    m = p.size
    adjusted = np.minimum(np.maximum.accumulate(p[order] * np.arange(m, 0, -1)), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def _outcome(
    questionnaire: Questionnaire, answers: Sequence[Mapping[str, Any]], outcome: str | None
) -> NDArray[np.float64] | None:
    """The driver analysis' outcome on 0–100 with its scale's goalposts (reversed questions turned)."""
    if outcome is None:
        return None
    problem = driver_outcome_problem(questionnaire, outcome)
    if problem is not None:
        raise ReleaseInputError(problem)
    question = questionnaire.question(outcome)
    assert question.scale is not None  # a likert question (driver_outcome_problem)
    scale = question.scale
    y = (scale_points(questionnaire, answers, outcome) - scale.min) / (scale.max - scale.min) * 100.0
    return 100.0 - y if question.reverse else y


def _drivers(
    y: NDArray[np.float64],
    X: NDArray[np.float64],
    w: NDArray[np.float64],
    names: list[str],
    outcome: str | None,
    where: str,
    notes: list[Note],
) -> DriverAnalysisResult | None:
    """Key drivers (WLS, HC1) and the importance–performance grid; None (with a note) when not estimable."""
    try:
        fit = key_drivers(y, X, names=names, weights=w)
    except ValueError as exc:
        notes.append(
            Note(
                code="drivers_not_estimable",
                city=None if where == "national" else where,
                text=f"关键驱动因素无法估计 / key drivers not estimable: {exc}",
            )
        )
        return None
    coefs = fit.coefficients
    grid = importance_performance(
        [c.name for c in coefs], [c.importance for c in coefs], [c.performance for c in coefs]
    )
    i_cut = float(np.mean([c.importance for c in coefs]))
    p_cut = float(np.mean([c.performance for c in coefs]))
    rows = [
        DriverRow(
            indicator=c.name,
            coef=c.coef,
            se=c.se,
            p_value=c.p_value,
            ci_low=c.ci_low,
            ci_high=c.ci_high,
            std_coef=c.std_coef,
            importance=c.importance,
            performance=c.performance,
            quadrant=g.quadrant,  # type: ignore[arg-type]
        )
        for c, g in zip(coefs, grid, strict=True)
    ]
    priorities = [r.indicator for r in sorted(rows, key=lambda r: -r.importance) if r.quadrant == "improve"]
    return DriverAnalysisResult(
        outcome=outcome or "",
        n_used=fit.n_used,
        n_dropped=fit.n_dropped,
        r_squared=fit.r_squared,
        importance_cut=i_cut,
        performance_cut=p_cut,
        drivers=rows,
        priorities=priorities,
    )


def _provinces(
    cities: Sequence[CityInput],
    results: CityResults,
    root: str,
    dimensions: list[str],
    city_weights: Mapping[str, float],
    n_by_city: Mapping[str, int],
    method: MethodSettings,
) -> list[ProvinceResult]:
    """Province figures over their cities with a score, weighted like the national figure (svycontrast), and the
    provinces' point ranks and marginal rank sets (csranks, on the province covariance A Σ A')."""
    top = results.nodes[root]
    groups: dict[str, list[str]] = {}
    for city in cities:
        if city.province and city.code in top.cities:
            groups.setdefault(city.province, []).append(city.code)
    names = sorted(groups)
    if not names:
        return []
    A = np.zeros((len(names), len(top.cities)))
    for p, name in enumerate(names):
        for code in groups[name]:
            A[p, top.cities.index(code)] = city_weights[code]
    A /= A.sum(axis=1, keepdims=True)
    est = A @ top.estimate
    cov = A @ top.covariance @ A.T
    ranks: dict[int, tuple[int, int, int]] = {}
    if len(names) >= 2:
        sets = rank_confidence_sets(
            est,
            cov=cov,
            simultaneous=False,
            coverage=method.rank_coverage,
            draws=method.rank_draws,
            seed=method.seed,
        )
        ranks = {p: (int(sets.rank[p]), int(sets.lower[p]), int(sets.upper[p])) for p in range(len(names))}
    out = []
    for p, name in enumerate(names):
        members = sorted(groups[name])
        dims = {}
        for d in dimensions:
            res = results.nodes[d]
            have = [c for c in members if c in res.cities]
            dims[d] = _subset_figure(res, have, city_weights, method.level) if have else _NO_FIGURE
        rank = ranks.get(p)
        out.append(
            ProvinceResult(
                province=name,
                cities=members,
                n=sum(n_by_city.get(c, 0) for c in members),
                figure=_subset_figure(top, members, city_weights, method.level),
                dimensions=dims,
                rank=rank[0] if rank else None,
                rank_low=rank[1] if rank else None,
                rank_high=rank[2] if rank else None,
            )
        )
    return out


def _subset_figure(
    res: NodeResults, members: list[str], city_weights: Mapping[str, float], level: float
) -> Figure:
    idx = np.array([res.cities.index(c) for c in members], dtype=np.int64)
    a = np.array([city_weights[c] for c in members])
    est = national_figure(res.estimate[idx], res.covariance[np.ix_(idx, idx)], a, df=res.df)
    return _estimate_figure(est, level)


def _claims(ranking: CityRanking, cities: Mapping[str, CityInput], method: MethodSettings) -> list[Claim]:
    """Top/bottom claims that the simultaneous rank sets support for all ranked cities at once."""
    p = len(ranking.ranked)
    k_max = method.claim_top_k
    level = f"{method.rank_coverage:.0%}"
    out: list[Claim] = []
    for r in ranking.ranked:
        city = cities[r.label]
        if r.sim_upper <= k_max and r.sim_upper < p:
            k = r.sim_upper
            text_ = (
                f"以 {level} 的联合置信度（对所有城市同时成立），{city.name_zh}位列前 {k} 名 / with {level} joint "
                f"confidence (for all cities at once), {city.name_en or city.code} is among the top {k}"
            )
            out.append(
                Claim(
                    kind="top",
                    city=r.label,
                    k=k,
                    rank_sim_low=r.sim_lower,
                    rank_sim_high=r.sim_upper,
                    text=text_,
                )
            )
        if r.sim_lower >= p - k_max + 1 and r.sim_lower > 1:
            k = p - r.sim_lower + 1
            text_ = (
                f"以 {level} 的联合置信度（对所有城市同时成立），{city.name_zh}位列后 {k} 名 / with {level} joint "
                f"confidence (for all cities at once), {city.name_en or city.code} is among the bottom {k}"
            )
            out.append(
                Claim(
                    kind="bottom",
                    city=r.label,
                    k=k,
                    rank_sim_low=r.sim_lower,
                    rank_sim_high=r.sim_upper,
                    text=text_,
                )
            )
    return out


def _tree(questionnaire: Questionnaire) -> list[TreeNode]:
    """The index tree in pre-order with labels, weights and effective weights (methodology page)."""
    assert questionnaire.index is not None
    scored = questionnaire.scored_items()
    specs = questionnaire.item_specs()
    out: list[TreeNode] = []

    def visit(node: Any, parent: str | None) -> None:
        label = node.label
        if node.level == "item":
            question, item = scored[node.id]
            label = item.label if item is not None else question.label
        out.append(
            TreeNode(
                id=node.id,
                level=node.level,
                parent=parent,
                label_zh=text(label, "zh-CN") or node.id,
                label_en=text(label, "en") or node.id,
                weight=float(node.weight),
                normalised_weight=float(node.normalised_weight),
                effective_weight=float(node.effective_weight),
                min_share=None if node.level == "item" else float(node.min_share),
                reverse=bool(specs.get(node.id, {}).get("reverse", False)),
            )
        )
        for child in node.children:
            visit(child, node.id)

    visit(questionnaire.index.root, None)
    return out


def _exclusions(counts: CityCounts, valid: int) -> Exclusions:
    eligible = counts.collected - counts.screened_out
    return Exclusions(
        collected=counts.collected,
        screened_out=counts.screened_out,
        excluded_by_review=counts.excluded_by_review,
        flagged_kept=counts.flagged_kept,
        valid=valid,
        exclusion_rate=counts.excluded_by_review / eligible if eligible > 0 else None,
        screened_out_rate=counts.screened_out / counts.collected if counts.collected > 0 else None,
    )


def _change(before: EstimateSE | None, now: Figure, prev: Any, level: float) -> Change | None:
    """Independent-samples change: d = θ − θ_prev, se = √(se² + se_prev²), d ± z_{(1+level)/2} se."""
    if before is None or now.score is None or now.se is None:
        return None
    d = now.score - before.score
    se = math.sqrt(now.se**2 + before.se**2)
    z = float(stats.norm.ppf(0.5 + level / 2))
    low, high = d - z * se, d + z * se
    return Change(
        previous_release=prev.id,
        previous_score=before.score,
        previous_se=before.se,
        difference=d,
        se=se,
        ci_low=low,
        ci_high=high,
        significant=bool(low > 0 or high < 0),
    )


# ----------------------------------------------------------------------------------------------- numbers


def _num(x: Any) -> float | None:
    value = float(x)
    return value if math.isfinite(value) else None


def _value(res: NodeResults, code: str) -> float:
    return float(res.estimate[res.cities.index(code)]) if code in res.cities else math.nan


def _city_figure(res: NodeResults, code: str) -> Figure:
    if code not in res.cities:
        return _NO_FIGURE
    j = res.cities.index(code)
    return Figure(
        score=_num(res.estimate[j]),
        se=_num(res.se[j]),
        ci_low=_num(res.ci_low[j]),
        ci_high=_num(res.ci_high[j]),
    )


def _estimate_figure(est: Estimate, level: float) -> Figure:
    """Estimate ± t_{df, (1+level)/2} · se, as Estimate.ci (survey::confint on the design df)."""
    q = _t_quantile(level, est.df)
    return Figure(
        score=_num(est.estimate),
        se=_num(est.se),
        ci_low=_num(est.estimate - q * est.se),
        ci_high=_num(est.estimate + q * est.se),
    )


@functools.lru_cache(maxsize=64)
def _t_quantile(level: float, df: float) -> float:
    return float(stats.t.ppf(0.5 + level / 2, df))


def _fig_fields(fig: Figure) -> dict[str, float | None]:
    return {"score": fig.score, "se": fig.se, "ci_low": fig.ci_low, "ci_high": fig.ci_high}
