"""Respondent weights: design weights, post-stratification, raking, trimming, Kish effective sample size.

Pure functions over numpy arrays. The calibrated *designs* (with calibration-adjusted standard errors) are built by
``SurveyDesign.rake`` / ``SurveyDesign.poststratify`` in :mod:`scoring.survey`, which call these functions for the
weights themselves.

Margins are given as ``{name: (codes, {level: population_count})}``. ``codes`` is a 1-D array of length n, or a
tuple of such arrays for an interaction (then the population keys are tuples, e.g. ``(city, age_band)``): raking
every city to its own margins at once is one call with interaction codes, vectorised over all cities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CalibrationError",
    "Margin",
    "RakeResult",
    "TrimResult",
    "design_weights",
    "factorize_margin",
    "kish_deff",
    "kish_effective_n",
    "poststratify_weights",
    "rake_weights",
    "trim_weights",
    "validate_weights",
]

Codes = ArrayLike | tuple[ArrayLike, ...]
Margins = Mapping[str, tuple[Codes, Mapping[Any, float]]]


class CalibrationError(ValueError):
    """Raking or post-stratification cannot reach the population margins (empty level, unknown level, no
    convergence). The message names the margin and the level."""


@dataclass(frozen=True)
class Margin:
    """One margin after factorisation: ``index[i]`` is unit i's level position, ``totals[l]`` the population count
    of ``levels[l]``. Levels with population 0 and no sample units are dropped (as survey::calibrate does)."""

    name: str
    levels: list[Any]
    index: NDArray[np.int64]
    totals: NDArray[np.float64]


@dataclass(frozen=True)
class RakeResult:
    """Raked weights with the number of IPF sweeps and the largest relative misfit at the end."""

    weights: NDArray[np.float64]
    iterations: int
    max_relative_misfit: float
    margins: tuple[Margin, ...]


@dataclass(frozen=True)
class TrimResult:
    """Trimmed weights, the number of weights at a bound and the sweeps needed."""

    weights: NDArray[np.float64]
    n_trimmed: int
    iterations: int


def validate_weights(weights: ArrayLike, name: str = "weights") -> NDArray[np.float64]:
    """Return ``weights`` as a float vector; raise ValueError naming ``name`` on NaN, infinite or negative values.

    Zero weights are allowed: the unit stays in the design (it counts in its stratum's number of PSUs and in the
    degrees of freedom, as a unit outside a domain does in survey::subset) but contributes nothing.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {w.shape} / {name} 必须是一维数组")
    if w.size == 0:
        raise ValueError(f"{name} is empty / {name} 为空")
    bad = ~np.isfinite(w)
    if bad.any():
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN or infinite value(s), first at position {int(np.argmax(bad))} / "
            f"{name} 含缺失或无穷值"
        )
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise ValueError(f"{name} has negative value {w[i]!r} at position {i} / {name} 含负权重")
    return w


