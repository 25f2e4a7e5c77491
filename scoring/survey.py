"""Design-based estimation in the style of R's ``survey`` package (Lumley 2004, 2010).

``SurveyDesign(weights, *, strata=None, psu=None, fpc=None)`` describes a stratified one-stage (ultimate cluster)
design. Means, totals and proportions are estimated with Taylor linearisation: the influence values z_i of the
estimator are summed within PSUs and

    V = Σ_h (1 − f_h) · n_h / (n_h − 1) · Σ_i (z_hi − z̄_h)(z_hi − z̄_h)'          (survey:::onestrat, svyrecvar)

with n_h the number of PSUs of stratum h and f_h = n_h / N_h when ``fpc`` (the stratum population size N_h, or the
sampling fraction when every value is ≤ 1, as in survey::svydesign) is given. Degrees of freedom are #PSU − #strata
(survey::degf); confidence intervals are t-based on them.

Domains (``by=``) are estimated as survey::svyby does: over the whole sample with the domain indicator (units
outside the domain stay in the design with zero contribution), not on a subset design. Missing values (NaN) in a
column are handled the same way, as a domain (``na.rm = TRUE``), column by column.

After ``rake`` or ``poststratify`` (which return new designs) the influence values are replaced by calibration
residuals exactly as survey::svyrecvar does for calibrated designs (survey::calibrate, survey R/grake.R):

    z ← z − w ⊙ X (X' D X)⁻ X' (z / g)

with d the weights before calibration, w = g · d the calibrated weights and X the indicator matrix of all margin
levels, i.e. z = w · e where e are the residuals of z / w regressed on X with weights d (Deville & Särndal 1992).

Edge cases (documented results, never a silent NaN):
- Zero weights are allowed (the unit is kept in the design, like a unit outside a domain). Negative, NaN or
  infinite weights raise ValueError.
- A stratum with a single PSU: ``lonely_psu="fail"`` (default, R's default) raises LonelyPSUError; "certainty" and
  "remove" give it no variance contribution; "adjust" centres its PSU total at the average PSU total of the whole
  design (survey ≥ 4.2); "average" scales the other strata's variance by #strata / #strata with ≥ 2 PSUs.
- An estimate with fewer than 2 contributing units (positive weight and a non-missing value) has no standard error:
  a single estimate raises InsufficientDataError; in ``by=`` results such domains are left out of the levels and
  listed in ``DomainEstimates.insufficient`` with the reason (accessing them raises InsufficientDataError).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from scoring.weights import (
    Codes,
    Margin,
    Margins,
    factorize_margin,
    poststratify_weights,
    rake_weights,
    validate_weights,
)

__all__ = [
    "DomainEstimates",
    "Estimate",
    "InsufficientDataError",
    "LonelyPSUError",
    "MultiEstimate",
    "ProportionEstimate",
    "SurveyDesign",
    "wilson_interval",
]

LonelyPSU = Literal["fail", "certainty", "remove", "adjust", "average"]
_MIN_UNITS = 2


class InsufficientDataError(ValueError):
    """An estimate cannot be made (no or a single contributing unit, all answers missing). The message says which
    column / domain and why."""


class LonelyPSUError(ValueError):
    """A stratum has a single PSU and ``lonely_psu="fail"``."""


def _t_quantile(level: float, df: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if not df > 0:
        raise InsufficientDataError(f"design degrees of freedom are {df}: no t-based interval / 自由度不足")
    return float(stats.t.ppf(0.5 + level / 2, df))


@dataclass(frozen=True)
class Estimate:
    """One design-based estimate: ``estimate``, standard error ``se``, design degrees of freedom ``df`` and the
    number ``n`` of contributing units (positive weight, non-missing value)."""

    estimate: float
    se: float
    df: float
    n: int
    name: str = ""

    @property
    def variance(self) -> float:
        return self.se**2

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """t-based interval estimate ± t_{df, (1+level)/2} · se (survey::confint.svystat with df = degf)."""
        q = _t_quantile(level, self.df)
        return (self.estimate - q * self.se, self.estimate + q * self.se)


@dataclass(frozen=True)
class ProportionEstimate(Estimate):
    """A proportion with logit (svyciprop), Wald (t) and — for simple random samples — Wilson intervals."""

    srs_count: float | None = None
    srs_nobs: int | None = None

    def ci(
        self, level: float = 0.95, method: Literal["logit", "wald", "wilson"] = "logit"
    ) -> tuple[float, float]:
        """Interval for the proportion.

        - "logit": expit(logit(p) ± t_df · se / (p(1 − p))), survey::svyciprop(method = "logit") (the svyglm
          intercept's Wald interval on the logit scale; Korn & Graubard 1998).
        - "wald": p ± t_df · se.
        - "wilson": Wilson (1927) score interval via statsmodels ``proportion_confint(method="wilson")``, only for a
          simple random sample (equal weights, no strata, PSUs or calibration); otherwise ValueError.
        """
        if method == "wald":
            return super().ci(level)
        if method == "wilson":
            if self.srs_count is None or self.srs_nobs is None:
                raise ValueError(
                    "Wilson intervals need a simple random sample (equal weights, no strata/PSU/calibration); use "
                    "method='logit' / 非简单随机样本请用 logit 区间"
                )
            return wilson_interval(self.srs_count, self.srs_nobs, level)
        if method != "logit":
            raise ValueError(f"method must be 'logit', 'wald' or 'wilson', got {method!r}")
        p = self.estimate
        if p <= 0 or p >= 1:
            raise InsufficientDataError(
                f"proportion {self.name!r} is {p}: the logit interval is undefined at 0 or 1; use method='wilson' "
                f"for a simple random sample / 比例为 {p}，logit 区间不存在"
            )
        q = _t_quantile(level, self.df)
        half = q * self.se / (p * (1 - p))
        lo, hi = np.log(p / (1 - p)) - half, np.log(p / (1 - p)) + half
        return (float(1 / (1 + np.exp(-lo))), float(1 / (1 + np.exp(-hi))))


def wilson_interval(count: float, nobs: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (Wilson 1927) via statsmodels.stats.proportion.proportion_confint(method="wilson")."""
    from statsmodels.stats.proportion import proportion_confint

    if nobs <= 0:
        raise InsufficientDataError("no observations for the Wilson interval / 没有观测")
    lo, hi = proportion_confint(count, nobs, alpha=1 - level, method="wilson")
    return (float(lo), float(hi))


@dataclass(frozen=True)
class MultiEstimate:
    """Several variables estimated at once: vectors ``estimate``/``se``/``n`` and their ``covariance``."""

    estimate: NDArray[np.float64]
    se: NDArray[np.float64]
    covariance: NDArray[np.float64]
    df: float
    n: NDArray[np.int64]
    names: tuple[str, ...]

    def __getitem__(self, key: int | str) -> Estimate:
        j = self.names.index(key) if isinstance(key, str) else int(key)
        return Estimate(float(self.estimate[j]), float(self.se[j]), self.df, int(self.n[j]), self.names[j])

    def __len__(self) -> int:
        return len(self.names)

    def ci(self, level: float = 0.95) -> NDArray[np.float64]:
        """t-based intervals, shape (k, 2)."""
        q = _t_quantile(level, self.df)
        return np.column_stack([self.estimate - q * self.se, self.estimate + q * self.se])


@dataclass(frozen=True)
class DomainEstimates(Mapping[Any, Any]):
    """Domain (``by=``) estimates, as survey::svyby(covmat = TRUE): a mapping level → Estimate (MultiEstimate for
    2-D y), ``levels`` in order, and ``covariance`` between domains — (D, D) for one variable, (k, D, D) per
    variable for k variables. Domains with too few units are in ``insufficient`` (level → reason)."""

    levels: tuple[Any, ...]
    results: tuple[Any, ...]
    covariance: NDArray[np.float64]
    df: float
    insufficient: dict[Any, str] = field(default_factory=dict)

    def __getitem__(self, level: Any) -> Any:
        if level in self.insufficient:
            raise InsufficientDataError(f"domain {level!r}: {self.insufficient[level]}")
        try:
            return self.results[self.levels.index(level)]
        except ValueError:
            raise KeyError(level) from None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.levels)

    def __len__(self) -> int:
        return len(self.levels)

    @property
    def estimates(self) -> NDArray[np.float64]:
        """Point estimates in level order ((D,) or (D, k))."""
        return np.array([v.estimate for v in self.results], dtype=np.float64)

    @property
    def se(self) -> NDArray[np.float64]:
        return np.array([v.se for v in self.results], dtype=np.float64)

    def contrast(self, coefficients: Mapping[Any, float] | ArrayLike, name: str = "contrast") -> Estimate:
        """Linear combination Σ c_d θ_d with variance c'Σc (survey::svycontrast). ``coefficients`` is a mapping
        level → coefficient or a vector in level order (one variable only)."""
        if self.covariance.ndim != 2:
            raise ValueError("contrast needs one variable per domain; estimate the variables separately")
        if isinstance(coefficients, Mapping):
            c = np.zeros(len(self.levels))
            for level, value in coefficients.items():
                if level in self.insufficient:
                    raise InsufficientDataError(f"domain {level!r}: {self.insufficient[level]}")
                c[self.levels.index(level)] = value
        else:
            c = np.asarray(coefficients, dtype=np.float64)
            if c.shape != (len(self.levels),):
                raise ValueError(f"coefficients must have length {len(self.levels)}")
        var = float(c @ self.covariance @ c)
        n = int(sum(v.n for v, ci in zip(self.results, c, strict=True) if ci != 0))
        return Estimate(float(c @ self.estimates), float(np.sqrt(max(var, 0.0))), self.df, n, name)

    def difference(self, a: Any, b: Any) -> Estimate:
        """θ_a − θ_b with its design-based standard error (covariance included)."""
        return self.contrast({a: 1.0, b: -1.0}, name=f"{a} - {b}")


