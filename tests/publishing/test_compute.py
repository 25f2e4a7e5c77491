"""compute_release: city scores and SEs against an independent computation, determinism, edge cases, errors."""

from __future__ import annotations

import math
from typing import Any

import msgspec
import numpy as np
import pytest
from publishing_helpers import SMALL_METHOD
from scipy import stats
from statsmodels.stats.multitest import multipletests

from scoring.index import compute_index, score_items
from survey_platform.publishing.compute import (
    ReleaseInputError,
    compute_release,
    holm_adjust,
    inputs_fingerprint,
)
from survey_platform.publishing.model import (
    CityInput,
    EstimateSE,
    PreviousRelease,
    ReleaseInputs,
    ReleaseResults,
)
from survey_platform.publishing.synthetic import NationalCampaign, survey_release_inputs
from survey_platform.questionnaire.model import Questionnaire

replace = msgspec.structs.replace


@pytest.fixture(scope="module")
def inputs(small_campaign: NationalCampaign, survey_q: Questionnaire) -> ReleaseInputs:
    """The small campaign with the first city's margins removed (it keeps equal weights)."""
    base = survey_release_inputs(small_campaign, small_campaign.current, survey_q, SMALL_METHOD)
    cities = [replace(c, margins={}) if i == 0 else c for i, c in enumerate(base.cities)]
    return replace(base, cities=cities)


@pytest.fixture(scope="module")
def results(inputs: ReleaseInputs, survey_q: Questionnaire) -> ReleaseResults:
    return compute_release(inputs, survey_q)


# ----------------------------------------------------------------------------------------------- the reference


