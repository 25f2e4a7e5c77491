"""City results: every city's index, dimension and indicator scores with design-based SEs, CIs and covariance;
comparisons with the national figure; pairwise differences with Holm-adjusted p-values.

A city's score for a node is the design-based mean of the respondents' scores for that node (domain estimation
over the whole sample, survey::svyby(~score, ~city, design, svymean, covmat = TRUE)). The national figure is
θ_nat = Σ_c a_c θ_c with city weights a (normalised to sum 1): by default the estimated population shares
N̂_c / N̂ (then θ_nat is the pooled weighted mean; after raking every city to its population the shares are fixed,
so treating them as constants is exact), or given weights such as resident population and retail sales (the
national evaluation's rule; see :func:`combine_city_weights`). Its variance is a'Σa with Σ the covariance of the
city estimates (survey::svycontrast).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from scoring.index import IndexResult
from scoring.survey import DomainEstimates, Estimate, InsufficientDataError, SurveyDesign

__all__ = [
    "CityResults",
    "NationalComparison",
    "NodeResults",
    "PairwiseComparison",
    "city_results",
    "combine_city_weights",
    "compare_to_national",
    "national_figure",
    "pairwise_differences",
]

Verdict = Literal["above", "below", "not_significant"]
VERDICT_LABELS: dict[str, str] = {
    "above": "显著高于全国平均 / significantly above the national average",
    "below": "显著低于全国平均 / significantly below the national average",
    "not_significant": "与全国平均无显著差异 / not significantly different from the national average",
}


@dataclass(frozen=True)
class NodeResults:
    """One node's city estimates in city order, with ``level`` CIs (t on the design df) and the covariance."""

    node: str
    cities: tuple[Any, ...]
    estimate: NDArray[np.float64]
    se: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    covariance: NDArray[np.float64]
    n: NDArray[np.int64]
    df: float
    insufficient: dict[Any, str] = field(default_factory=dict)

    def domain(self) -> DomainEstimates:
        """The same numbers as a DomainEstimates (for contrasts)."""
        values = tuple(
            Estimate(float(e), float(s), self.df, int(k), self.node)
            for e, s, k in zip(self.estimate, self.se, self.n, strict=True)
        )
        return DomainEstimates(self.cities, values, self.covariance, self.df, dict(self.insufficient))


@dataclass(frozen=True)
class NationalComparison:
    """City minus national figure, its SE, test statistic, two-sided p-value and verdict."""

    city: Any
    difference: float
    se: float
    statistic: float
    p_value: float
    verdict: Verdict

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self.verdict]


@dataclass(frozen=True)
class PairwiseComparison:
    """θ_a − θ_b, its SE, z, raw and Holm-adjusted two-sided p-values."""

    a: Any
    b: Any
    difference: float
    se: float
    statistic: float
    p_value: float
    p_adjusted: float
    significant: bool


@dataclass(frozen=True)
class CityResults:
    """Per-node city results, the national figure per node and the city weights used for it."""

    top: str
    nodes: dict[str, NodeResults]
    national: dict[str, Estimate]
    national_weights: dict[str, NDArray[np.float64]]
    insufficient: dict[Any, str]

    @property
    def cities(self) -> tuple[Any, ...]:
        return self.nodes[self.top].cities

    def compare_to_national(
        self, node: str | None = None, *, alpha: float = 0.05
    ) -> list[NationalComparison]:
        """Which cities are significantly above/below the national figure for ``node`` (default: the top)."""
        res = self.nodes[node or self.top]
        return compare_to_national(
            res.cities, res.estimate, res.covariance, self.national_weights[res.node], alpha=alpha
        )

    def pairwise(self, node: str | None = None, *, alpha: float = 0.05) -> list[PairwiseComparison]:
        """All pairwise city differences for ``node`` with Holm-adjusted p-values."""
        res = self.nodes[node or self.top]
        return pairwise_differences(res.cities, res.estimate, res.covariance, alpha=alpha)