@dataclass(frozen=True)
class _Calibration:
    """One calibration step: indicator matrix X (n × p), a generalised inverse G of X'DX (sparse, block-diagonal),
    weights after (w) and the ratio 1/g = d / w (0 where w = 0)."""

    X: sp.csr_matrix
    G: sp.csr_matrix
    w: NDArray[np.float64]
    inv_g: NDArray[np.float64]
    margins: tuple[Margin, ...]


class SurveyDesign:
    """A stratified one-stage (ultimate-cluster) survey design, like survey::svydesign(ids, strata, weights, fpc).

    Parameters (all arrays of length n):
      weights: sampling weights (≥ 0; zero = unit kept in the design but contributing nothing).
      strata: stratum codes (None: one stratum).
      psu: PSU (cluster) codes, nested within strata (None: every unit is its own PSU).
      fpc: stratum population size N_h (number of PSUs in the population), or the sampling fraction if every value
        is ≤ 1, constant within a stratum (None: with-replacement variance).
      lonely_psu: treatment of strata with one PSU (see the module docstring; R option survey.lonely.psu).

    Reference: Lumley (2010) *Complex Surveys* §2–3; survey::svydesign, survey::svyrecvar.
    """

    def __init__(
        self,
        weights: ArrayLike,
        *,
        strata: ArrayLike | None = None,
        psu: ArrayLike | None = None,
        fpc: ArrayLike | None = None,
        lonely_psu: LonelyPSU = "fail",
    ) -> None:
        w = validate_weights(weights, "weights")
        n = w.shape[0]
        if lonely_psu not in ("fail", "certainty", "remove", "adjust", "average"):
            raise ValueError(f"lonely_psu must be fail/certainty/remove/adjust/average, got {lonely_psu!r}")
        strata_idx, strata_levels = _codes(strata, n, "strata")
        if psu is None:
            psu_idx = np.arange(n, dtype=np.int64)
        else:
            raw_psu, _ = _codes(psu, n, "psu")
            # PSUs are nested in strata (R's nest = TRUE): a (stratum, psu) pair is one PSU.
            _, psu_idx = np.unique(strata_idx * (int(raw_psu.max()) + 1) + raw_psu, return_inverse=True)
            psu_idx = psu_idx.reshape(-1).astype(np.int64)
        n_psu = int(psu_idx.max()) + 1
        psu_stratum = np.empty(n_psu, dtype=np.int64)
        psu_stratum[psu_idx] = strata_idx
        n_strata = len(strata_levels)
        n_h = np.bincount(psu_stratum, minlength=n_strata).astype(np.float64)
        f_h = np.zeros(n_strata)
        if fpc is not None:
            f_h = self._sampling_fractions(fpc, n, strata_idx, strata_levels, n_h)
        lonely = n_h == 1
        if lonely.any() and lonely_psu == "fail":
            h = int(np.argmax(lonely & (f_h < 1)))
            if (lonely & (f_h < 1)).any() and strata is None:
                raise LonelyPSUError(
                    "the design has a single PSU (one unit or one cluster): no design-based variance / 只有一个初级"
                    "抽样单元，无法估计方差"
                )
            if (lonely & (f_h < 1)).any():
                raise LonelyPSUError(
                    f"stratum {strata_levels[h]!r} has only one PSU, so its variance cannot be estimated; merge it "
                    f"with a similar stratum or choose lonely_psu='certainty'/'adjust'/'average' / 层 "
                    f"{strata_levels[h]!r} 只有一个初级抽样单元"
                )
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(n_h > 1, (1 - f_h) * n_h / (n_h - 1), 0.0)
        self._w = w
        self._n = n
        self._strata_idx = strata_idx
        self._strata_levels = strata_levels
        self._psu_idx = psu_idx
        self._psu_stratum = psu_stratum
        self._n_h = n_h
        self._f_h = f_h
        self._scale = scale
        self._lonely = lonely & (f_h < 1)
        self._lonely_psu = lonely_psu
        self._has_design = strata is not None or psu is not None or fpc is not None
        self._calibrations: tuple[_Calibration, ...] = ()
        self._cache: dict[str, Any] = {}  # derived sparse matrices, filled on first use
        # P × n: sums units into PSU totals (None when every unit is its own PSU, in unit order).
        self._psu_matrix = (
            None if psu is None else sp.csr_matrix((np.ones(n), (psu_idx, np.arange(n))), shape=(n_psu, n))
        )

    # ------------------------------------------------------------------ properties
    @property
    def weights(self) -> NDArray[np.float64]:
        """Current (possibly calibrated) weights; a copy."""
        return self._w.copy()

    @property
    def n(self) -> int:
        return self._n

    @property
    def df(self) -> int:
        """Design degrees of freedom #PSU − #strata (survey::degf)."""
        return int(self._psu_stratum.shape[0] - len(self._strata_levels))

    @property
    def is_calibrated(self) -> bool:
        return bool(self._calibrations)

    # ------------------------------------------------------------------ estimation
    def mean(self, y: ArrayLike, *, by: ArrayLike | None = None, names: tuple[str, ...] | None = None) -> Any:
        """Weighted mean Σ w y / Σ w with its linearisation variance (survey::svymean; svyby for ``by``).

        Influence values z_i = w_i (y_i − ȳ) / Σ w (per column, per domain; Lumley 2010 §2.3). ``y`` is (n,) or
        (n, k); NaN entries are left out of that column's estimate (na.rm = TRUE). Returns Estimate (1-D y),
        MultiEstimate (2-D y) or DomainEstimates (``by`` given).
        """
        return self._estimate(y, by, names, kind="mean")

    def total(
        self, y: ArrayLike, *, by: ArrayLike | None = None, names: tuple[str, ...] | None = None
    ) -> Any:
        """Horvitz–Thompson total Σ w y with z_i = w_i y_i (survey::svytotal; svyby for ``by``)."""
        return self._estimate(y, by, names, kind="total")

    def proportion(self, y: ArrayLike, *, by: ArrayLike | None = None, name: str = "") -> Any:
        """Proportion of units with ``y`` true (a weighted mean of the 0/1 indicator, survey::svymean /
        svyciprop). ``y`` is a boolean or 0/1 vector (NaN/None = missing). Returns ProportionEstimate, or
        DomainEstimates of them for ``by``; ``ci(method="logit")`` is svyciprop's logit interval."""
        arr = np.asarray(y, dtype=object) if np.asarray(y).dtype == object else np.asarray(y)
        yf = (
            np.array([np.nan if v is None else float(v) for v in arr], dtype=np.float64)
            if arr.dtype == object
            else (arr.astype(np.float64))
        )
        if yf.ndim != 1:
            raise ValueError("proportion takes one variable (a 1-D boolean array)")
        ok = ~np.isnan(yf)
        if not np.all((yf[ok] == 0) | (yf[ok] == 1)):
            raise ValueError("proportion: y must be boolean or 0/1 / 比例的变量必须是 0/1")
        result = self._estimate(yf, by, (name,), kind="mean")
        srs = self._is_srs()

        def to_prop(e: Estimate, mask: NDArray[np.bool_]) -> ProportionEstimate:
            count = float(np.sum(yf[mask & ok])) if srs else None
            nobs = int(np.sum(mask & ok & (self._w > 0))) if srs else None
            return ProportionEstimate(e.estimate, e.se, e.df, e.n, e.name, count, nobs)

        if isinstance(result, DomainEstimates):
            by_arr = np.asarray(by)
            values = tuple(
                to_prop(v, by_arr == lv) for lv, v in zip(result.levels, result.results, strict=True)
            )
            return DomainEstimates(result.levels, values, result.covariance, result.df, result.insufficient)
        return to_prop(result, np.ones(self._n, dtype=bool))

    def design_effect(self, y: ArrayLike) -> float:
        """Design effect of the mean of ``y``: V_design / V_srs, V_srs = s²_w / n · (N̂ − n)/N̂ with s²_w the
        weighted variance with n/(n−1) (survey::svymean(deff = TRUE); Kish 1965)."""
        yv = _column_matrix(y, self._n, "y")[:, 0]
        ok = ~np.isnan(yv) & (self._w > 0)
        est = self.mean(yv)
        w, v = self._w[ok], yv[ok]
        nobs = int(ok.sum())
        psum = float(w.sum())
        s2 = float(np.sum(w * (v - est.estimate) ** 2) / psum) * nobs / (nobs - 1)
        vsrs = s2 / nobs * (psum - nobs) / psum
        return est.variance / vsrs

    # ------------------------------------------------------------------ calibration
    def rake(self, margins: Margins, *, tol: float = 1e-10, max_iter: int = 1000) -> SurveyDesign:
        """New design raked to ``margins`` ``{name: (codes, {level: population_count})}`` (IPF to convergence,
        :func:`scoring.weights.rake_weights`). Standard errors then use the calibration residuals of
        survey::calibrate(calfun = "raking") (Deville & Särndal 1992; survey R/grake.R, svyrecvar)."""
        result = rake_weights(self._w, margins, tol=tol, max_iter=max_iter)
        return self._calibrated(result.weights, result.margins)

    def poststratify(self, codes: Codes, population: Mapping[Any, float]) -> SurveyDesign:
        """New design post-stratified to ``population`` ({level: count}); w_i ← w_i N_c / N̂_c. Standard errors use
        the calibration residuals (survey::calibrate with the post-stratum indicators; equal to survey::postStratify
        when the weights before are constant within post-strata). Reference: Lumley (2010) §7.2."""
        new_w = poststratify_weights(self._w, codes, population)
        margin = factorize_margin("poststrata", codes, population, self._n)
        return self._calibrated(new_w, (margin,))

    def _calibrated(self, new_w: NDArray[np.float64], margins: tuple[Margin, ...]) -> SurveyDesign:
        d = self._w
        offsets = np.cumsum([0] + [len(m.levels) for m in margins])
        rows = np.tile(np.arange(self._n), len(margins))
        cols = np.concatenate([m.index + off for m, off in zip(margins, offsets[:-1], strict=True)])
        X = sp.csr_matrix((np.ones(rows.shape[0]), (rows, cols)), shape=(self._n, int(offsets[-1])))
        A = (X.T @ sp.diags(d) @ X).tocsr()
        G = _block_ginv(A)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_g = np.where(new_w > 0, d / new_w, 0.0)
        clone = object.__new__(SurveyDesign)
        clone.__dict__.update(self.__dict__)
        clone._w = new_w
        clone._calibrations = (*self._calibrations, _Calibration(X, G, new_w, inv_g, margins))
        clone._cache = {"strat": self._cache.get("strat")}
        return clone

    # ------------------------------------------------------------------ internals
    def _is_srs(self) -> bool:
        pos = self._w[self._w > 0]
        return not self._has_design and not self._calibrations and bool(np.allclose(pos, pos[0]))

    @staticmethod
    def _sampling_fractions(
        fpc: ArrayLike, n: int, strata_idx: NDArray[np.int64], levels: list[Any], n_h: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        fp = np.asarray(fpc, dtype=np.float64)
        if fp.shape != (n,):
            raise ValueError(f"fpc must have length {n}, got shape {fp.shape}")
        if not np.all(np.isfinite(fp)) or (fp <= 0).any():
            raise ValueError("fpc must be positive and finite / fpc 必须为正")
        H = len(levels)
        first = np.full(H, np.nan)
        first[strata_idx] = fp
        if not np.allclose(fp, first[strata_idx]):
            h = int(strata_idx[np.argmax(~np.isclose(fp, first[strata_idx]))])
            raise ValueError(f"fpc varies within stratum {levels[h]!r} / 同一层内 fpc 不一致")
        if np.all(fp <= 1):  # sampling fractions
            return first
        if (first < n_h).any():
            h = int(np.argmax(first < n_h))
            raise ValueError(
                f"fpc (population size {first[h]:g}) is smaller than the sample ({int(n_h[h])} PSUs) in stratum "
                f"{levels[h]!r} / fpc 小于样本量"
            )
        return n_h / first

    def _estimate(
        self, y: ArrayLike, by: ArrayLike | None, names: tuple[str, ...] | None, *, kind: str
    ) -> Any:
        Y = _column_matrix(y, self._n, "y")
        k = Y.shape[1]
        one_d = np.ndim(y) == 1
        if names is None or len(names) != k:
            names = tuple(str(j) for j in range(k)) if not one_d else ("",)
        if by is None:
            dom_idx = np.zeros(self._n, dtype=np.int64)
            levels: list[Any] = [None]
        else:
            dom_idx, levels = _codes(by, self._n, "by")
        D = len(levels)
        avail = ~np.isnan(Y)
        w_eff = self._w[:, None] * avail  # n × k
        Yz = np.where(avail, Y, 0.0)
        sums_w = np.zeros((D, k))
        sums_wy = np.zeros((D, k))
        counts = np.zeros((D, k), dtype=np.int64)
        for j in range(k):
            sums_w[:, j] = np.bincount(dom_idx, weights=w_eff[:, j], minlength=D)
            sums_wy[:, j] = np.bincount(dom_idx, weights=w_eff[:, j] * Yz[:, j], minlength=D)
            counts[:, j] = np.bincount(dom_idx, weights=(w_eff[:, j] > 0).astype(np.float64), minlength=D)
        if kind == "mean":
            with np.errstate(divide="ignore", invalid="ignore"):
                est = np.where(sums_w > 0, sums_wy / sums_w, np.nan)
                z = np.where(sums_w[dom_idx] > 0, w_eff * (Yz - est[dom_idx]) / sums_w[dom_idx], 0.0)
        else:
            est = sums_wy
            z = w_eff * Yz
        # Sparse influence matrix: column d·k + j holds domain d, variable j.
        rows = np.repeat(np.arange(self._n), k)
        cols = (dom_idx[:, None] * k + np.arange(k)[None, :]).reshape(-1)
        Z = sp.csc_matrix((z.reshape(-1), (rows, cols)), shape=(self._n, D * k))
        Z.eliminate_zeros()
        cov = self._covariance(Z)
        insufficient_mask = counts < _MIN_UNITS
        if by is None:
            if insufficient_mask.any():
                j = int(np.argmax(insufficient_mask[0]))
                raise InsufficientDataError(
                    self._insufficient_reason(names[j] if not one_d else "y", counts[0, j])
                )
            if one_d:
                return Estimate(
                    float(est[0, 0]),
                    float(np.sqrt(max(cov[0, 0], 0.0))),
                    self.df,
                    int(counts[0, 0]),
                    names[0],
                )
            return MultiEstimate(
                est[0], np.sqrt(np.clip(np.diag(cov), 0, None)), cov, self.df, counts[0], names
            )
        keep = [d for d in range(D) if not insufficient_mask[d].any()]
        insufficient = {
            levels[d]: self._insufficient_reason(
                names[int(np.argmax(insufficient_mask[d]))] if not one_d else "y", counts[d].min()
            )
            for d in range(D)
            if insufficient_mask[d].any()
        }
        values: list[Any] = []
        for d in keep:
            block = cov[d * k : (d + 1) * k, d * k : (d + 1) * k]
            if one_d:
                values.append(
                    Estimate(
                        float(est[d, 0]),
                        float(np.sqrt(max(block[0, 0], 0.0))),
                        self.df,
                        int(counts[d, 0]),
                        names[0],
                    )
                )
            else:
                values.append(
                    MultiEstimate(
                        est[d], np.sqrt(np.clip(np.diag(block), 0, None)), block, self.df, counts[d], names
                    )
                )
        keep_arr = np.asarray(keep, dtype=np.int64)
        if one_d:
            dom_cov = cov[np.ix_(keep_arr, keep_arr)]
        else:
            dom_cov = np.stack([cov[np.ix_(keep_arr * k + j, keep_arr * k + j)] for j in range(k)])
        return DomainEstimates(tuple(levels[d] for d in keep), tuple(values), dom_cov, self.df, insufficient)

    @staticmethod
    def _insufficient_reason(column: str, count: int) -> str:
        if count == 0:
            return f"no usable answers for {column!r} (all missing or zero weight) / {column!r} 没有有效回答"
        return (
            f"only {int(count)} respondent for {column!r}: a standard error needs at least {_MIN_UNITS} / "
            f"{column!r} 仅有 {int(count)} 个有效回答，无法计算标准误"
        )

    def _covariance(self, Z: sp.csc_matrix) -> NDArray[np.float64]:
        """Σ_h scale_h Σ_i (t_hi − t̄_h)(t_hi − t̄_h)' over PSU totals t of the (calibration-adjusted) influence
        values (survey:::onestage / onestrat).

        Calibration residuals are low-rank corrections, Z_cal = Z − Σ_c U_c β_c with U_c = W_c X_c (n × p_c) and
        β_c = G_c X_c' (Z_{c−1} / g_c) (p_c × m), so every product below has a small output (m × m, p × m, H × m)
        and nothing of size n × m is formed besides Z itself.
        """
        T0 = Z.tocsr() if self._psu_matrix is None else (self._psu_matrix @ Z).tocsr()  # P × m PSU totals
        H = len(self._strata_levels)
        P = T0.shape[0]
        s_psu = sp.diags(self._scale[self._psu_stratum])
        if self._cache.get("strat") is None:
            self._cache["strat"] = sp.csr_matrix(
                (np.ones(P), (self._psu_stratum, np.arange(P))), shape=(H, P)
            )
        strat = self._cache["strat"]
        # Everything stays sparse until the m × m result: β is sparse when calibration groups and domains align
        # (e.g. raking per city, estimating by city), and sparse products avoid multithreaded BLAS on small blocks.
        T = T0
        if self._calibrations:
            UP, B = self._calibration_terms(Z)
            T = (T0 - UP @ B).tocsr()
        cov = (T.T @ s_psu @ T).toarray()
        S = (strat @ T).tocsr()  # H × m stratum sums
        cov -= (S.T @ sp.diags(self._scale / np.maximum(self._n_h, 1)) @ S).toarray()
        if self._lonely.any() and self._lonely_psu == "adjust":
            lonely_rows = np.flatnonzero(self._lonely[self._psu_stratum])
            centre = np.asarray(T.sum(axis=0)).ravel() / P
            L = T[lonely_rows].toarray() - centre
            f = (1 - self._f_h)[self._psu_stratum[lonely_rows]]
            cov += np.einsum("ri,r,rj->ij", L, f, L)
        elif self._lonely.any() and self._lonely_psu == "average":
            ok = int(np.count_nonzero(~self._lonely & (self._n_h > 0)))
            if ok == 0:
                raise LonelyPSUError(
                    "every stratum has a single PSU: no variance can be averaged / 每层都只有一个单元"
                )
            cov *= H / ok
        return cov

    def _calibration_terms(self, Z: sp.csc_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """PSU totals of U = [W_1 X_1, W_2 X_2, ...] (P × Σp) and the stacked coefficients B = [β_1; β_2; ...]
        (Σp × m, sparse) so that the calibration-adjusted influence values are Z − U B. Steps are applied in order,
        as survey::svyrecvar applies design$postStrata: β_c = G_c X_c' ((Z − Σ_{c'<c} U_c' β_c') / g_c)."""
        betas: list[sp.csr_matrix] = []
        for c, cal in enumerate(self._calibrations):
            XtZ = (cal.X.T @ (sp.diags(cal.inv_g) @ Z)).tocsr()  # p_c × m
            for prev, beta in zip(self._calibrations[:c], betas, strict=False):
                XtZ = XtZ - (cal.X.T @ sp.diags(cal.inv_g * prev.w) @ prev.X) @ beta
            beta = (cal.G @ XtZ).tocsr()
            beta.eliminate_zeros()
            betas.append(beta)
        if self._cache.get("UP") is None:
            U = sp.hstack([sp.diags(cal.w) @ cal.X for cal in self._calibrations]).tocsr()
            self._cache["UP"] = U if self._psu_matrix is None else (self._psu_matrix @ U).tocsr()
        return self._cache["UP"], sp.vstack(betas).tocsr()


def _block_ginv(A: sp.csr_matrix) -> sp.csr_matrix:
    """A generalised inverse of the symmetric PSD matrix A, block by block over its connected components.

    With the scaling S = diag(√A_ii), G = S⁻¹ (S⁻¹AS⁻¹)⁺ S⁻¹ satisfies AGA = A, which is all the projection
    X G X'D needs (the projection does not depend on the choice of g-inverse; rank deficiency from overlapping
    margins is expected). Blocks of equal size are inverted in one stacked call.
    """
    from scipy.sparse.csgraph import connected_components

    p = A.shape[0]
    diag = A.diagonal()
    scale = np.where(diag > 0, 1 / np.sqrt(np.where(diag > 0, diag, 1)), 0.0)
    C = (sp.diags(scale) @ A @ sp.diags(scale)).tocsr()
    n_comp, labels = connected_components(C, directed=False)
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=n_comp)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows_all: list[NDArray[np.int64]] = []
    cols_all: list[NDArray[np.int64]] = []
    vals_all: list[NDArray[np.float64]] = []
    for size in np.unique(sizes):
        comps = np.flatnonzero(sizes == size)
        idx = order[starts[comps][:, None] + np.arange(size)[None, :]]  # (c, size)
        blocks = (
            np.stack([C[i][:, i].toarray() for i in idx])
            if size > 1
            else C[idx[:, 0], idx[:, 0]].A.reshape(-1, 1, 1)
        )
        inv = np.linalg.pinv(blocks, rcond=1e-10, hermitian=True)
        inv = inv * scale[idx][:, :, None] * scale[idx][:, None, :]
        rows_all.append(np.repeat(idx, size, axis=1).reshape(-1))
        cols_all.append(np.tile(idx, (1, size)).reshape(-1))
        vals_all.append(inv.reshape(-1))
    return sp.csr_matrix(
        (np.concatenate(vals_all), (np.concatenate(rows_all), np.concatenate(cols_all))), shape=(p, p)
    )


def _codes(values: ArrayLike | None, n: int, name: str) -> tuple[NDArray[np.int64], list[Any]]:
    if values is None:
        return np.zeros(n, dtype=np.int64), [None]
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(
            f"{name} must have length {n} (one per unit), got shape {arr.shape} / {name} 长度必须为 {n}"
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN at position {int(np.argmax(np.isnan(arr)))} / {name} 含缺失值")
    if arr.dtype == object and any(v is None for v in arr):
        raise ValueError(f"{name} contains None / {name} 含缺失值")
    levels, idx = np.unique(arr, return_inverse=True)
    return idx.reshape(-1).astype(np.int64), levels.tolist()


def _column_matrix(y: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    arr = np.asarray(y)
    if arr.dtype == object:
        arr = np.array(
            [[np.nan if v is None else v for v in np.atleast_1d(row)] for row in arr], dtype=np.float64
        )
        if np.ndim(y) == 1:
            arr = arr.reshape(-1)
    Y = np.asarray(arr, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != n:
        raise ValueError(
            f"{name} must have {n} rows (one per unit), got shape {np.shape(y)} / {name} 行数必须为 {n}"
        )
    if np.isinf(Y).any():
        raise ValueError(f"{name} contains infinite values / {name} 含无穷值")
    return Y
