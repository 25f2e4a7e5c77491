"""What drives satisfaction: key-driver regression, derived importance, importance–performance quadrants (四分图),
Cronbach's alpha.

- Regression: the overall-satisfaction item on the indicator scores, weighted least squares with the survey
  weights (statsmodels ``WLS``) and heteroscedasticity-robust standard errors (``cov_type="HC1"`` by default,
  White 1980 with the n / (n - k) correction of MacKinnon & White 1985; or cluster-robust by PSU). With sampling
  weights the WLS point estimates are the survey-weighted (pseudo-likelihood) coefficients of R's
  ``survey::svyglm``, and the HC sandwich sum_i w_i² e_i² x_i x_i' is its linearisation variance for a one-stage
  design without strata, up to the small-sample factor.
- Derived importance: Johnson's (2000) relative weights, "A heuristic method for estimating the relative weight of
  predictor variables in multiple regression", Multivariate Behavioral Research 35(1), 1–19, computed on the
  survey-weighted correlation matrix. They split R² among correlated predictors (sum = R², never negative), which
  standardised coefficients do not when indicators are collinear, as satisfaction indicators always are.
  Standardised coefficients and zero-order correlations are reported too.
- Quadrants: importance–performance analysis, Martilla & James (1977), "Importance-performance analysis",
  Journal of Marketing 41(1), 77–79; cut at the mean importance and mean performance of the indicators.
- Cronbach (1951), "Coefficient alpha and the internal structure of tests", Psychometrika 16(3), 297–334.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "QUADRANTS",
    "DriverAnalysis",
    "DriverCoefficient",
    "QuadrantPoint",
    "alpha_by_dimension",
    "cronbach_alpha",
    "importance_performance",
    "key_drivers",
    "relative_weights",
]

#: quadrant code → (中文, English). "high" means at or above the cut.
QUADRANTS: dict[str, tuple[str, str]] = {
    "keep_up": ("优势区", "keep up the good work (high importance, high performance)"),
    "improve": ("修补区", "concentrate here: improve (high importance, low performance)"),
    "low_priority": ("机会区", "low priority (low importance, low performance)"),
    "maintain": ("维持区", "possible overkill: maintain (low importance, high performance)"),
}

_COV_TYPES = ("HC0", "HC1", "HC2", "HC3")


@dataclass(frozen=True)
class DriverCoefficient:
    """One indicator in the key-driver regression."""

    name: str
    coef: float
    se: float
    p_value: float
    ci_low: float
    ci_high: float
    std_coef: float  # coef × sd_w(x) / sd_w(y)
    correlation: float  # weighted zero-order correlation with y
    relative_weight: float  # Johnson's raw relative weight (sums to R² over indicators)
    importance: float  # relative_weight / R²: share of explained variance, sums to 1
    performance: float  # weighted mean score of the indicator (rows used in the regression)


@dataclass(frozen=True)
class DriverAnalysis:
    """Key-driver regression result: intercept, coefficients per indicator, fit and the rows used."""

    intercept: float
    intercept_se: float
    coefficients: list[DriverCoefficient]
    r_squared: float
    n_used: int
    n_dropped: int
    cov_type: str
    level: float


def key_drivers(
    y: ArrayLike,
    X: ArrayLike,
    *,
    names: Sequence[str],
    weights: ArrayLike | None = None,
    cov_type: str = "HC1",
    clusters: ArrayLike | None = None,
    level: float = 0.95,
) -> DriverAnalysis:
    """Regress overall satisfaction ``y`` on indicator scores ``X`` (n × k) with survey weights.

    statsmodels ``WLS(y, [1, X], weights).fit(cov_type=...)``: ``cov_type`` one of HC0–HC3 (default HC1), or give
    ``clusters`` (PSU codes) for the cluster-robust sandwich (Liang & Zeger 1986; ``cov_type="cluster"``).
    Derived importance = Johnson's (2000) relative weights on the weighted correlations; performance = weighted
    mean of each indicator. Rows with a missing y or indicator are dropped (listwise, counted in ``n_dropped``);
    rows with zero weight do not contribute. Raises ValueError for constant or collinear indicators, negative
    weights, or too few usable rows.
    """
    yv, xm, w, names_list, n_dropped, keep = _regression_data(y, X, names, weights)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    raw, corr_xy = _relative_weights(yv, xm, w)  # raises on collinear indicators before fitting
    exog = sm.add_constant(xm, has_constant="add")
    model = sm.WLS(yv, exog, weights=w)
    if clusters is not None:
        groups = np.asarray(clusters).reshape(-1)
        if groups.size != keep.size:
            raise ValueError(f"clusters has {groups.size} values but y has {keep.size}")
        groups = groups[keep]
        _, codes = np.unique(groups, return_inverse=True)
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": codes})
        used_cov = "cluster"
    else:
        if cov_type not in _COV_TYPES:
            raise ValueError(f"cov_type must be one of {_COV_TYPES} (or give clusters), got {cov_type!r}")
        fit = model.fit(cov_type=cov_type)
        used_cov = cov_type
    params, bse, pvalues = np.asarray(fit.params), np.asarray(fit.bse), np.asarray(fit.pvalues)
    ci = np.asarray(fit.conf_int(alpha=1.0 - level))

    mean_x = np.average(xm, axis=0, weights=w)
    sd_x = np.sqrt(np.average((xm - mean_x) ** 2, axis=0, weights=w))
    mean_y = np.average(yv, weights=w)
    sd_y = np.sqrt(np.average((yv - mean_y) ** 2, weights=w))
    r2 = float(raw.sum())
    coefficients = [
        DriverCoefficient(
            name=names_list[j],
            coef=float(params[j + 1]),
            se=float(bse[j + 1]),
            p_value=float(pvalues[j + 1]),
            ci_low=float(ci[j + 1, 0]),
            ci_high=float(ci[j + 1, 1]),
            std_coef=float(params[j + 1] * sd_x[j] / sd_y),
            correlation=float(corr_xy[j]),
            relative_weight=float(raw[j]),
            importance=float(raw[j] / r2) if r2 > 0 else 0.0,
            performance=float(mean_x[j]),
        )
        for j in range(len(names_list))
    ]
    return DriverAnalysis(
        intercept=float(params[0]),
        intercept_se=float(bse[0]),
        coefficients=coefficients,
        r_squared=float(fit.rsquared),
        n_used=int(yv.size),
        n_dropped=n_dropped,
        cov_type=used_cov,
        level=level,
    )


def relative_weights(y: ArrayLike, X: ArrayLike, *, weights: ArrayLike | None = None) -> NDArray[np.float64]:
    """Johnson's (2000) raw relative weights of the columns of X for y (sum = R²), survey-weighted correlations.

    R_xx = V Λ V'; Λ_half = V Λ^½ V' (the correlations of X with its closest orthonormal Z); β* = Λ_half⁻¹ r_xy;
    ε_j = Σ_k Λ_half[j, k]² β*_k². Complete rows only.
    """
    xm = np.asarray(X, dtype=float)
    k = 1 if xm.ndim == 1 else xm.shape[-1]
    yv, xm, w, *_ = _regression_data(y, xm, [f"x{j + 1}" for j in range(k)], weights)
    return _relative_weights(yv, xm, w)[0]


@dataclass(frozen=True)
class QuadrantPoint:
    """One indicator on the importance–performance grid (四分图)."""

    name: str
    importance: float
    performance: float
    quadrant: str  # a key of QUADRANTS
    label_zh: str
    label_en: str


def importance_performance(
    names: Sequence[str],
    importance: ArrayLike,
    performance: ArrayLike,
    *,
    importance_cut: float | None = None,
    performance_cut: float | None = None,
) -> list[QuadrantPoint]:
    """Place every indicator in a quadrant of the importance–performance grid (Martilla & James 1977).

    Cuts default to the mean importance and the mean performance over the indicators ("data-centred" grid); an
    indicator exactly at a cut counts as high. Quadrants: 优势区 keep up (high, high), 修补区 improve (high
    importance, low performance), 机会区 low priority (low, low), 维持区 maintain (low importance, high
    performance).
    """
    imp = np.asarray(importance, dtype=float).reshape(-1)
    perf = np.asarray(performance, dtype=float).reshape(-1)
    labels = [str(n) for n in names]
    if not (imp.size == perf.size == len(labels)) or not labels:
        raise ValueError(
            f"names ({len(labels)}), importance ({imp.size}) and performance ({perf.size}) must have the same "
            "non-zero length"
        )
    for arg, arr in (("importance", imp), ("performance", perf)):
        bad = [labels[i] for i in np.flatnonzero(~np.isfinite(arr))]
        if bad:
            raise ValueError(f"{arg} is missing for indicators {bad}")
    i_cut = float(imp.mean()) if importance_cut is None else float(importance_cut)
    p_cut = float(perf.mean()) if performance_cut is None else float(performance_cut)
    points = []
    for name, i_val, p_val in zip(labels, imp, perf, strict=True):
        high_i, high_p = i_val >= i_cut, p_val >= p_cut
        code = {
            (True, True): "keep_up",
            (True, False): "improve",
            (False, False): "low_priority",
            (False, True): "maintain",
        }[(bool(high_i), bool(high_p))]
        zh, en = QUADRANTS[code]
        points.append(QuadrantPoint(name, float(i_val), float(p_val), code, zh, en))
    return points


def cronbach_alpha(items: ArrayLike, *, weights: ArrayLike | None = None) -> float:
    """Cronbach's (1951) alpha of the columns of ``items`` (n × k): k/(k−1) · (1 − Σ var(item) / var(total)).

    Complete rows only (listwise, as R ``psych::alpha`` with ``use = "complete.obs"`` would do). With ``weights``
    the variances are survey-weighted (the normalisation cancels in the ratio). Raises ValueError when fewer than
    2 items or 2 complete rows, or when the total score does not vary (alpha undefined).
    """
    x = np.asarray(items, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"items must be an n × k matrix with k >= 2 items, got shape {x.shape}")
    w = _weights(weights, x.shape[0])
    keep = np.isfinite(x).all(axis=1) & (w > 0)
    if keep.sum() < 2:
        raise ValueError(
            f"cronbach_alpha needs at least 2 complete rows with positive weight, got {int(keep.sum())}"
        )
    x, w = x[keep], w[keep]
    k = x.shape[1]
    item_var = np.average((x - np.average(x, axis=0, weights=w)) ** 2, axis=0, weights=w)
    total = x.sum(axis=1)
    total_var = np.average((total - np.average(total, weights=w)) ** 2, weights=w)
    if total_var <= 0:
        raise ValueError("cronbach_alpha is undefined: the total score is the same for every respondent")
    return float(k / (k - 1) * (1.0 - item_var.sum() / total_var))


def alpha_by_dimension(
    items: ArrayLike,
    *,
    item_names: Sequence[str],
    dimensions: Mapping[str, Sequence[str]],
    weights: ArrayLike | None = None,
) -> dict[str, float]:
    """Cronbach's alpha (Cronbach 1951) of every dimension's items; ``dimensions`` maps dimension → item names."""
    x = np.asarray(items, dtype=float)
    names = list(item_names)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ValueError(f"items has shape {x.shape} but {len(names)} item_names were given")
    position = {name: j for j, name in enumerate(names)}
    out: dict[str, float] = {}
    for dim, members in dimensions.items():
        unknown = [m for m in members if m not in position]
        if unknown:
            raise ValueError(f"dimension {dim!r} names unknown items {unknown}")
        try:
            out[dim] = cronbach_alpha(x[:, [position[m] for m in members]], weights=weights)
        except ValueError as exc:
            raise ValueError(f"dimension {dim!r}: {exc}") from None
    return out


# ----------------------------------------------------------------------------------------------- internals


def _weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64]:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if w.size != n:
        raise ValueError(f"weights has {w.size} values but there are {n} rows")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and >= 0")
    return w


def _regression_data(
    y: ArrayLike, X: ArrayLike, names: Sequence[str], weights: ArrayLike | None
) -> tuple[NDArray, NDArray, NDArray, list[str], int, NDArray[np.bool_]]:
    """Validated complete rows with positive weight: (y, X, w, names, #rows dropped as incomplete, row mask)."""
    yv = np.asarray(y, dtype=float).reshape(-1)
    xm = np.asarray(X, dtype=float)
    if xm.ndim == 1:
        xm = xm[:, None]
    if xm.ndim != 2 or xm.shape[0] != yv.size:
        raise ValueError(f"X must be an n × k matrix with n = {yv.size} rows (like y), got shape {xm.shape}")
    names_list = [str(n) for n in names]
    if len(names_list) != xm.shape[1]:
        raise ValueError(f"names has {len(names_list)} entries but X has {xm.shape[1]} columns")
    w = _weights(weights, yv.size)
    keep = np.isfinite(yv) & np.isfinite(xm).all(axis=1)
    n_dropped = int((~keep).sum())
    keep &= w > 0
    full_keep = keep
    yv, xm, w = yv[keep], xm[keep], w[keep]
    k = xm.shape[1]
    if yv.size < k + 2:
        raise ValueError(
            f"only {yv.size} complete rows with positive weight for {k} indicators; need >= {k + 2}"
        )
    mean = np.average(xm, axis=0, weights=w)
    var = np.average((xm - mean) ** 2, axis=0, weights=w)
    const = [names_list[j] for j in np.flatnonzero(var <= 1e-12 * np.maximum(1.0, mean**2))]
    if const:
        raise ValueError(f"indicators {const} do not vary: they cannot explain satisfaction")
    if np.average((yv - np.average(yv, weights=w)) ** 2, weights=w) <= 0:
        raise ValueError("y does not vary: nothing to explain")
    return yv, xm, w, names_list, n_dropped, full_keep


def _relative_weights(y: NDArray, x: NDArray, w: NDArray) -> tuple[NDArray, NDArray]:
    """Johnson's raw relative weights and the zero-order correlations r_xy (weighted)."""
    data = np.column_stack([x, y])
    mean = np.average(data, axis=0, weights=w)
    centred = data - mean
    cov = (centred * w[:, None]).T @ centred / w.sum()
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    r_xx, r_xy = corr[:-1, :-1], corr[:-1, -1]
    eigval, eigvec = np.linalg.eigh(r_xx)
    if eigval.min() <= 1e-10 * eigval.max():
        raise ValueError(
            "indicators are perfectly collinear: relative weights are undefined; drop one of them"
        )
    lam_half = (eigvec * np.sqrt(eigval)) @ eigvec.T
    beta_star = np.linalg.solve(lam_half, r_xy)
    raw = (lam_half**2) @ (beta_star**2)
    return raw, r_xy