def factorize_margin(name: str, codes: Codes, population: Mapping[Any, float], n: int) -> Margin:
    """Map unit codes to population levels, checking the margin (used by raking and post-stratification).

    Errors (CalibrationError, naming the margin and level): a sample level missing from ``population``; a
    population level with a positive count but no sample unit (an empty level cannot be raked to); a negative or
    non-finite population count; a level with population 0 that has sample units.
    """
    if isinstance(codes, tuple | list) and len(codes) > 0 and np.ndim(codes[0]) == 1:
        parts = [np.asarray(c) for c in codes]
        if any(p.shape != (n,) for p in parts):
            raise ValueError(f"margin {name!r}: every code array must have length {n}")
        uniq_idx = [np.unique(p, return_inverse=True) for p in parts]
        combined = np.ravel_multi_index(
            tuple(inv.reshape(-1) for _, inv in uniq_idx), tuple(len(u) for u, _ in uniq_idx)
        )
        cells, index = np.unique(combined, return_inverse=True)
        unravelled = np.unravel_index(cells, tuple(len(u) for u, _ in uniq_idx))
        level_lists = [u.tolist() for u, _ in uniq_idx]
        levels = [
            tuple(level_lists[d][int(unravelled[d][c])] for d in range(len(parts))) for c in range(len(cells))
        ]
    else:
        arr = np.asarray(codes)
        if arr.shape != (n,):
            raise ValueError(f"margin {name!r}: codes must have length {n}, got shape {arr.shape}")
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise CalibrationError(f"margin {name!r}: codes contain NaN / 边际 {name!r} 的编码含缺失值")
        uniq, index = np.unique(arr, return_inverse=True)
        levels = uniq.tolist()
    index = index.reshape(-1).astype(np.int64)
    pop_keys = {_plain(k): k for k in population}
    totals = np.empty(len(levels), dtype=np.float64)
    for j, level in enumerate(levels):
        key = _plain(level)
        if key not in pop_keys:
            raise CalibrationError(
                f"margin {name!r}: sample level {level!r} has no population count / 边际 {name!r} 的水平 "
                f"{level!r} 缺少总体数"
            )
        totals[j] = float(population[pop_keys[key]])
    if not np.all(np.isfinite(totals)) or (totals < 0).any():
        raise CalibrationError(f"margin {name!r}: population counts must be finite and >= 0")
    sample_keys = {_plain(level) for level in levels}
    for key, orig in pop_keys.items():
        if key not in sample_keys and float(population[orig]) > 0:
            raise CalibrationError(
                f"margin {name!r}: level {orig!r} has population {population[orig]} but no respondents, so the "
                f"weights cannot reach it (merge it with a neighbouring level) / 边际 {name!r} 的水平 {orig!r} "
                f"没有受访者，无法加权，请与相邻水平合并"
            )
    zero_with_units = np.flatnonzero(totals == 0)
    if zero_with_units.size:
        raise CalibrationError(
            f"margin {name!r}: level {levels[int(zero_with_units[0])]!r} has population 0 but has respondents"
        )
    return Margin(name=name, levels=levels, index=index, totals=totals)


def design_weights(strata: ArrayLike, population: Mapping[Any, float]) -> NDArray[np.float64]:
    """Design weights of a stratified simple random sample: w_i = N_h / n_h (inverse inclusion probability).

    Reference: Lohr (2019) *Sampling: Design and Analysis*, §3.2; Horvitz & Thompson (1952). ``population`` maps
    each stratum to its population size N_h.
    """
    arr = np.asarray(strata)
    margin = factorize_margin("strata", arr, population, arr.shape[0])
    n_h = np.bincount(margin.index, minlength=len(margin.levels)).astype(np.float64)
    return (margin.totals / n_h)[margin.index]


def poststratify_weights(
    weights: ArrayLike, codes: Codes, population: Mapping[Any, float]
) -> NDArray[np.float64]:
    """Post-stratified weights: w_i · N_c / Σ_{j∈c} w_j for the post-stratum c of unit i.

    Reference: survey::postStratify; Lumley (2010) *Complex Surveys* §7.2; Holt & Smith (1979). Errors as in
    :func:`factorize_margin`; a post-stratum whose respondents all have zero weight is an error too.
    """
    w = validate_weights(weights)
    margin = factorize_margin("poststrata", codes, population, w.shape[0])
    current = np.bincount(margin.index, weights=w, minlength=len(margin.levels))
    _check_positive_totals(margin, current)
    return w * (margin.totals / current)[margin.index]


def rake_weights(
    weights: ArrayLike, margins: Margins, *, tol: float = 1e-10, max_iter: int = 1000
) -> RakeResult:
    """Raking (iterative proportional fitting) of ``weights`` to several population margins.

    Each sweep multiplies the weights of every level of every margin by N_level / Σ w; sweeps stop when the largest
    relative misfit |Σ w − N| / N is below ``tol``. The converged weights are the raking-ratio calibration
    estimator w_i = d_i exp(x_i'λ) (Deville & Särndal 1992; Deming & Stephan 1940), i.e. the same weights as
    survey::rake and survey::calibrate(calfun = "raking"). Margins with interaction codes (e.g. (city, age band))
    rake every city at once. Raises CalibrationError when the margins are inconsistent (e.g. different population
    totals within a group) and IPF does not converge in ``max_iter`` sweeps.
    """
    w = validate_weights(weights).copy()
    n = w.shape[0]
    if not margins:
        raise ValueError("margins is empty / 没有给出加权边际")
    parsed = tuple(factorize_margin(name, codes, pop, n) for name, (codes, pop) in margins.items())
    for m in parsed:
        _check_positive_totals(m, np.bincount(m.index, weights=w, minlength=len(m.levels)))
    misfit = np.inf
    for iteration in range(1, max_iter + 1):
        for m in parsed:
            current = np.bincount(m.index, weights=w, minlength=len(m.levels))
            w *= (m.totals / current)[m.index]
        misfit = max(
            float(
                np.max(np.abs(np.bincount(m.index, weights=w, minlength=len(m.levels)) - m.totals) / m.totals)
            )
            for m in parsed
        )
        if misfit < tol:
            return RakeResult(weights=w, iterations=iteration, max_relative_misfit=misfit, margins=parsed)
    raise CalibrationError(
        f"raking did not converge in {max_iter} sweeps (largest relative misfit {misfit:.3g}); check that the "
        f"margins {list(margins)} have the same population total within every group / 迭代加权未收敛，请检查各边际"
        f"的总体合计是否一致"
    )