def _respondent_scores(q: Questionnaire, answers: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Node scores per respondent through Questionnaire.item_values (not the release's extraction plan)."""
    specs = q.item_specs()
    values = [q.item_values(a) for a in answers]
    columns = {k: np.array([v[k] for v in values]) for k in specs}
    return compute_index(q.index_tree(), score_items(columns, specs)).scores  # type: ignore[arg-type]


def _reference_city(
    y: np.ndarray, codes: dict[str, np.ndarray], population: float, margins: dict[str, dict[str, float]]
) -> tuple[float, float]:
    """One city's raked mean and its linearisation SE with calibration residuals, written out in numpy.

    Raking: iterative proportional fitting of d = N/n to N × share per category of every margin (Deming & Stephan
    1940). Variance: influence values z_i = w_i (y_i − ȳ) / Σw of the ratio mean (0 where y is missing), replaced by
    the calibration residuals e = z − w ⊙ X β, β = (X' D X)⁺ X' D (z / w) (Deville & Särndal 1992; Lumley 2010
    §7.3, survey::svyrecvar), then V = n / (n − 1) Σ (e − ē)² (one stratum, every respondent its own PSU).
    """
    n = y.size
    d = np.full(n, population / n)
    w = d.copy()
    blocks = []
    for variable, shares in sorted(margins.items()):
        total = sum(shares.values())
        cats = sorted(shares)
        X = np.column_stack([codes[variable] == c for c in cats]).astype(float)
        target = np.array([shares[c] / total * population for c in cats])
        blocks.append((X, target))
    for _ in range(10_000):
        for X, target in blocks:
            w *= X @ (target / (X.T @ w))
        if all(np.max(np.abs(X.T @ w - t) / t) < 1e-14 for X, t in blocks):
            break
    ok = ~np.isnan(y)
    total_w = w[ok].sum()
    ybar = float(np.sum(w[ok] * y[ok]) / total_w)
    z = np.where(ok, w * (np.nan_to_num(y) - ybar) / total_w, 0.0)
    if blocks:
        X = np.column_stack([X for X, _ in blocks])
        beta = np.linalg.pinv(X.T @ (d[:, None] * X)) @ (X.T @ (d * z / w))
        z = z - w * (X @ beta)
    var = n / (n - 1) * np.sum((z - z.mean()) ** 2)
    return ybar, math.sqrt(var)


def test_city_scores_and_ses_equal_an_independent_computation(
    inputs: ReleaseInputs, results: ReleaseResults, survey_q: Questionnaire
) -> None:
    assert inputs.survey is not None
    answers = inputs.survey.answers
    scores = _respondent_scores(survey_q, answers)
    city_of = np.array(inputs.survey.cities)
    df = len(answers) - len(inputs.cities)
    q = stats.t.ppf(0.975, df)
    details = {c.city: c for c in results.cities}
    expected: dict[str, tuple[float, float]] = {}
    for city in inputs.cities:
        mask = city_of == city.code
        codes = {v: np.array([a[v] for a, m in zip(answers, mask, strict=True) if m]) for v in city.margins}
        for node in ("overall_satisfaction", "environment", "transaction_safety"):
            est, se = _reference_city(scores[node][mask], codes, city.population, city.margins)
            got = next(n for n in details[city.code].nodes if n.node == node).figure
            assert got.score == pytest.approx(est, rel=1e-10)
            assert got.se == pytest.approx(se, rel=1e-8)
            assert got.ci_low == pytest.approx(est - q * se, rel=1e-8)
            if node == "overall_satisfaction":
                expected[city.code] = (est, se)
    assert details[inputs.cities[0].code].weighting == "equal_weights_no_margins"
    assert all(details[c.code].weighting == "raked" for c in inputs.cities[1:])
    # national: cities weighted by resident population, SE from the (diagonal) city covariance
    pop = np.array([c.population for c in inputs.cities], dtype=float)
    a = pop / pop.sum()
    est = np.array([expected[c.code][0] for c in inputs.cities])
    se = np.array([expected[c.code][1] for c in inputs.cities])
    national = results.rankings.national  # type: ignore[union-attr]
    assert national.score == pytest.approx(float(a @ est), rel=1e-10)
    assert national.se == pytest.approx(float(np.sqrt(np.sum(a**2 * se**2))), rel=1e-8)


def test_population_and_sales_weighting_mixes_the_two_shares(
    inputs: ReleaseInputs, results: ReleaseResults, survey_q: Questionnaire
) -> None:
    mixed = compute_release(
        replace(
            inputs, method=replace(inputs.method, city_weighting="population_and_sales", sales_share=0.3)
        ),
        survey_q,
    )
    pop = np.array([c.population for c in inputs.cities], dtype=float)
    sales = np.array([c.retail_sales for c in inputs.cities], dtype=float)
    a = 0.7 * pop / pop.sum() + 0.3 * sales / sales.sum()
    scores = np.array([c.score.score for c in results.cities])  # cities are in code order, as inputs are not
    order = {c.city: i for i, c in enumerate(results.cities)}
    a_by_code = np.array([a[[c.code for c in inputs.cities].index(code)] for code in order])
    assert mixed.national.score.score == pytest.approx(float(a_by_code @ scores), rel=1e-10)  # type: ignore[union-attr]
    assert sum(c.city_weight for c in mixed.cities) == pytest.approx(1.0)  # type: ignore[misc]


def test_the_same_inputs_give_byte_identical_results(
    inputs: ReleaseInputs, results: ReleaseResults, survey_q: Questionnaire
) -> None:
    again = compute_release(msgspec.json.decode(msgspec.json.encode(inputs), type=ReleaseInputs), survey_q)
    assert msgspec.json.encode(again) == msgspec.json.encode(results)
    assert msgspec.json.decode(msgspec.json.encode(results), type=ReleaseResults) == results
    other_seed = compute_release(replace(inputs, method=replace(inputs.method, seed=6)), survey_q)
    assert other_seed.method.seed == 6 and other_seed.fingerprint == results.fingerprint


def test_json_has_no_nan(results: ReleaseResults) -> None:
    text = msgspec.json.encode(results).decode()
    assert "NaN" not in text and "Infinity" not in text


def test_ranks_rank_sets_tiers_and_claims_hang_together(results: ReleaseResults) -> None:
    rows = results.rankings.cities  # type: ignore[union-attr]
    assert [r.rank for r in rows] == sorted(r.rank for r in rows)  # ranked cities first, by rank
    for r in rows:
        assert r.ranked and r.reason is None
        assert r.rank_low <= r.rank <= r.rank_high and r.rank_sim_low <= r.rank <= r.rank_sim_high  # type: ignore[operator]
        assert r.rank_sim_low <= r.rank_low and r.rank_high <= r.rank_sim_high  # type: ignore[operator]
        assert set(r.dimensions) == {"supply", "environment", "rights"}
    for claim in results.claims:
        row = next(r for r in rows if r.city == claim.city)
        if claim.kind == "top":
            assert claim.k == row.rank_sim_high < len(rows)
        else:
            assert claim.k == len(rows) - row.rank_sim_low + 1  # type: ignore[operator]


def test_city_detail_comparisons_are_holm_adjusted_over_the_city_s_tests(results: ReleaseResults) -> None:
    for city in results.cities:
        tested = [n for n in city.nodes if n.p_value is not None]
        assert len(tested) == 21  # the index, 3 dimensions, 17 indicators
        adjusted = multipletests([n.p_value for n in tested], method="holm")[1]
        assert [n.p_holm for n in tested] == pytest.approx(list(adjusted), rel=1e-12)
        for n in tested:
            expected = "not_significant" if n.p_holm >= 0.05 else ("above" if n.difference > 0 else "below")  # type: ignore[operator]
            assert n.verdict == expected
    assert any(n.verdict == "above" for c in results.cities for n in c.nodes)
    assert any(n.verdict == "below" for c in results.cities for n in c.nodes)


def test_holm_adjust_matches_statsmodels() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 21):
        p = rng.random(size) ** 3
        p[rng.random(size) < 0.2] = p[0]  # ties
        assert holm_adjust(p) == pytest.approx(multipletests(p, method="holm")[1], abs=0, rel=0)


def test_composition_before_and_after_weighting(results: ReleaseResults, inputs: ReleaseInputs) -> None:
    margins = {c.code: c.margins for c in inputs.cities}
    for city in results.cities:
        rows = {(r.variable, r.category): r for r in city.composition}
        assert sum(r.sample_count for r in city.composition if r.variable == "q_sex") == city.n
        for (variable, category), row in rows.items():
            assert row.sample_share == pytest.approx(row.sample_count / city.n)
            if city.weighting == "raked":
                assert row.population_share == pytest.approx(margins[city.city][variable][category])
                assert row.weighted_share == pytest.approx(row.population_share, abs=1e-9)
            else:
                assert row.population_share is None and row.weighted_share == pytest.approx(row.sample_share)
        # the sample over-represents young respondents (the synthetic selection), so weighting changes shares
        if city.weighting == "raked":
            young = rows[("q_age_band", "18_24")]
            assert young.sample_share > young.population_share  # type: ignore[operator]
        assert 0 < city.n_effective <= city.n  # type: ignore[operator]


def test_drivers_quadrants_and_robustness(results: ReleaseResults) -> None:
    assert results.drivers is not None and results.drivers.outcome == "q_overall"
    assert len(results.drivers.drivers) == 17
    assert sum(d.importance for d in results.drivers.drivers) == pytest.approx(1.0)
    for analysis in [results.drivers, *(c.drivers for c in results.cities)]:
        assert analysis is not None
        improve = [d for d in analysis.drivers if d.quadrant == "improve"]
        assert analysis.priorities == [d.indicator for d in sorted(improve, key=lambda d: -d.importance)]
        for d in analysis.drivers:
            high_i, high_p = (
                d.importance >= analysis.importance_cut,
                d.performance >= analysis.performance_cut,
            )
            assert (
                d.quadrant
                == {(1, 1): "keep_up", (1, 0): "improve", (0, 0): "low_priority", (0, 1): "maintain"}[
                    (int(high_i), int(high_p))
                ]
            )
    for city in results.cities:
        rob = city.robustness
        assert rob is not None and rob.rank_q05 <= rob.median_rank <= rob.rank_q95


def test_provinces_are_weighted_like_the_national_figure(
    results: ReleaseResults, inputs: ReleaseInputs
) -> None:
    pop = {c.code: c.population for c in inputs.cities}
    figures = {c.city: c.score for c in results.cities}
    assert results.provinces
    for p in results.provinces:
        a = np.array([pop[c] for c in p.cities], dtype=float)
        a /= a.sum()
        est = np.array([figures[c].score for c in p.cities])
        se = np.array([figures[c].se for c in p.cities])
        assert p.figure.score == pytest.approx(float(a @ est), rel=1e-10)
        assert p.figure.se == pytest.approx(float(np.sqrt(np.sum(a**2 * se**2))), rel=1e-8)
        if p.rank is not None:
            assert p.rank_low <= p.rank <= p.rank_high  # type: ignore[operator]
    assert sorted(r.rank for r in results.provinces) == list(range(1, len(results.provinces) + 1))  # type: ignore[type-var]


def test_the_tree_for_the_methodology_page(results: ReleaseResults) -> None:
    items = [n for n in results.tree if n.level == "item"]
    assert sum(n.effective_weight for n in items) == pytest.approx(1.0)
    worry = next(n for n in results.tree if n.id == "q_privacy_worry")
    assert (
        worry.reverse and worry.parent == "transaction_safety" and worry.label_en.startswith("When shopping")
    )
    convenience = next(n for n in results.tree if n.id == "supply_convenience")
    assert (convenience.label_zh, convenience.min_share) == ("供给便利性", 0.5)


# ----------------------------------------------------------------------------------------------- edge cases


def test_edge_cases_small_city_missing_node_city_without_data_and_previous_release(
    inputs: ReleaseInputs, survey_q: Questionnaire
) -> None:
    assert inputs.survey is not None
    survey = inputs.survey
    codes = [c.code for c in inputs.cities]
    small, blank = codes[1], codes[2]
    # a city with 40 interviews (below the minimum sample of 100), and a city where nobody rated supply richness
    keep = []
    seen = 0
    for i, city in enumerate(survey.cities):
        if city == small:
            seen += 1
            if seen > 40:
                continue
        keep.append(i)
    answers = []
    for i in keep:
        a = survey.answers[i]
        if survey.cities[i] == blank:
            a = {
                **a,
                "supply_matrix": {**a["supply_matrix"], "q_variety": "dont_know", "q_brands": "dont_know"},
            }
        answers.append(a)
    no_data = CityInput(
        code="zz-empty", name_zh="空城", name_en="Empty", province="测试省", population=500_000
    )
    previous = PreviousRelease(
        id="R-2024",
        published="2024-12-01",
        national=EstimateSE(score=79.0, se=0.3),
        cities={codes[3]: EstimateSE(score=70.0, se=0.5)},
        dimensions={"supply": EstimateSE(score=80.0, se=0.4)},
    )
    edited = replace(
        inputs,
        cities=[*inputs.cities, no_data],
        survey=replace(
            survey,
            ids=[survey.ids[i] for i in keep],
            body_hashes=[survey.body_hashes[i] for i in keep],
            cities=[survey.cities[i] for i in keep],
            answers=answers,
            channels=[survey.channels[i] for i in keep],
        ),
        previous=previous,
    )
    res = compute_release(edited, survey_q)
    rows = {r.city: r for r in res.rankings.cities}  # type: ignore[union-attr]
    details = {c.city: c for c in res.cities}
    assert not rows[small].ranked and rows[small].rank is None and rows[small].score is not None
    assert "40" in rows[small].reason and "100" in rows[small].reason  # type: ignore[operator]
    assert not rows["zz-empty"].ranked and rows["zz-empty"].score is None and rows["zz-empty"].n == 0
    assert details["zz-empty"].weighting == "no_data" and details["zz-empty"].composition == []
    assert {n.city for n in res.notes if n.code == "not_ranked"} == {small, "zz-empty"}
    assert [r.city for r in res.rankings.cities][-2:] == sorted([small, "zz-empty"])  # type: ignore[union-attr]
    richness = next(n for n in details[blank].nodes if n.node == "supply_richness")
    assert richness.figure.score is None and richness.verdict is None and richness.n == 0
    supply = next(n for n in details[blank].nodes if n.node == "supply")
    assert supply.figure.score is not None and supply.verdict is not None
    national_richness = next(n for n in res.national.nodes if n.node == "supply_richness")  # type: ignore[union-attr]
    assert national_richness.n_cities == len(codes) - 1
    # change since the previous release: independent samples
    change = details[codes[3]].change
    assert change is not None
    now = details[codes[3]].score
    assert change.difference == pytest.approx(now.score - 70.0)  # type: ignore[operator]
    assert change.se == pytest.approx(math.hypot(now.se, 0.5))  # type: ignore[arg-type]
    assert change.ci_low == pytest.approx(change.difference - 1.959963984540054 * change.se)
    assert change.significant == (change.ci_low > 0 or change.ci_high < 0)
    assert details[codes[4]].change is None  # not in the previous release
    assert res.national.change.previous_release == "R-2024"  # type: ignore[union-attr]
    supply_node = next(n for n in res.national.nodes if n.node == "supply")  # type: ignore[union-attr]
    assert supply_node.change is not None and supply_node.change.previous_score == 80.0


def test_no_previous_release_means_no_change(results: ReleaseResults) -> None:
    assert results.national.change is None  # type: ignore[union-attr]
    assert all(c.change is None for c in results.cities)


def test_exclusions_come_from_the_counts(results: ReleaseResults, small_campaign: NationalCampaign) -> None:
    for city in results.cities:
        mine = [r for r in small_campaign.current.responses if r.city == city.city]
        ex = city.exclusions
        assert ex.collected == len(mine) and ex.valid == city.n
        assert ex.screened_out == sum(r.quality == "screened_out" for r in mine)
        assert ex.excluded_by_review == sum(r.quality in ("speeder", "straightliner") for r in mine)
        assert ex.exclusion_rate == pytest.approx(ex.excluded_by_review / (ex.collected - ex.screened_out))


# ----------------------------------------------------------------------------------------------- errors


def _with_city(inputs: ReleaseInputs, index: int, **changes: Any) -> ReleaseInputs:
    cities = list(inputs.cities)
    cities[index] = replace(cities[index], **changes)
    return replace(inputs, cities=cities)


def _bad_cases(inputs: ReleaseInputs) -> list[tuple[str, ReleaseInputs, list[str]]]:
    assert inputs.survey is not None
    survey = inputs.survey
    code = inputs.cities[1].code
    margins = inputs.cities[1].margins
    return [
        (
            "unknown category",
            _with_city(inputs, 1, margins={**margins, "q_sex": {"male": 0.5, "other": 0.5}}),
            [code, "q_sex", "other"],
        ),
        (
            "unknown variable",
            _with_city(inputs, 1, margins={**margins, "q_shoe": {"x": 1.0}}),
            [code, "q_shoe"],
        ),
        ("no population", _with_city(inputs, 1, population=0), [code, "population"]),
        (
            "city listed twice",
            replace(inputs, cities=[*inputs.cities, inputs.cities[0]]),
            [inputs.cities[0].code],
        ),
        (
            "unsorted ids",
            replace(inputs, survey=replace(survey, ids=[survey.ids[1], survey.ids[0], *survey.ids[2:]])),
            ["sorted"],
        ),
        (
            "unknown response city",
            replace(inputs, survey=replace(survey, cities=["atlantis", *survey.cities[1:]])),
            ["atlantis", survey.ids[0]],
        ),
        (
            "ragged lists",
            replace(inputs, survey=replace(survey, channels=survey.channels[:-1])),
            ["channels"],
        ),
        ("another questionnaire", replace(inputs, questionnaire_hash="0" * 64), ["questionnaire"]),
        ("bad level", replace(inputs, method=replace(inputs.method, level=1.5)), ["level"]),
        (
            "no sales for the mixed weighting",
            replace(
                _with_city(inputs, 2, retail_sales=None),
                method=replace(inputs.method, city_weighting="population_and_sales"),
            ),
            [inputs.cities[2].code, "retail sales"],
        ),
        (
            "unknown driver outcome",
            replace(inputs, method=replace(inputs.method, driver_outcome="q_nope")),
            ["q_nope"],
        ),
    ]


def test_inputs_that_cannot_be_computed_raise_one_error_naming_the_culprit(
    inputs: ReleaseInputs, survey_q: Questionnaire
) -> None:
    for label, bad, words in _bad_cases(inputs):
        with pytest.raises(ReleaseInputError) as info:
            compute_release(bad, survey_q)
        message = str(info.value)
        assert " / " in message, label  # bilingual
        for word in words:
            assert word in message, (label, word, message)


def test_a_margin_category_without_respondents_names_city_variable_and_category(
    inputs: ReleaseInputs, survey_q: Questionnaire
) -> None:
    assert inputs.survey is not None
    survey = inputs.survey
    code = inputs.cities[1].code
    keep = [
        i
        for i, (c, a) in enumerate(zip(survey.cities, survey.answers, strict=True))
        if not (c == code and a["q_age_band"] == "65_plus")
    ]
    bad = replace(
        inputs,
        survey=replace(
            survey,
            ids=[survey.ids[i] for i in keep],
            body_hashes=[survey.body_hashes[i] for i in keep],
            cities=[survey.cities[i] for i in keep],
            answers=[survey.answers[i] for i in keep],
            channels=[survey.channels[i] for i in keep],
        ),
    )
    with pytest.raises(
        ReleaseInputError, match=rf"city {code}: category '65_plus' of 'q_age_band' has population"
    ):
        compute_release(bad, survey_q)


def test_fingerprint_covers_exactly_the_response_ids_and_body_hashes(inputs: ReleaseInputs) -> None:
    assert inputs.survey is not None
    survey = inputs.survey
    fp = inputs_fingerprint(inputs)
    import hashlib

    lines = "".join(f"{i} {h}\n" for i, h in sorted(zip(survey.ids, survey.body_hashes, strict=True)))
    assert fp == hashlib.sha256(f"responses\n{lines}audits\n".encode()).hexdigest()
    assert inputs_fingerprint(replace(inputs, method=replace(inputs.method, seed=99), cities=[])) == fp
    changed = replace(inputs, survey=replace(survey, body_hashes=["0" * 64, *survey.body_hashes[1:]]))
    assert inputs_fingerprint(changed) != fp
