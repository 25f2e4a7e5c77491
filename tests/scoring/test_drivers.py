"""Key drivers, relative weights, importance–performance quadrants and Cronbach's alpha: hand-worked checks."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from scoring.drivers import (
    QUADRANTS,
    alpha_by_dimension,
    cronbach_alpha,
    importance_performance,
    key_drivers,
    relative_weights,
)


@pytest.fixture(scope="module")
def survey() -> dict[str, np.ndarray]:
    """200 respondents, 3 correlated indicators (0–100), overall satisfaction, design weights, 20 PSUs."""
    rng = np.random.default_rng(7)
    n = 200
    common = rng.normal(0, 8, n)
    x = np.column_stack([70 + common + rng.normal(0, 6, n) for _ in range(3)])
    y = 5 + 0.5 * x[:, 0] + 0.3 * x[:, 1] + 0.05 * x[:, 2] + rng.normal(0, 5 + 0.05 * x[:, 0], n)
    w = rng.uniform(0.5, 3.0, n)
    psu = np.repeat(np.arange(20), 10)
    return {"x": x, "y": y, "w": w, "psu": psu}


NAMES = ["价格合理", "服务水平", "消费设施"]


def _wls_by_hand(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """β = (X'WX)⁻¹X'Wy, residuals e, bread (X'WX)⁻¹ — textbook WLS with an intercept column."""
    design = np.column_stack([np.ones(y.size), x])
    bread = np.linalg.inv(design.T @ (design * w[:, None]))
    beta = bread @ design.T @ (w * y)
    return beta, y - design @ beta, bread


def test_coefficients_and_hc1_se_match_the_sandwich_by_hand(survey: dict[str, np.ndarray]) -> None:
    """HC1 = n/(n−k) · (X'WX)⁻¹ [Σ w_i² e_i² x_i x_i'] (X'WX)⁻¹ (White 1980; MacKinnon & White 1985)."""
    x, y, w = survey["x"], survey["y"], survey["w"]
    result = key_drivers(y, x, names=NAMES, weights=w)
    beta, e, bread = _wls_by_hand(y, x, w)
    design = np.column_stack([np.ones(y.size), x])
    meat = (design * (w * e)[:, None] ** 2).T @ design
    n, k = design.shape
    se = np.sqrt(np.diag(bread @ meat @ bread) * n / (n - k))
    assert result.intercept == pytest.approx(beta[0], rel=1e-10)
    assert [c.coef for c in result.coefficients] == pytest.approx(beta[1:], rel=1e-10)
    assert [c.se for c in result.coefficients] == pytest.approx(se[1:], rel=1e-10)
    assert result.intercept_se == pytest.approx(se[0], rel=1e-10)
    assert result.cov_type == "HC1" and result.n_used == 200 and result.n_dropped == 0


def test_matches_statsmodels_fit(survey: dict[str, np.ndarray]) -> None:
    x, y, w = survey["x"], survey["y"], survey["w"]
    fit = sm.WLS(y, sm.add_constant(x), weights=w).fit(cov_type="HC3")
    result = key_drivers(y, x, names=NAMES, weights=w, cov_type="HC3", level=0.9)
    ci = fit.conf_int(alpha=0.1)
    for j, c in enumerate(result.coefficients, start=1):
        assert (c.coef, c.se, c.p_value) == pytest.approx(
            (fit.params[j], fit.bse[j], fit.pvalues[j]), rel=1e-10
        )
        assert (c.ci_low, c.ci_high) == pytest.approx(tuple(ci[j]), rel=1e-10)
    assert result.r_squared == pytest.approx(fit.rsquared, rel=1e-12)


def test_cluster_robust_by_psu(survey: dict[str, np.ndarray]) -> None:
    """Cluster sandwich with statsmodels' default correction G/(G−1)·(n−1)/(n−k) (Liang & Zeger 1986)."""
    x, y, w, psu = survey["x"], survey["y"], survey["w"], survey["psu"]
    result = key_drivers(y, x, names=NAMES, weights=w, clusters=psu)
    _, e, bread = _wls_by_hand(y, x, w)
    design = np.column_stack([np.ones(y.size), x])
    scores = design * (w * e)[:, None]
    g_sums = np.vstack([scores[psu == g].sum(axis=0) for g in np.unique(psu)])
    n, k, g = y.size, design.shape[1], g_sums.shape[0]
    cov = bread @ (g_sums.T @ g_sums) @ bread * g / (g - 1) * (n - 1) / (n - k)
    assert result.cov_type == "cluster"
    assert [c.se for c in result.coefficients] == pytest.approx(np.sqrt(np.diag(cov))[1:], rel=1e-10)


def test_relative_weights_sum_to_r_squared_and_standardised_coefficients(
    survey: dict[str, np.ndarray],
) -> None:
    x, y, w = survey["x"], survey["y"], survey["w"]
    result = key_drivers(y, x, names=NAMES, weights=w)
    raw = np.array([c.relative_weight for c in result.coefficients])
    assert raw.sum() == pytest.approx(result.r_squared, rel=1e-10)
    assert (raw > 0).all()
    assert sum(c.importance for c in result.coefficients) == pytest.approx(1.0)
    # the strongest true driver gets the largest share
    assert max(result.coefficients, key=lambda c: c.importance).name == "价格合理"

    def wsd(v: np.ndarray) -> float:
        return float(np.sqrt(np.average((v - np.average(v, weights=w)) ** 2, weights=w)))

    for j, c in enumerate(result.coefficients):
        assert c.std_coef == pytest.approx(c.coef * wsd(x[:, j]) / wsd(y), rel=1e-10)
        assert c.performance == pytest.approx(np.average(x[:, j], weights=w), rel=1e-12)


def test_relative_weights_of_uncorrelated_predictors_are_squared_correlations() -> None:
    """Orthogonal X: Λ_half = I, so ε_j = r_jy² (Johnson 2000, eq. for uncorrelated predictors)."""
    x1 = np.tile([1.0, -1.0, 1.0, -1.0], 10)
    x2 = np.tile([1.0, 1.0, -1.0, -1.0], 10)
    y = np.random.default_rng(3).normal(size=40) + 2 * x1 + x2
    assert np.corrcoef(x1, x2)[0, 1] == pytest.approx(0.0, abs=1e-12)
    eps = relative_weights(y, np.column_stack([x1, x2]))
    r = [np.corrcoef(x1, y)[0, 1], np.corrcoef(x2, y)[0, 1]]
    assert eps == pytest.approx(np.square(r), rel=1e-10)


def test_relative_weights_two_predictors_closed_form() -> None:
    """Two predictors with correlation r: Λ_half = [[a, b], [b, a]], a,b = (√(1+r) ± √(1−r))/2."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(300, 2)) @ np.array([[1.0, 0.6], [0.0, 0.8]])
    y = x @ np.array([1.0, 0.4]) + rng.normal(size=300)
    c = np.corrcoef(np.column_stack([x, y]).T)
    r, ry = c[0, 1], c[:2, 2]
    a = (np.sqrt(1 + r) + np.sqrt(1 - r)) / 2
    b = (np.sqrt(1 + r) - np.sqrt(1 - r)) / 2
    lam = np.array([[a, b], [b, a]])
    beta = np.linalg.solve(lam, ry)
    expected = (lam**2) @ (beta**2)
    assert relative_weights(y, x) == pytest.approx(expected, rel=1e-10)


def test_integer_weights_equal_replicated_rows(survey: dict[str, np.ndarray]) -> None:
    x, y = survey["x"][:60], survey["y"][:60]
    w = np.tile([1.0, 2.0, 3.0], 20)
    reps = w.astype(int)
    a = key_drivers(y, x, names=NAMES, weights=w)
    b = key_drivers(np.repeat(y, reps), np.repeat(x, reps, axis=0), names=NAMES)
    assert [c.coef for c in a.coefficients] == pytest.approx([c.coef for c in b.coefficients], rel=1e-10)
    assert [c.relative_weight for c in a.coefficients] == pytest.approx(
        [c.relative_weight for c in b.coefficients], rel=1e-10
    )


def test_missing_rows_are_dropped_and_counted(survey: dict[str, np.ndarray]) -> None:
    x, y, w = survey["x"].copy(), survey["y"].copy(), survey["w"]
    x[3, 1] = np.nan
    y[10] = np.nan
    result = key_drivers(y, x, names=NAMES, weights=w)
    keep = np.ones(200, bool)
    keep[[3, 10]] = False
    ref = key_drivers(y[keep], x[keep], names=NAMES, weights=w[keep])
    assert result.n_used == 198 and result.n_dropped == 2
    assert [c.coef for c in result.coefficients] == pytest.approx([c.coef for c in ref.coefficients])


def test_driver_errors_name_the_problem(survey: dict[str, np.ndarray]) -> None:
    x, y, w = survey["x"], survey["y"], survey["w"]
    const = x.copy()
    const[:, 2] = 80.0
    with pytest.raises(ValueError, match=r"消费设施.*do not vary"):
        key_drivers(y, const, names=NAMES)
    collinear = np.column_stack([x[:, 0], x[:, 1], x[:, 0] + x[:, 1]])
    with pytest.raises(ValueError, match="collinear"):
        key_drivers(y, collinear, names=NAMES)
    with pytest.raises(ValueError, match="weights must be finite and >= 0"):
        key_drivers(y, x, names=NAMES, weights=-w)
    with pytest.raises(ValueError, match="names has 2 entries"):
        key_drivers(y, x, names=NAMES[:2])
    with pytest.raises(ValueError, match="only 4 complete rows"):
        key_drivers(y[:4], x[:4], names=NAMES)
    with pytest.raises(ValueError, match="cov_type"):
        key_drivers(y, x, names=NAMES, cov_type="HC9")
    with pytest.raises(ValueError, match="y does not vary"):
        key_drivers(np.full(200, 80.0), x, names=NAMES)


# --------------------------------------------------------------------------------------------- quadrants


def test_quadrants_by_hand() -> None:
    """Mean importance 0.25, mean performance 77.5: A high/high, B high/low, C low/low, D low/high."""
    points = importance_performance(["A", "B", "C", "D"], [0.4, 0.3, 0.2, 0.1], [80, 70, 75, 85])
    assert [p.quadrant for p in points] == ["keep_up", "improve", "low_priority", "maintain"]
    assert [p.label_zh for p in points] == ["优势区", "修补区", "机会区", "维持区"]
    assert points[1].label_en == QUADRANTS["improve"][1]


def test_quadrant_cut_ties_count_as_high_and_custom_cuts() -> None:
    points = importance_performance(["A", "B"], [0.5, 0.5], [70, 80], performance_cut=70)
    assert [p.quadrant for p in points] == ["keep_up", "keep_up"]
    points = importance_performance(["A", "B"], [0.2, 0.6], [70, 80], importance_cut=0.5, performance_cut=75)
    assert [p.quadrant for p in points] == ["low_priority", "keep_up"]


def test_quadrants_from_driver_analysis(survey: dict[str, np.ndarray]) -> None:
    result = key_drivers(survey["y"], survey["x"], names=NAMES, weights=survey["w"])
    cs = result.coefficients
    points = importance_performance(
        [c.name for c in cs], [c.importance for c in cs], [c.performance for c in cs]
    )
    assert {p.quadrant for p in points} <= set(QUADRANTS)
    assert points[0].importance == cs[0].importance


def test_quadrant_errors() -> None:
    with pytest.raises(ValueError, match="same non-zero length"):
        importance_performance(["A"], [0.1, 0.2], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"performance is missing for indicators \['B'\]"):
        importance_performance(["A", "B"], [0.1, 0.2], [1.0, np.nan])


# ------------------------------------------------------------------------------------------------ alpha


HAND = np.array([[1, 2, 3], [2, 2, 4], [3, 4, 4], [4, 4, 5]], dtype=float)


def test_cronbach_alpha_hand_example() -> None:
    """Item variances 5/3, 4/3, 2/3 (sum 11/3); totals 6, 8, 11, 13 have variance 29/3:
    α = 3/2 · (1 − 11/29) = 27/29 = 0.93103."""
    assert cronbach_alpha(HAND) == pytest.approx(27 / 29, rel=1e-12)


def test_cronbach_alpha_covariance_form_and_spearman_brown() -> None:
    """α = k/(k−1) · (1 − tr C / ΣC); for k standardised parallel items with correlation ρ it is kρ/(1+(k−1)ρ)."""
    rng = np.random.default_rng(5)
    data = rng.normal(size=(500, 4)) + rng.normal(size=(500, 1))
    c = np.cov(data.T)
    assert cronbach_alpha(data) == pytest.approx(4 / 3 * (1 - np.trace(c) / c.sum()), rel=1e-10)
    rho = 0.5  # exact: equicorrelated covariance realised by a 4-point design
    cov = np.full((4, 4), rho) + (1 - rho) * np.eye(4)
    exact = np.linalg.cholesky(cov)
    z = rng.normal(size=(4000, 4))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T))).T @ exact.T
    assert cronbach_alpha(z) == pytest.approx(4 * rho / (1 + 3 * rho), rel=1e-8)


def test_weighted_alpha_equals_replicated_rows() -> None:
    replicated = np.vstack([HAND[0], HAND])
    assert cronbach_alpha(HAND, weights=[2, 1, 1, 1]) == pytest.approx(cronbach_alpha(replicated), rel=1e-12)


def test_alpha_by_dimension_and_missing_rows() -> None:
    items = np.column_stack([HAND, HAND[:, ::-1] * 2])
    items = np.vstack([items, [np.nan, 1, 1, 1, 1, 1]])  # incomplete row: dropped in the first dimension
    out = alpha_by_dimension(
        items,
        item_names=["a", "b", "c", "d", "e", "f"],
        dimensions={"消费供给": ["a", "b", "c"], "消费环境": ["d", "e", "f"]},
    )
    assert out["消费供给"] == pytest.approx(27 / 29, rel=1e-12)
    assert out["消费环境"] != pytest.approx(27 / 29)  # the extra complete row of ones counts here


def test_alpha_errors() -> None:
    with pytest.raises(ValueError, match="k >= 2"):
        cronbach_alpha(HAND[:, :1])
    with pytest.raises(ValueError, match="total score is the same"):
        cronbach_alpha(np.array([[1, 3], [2, 2], [3, 1]], dtype=float))
    with pytest.raises(ValueError, match="at least 2 complete rows"):
        cronbach_alpha(np.array([[1, np.nan], [2, 2]], dtype=float))
    with pytest.raises(ValueError, match="dimension '维权' names unknown items"):
        alpha_by_dimension(HAND, item_names=["a", "b", "c"], dimensions={"维权": ["a", "z"]})