def trim_weights(
    weights: ArrayLike,
    *,
    upper: float | None = None,
    lower: float | None = None,
    max_iter: int = 100,
) -> TrimResult:
    """Trim weights to [lower, upper] and spread the trimmed amount over the untrimmed weights, keeping Σ w.

    Repeats until no weight is outside the bounds (survey::trimWeights with ``strict = TRUE``; Potter 1990,
    "A study of procedures to identify and trim extreme survey weights"). Typical bounds: a multiple of the median
    weight (e.g. ``upper = 3.5 * np.median(w)``). Zero weights stay zero. Raises ValueError if the bounds cannot
    hold the total (e.g. upper · #units < Σ w).
    """
    w = validate_weights(weights).copy()
    if upper is None and lower is None:
        raise ValueError("give upper and/or lower / 请给出上限或下限")
    hi = np.inf if upper is None else float(upper)
    lo = 0.0 if lower is None else float(lower)
    if not (0 <= lo < hi):
        raise ValueError(f"need 0 <= lower < upper, got lower={lo}, upper={hi}")
    active = w > 0
    total = w.sum()
    n_active = int(active.sum())
    if n_active and not (lo * n_active <= total <= hi * n_active):
        raise ValueError(
            f"bounds [{lo}, {hi}] cannot keep the weight total {total:.6g} over {n_active} units / 裁剪界限无法保持权重合计"
        )
    at_bound = np.zeros_like(active)
    for iteration in range(1, max_iter + 1):
        over = active & (w > hi * (1 + 1e-12))
        under = active & (w < lo * (1 - 1e-12))
        if not (over.any() or under.any()):
            return TrimResult(weights=w, n_trimmed=int(at_bound.sum()), iterations=iteration - 1)
        excess = (w[over] - hi).sum() - (lo - w[under]).sum()
        w[over] = hi
        w[under] = lo
        at_bound |= over | under
        free = active & ~at_bound
        if not free.any():
            break
        w[free] += excess * w[free] / w[free].sum()
    raise ValueError(f"weight trimming did not settle in {max_iter} sweeps / 权重裁剪未收敛")


def kish_effective_n(weights: ArrayLike) -> float:
    """Kish's effective sample size n_eff = (Σ w)² / Σ w² (Kish 1965 *Survey Sampling* §11.7)."""
    w = validate_weights(weights)
    s2 = float(np.dot(w, w))
    if s2 == 0:
        raise ValueError("all weights are zero: the effective sample size is undefined / 权重全为零")
    return float(w.sum()) ** 2 / s2


def kish_deff(weights: ArrayLike) -> float:
    """Kish's design effect due to unequal weighting: deff = n Σ w² / (Σ w)² = 1 + CV²(w) (Kish 1965; 1992
    "Weighting for unequal P_i"), counting only units with positive weight in n."""
    w = validate_weights(weights)
    return float(np.count_nonzero(w)) / kish_effective_n(w)


def _check_positive_totals(margin: Margin, current: NDArray[np.float64]) -> None:
    bad = np.flatnonzero(current <= 0)
    if bad.size:
        level = margin.levels[int(bad[0])]
        raise CalibrationError(
            f"margin {margin.name!r}: level {level!r} has respondents but all their weights are zero / 边际 "
            f"{margin.name!r} 的水平 {level!r} 的受访者权重全为零"
        )


def _plain(value: Any) -> Any:
    """Normalise numpy scalars and sequences so population keys and sample levels compare equal."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return tuple(_plain(v) for v in value)
    return value
