"""City results: Holm-adjusted pairwise tests (R oracle), national figure, comparisons, insufficient cities."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from oracle_paths import ORACLES
from scipy import stats

from scoring.cities import (
    city_results,
    combine_city_weights,
    compare_to_national,
    national_figure,
    pairwise_differences,
)
from scoring.index import compute_index
from scoring.survey import InsufficientDataError, SurveyDesign


@pytest.fixture(scope="module")
def api() -> dict[str, np.ndarray]:
    with (ORACLES / "apistrat.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, np.ndarray] = {"stype": np.array([r["stype"] for r in rows])}
    for k in ("api00", "enroll", "pw", "fpc"):
        out[k] = np.array([float(r[k]) for r in rows])
    return out


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads((ORACLES / "apistrat_reference.json").read_text(encoding="utf-8"))


def test_pairwise_holm_matches_r(api: dict, reference: dict) -> None:
    design = SurveyDesign(api["pw"], strata=api["stype"], fpc=api["fpc"])
    res = city_results(design, api["stype"], {"api00": api["api00"]})
    pairs = res.pairwise()
    assert [(p.a, p.b) for p in pairs] == [("E", "H"), ("E", "M"), ("H", "M")]
    expected = reference["pairwise_holm"]["p"]
    for pair, p in zip(pairs, expected, strict=True):
        assert pair.p_adjusted == pytest.approx(p, abs=reference["pairwise_holm"]["tolerance_absolute"])
    by_stype = next(e for e in reference["estimates"] if e["what"] == "mean api00 by stype")["by"]
    node = res.nodes["api00"]
    for city, est, se in zip(node.cities, node.estimate, node.se, strict=True):
        assert est == pytest.approx(by_stype[city]["estimate"], rel=1e-8)
        assert se == pytest.approx(by_stype[city]["se"], rel=1e-8)
    # E − H difference and SE equal the oracle contrast.
    assert pairs[0].difference == pytest.approx(48.61, rel=1e-8)
    assert pairs[0].se == pytest.approx(19.4021553995, rel=1e-8)


def test_default_national_figure_is_the_pooled_mean(api: dict, reference: dict) -> None:
    # Strata = domains with known population sizes, so the estimated shares N̂_h/N̂ are fixed and Σ a_h θ_h with
    # variance a'Σa is exactly the overall mean and its SE (oracle "mean api00").
    design = SurveyDesign(api["pw"], strata=api["stype"], fpc=api["fpc"])
    res = city_results(design, api["stype"], {"api00": api["api00"]})
    overall = next(e for e in reference["estimates"] if e["what"] == "mean api00")
    assert res.national["api00"].estimate == pytest.approx(overall["estimate"], rel=1e-10)
    assert res.national["api00"].se == pytest.approx(overall["se"], rel=1e-8)


def test_cis_and_covariance_per_node() -> None:
    rng = np.random.default_rng(7)
    n = 300
    city = rng.choice(["北京", "上海", "杭州"], n)
    items = {f"q{j}": rng.uniform(0, 100, n) for j in range(4)}
    tree = {
        "id": "overall",
        "children": [
            {"id": "d1", "children": [{"id": "q0"}, {"id": "q1"}]},
            {"id": "d2", "children": [{"id": "q2"}, {"id": "q3"}]},
        ],
    }
    index = compute_index(tree, items)
    design = SurveyDesign(rng.uniform(1, 3, n), strata=city)
    res = city_results(design, city, index)
    assert set(res.nodes) == {"overall", "d1", "d2", "q0", "q1", "q2", "q3"}
    node = res.nodes["overall"]
    q = stats.t.ppf(0.975, design.df)
    np.testing.assert_allclose(node.ci_low, node.estimate - q * node.se)
    direct = design.mean(index.scores["overall"], by=city)
    np.testing.assert_allclose(node.covariance, direct.covariance)
    # Independent strata: cities do not covary.
    assert abs(node.covariance[0, 1]) < 1e-12


def test_city_weights_for_the_national_figure() -> None:
    est = np.array([80.0, 70.0, 90.0])
    cov = np.diag([4.0, 1.0, 9.0])
    nat = national_figure(est, cov, [1.0, 1.0, 2.0])
    assert nat.estimate == pytest.approx(0.25 * 80 + 0.25 * 70 + 0.5 * 90)
    assert nat.se == pytest.approx(np.sqrt(0.25**2 * 4 + 0.25**2 * 1 + 0.5**2 * 9))
    mixed = combine_city_weights(
        {"population": {"a": 3.0, "b": 1.0}, "retail_sales": {"a": 1.0, "b": 1.0}},
        {"population": 0.6, "retail_sales": 0.4},
    )
    assert mixed["a"] == pytest.approx(0.6 * 0.75 + 0.4 * 0.5)
    assert sum(mixed.values()) == pytest.approx(1.0)
    assert all(type(w) is float for w in mixed.values())  # not numpy scalars: a release encodes them as JSON
    with pytest.raises(ValueError, match="covers different cities"):
        combine_city_weights({"p": {"a": 1.0}, "s": {"b": 1.0}})


def test_compare_to_national_accounts_for_the_city_inside_the_average() -> None:
    est = np.array([80.0, 70.0, 75.0])
    cov = np.diag([1.0, 1.0, 1.0])
    out = compare_to_national(["a", "b", "c"], est, cov, [1.0, 1.0, 1.0])
    # d_a = 80 − 75 = 5; Var = 1 − 2/3 + 1/3 = 2/3.
    assert out[0].difference == pytest.approx(5.0)
    assert out[0].se == pytest.approx(np.sqrt(2 / 3))
    assert [o.verdict for o in out] == ["above", "below", "not_significant"]
    assert "显著高于" in out[0].label


def test_city_with_one_respondent_is_listed_as_insufficient() -> None:
    city = np.array(["a"] * 5 + ["b"] * 5 + ["c"])
    y = np.arange(11, dtype=float)
    res = city_results(SurveyDesign(np.ones(11)), city, {"score": y})
    assert res.cities == ("a", "b")
    assert "c" in res.insufficient and "only 1" in res.insufficient["c"]
    assert res.national_weights["score"].tolist() == [0.5, 0.5]


def test_pairwise_with_zero_variance_is_an_error() -> None:
    with pytest.raises(InsufficientDataError, match="zero variance"):
        pairwise_differences(["a", "b"], [1.0, 2.0], np.zeros((2, 2)))


def test_holm_uses_step_down_not_sidak() -> None:
    # Three independent unit-variance contrasts; Holm multiplies the smallest p by 3, the next by 2, ...
    est = np.array([0.0, 2.5, 1.0])
    cov = np.eye(3) * 0.5
    pairs = pairwise_differences(["a", "b", "c"], est, cov)
    raw = np.array([p.p_value for p in pairs])
    order = np.argsort(raw)
    holm = np.minimum(1, np.maximum.accumulate(raw[order] * np.array([3, 2, 1])))
    np.testing.assert_allclose(np.array([p.p_adjusted for p in pairs])[order], holm)
