"""Point ranks, confidence sets for ranks, tiers, and the minimum-sample rule for city rankings.

The confidence sets follow Mogstad, Romano, Shaikh & Wilhelm (2024), "Inference for ranks with applications to
mobility across neighbourhoods and academic achievement across countries", Review of Economic Studies 91(1),
476–518, doi:10.1093/restud/rdad006, as implemented in the R package ``csranks`` (functions ``csranks``,
``csranks_simul``, ``csranks_marg``, ``csdiffmeans``; repository danielwilhelm/R-CS-ranks).

How the sets are built (two-sided, ``stepdown=True``, the csranks defaults):

1. For every ordered pair (j, k) of populations, test H_jk: theta_j <= theta_k against theta_j > theta_k with the
   studentised difference t_jk = (x_j - x_k) / s_jk, s_jk = sqrt(S_jj + S_kk - 2 S_jk).
2. The critical value is the ``coverage`` quantile (R's type-7 quantile, numpy's default) of
   max over the still-active pairs of (Z_j - Z_k) / s_jk, with Z ~ N(0, Sigma) drawn ``draws`` times (parametric
   bootstrap). H_jk is rejected when x_j - x_k - s_jk * c > 0.
3. Step down: drop the rejected pairs and recompute the critical value on the remaining ones until no new
   hypothesis is rejected (Romano & Wolf 2005).
4. Rank set of j: [1 + #{k : theta_k > theta_j rejected}, p - #{k : theta_j > theta_k rejected}].

Simultaneous sets use all pairs at once; the marginal set of population i uses only the pairs that involve i
(csranks ``csranks_marg`` calls ``csranks_simul`` with ``indices = i``).

Differences from the R code, none of which changes the procedure's definition: the normal draws are made once per
call and reused across the stepdown steps (R draws afresh at every step; reusing them makes the stepdown monotone
and the result a deterministic function of ``seed``); the marginal sets of all populations share one set of draws
(as R does when a seed is given); numpy's Generator replaces R's RNG, so individual bounds may differ from R's by
bootstrap noise on borderline pairs (one position on a few rows for PISA 2018, see tests/scoring/test_ranking.py).

A pair whose difference has zero variance (s_jk = 0) is treated as known exactly (documented result, not NaN):
the pair is decided by the sign of x_j - x_k (equal values are never told apart) and kept out of the maximum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .sample_size import DEFAULT_MIN_SAMPLE

__all__ = [
    "DEFAULT_MIN_SAMPLE",
    "CityRanking",
    "ExcludedCity",
    "RankConfidenceSets",
    "RankedCity",
    "point_ranks",
    "rank_cities",
    "rank_confidence_sets",
    "rank_tiers",
]


_CHUNK_ELEMENTS = 250_000  # draws × pairs evaluated at once (1 MB of float32: stays in cache)


@dataclass(frozen=True)
class RankConfidenceSets:
    """Point ranks and the lower/upper bounds of the rank confidence sets (1 = best), in input order.

    ``distinguishable[j, k]`` is True when the procedure decided the order of j and k (simultaneous sets only;
    for marginal sets it is None).
    """

    rank: NDArray[np.int64]
    lower: NDArray[np.int64]
    upper: NDArray[np.int64]
    simultaneous: bool
    coverage: float
    draws: int
    seed: int | None
    distinguishable: NDArray[np.bool_] | None = None


def point_ranks(estimates: ArrayLike, *, higher_is_better: bool = True) -> NDArray[np.int64]:
    """Integer ranks, 1 = best; ties share the smallest rank (csranks ``irank(x, omega = 0)``).

    rank_j = 1 + #{k : x_k > x_j} (or ``<`` when ``higher_is_better`` is False).
    """
    x = _as_finite_vector(estimates, "estimates")
    if not higher_is_better:
        x = -x
    # count of strictly better values: sort once, then binary search (O(p log p))
    sorted_x = np.sort(x)
    n_better = x.size - np.searchsorted(sorted_x, x, side="right")
    return (n_better + 1).astype(np.int64)


def rank_confidence_sets(
    estimates: ArrayLike,
    *,
    se: ArrayLike | None = None,
    cov: ArrayLike | None = None,
    coverage: float = 0.95,
    simultaneous: bool = True,
    stepdown: bool = True,
    draws: int = 1000,
    seed: int | None = 0,
    higher_is_better: bool = True,
) -> RankConfidenceSets:
    """Marginal or simultaneous confidence sets for ranks (Mogstad, Romano, Shaikh & Wilhelm 2024; R csranks).

    Give either ``se`` (independent estimates: Sigma = diag(se²), as in the csranks PISA example) or the full
    covariance matrix ``cov`` of the estimates. Two-sided sets; ``stepdown=False`` is the single-step procedure.
    The parametric bootstrap uses ``draws`` normal vectors from ``numpy.random.default_rng(seed)``; the loop over
    draws is vectorised in chunks. One population gets the set [1, 1].
    """
    x = _as_finite_vector(estimates, "estimates")
    if not higher_is_better:
        x = -x
    p = x.size
    sigma = _covariance(se, cov, p)
    _check_settings(coverage, draws)
    bounds = _confidence_bounds(x, sigma, coverage, int(draws), seed, stepdown, (simultaneous,))
    lower, upper, distinguishable = bounds[simultaneous]
    return RankConfidenceSets(
        rank=point_ranks(x),
        lower=lower,
        upper=upper,
        simultaneous=simultaneous,
        coverage=coverage,
        draws=int(draws),
        seed=seed,
        distinguishable=distinguishable,
    )


def rank_tiers(
    estimates: ArrayLike, distinguishable: ArrayLike, *, higher_is_better: bool = True
) -> list[int]:
    """Tier number (1 = top) of every population, in input order: groups whose order cannot be told apart.

    Definition (greedy, on the list ordered from best to worst estimate, ties in input order): the first
    population opens tier 1; each next population joins the current tier unless the simultaneous procedure
    distinguished it from at least one member of that tier (``distinguishable`` from
    ``rank_confidence_sets(..., simultaneous=True)``), in which case it opens the next tier. So within a tier no
    two populations are significantly different at the family-wise level of the simultaneous sets, and every
    tier's first member is significantly worse than at least one member of the tier before it. csranks has no
    tiers; this partition is defined here on top of its pairwise simultaneous tests (Mogstad, Romano, Shaikh &
    Wilhelm 2024), which is stricter than mere overlap of rank sets. It depends on the order, hence greedy.
    """
    x = _as_finite_vector(estimates, "estimates")
    if not higher_is_better:
        x = -x
    d = np.asarray(distinguishable, dtype=bool)
    if d.shape != (x.size, x.size):
        raise ValueError(f"distinguishable must be a {x.size}×{x.size} matrix, got shape {d.shape}")
    order = np.argsort(-x, kind="stable")
    tiers = np.zeros(x.size, dtype=np.int64)
    members: list[int] = []
    tier = 0
    for idx in order:
        if not members or d[idx, members].any():
            tier += 1
            members = []
        members.append(int(idx))
        tiers[idx] = tier
    return [int(t) for t in tiers]


@dataclass(frozen=True)
class RankedCity:
    """A ranked city: point rank, 95% simultaneous and marginal rank sets, tier."""

    label: str
    n: int
    estimate: float
    se: float
    rank: int
    sim_lower: int
    sim_upper: int
    marg_lower: int
    marg_upper: int
    tier: int


@dataclass(frozen=True)
class ExcludedCity:
    """A city left out of the ranking, with the reason (zh-CN first, English second)."""

    label: str
    n: int
    reason: str


@dataclass(frozen=True)
class CityRanking:
    """Ranked cities (best first) and the cities that were not ranked, with why."""

    ranked: list[RankedCity]
    excluded: list[ExcludedCity]
    coverage: float
    draws: int
    seed: int | None
    min_n: int
    notes: list[str] = field(default_factory=list)


def rank_cities(
    labels: Sequence[str],
    estimates: ArrayLike,
    *,
    n: ArrayLike,
    se: ArrayLike | None = None,
    cov: ArrayLike | None = None,
    min_n: int = DEFAULT_MIN_SAMPLE,
    coverage: float = 0.95,
    draws: int = 1000,
    seed: int | None = 0,
    higher_is_better: bool = True,
) -> CityRanking:
    """Rank cities with simultaneous and marginal rank confidence sets and tiers (csranks; Mogstad et al. 2024).

    Cities with fewer than ``min_n`` valid interviews (default 538, the national evaluation's minimum), or with a
    missing estimate or standard error, are not ranked: they are returned in ``excluded`` with the reason. The
    remaining cities are ranked among themselves (``cov`` is reduced to them). If no city remains, ``ranked`` is
    empty and a note says so.
    """
    names = [str(label) for label in labels]
    p = len(names)
    if len(set(names)) != p:
        dupes = sorted({v for v in names if names.count(v) > 1})
        raise ValueError(f"labels must be unique; repeated: {dupes}")
    x = np.asarray(estimates, dtype=float).reshape(-1)
    sizes = np.asarray(n, dtype=float).reshape(-1)
    for arg, arr in (("estimates", x), ("n", sizes)):
        if arr.size != p:
            raise ValueError(f"{arg} has {arr.size} values but there are {p} labels")
    if np.isnan(sizes).any() or (sizes < 0).any() or (sizes != np.round(sizes)).any():
        raise ValueError("n must hold non-negative whole numbers (sample size per city)")
    if isinstance(min_n, bool) or int(min_n) != min_n or min_n < 1:
        raise ValueError(f"min_n must be a positive integer, got {min_n!r}")
    _check_settings(coverage, draws)
    sigma = _covariance(se, cov, p, allow_nan=True)
    sds = np.sqrt(np.diag(sigma))

    excluded: list[ExcludedCity] = []
    keep: list[int] = []
    for i, name in enumerate(names):
        if sizes[i] < min_n:
            reason = f"样本量 {int(sizes[i])} 低于最低样本量 {min_n} / sample size {int(sizes[i])} below the minimum {min_n}"
        elif not np.isfinite(x[i]):
            reason = "得分缺失 / estimate missing"
        elif not np.isfinite(sds[i]) or not np.isfinite(sigma[i]).all():
            reason = "标准误缺失 / standard error missing"
        else:
            keep.append(i)
            continue
        excluded.append(ExcludedCity(name, int(sizes[i]), reason))

    notes: list[str] = []
    ranked: list[RankedCity] = []
    if keep:
        k = np.asarray(keep)
        sub_x = _as_finite_vector(x[k], "estimates")
        sub_x = sub_x if higher_is_better else -sub_x
        sub_cov = _covariance(None, sigma[np.ix_(k, k)], k.size)
        bounds = _confidence_bounds(sub_x, sub_cov, coverage, int(draws), seed, True, (True, False))
        sim_lower, sim_upper, distinguishable = bounds[True]
        marg_lower, marg_upper, _ = bounds[False]
        assert distinguishable is not None
        ranks = point_ranks(sub_x)
        tiers = rank_tiers(sub_x, distinguishable)
        for pos, i in enumerate(keep):
            ranked.append(
                RankedCity(
                    label=names[i],
                    n=int(sizes[i]),
                    estimate=float(x[i]),
                    se=float(sds[i]),
                    rank=int(ranks[pos]),
                    sim_lower=int(sim_lower[pos]),
                    sim_upper=int(sim_upper[pos]),
                    marg_lower=int(marg_lower[pos]),
                    marg_upper=int(marg_upper[pos]),
                    tier=tiers[pos],
                )
            )
        ranked.sort(key=lambda c: c.rank)  # stable: ties keep input order
    else:
        notes.append("没有城市达到排名条件 / no city meets the conditions for ranking")
    return CityRanking(ranked, excluded, coverage, int(draws), seed, int(min_n), notes)


# ----------------------------------------------------------------------------------------------- internals


def _as_finite_vector(values: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers: {exc}") from None
    if x.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} is empty: nothing to rank")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(f"{name} has missing or infinite values at positions {bad[:10].tolist()}")
    return x


def _check_settings(coverage: float, draws: int) -> None:
    if not isinstance(coverage, float | int) or not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must lie strictly between 0 and 1, got {coverage!r}")
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 10:
        raise ValueError(f"draws must be an integer >= 10, got {draws!r}")


def _covariance(se: ArrayLike | None, cov: ArrayLike | None, p: int, *, allow_nan: bool = False) -> NDArray:
    if (se is None) == (cov is None):
        raise ValueError("give exactly one of se (independent estimates) or cov (covariance matrix)")
    if se is not None:
        s = np.asarray(se, dtype=float).reshape(-1)
        if s.size != p:
            raise ValueError(f"se has {s.size} values but there are {p} estimates")
        finite = np.isfinite(s)
        if not allow_nan and not finite.all():
            raise ValueError(f"se has missing values at positions {np.flatnonzero(~finite)[:10].tolist()}")
        if (s[finite] < 0).any():
            raise ValueError(f"se must be >= 0; negative at positions {np.flatnonzero(s < 0)[:10].tolist()}")
        return np.diag(s**2)
    sigma = np.asarray(cov, dtype=float)
    if sigma.shape != (p, p):
        raise ValueError(f"cov must be a {p}×{p} matrix, got shape {sigma.shape}")
    finite = np.isfinite(sigma)
    if not allow_nan:
        if not finite.all():
            raise ValueError("cov has missing or infinite entries")
        _check_psd(sigma)
    elif finite.all():
        _check_psd(sigma)
    return sigma


def _check_psd(sigma: NDArray) -> None:
    if not np.allclose(sigma, sigma.T, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(sigma).max()))):
        raise ValueError("cov must be symmetric")
    eig = np.linalg.eigvalsh(sigma)
    if eig.size and eig.min() < -1e-10 * max(1.0, float(eig.max())):
        raise ValueError(f"cov must be positive semi-definite (smallest eigenvalue {eig.min():.3g})")


def _difference_sds(sigma: NDArray) -> NDArray:
    """s_jk = sqrt(Var x_j + Var x_k - 2 Cov(x_j, x_k)) (csranks ``calculate_difference_sds``)."""
    d = np.diag(sigma)
    var = d[:, None] + d[None, :] - 2.0 * sigma
    scale = max(float(d.max()), 1e-300)
    var[var < 1e-14 * scale] = 0.0  # rounding noise on identical or perfectly correlated pairs
    return np.sqrt(var)


def _normal_draws(sigma: NDArray, draws: int, seed: int | None) -> NDArray:
    """``draws`` × p draws from N(0, Sigma) (csranks uses MASS::mvrnorm; any square root of Sigma is valid)."""
    rng = np.random.default_rng(seed)
    std = rng.standard_normal((draws, sigma.shape[0]))
    off = sigma - np.diag(np.diag(sigma))
    if not off.any():
        return std * np.sqrt(np.diag(sigma))
    w, v = np.linalg.eigh(sigma)
    return std @ (v * np.sqrt(np.clip(w, 0.0, None))).T


_Bounds = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_] | None]


def _confidence_bounds(
    x: NDArray,
    sigma: NDArray,
    coverage: float,
    draws: int,
    seed: int | None,
    stepdown: bool,
    kinds: tuple[bool, ...],
) -> dict[bool, _Bounds]:
    """Rank bounds for the requested kinds (True = simultaneous, False = marginal) from one set of draws.

    Both kinds start from the same first-step statistic max_k |T_ik| (all pairs active), computed once.
    """
    p = x.size
    if p == 1:
        one = np.ones(1, dtype=np.int64)
        return {kind: (one, one.copy(), np.zeros((1, 1), dtype=bool) if kind else None) for kind in kinds}
    sd = _difference_sds(sigma)
    z = _normal_draws(sigma, draws, seed)
    diff = x[:, None] - x[None, :]
    off_diag = ~np.eye(p, dtype=bool)
    exact = off_diag & (sd == 0.0)
    known = exact & (diff > 0)  # zero-variance pairs: decided by the sign of the difference
    inv_sd = np.zeros_like(sd)
    np.divide(1.0, sd, out=inv_sd, where=sd > 0)
    row_max = _first_step_row_max(z, inv_sd)
    zt = np.vstack([z.T, np.full(draws, -np.inf), np.zeros(draws)]).astype(np.float32)
    out: dict[bool, _Bounds] = {}
    for kind in kinds:
        if kind:
            first = float(np.quantile(row_max.max(axis=1), coverage))
            rejected = _stepdown_all_pairs(diff, sd, inv_sd, zt, off_diag & ~exact, first, coverage, stepdown)
            rejected |= known
            lower, upper = 1 + rejected.sum(axis=0), p - rejected.sum(axis=1)
            out[kind] = (lower.astype(np.int64), upper.astype(np.int64), rejected | rejected.T)
        else:
            first_i = np.quantile(row_max, coverage, axis=0)
            better, worse = _stepdown_marginal(
                diff, sd, inv_sd, zt, off_diag & ~exact, first_i, coverage, stepdown
            )
            lower = 1 + better + known.sum(axis=0)
            upper = p - worse - known.sum(axis=1)
            out[kind] = (lower.astype(np.int64), upper.astype(np.int64), None)
    return out


def _first_step_row_max(z: NDArray, inv_sd: NDArray) -> NDArray:
    """draws × p matrix of max_k |Z_i - Z_k| / s_ik: the statistic when every pair is still being tested.

    With both H_ik and H_ki active, max(T_ik, T_ki) = |T_ik|; the simultaneous first-step statistic is the row
    maximum of this matrix, the marginal one of population i its column i.
    """
    n_draws, p = z.shape
    out = np.empty((n_draws, p))
    inv32 = inv_sd.astype(np.float32)
    z32 = z.astype(np.float32)
    step = max(1, _CHUNK_ELEMENTS // (p * p))
    for start in range(0, n_draws, step):
        zc = z32[start : start + step]
        t = zc[:, :, None] - zc[:, None, :]
        np.abs(t, out=t)
        t *= inv32
        out[start : start + step] = t.max(axis=2)
    return out


def _family_stat(
    zt: NDArray, groups: NDArray, a: NDArray, b: NDArray, two_sided: NDArray, inv: NDArray
) -> NDArray:
    """(groups × draws) maximum over each group of pairs of T = (Z_a - Z_b) / s_ab, or |T| where ``two_sided``.

    |T| stands for the two hypotheses H_ab and H_ba both still tested (max(T, -T)), which halves the work.
    ``groups`` is sorted and numbered 0..G-1. The pairs are scattered into a (G × longest group) matrix padded
    with a pair whose value is -inf (``zt`` is the transposed draws, p × draws float32, extended by a row of
    -inf at index p and a row of zeros at index p + 1), then reduced in cache-sized chunks of groups.
    """
    p = zt.shape[0] - 2
    n_groups = int(groups[-1]) + 1
    counts = np.bincount(groups, minlength=n_groups)
    width = max(1, int(counts.max()))
    slot = np.arange(groups.size) - np.repeat(np.r_[0, np.cumsum(counts)[:-1]], counts)
    pa = np.full((n_groups, width), p, dtype=np.intp)
    pb = np.full((n_groups, width), p + 1, dtype=np.intp)
    pinv = np.ones((n_groups, width), dtype=zt.dtype)
    pabs = np.zeros((n_groups, width), dtype=bool)
    pa[groups, slot], pb[groups, slot], pinv[groups, slot], pabs[groups, slot] = a, b, inv, two_sided
    n_draws = zt.shape[1]
    out = np.empty((n_groups, n_draws), dtype=zt.dtype)
    step = max(1, _CHUNK_ELEMENTS // (width * n_draws))
    for start in range(0, n_groups, step):
        sl = slice(start, start + step)
        values = zt[pa[sl]] - zt[pb[sl]]
        np.abs(values, out=values, where=pabs[sl][:, :, None])
        values *= pinv[sl][:, :, None]
        out[sl] = values.max(axis=1)
    return out


def _stepdown_all_pairs(
    diff: NDArray,
    sd: NDArray,
    inv_sd: NDArray,
    zt: NDArray,
    active: NDArray,
    first_crit: float,
    coverage: float,
    stepdown: bool,
) -> NDArray[np.bool_]:
    """Rejections of H_jk: theta_j <= theta_k over all pairs (csranks ``csdiffmeans``, stepdown variant)."""
    rejected = np.zeros_like(active)
    active = active.copy()
    crit = first_crit
    while True:
        new = active & (diff - sd * crit > 0)
        if not new.any():
            break
        rejected |= new
        active &= ~new
        if not stepdown or not active.any():
            break
        # one family: every pair once (j < k), as a two-sided |T| when both directions are still tested
        upper = np.triu(active | active.T, k=1)
        j, k = np.nonzero(upper)
        fwd, bwd = active[j, k], active[k, j]
        a = np.where(fwd, j, k)
        b = np.where(fwd, k, j)
        groups = np.arange(j.size) // 64  # blocks of pairs; the family maximum is the max over blocks
        stat = _family_stat(zt, groups, a, b, fwd & bwd, inv_sd[a, b]).max(axis=0)
        crit = float(np.quantile(stat.astype(np.float64), coverage))
    return rejected


def _stepdown_marginal(
    diff: NDArray,
    sd: NDArray,
    inv_sd: NDArray,
    zt: NDArray,
    active: NDArray,
    first_crit: NDArray,
    coverage: float,
    stepdown: bool,
) -> tuple[NDArray, NDArray]:
    """Per population i, the stepdown over the hypotheses H_ik and H_ki only (csranks ``csranks_marg``).

    Populations are processed together but each has its own family and critical value; a population drops out
    once a step rejects nothing new for it. Returns (#k significantly better than i, #k significantly worse).
    """
    # family of population i: worse_active[i, k] <=> H_ik still tested, better_active[i, k] <=> H_ki
    worse_active = active.copy()
    better_active = active.copy()
    worse_rej = np.zeros_like(active)
    better_rej = np.zeros_like(active)
    todo = np.arange(diff.shape[0])
    crit = first_crit
    while True:
        c = crit[:, None]
        new_worse = worse_active[todo] & (diff[todo] - sd[todo] * c > 0)
        new_better = better_active[todo] & (-diff[todo] - sd[todo] * c > 0)
        changed = new_worse.any(axis=1) | new_better.any(axis=1)
        worse_rej[todo] |= new_worse
        better_rej[todo] |= new_better
        worse_active[todo] &= ~new_worse
        better_active[todo] &= ~new_better
        if not stepdown:
            break
        todo = todo[changed & (worse_active[todo].any(axis=1) | better_active[todo].any(axis=1))]
        if not todo.size:
            break
        fwd, bwd = worse_active[todo], better_active[todo]
        g_f, k_f = np.nonzero(fwd & ~bwd)
        g_b, k_b = np.nonzero(bwd & ~fwd)
        g_2, k_2 = np.nonzero(fwd & bwd)
        groups = np.concatenate([g_f, g_b, g_2])
        a = np.concatenate([todo[g_f], k_b, todo[g_2]])
        b = np.concatenate([k_f, todo[g_b], k_2])
        two = np.r_[np.zeros(g_f.size + g_b.size, dtype=bool), np.ones(g_2.size, dtype=bool)]
        order = np.argsort(groups, kind="stable")
        groups, a, b, two = groups[order], a[order], b[order], two[order]
        stat = _family_stat(zt, groups, a, b, two, inv_sd[a, b])
        crit = np.quantile(stat.astype(np.float64), coverage, axis=1)
    return better_rej.sum(axis=1), worse_rej.sum(axis=1)