def city_results(
    design: SurveyDesign,
    city: ArrayLike,
    scores: IndexResult | Mapping[str, ArrayLike],
    *,
    nodes: list[str] | None = None,
    city_weights: Mapping[Any, float] | None = None,
    level: float = 0.95,
) -> CityResults:
    """Every city's score for every node with SE, CI and covariance between cities, plus the national figure.

    ``scores``: an IndexResult (respondent-level scores of every node) or a mapping node id → respondent scores.
    ``nodes``: which nodes (default: all of an IndexResult, in pre-order, the first being the top).
    ``city_weights``: city → weight for the national figure (default: estimated population shares).
    Cities with fewer than 2 respondents with a score for a node are left out of that node and listed in
    ``insufficient`` (reason in zh-CN and English). References: survey::svyby, survey::svycontrast; Lumley (2010)
    *Complex Surveys* §2.4 (domains).
    """
    if isinstance(scores, IndexResult):
        order = nodes or [node.id for node in scores.tree.walk()]
        columns = {k: scores.scores[k] for k in order}
    else:
        order = nodes or list(scores)
        columns = {k: np.asarray(scores[k], dtype=np.float64) for k in order}
    if not order:
        raise ValueError("no nodes to estimate / 没有需要估计的指标")
    city_arr = np.asarray(city)
    pop_share = design.total(np.ones(design.n), by=city_arr)
    results: dict[str, NodeResults] = {}
    national: dict[str, Estimate] = {}
    weights_used: dict[str, NDArray[np.float64]] = {}
    insufficient: dict[Any, str] = {}
    for node in order:
        dom = design.mean(columns[node], by=city_arr, names=(node,))
        if len(dom.levels) == 0:
            raise InsufficientDataError(
                f"node {node!r}: no city has enough data / 指标 {node!r} 没有城市有足够数据"
            )
        est, se = dom.estimates, dom.se
        q = stats.t.ppf(0.5 + level / 2, dom.df)
        results[node] = NodeResults(
            node=node,
            cities=dom.levels,
            estimate=est,
            se=se,
            ci_low=est - q * se,
            ci_high=est + q * se,
            covariance=dom.covariance,
            n=np.array([v.n for v in dom.results], dtype=np.int64),
            df=dom.df,
            insufficient=dict(dom.insufficient),
        )
        for c, reason in dom.insufficient.items():
            insufficient.setdefault(c, f"{node}: {reason}")
        if city_weights is None:
            a = np.array([pop_share[c].estimate for c in dom.levels])
        else:
            absent = [c for c in dom.levels if c not in city_weights]
            if absent:
                raise ValueError(f"city_weights has no weight for cities {absent[:5]} / 缺少城市权重")
            a = np.array([float(city_weights[c]) for c in dom.levels])
        national[node] = national_figure(est, dom.covariance, a, df=dom.df, name=node)
        weights_used[node] = a / a.sum()
    return CityResults(order[0], results, national, weights_used, insufficient)


def combine_city_weights(
    components: Mapping[str, Mapping[Any, float]], shares: Mapping[str, float] | None = None
) -> dict[Any, float]:
    """Mix several city weightings (e.g. resident population and retail sales): a_c = Σ_k s_k · x_kc / Σ_c x_kc,
    each component normalised to sum 1 first, shares s_k default equal. Every component must cover the same
    cities with finite, non-negative values."""
    if not components:
        raise ValueError("no weight components / 没有权重成分")
    names = list(components)
    s = {k: 1.0 / len(names) for k in names} if shares is None else {k: float(shares[k]) for k in names}
    total_share = sum(s.values())
    cities = list(components[names[0]])
    out = dict.fromkeys(cities, 0.0)
    for k in names:
        comp = components[k]
        if set(comp) != set(cities):
            raise ValueError(f"weight component {k!r} covers different cities / 权重成分 {k!r} 的城市不一致")
        vals = np.array([float(comp[c]) for c in cities])
        if not np.all(np.isfinite(vals)) or (vals < 0).any() or vals.sum() <= 0:
            raise ValueError(f"weight component {k!r} must be finite, >= 0 and not all zero")
        for c, v in zip(cities, vals / vals.sum(), strict=True):
            out[c] += float(s[k] / total_share * v)  # plain floats: a release encodes them
    return out


