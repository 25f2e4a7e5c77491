"""SurveyDesign against R survey 4.1.1 (apistrat_reference.json) and hand-worked small designs, with edge cases."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from oracle_paths import ORACLES
from statsmodels.stats.proportion import proportion_confint

from scoring.survey import (
    DomainEstimates,
    InsufficientDataError,
    LonelyPSUError,
    MultiEstimate,
    SurveyDesign,
)

STYPE_POP = {"E": 4421, "H": 755, "M": 1018}
SCHWIDE_POP = {"No": 1072, "Yes": 5122}


@pytest.fixture(scope="module")
def api() -> dict[str, np.ndarray]:
    with (ORACLES / "apistrat.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {k: np.array([r[k] for r in rows]) for k in ("stype", "sch.wide")}
    for k in ("api00", "enroll", "pw", "fpc"):
        out[k] = np.array([float(r[k]) for r in rows])
    return out


@pytest.fixture(scope="module")
def ref() -> dict:
    data = json.loads((ORACLES / "apistrat_reference.json").read_text(encoding="utf-8"))
    return {e["what"]: e for e in data["estimates"]}


@pytest.fixture(scope="module")
def dstrat(api: dict[str, np.ndarray]) -> SurveyDesign:
    return SurveyDesign(api["pw"], strata=api["stype"], fpc=api["fpc"])


def close(value: float, expected: float, rel: float = 1e-8) -> None:
    assert value == pytest.approx(expected, rel=rel, abs=0)


# ---------------------------------------------------------------- R survey oracle (every value in the file)
def test_means_totals_and_fpc(api: dict, ref: dict, dstrat: SurveyDesign) -> None:
    assert dstrat.df == 197  # n − H
    for what, est in [
        ("mean api00", dstrat.mean(api["api00"])),
        ("mean enroll", dstrat.mean(api["enroll"])),
        ("total api00", dstrat.total(api["api00"])),
        ("total enroll", dstrat.total(api["enroll"])),
        ("mean api00 without fpc", SurveyDesign(api["pw"], strata=api["stype"]).mean(api["api00"])),
    ]:
        close(est.estimate, ref[what]["estimate"])
        close(est.se, ref[what]["se"])


def test_covariance_of_two_means_in_one_call(api: dict, ref: dict, dstrat: SurveyDesign) -> None:
    both = dstrat.mean(np.column_stack([api["api00"], api["enroll"]]), names=("api00", "enroll"))
    assert isinstance(both, MultiEstimate)
    np.testing.assert_allclose(
        both.covariance, ref["covariance of means (api00, enroll)"]["matrix"], rtol=1e-6
    )
    assert both["enroll"].estimate == pytest.approx(ref["mean enroll"]["estimate"], rel=1e-8)


def test_t_interval_on_design_df(api: dict, ref: dict, dstrat: SurveyDesign) -> None:
    lo, hi = dstrat.mean(api["api00"]).ci(0.95)
    expected = ref["mean api00 t-based 95% CI, df=197"]["ci"]
    close(lo, expected[0], 1e-7)
    close(hi, expected[1], 1e-7)


@pytest.mark.parametrize(
    "by, what", [("stype", "mean api00 by stype"), ("sch.wide", "mean api00 by sch.wide")]
)
def test_domain_means(api: dict, ref: dict, dstrat: SurveyDesign, by: str, what: str) -> None:
    dom = dstrat.mean(api["api00"], by=api[by])
    assert isinstance(dom, DomainEstimates)
    rel = ref[what].get("tolerance_relative", 1e-8)
    assert set(dom.levels) == set(ref[what]["by"])
    for level, expected in ref[what]["by"].items():
        close(dom[level].estimate, expected["estimate"], rel)
        close(dom[level].se, expected["se"], rel)
    np.testing.assert_allclose(np.sqrt(np.diag(dom.covariance)), dom.se, rtol=1e-12)


def test_domain_contrast(api: dict, ref: dict, dstrat: SurveyDesign) -> None:
    diff = dstrat.mean(api["api00"], by=api["stype"]).difference("E", "H")
    close(diff.estimate, ref["contrast mean api00 E - H (domains)"]["estimate"])
    close(diff.se, ref["contrast mean api00 E - H (domains)"]["se"])


def test_proportion_and_logit_interval(api: dict, ref: dict, dstrat: SurveyDesign) -> None:
    prop = dstrat.proportion(api["sch.wide"] == "Yes")
    close(prop.estimate, ref["proportion sch.wide == Yes"]["estimate"])
    close(prop.se, ref["proportion sch.wide == Yes"]["se"])
    lo, hi = prop.ci(method="logit")
    expected = ref["proportion sch.wide == Yes, logit CI (svyciprop method=logit)"]["ci"]
    close(lo, expected[0], 1e-7)
    close(hi, expected[1], 1e-7)
    with pytest.raises(ValueError, match="simple random sample"):
        prop.ci(method="wilson")


def test_raked_design_calibration_standard_errors(api: dict, ref: dict, dstrat: SurveyDesign) -> None:
    raked = dstrat.rake({"stype": (api["stype"], STYPE_POP), "sch.wide": (api["sch.wide"], SCHWIDE_POP)})
    cells = ref[
        "raking to stype (E 4421, H 755, M 1018) and sch.wide (No 1072, Yes 5122), iterated to convergence; "
        "weights per cell"
    ]["cells"]
    w = raked.weights
    for cell, expected in cells.items():
        st, sw = cell.split("-")
        np.testing.assert_allclose(w[(api["stype"] == st) & (api["sch.wide"] == sw)], expected, rtol=1e-7)
    for var, what in [
        (
            "api00",
            "mean api00 after converged raking, calibration (regression residual) linearization, as "
            "survey::calibrate(calfun='raking')",
        ),
        ("enroll", "mean enroll after converged raking, calibration linearization"),
    ]:
        est = raked.mean(api[var])
        close(est.estimate, ref[what]["estimate"])
        close(est.se, ref[what]["se"])
    assert dstrat.weights[0] == api["pw"][0]  # rake returned a new design


# ---------------------------------------------------------------- hand-worked small designs
def test_srs_mean_hand_worked() -> None:
    # y = 1, 2, 3, 6: mean 3, s² = (4 + 1 + 0 + 9)/3 = 14/3, se² = s²/n = 7/6 (with-replacement, no fpc).
    est = SurveyDesign(np.ones(4)).mean([1.0, 2.0, 3.0, 6.0])
    assert est.estimate == pytest.approx(3.0)
    assert est.se == pytest.approx(np.sqrt(7 / 6), rel=1e-12)
    assert est.df == 3


def test_srs_with_fpc_fraction_and_population_size_agree() -> None:
    y = np.array([1.0, 2.0, 3.0, 6.0])
    a = SurveyDesign(np.full(4, 5.0), fpc=np.full(4, 20.0)).mean(y)
    b = SurveyDesign(np.full(4, 5.0), fpc=np.full(4, 0.2)).mean(y)
    assert a.se == pytest.approx(np.sqrt(7 / 6 * (1 - 4 / 20)), rel=1e-12)
    assert b.se == pytest.approx(a.se, rel=1e-12)


def test_clustered_stratified_variance_matches_textbook_formula() -> None:
    # Two strata, clusters within: V(total) = Σ_h n_h/(n_h−1) Σ_i (t_hi − t̄_h)², t_hi = Σ_{j∈PSU} w_j y_j.
    strata = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    psu = np.array([1, 1, 2, 3, 3, 1, 2, 2, 3])
    w = np.array([2.0, 2, 3, 1, 1, 4, 4, 4, 2])
    y = np.array([5.0, 7, 1, 3, 8, 2, 2, 9, 4])
    design = SurveyDesign(w, strata=strata, psu=psu)
    expected = 0.0
    for h in (0, 1):
        totals = np.array([np.sum((w * y)[(strata == h) & (psu == p)]) for p in np.unique(psu[strata == h])])
        expected += len(totals) / (len(totals) - 1) * np.sum((totals - totals.mean()) ** 2)
    est = design.total(y)
    assert est.estimate == pytest.approx(np.sum(w * y))
    assert est.se == pytest.approx(np.sqrt(expected), rel=1e-12)
    assert design.df == 6 - 2


def test_poststratified_se_is_within_poststratum_residual_formula() -> None:
    # SRS with equal weights post-stratified: z_i = w_i (y_i − ȳ_c(i)) / N, V = n/(n−1) Σ z² (Lumley 2010 §7.2).
    rng = np.random.default_rng(3)
    n = 40
    cell = rng.integers(0, 3, n)
    y = rng.normal(10, 2, n) + cell
    pop = {0: 300.0, 1: 500.0, 2: 200.0}
    ps = SurveyDesign(np.full(n, 25.0)).poststratify(cell, pop)
    w = ps.weights
    for c, total in pop.items():
        assert w[cell == c].sum() == pytest.approx(total)
    cell_means = np.array([y[cell == c].mean() for c in range(3)])
    z = w * (y - cell_means[cell]) / 1000.0
    est = ps.mean(y)
    assert est.estimate == pytest.approx(np.sum(w * y) / 1000.0)
    assert est.se == pytest.approx(np.sqrt(n / (n - 1) * np.sum(z**2)), rel=1e-10)


def test_rake_to_a_single_margin_equals_poststratify() -> None:
    rng = np.random.default_rng(4)
    cell = rng.integers(0, 4, 50)
    y = rng.normal(size=50)
    base = SurveyDesign(rng.uniform(1, 3, 50))
    pop = {0: 10.0, 1: 20.0, 2: 30.0, 3: 40.0}
    a = base.rake({"cell": (cell, pop)}).mean(y)
    b = base.poststratify(cell, pop).mean(y)
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
    assert a.se == pytest.approx(b.se, rel=1e-9)


def test_two_column_y_matches_one_column_calls(api: dict, dstrat: SurveyDesign) -> None:
    both = dstrat.mean(np.column_stack([api["api00"], api["enroll"]]))
    assert both.se[1] == pytest.approx(dstrat.mean(api["enroll"]).se, rel=1e-12)
    lo_hi = both.ci()
    assert lo_hi.shape == (2, 2)


def test_domains_of_an_srs_are_uncorrelated() -> None:
    # With one stratum and no clustering, Σ_{i∈d} z_i = 0 for every domain mean, so the covariance is diagonal.
    rng = np.random.default_rng(5)
    dom = SurveyDesign(np.ones(60)).mean(rng.normal(size=60), by=np.repeat(["a", "b", "c"], 20))
    off = dom.covariance - np.diag(np.diag(dom.covariance))
    assert np.max(np.abs(off)) < 1e-15
    assert dom.levels == ("a", "b", "c")


def test_wilson_interval_for_simple_random_sample() -> None:
    y = np.array([1, 1, 0, 1, 0, 1, 1, 1, 0, 1], dtype=bool)
    prop = SurveyDesign(np.ones(10)).proportion(y)
    assert prop.ci(method="wilson") == pytest.approx(proportion_confint(7, 10, alpha=0.05, method="wilson"))


def test_design_effect_of_equal_weights_is_the_fpc_ratio() -> None:
    rng = np.random.default_rng(6)
    y = rng.normal(size=200)
    # V_design = s²/n (with-replacement); V_srs = s²/n · (N̂ − n)/N̂ with N̂ = Σw = 1000, so deff = 1/0.8.
    assert SurveyDesign(np.full(200, 5.0)).design_effect(y) == pytest.approx(1 / 0.8, rel=1e-12)


# ---------------------------------------------------------------- edge cases
def test_zero_weights_act_like_units_outside_a_domain() -> None:
    y = np.array([1.0, 2.0, 3.0, 6.0, 9.0])
    w = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    est = SurveyDesign(w).mean(y)
    dom = SurveyDesign(np.ones(5)).mean(y, by=np.array([0, 0, 0, 0, 1]))
    assert est.estimate == pytest.approx(3.0)
    assert est.n == 4
    assert est.se == pytest.approx(dom[0].se, rel=1e-12)
    assert est.df == 4  # the zero-weight unit stays in the design, as in survey::subset


@pytest.mark.parametrize("bad, message", [([1.0, -1.0, 2.0], "negative"), ([1.0, np.nan, 2.0], "NaN")])
def test_bad_weights_are_named(bad: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=f"weights.*{message}"):
        SurveyDesign(bad)


def test_length_mismatch_names_the_argument() -> None:
    with pytest.raises(ValueError, match="strata must have length 3"):
        SurveyDesign(np.ones(3), strata=[1, 2])
    with pytest.raises(ValueError, match="y must have 3 rows"):
        SurveyDesign(np.ones(3)).mean([1.0, 2.0])


LONELY = dict(strata=np.array([0, 0, 0, 1]), y=np.array([1.0, 2.0, 6.0, 10.0]))


def test_single_psu_stratum_fails_by_default() -> None:
    with pytest.raises(LonelyPSUError, match="stratum 1 has only one PSU"):
        SurveyDesign(np.ones(4), strata=LONELY["strata"])


def test_single_psu_stratum_options() -> None:
    y, strata = LONELY["y"], LONELY["strata"]
    # Stratum 0 alone: totals 1, 2, 6 → 3/2 Σ (t − 3)² = 3/2 · 14 = 21.
    certainty = SurveyDesign(np.ones(4), strata=strata, lonely_psu="certainty").total(y)
    assert certainty.se**2 == pytest.approx(21.0)
    assert SurveyDesign(np.ones(4), strata=strata, lonely_psu="remove").total(y).se ** 2 == pytest.approx(
        21.0
    )
    # "average": the 2 strata get the mean of the estimable strata's variance, 21 · 2/1.
    assert SurveyDesign(np.ones(4), strata=strata, lonely_psu="average").total(y).se ** 2 == pytest.approx(
        42.0
    )
    # "adjust": the lonely PSU total 10 is centred at the mean PSU total (1 + 2 + 6 + 10)/4 = 4.75.
    adjust = SurveyDesign(np.ones(4), strata=strata, lonely_psu="adjust").total(y)
    assert adjust.se**2 == pytest.approx(21.0 + (10 - 4.75) ** 2)


def test_one_respondent_domain_is_reported_not_nan() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    dom = SurveyDesign(np.ones(5)).mean(y, by=np.array(["a", "a", "a", "a", "b"]))
    assert dom.levels == ("a",)
    assert "b" in dom.insufficient and "only 1" in dom.insufficient["b"]
    with pytest.raises(InsufficientDataError, match="'b'"):
        dom["b"]
    with pytest.raises(InsufficientDataError, match="only 1"):
        SurveyDesign(np.ones(3)).mean([3.0, np.nan, np.nan])
    with pytest.raises(LonelyPSUError, match="a single PSU"):
        SurveyDesign(np.ones(1))


def test_all_answers_missing_is_an_error() -> None:
    with pytest.raises(InsufficientDataError, match="no usable answers"):
        SurveyDesign(np.ones(3)).mean([np.nan, np.nan, np.nan])
    multi = SurveyDesign(np.ones(3)).mean(np.array([[1.0, np.nan], [2.0, np.nan], [4.0, 1.0]]), by=[0, 0, 0])
    assert multi.levels == () and "no usable" not in multi.insufficient[0]  # one answer in column 1


def test_missing_values_are_left_out_like_a_domain() -> None:
    y = np.array([1.0, np.nan, 3.0, 5.0])
    est = SurveyDesign(np.ones(4)).mean(y)
    dom = SurveyDesign(np.ones(4)).mean(np.array([1.0, 0.0, 3.0, 5.0]), by=[0, 1, 0, 0])
    assert est.estimate == pytest.approx(3.0)
    assert est.n == 3
    assert est.se == pytest.approx(dom[0].se)


def test_fpc_smaller_than_sample_is_an_error() -> None:
    with pytest.raises(ValueError, match="smaller than the sample"):
        SurveyDesign(np.ones(4), fpc=np.full(4, 3.0))


def test_raking_every_city_at_once_gives_each_citys_own_standard_errors() -> None:
    # Strata = cities and margins within cities: the joint design's city estimates must equal those of each city's
    # own raked design (block-diagonal calibration; no leakage between cities).
    rng = np.random.default_rng(21)
    n = 450
    city = rng.integers(0, 3, n)
    age = rng.integers(0, 3, n)
    sex = rng.integers(0, 2, n)
    y = rng.normal(70, 10, n) + 3 * age
    age_pop = {(c, a): 1000.0 + 200 * a + 50 * c for c in range(3) for a in range(3)}
    sex_pop = {(c, s): sum(age_pop[(c, a)] for a in range(3)) / 2 for c in range(3) for s in range(2)}
    joint = SurveyDesign(np.full(n, 20.0), strata=city).rake(
        {"age": ((city, age), age_pop), "sex": ((city, sex), sex_pop)}
    )
    dom = joint.mean(y, by=city)
    for c in range(3):
        m = city == c
        alone = (
            SurveyDesign(np.full(m.sum(), 20.0))
            .rake(
                {
                    "age": (age[m], {a: age_pop[(c, a)] for a in range(3)}),
                    "sex": (sex[m], {s: sex_pop[(c, s)] for s in range(2)}),
                }
            )
            .mean(y[m])
        )
        assert dom[c].estimate == pytest.approx(alone.estimate, rel=1e-12)
        assert dom[c].se == pytest.approx(alone.se, rel=1e-9)
    assert abs(dom.covariance[0, 1]) < 1e-12


def test_repeating_a_calibration_changes_nothing() -> None:
    # Post-stratifying twice to the same cells: the second step has g = 1 and the projection is idempotent.
    rng = np.random.default_rng(22)
    cell = rng.integers(0, 3, 80)
    y = rng.normal(size=80) + cell
    pop = {0: 100.0, 1: 200.0, 2: 300.0}
    once = SurveyDesign(rng.uniform(1, 2, 80)).poststratify(cell, pop)
    twice = once.poststratify(cell, pop)
    assert twice.mean(y).se == pytest.approx(once.mean(y).se, rel=1e-10)
    assert twice.is_calibrated