def national_figure(
    estimates: ArrayLike,
    covariance: ArrayLike,
    weights: ArrayLike,
    *,
    df: float = np.inf,
    name: str = "national",
) -> Estimate:
    """θ_nat = Σ a_c θ_c with a = weights / Σ weights, Var = a'Σa (survey::svycontrast; the city weights are
    treated as known constants)."""
    a = np.asarray(weights, dtype=np.float64)
    theta = np.asarray(estimates, dtype=np.float64)
    S = np.asarray(covariance, dtype=np.float64)
    if a.shape != theta.shape or S.shape != (a.size, a.size):
        raise ValueError("weights, estimates and covariance must match in size")
    if not np.all(np.isfinite(a)) or (a < 0).any() or a.sum() <= 0:
        raise ValueError("city weights must be finite, >= 0 and not all zero / 城市权重必须非负")
    a = a / a.sum()
    var = float(a @ S @ a)
    return Estimate(float(a @ theta), float(np.sqrt(max(var, 0.0))), df, 0, name)


def compare_to_national(
    cities: tuple[Any, ...] | list[Any],
    estimates: ArrayLike,
    covariance: ArrayLike,
    weights: ArrayLike,
    *,
    alpha: float = 0.05,
) -> list[NationalComparison]:
    """Test each city against the national figure: d_c = θ_c − a'θ, Var(d_c) = Σ_cc − 2(Σa)_c + a'Σa (the city is
    part of the national figure, so the covariance matters), z = d_c / se, two-sided normal p-value; "above" /
    "below" when p < alpha. Per-city tests, not adjusted for multiplicity (use :func:`pairwise_differences` for
    adjusted comparisons). Reference: survey::svycontrast; Lumley (2010) §2.4."""
    theta = np.asarray(estimates, dtype=np.float64)
    S = np.asarray(covariance, dtype=np.float64)
    a = np.asarray(weights, dtype=np.float64)
    a = a / a.sum()
    nat = float(a @ theta)
    Sa = S @ a
    var = np.diag(S) - 2 * Sa + float(a @ Sa)
    se = np.sqrt(np.maximum(var, 0.0))
    zero = np.flatnonzero(se == 0)
    if zero.size:
        raise InsufficientDataError(
            f"city {cities[int(zero[0])]!r}: zero variance of the difference from the national figure"
        )
    diff = theta - nat
    z = diff / se
    p = 2 * stats.norm.sf(np.abs(z))  # one vectorised call: per-city scalar calls dominate a national release
    out: list[NationalComparison] = []
    for c, d, s_c, z_c, p_c in zip(cities, diff, se, z, p, strict=True):
        verdict: Verdict = "not_significant" if p_c >= alpha else ("above" if d > 0 else "below")
        out.append(NationalComparison(c, float(d), float(s_c), float(z_c), float(p_c), verdict))
    return out


def pairwise_differences(
    cities: tuple[Any, ...] | list[Any],
    estimates: ArrayLike,
    covariance: ArrayLike,
    *,
    alpha: float = 0.05,
) -> list[PairwiseComparison]:
    """All pairs (i < j in city order): θ_i − θ_j, se = √(Σ_ii + Σ_jj − 2Σ_ij), z-test, two-sided p, Holm (1979)
    step-down adjustment over all pairs via statsmodels ``multipletests(method="holm")`` (not its default
    Holm–Šidák)."""
    from statsmodels.stats.multitest import multipletests

    theta = np.asarray(estimates, dtype=np.float64)
    S = np.asarray(covariance, dtype=np.float64)
    k = theta.size
    if k < 2:
        return []
    i, j = np.triu_indices(k, 1)
    diff = theta[i] - theta[j]
    var = S[i, i] + S[j, j] - 2 * S[i, j]
    if (var <= 0).any():
        bad = int(np.argmax(var <= 0))
        raise InsufficientDataError(
            f"cities {cities[i[bad]]!r} and {cities[j[bad]]!r}: the difference has zero variance / 差异的方差为零"
        )
    se = np.sqrt(var)
    z = diff / se
    p = 2 * stats.norm.sf(np.abs(z))
    reject, p_adj, _, _ = multipletests(p, alpha=alpha, method="holm")
    return [
        PairwiseComparison(cities[a], cities[b], float(d), float(s), float(t), float(pp), float(pa), bool(r))
        for a, b, d, s, t, pp, pa, r in zip(i, j, diff, se, z, p, p_adj, reject, strict=True)
    ]
