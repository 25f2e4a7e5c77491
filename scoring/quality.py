"""Data quality of interviews: speeding, straight-lining, too many missing answers, and the exclusion rate.

Answers are an n × k float matrix with NaN for missing ("don't know" already coded as missing); durations are
seconds per interview. Conventions (all thresholds are parameters):

- speeding: duration < ``fraction`` × median duration of the campaign (default ``SPEEDING_FRACTION``, 0.3).
  Relative-to-median rules are the usual non-reactive speeding indicator: Greszki, Meyer & Schoen (2015),
  "Exploring the effects of removing 'too fast' responses and respondents from web surveys", Public Opinion
  Quarterly 79(2), 471–503; Leiner (2019), "Too fast, too straight, too weird: non-reactive indicators for
  meaningless data in internet surveys", Survey Research Methods 13(3), 229–248 (relative speed index). 0.3 is
  deliberately conservative for street interviews, where the interviewer sets the pace. This is the platform's
  only definition of speeding: ingestion records durations, and the campaign-level review applies this rule.
- straight-lining: in a grid (matrix question) of at least ``min_items`` answered items, every answer identical
  (the "simple non-differentiation" indicator of Kim, Dykema, Stevenson, Black & Moberg (2019),
  "Straightlining: overview of measurement, comparison of indicators, and effects in mail–web mixed-mode
  surveys", Social Science Computer Review 37(2), 214–233); optionally also a within-respondent standard
  deviation below ``min_sd`` over all answered items.
- too many missing: share of missing among the items the respondent was asked (``applicable``; all by default)
  above ``max_missing_share`` (default 0.3).
- duplicated answer sets: two or more interviews with identical answers on every substantive item (the 100% end of
  the "maximum percent match" indicator of Kuriakose & Robbins (2016), "Don't get duped: fraud through duplication
  in public opinion surveys", Statistical Journal of the IAOS 32(3), 283–291); every member of such a group is
  flagged, since which copy is genuine is for a reviewer to decide.
An interview is excluded when any flag is raised; the exclusion rate is excluded / all interviews.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "OUTLIER_ALPHA",
    "SPEEDING_FRACTION",
    "FlagRateOutliers",
    "QualityReport",
    "flag_duplicates",
    "flag_missing",
    "flag_rate_outliers",
    "flag_speeding",
    "flag_straightlining",
    "quality_report",
]

#: An interview shorter than this fraction of the campaign's median duration is speeding (the one definition of
#: speeding: see the module docstring for its references).
SPEEDING_FRACTION = 0.3


@dataclass(frozen=True)
class QualityReport:
    """Per-interview flags (boolean arrays of length n), reasons, and the exclusion rate."""

    speeding: NDArray[np.bool_]
    straightlining: NDArray[np.bool_]
    too_many_missing: NDArray[np.bool_]
    excluded: NDArray[np.bool_]
    reasons: list[list[str]]  # per interview, zh-CN / English, empty when kept
    median_duration: float | None
    n: int
    n_excluded: int
    exclusion_rate: float
    counts: dict[str, int]


def flag_speeding(
    durations: ArrayLike, *, fraction: float = SPEEDING_FRACTION
) -> tuple[NDArray[np.bool_], float | None]:
    """Flag interviews shorter than ``fraction`` × the median duration (Greszki et al. 2015; Leiner 2019).

    Returns (flags, median). A missing (NaN) duration is not flagged; with no valid duration at all the median
    is None and nothing is flagged. Negative durations are an error.
    """
    d = np.asarray(durations, dtype=float).reshape(-1)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction!r}")
    valid = np.isfinite(d)
    negative = np.flatnonzero(valid & (d < 0))
    if negative.size:
        raise ValueError(f"durations must be >= 0 seconds; negative at rows {negative[:10].tolist()}")
    if not valid.any():
        return np.zeros(d.size, dtype=bool), None
    median = float(np.median(d[valid]))
    return valid & (d < fraction * median), median


def flag_straightlining(
    answers: ArrayLike,
    *,
    grids: Sequence[Sequence[int]] | None = None,
    min_items: int = 6,
    min_sd: float | None = None,
) -> NDArray[np.bool_]:
    """Flag identical answers on every item of a grid with >= ``min_items`` answered items (Kim et al. 2019).

    ``grids`` lists the column indices of each matrix question (default: all columns form one grid); a
    respondent is flagged when any grid is straight-lined. With ``min_sd`` also flag a within-respondent
    standard deviation (ddof 0) below it over all answered items (at least ``min_items`` of them).
    """
    x = _answers(answers)
    n, k = x.shape
    if isinstance(min_items, bool) or not isinstance(min_items, int) or min_items < 2:
        raise ValueError(f"min_items must be an integer >= 2, got {min_items!r}")
    grid_list = [list(range(k))] if grids is None else [list(g) for g in grids]
    flags = np.zeros(n, dtype=bool)
    for gi, grid in enumerate(grid_list):
        bad = [j for j in grid if not (isinstance(j, int | np.integer) and 0 <= j < k)]
        if bad:
            raise ValueError(f"grid {gi + 1} has column indices outside 0..{k - 1}: {bad}")
        if len(grid) < min_items:
            continue  # too short a grid to judge
        g = x[:, grid]
        answered = np.isfinite(g)
        count = answered.sum(axis=1)
        lo = np.where(answered, g, np.inf).min(axis=1)
        hi = np.where(answered, g, -np.inf).max(axis=1)
        flags |= (count >= min_items) & (lo == hi)
    if min_sd is not None:
        if min_sd <= 0:
            raise ValueError(f"min_sd must be > 0, got {min_sd!r}")
        answered = np.isfinite(x)
        count = answered.sum(axis=1)
        safe = np.where(answered, x, 0.0)
        mean = safe.sum(axis=1) / np.maximum(count, 1)
        var = np.where(answered, (x - mean[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(count, 1)
        flags |= (count >= min_items) & (np.sqrt(var) < min_sd)
    return flags


def flag_duplicates(answers: ArrayLike, *, min_answered: int = 6) -> NDArray[np.bool_]:
    """Flag interviews whose answers equal another interview's on every item (Kuriakose & Robbins 2016, 100% match).

    Missing answers (NaN) must be missing in the same places. Rows with fewer than ``min_answered`` answered items
    are never flagged (short answer sets coincide by chance).
    """
    x = _answers(answers)
    if isinstance(min_answered, bool) or not isinstance(min_answered, int) or min_answered < 1:
        raise ValueError(f"min_answered must be a positive integer, got {min_answered!r}")
    answered = np.isfinite(x)
    keyed = np.where(answered, x, np.inf)  # NaN never equals itself; inf marks "missing" in the same place
    _, inverse, counts = np.unique(keyed, axis=0, return_inverse=True, return_counts=True)
    return (counts[inverse.reshape(-1)] > 1) & (answered.sum(axis=1) >= min_answered)


def flag_missing(
    answers: ArrayLike, *, max_missing_share: float = 0.3, applicable: ArrayLike | None = None
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Flag interviews whose share of missing answers among applicable items exceeds ``max_missing_share``.

    ``applicable`` (n × k booleans) marks the items a respondent was asked (skip logic); by default all items.
    Returns (flags, missing share). An interview with no applicable item has share 1 and is flagged.
    """
    x = _answers(answers)
    if not 0.0 <= max_missing_share < 1.0:
        raise ValueError(f"max_missing_share must lie in [0, 1), got {max_missing_share!r}")
    asked = np.ones(x.shape, dtype=bool) if applicable is None else np.asarray(applicable, dtype=bool)
    if asked.shape != x.shape:
        raise ValueError(f"applicable must have the shape of answers {x.shape}, got {asked.shape}")
    n_asked = asked.sum(axis=1)
    n_missing = (asked & ~np.isfinite(x)).sum(axis=1)
    share = np.where(n_asked > 0, n_missing / np.maximum(n_asked, 1), 1.0)
    return share > max_missing_share, share


def quality_report(
    answers: ArrayLike,
    durations: ArrayLike,
    *,
    speeding_fraction: float = SPEEDING_FRACTION,
    grids: Sequence[Sequence[int]] | None = None,
    min_items: int = 6,
    min_sd: float | None = None,
    max_missing_share: float = 0.3,
    applicable: ArrayLike | None = None,
) -> QualityReport:
    """All three flags, the reasons per interview, and the exclusion rate (conventions: module docstring)."""
    x = _answers(answers)
    d = np.asarray(durations, dtype=float).reshape(-1)
    if d.size != x.shape[0]:
        raise ValueError(f"durations has {d.size} values but answers has {x.shape[0]} rows")
    speed, median = flag_speeding(d, fraction=speeding_fraction)
    straight = flag_straightlining(x, grids=grids, min_items=min_items, min_sd=min_sd)
    missing, share = flag_missing(x, max_missing_share=max_missing_share, applicable=applicable)
    reasons: list[list[str]] = []
    for i in range(x.shape[0]):
        why = []
        if speed[i]:
            why.append(f"答题过快 / speeding: {d[i]:.0f} s < {speeding_fraction:g} × median {median:.0f} s")
        if straight[i]:
            why.append("直线作答 / straight-lining: identical answers across a grid")
        if missing[i]:
            why.append(f"缺失过多 / too many missing: {100 * share[i]:.0f}% > {100 * max_missing_share:.0f}%")
        reasons.append(why)
    excluded = speed | straight | missing
    n = int(x.shape[0])
    return QualityReport(
        speeding=speed,
        straightlining=straight,
        too_many_missing=missing,
        excluded=excluded,
        reasons=reasons,
        median_duration=median,
        n=n,
        n_excluded=int(excluded.sum()),
        exclusion_rate=float(excluded.sum() / n),
        counts={
            "speeding": int(speed.sum()),
            "straightlining": int(straight.sum()),
            "too_many_missing": int(missing.sum()),
        },
    )


#: family-wise error rate under which an interviewer's flag rate is called unusually high
OUTLIER_ALPHA = 0.05


@dataclass(frozen=True)
class FlagRateOutliers:
    """Per interviewer: the rate of everyone else, the one-sided p-value, its Holm adjustment, and the verdict."""

    rest_rate: NDArray[np.float64]
    p_value: NDArray[np.float64]
    p_holm: NDArray[np.float64]
    outlier: NDArray[np.bool_]


def flag_rate_outliers(
    flagged: ArrayLike, interviews: ArrayLike, *, alpha: float = OUTLIER_ALPHA
) -> FlagRateOutliers:
    """Interviewers whose share of flagged interviews is higher than everyone else's beyond chance.

    For interviewer i with ``flagged[i]`` of ``interviews[i]`` interviews flagged, the null hypothesis is that their
    interviews are flagged at the rate of all the other interviews, p₀ = (F − fᵢ) / (N − nᵢ). The p-value is the
    exact one-sided binomial tail P(X ≥ fᵢ), X ~ Binomial(nᵢ, p₀) (R: ``binom.test(f, n, p0, alternative =
    "greater")``; Clopper & Pearson's exact test); the p-values are adjusted for the number of interviewers by
    Holm's step-down method (Holm 1979, Scand. J. Statist. 6, 65–70; R: ``p.adjust(p, "holm")``), and an
    interviewer stands out when the adjusted p-value is below ``alpha``. This is a screen for the reviewer's
    attention (a fabricating interviewer's interviews are flagged far more often), not a verdict.

    An interviewer without interviews has p = 1; when no other interview exists (N = nᵢ) or all of them are
    flagged (p₀ = 1), p = 1 as well: there is nothing to compare with, or nothing can be higher.
    """
    from scipy.stats import binom
    from statsmodels.stats.multitest import multipletests

    f = np.asarray(flagged, dtype=np.int64).reshape(-1)
    n = np.asarray(interviews, dtype=np.int64).reshape(-1)
    if f.shape != n.shape:
        raise ValueError(f"flagged and interviews differ in length: {f.size} and {n.size}")
    if (f < 0).any() or (f > n).any():
        raise ValueError("every interviewer needs 0 <= flagged <= interviews")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    rest_n = n.sum() - n
    rest_f = f.sum() - f
    rest_rate = np.divide(rest_f, rest_n, out=np.full(f.shape, np.nan), where=rest_n > 0)
    comparable = (n > 0) & (rest_n > 0) & (rest_rate < 1.0)
    p = np.ones(f.shape, dtype=float)
    # P(X >= f) = sf(f - 1); binom.sf is exact to the last bits for these sizes (regularised incomplete beta)
    p[comparable] = binom.sf(f[comparable] - 1, n[comparable], rest_rate[comparable])
    p = np.clip(p, 0.0, 1.0)
    p_holm = multipletests(p, method="holm")[1] if p.size else p
    return FlagRateOutliers(rest_rate, p, p_holm, p_holm < alpha)


def _answers(answers: ArrayLike) -> NDArray[np.float64]:
    try:
        x = np.asarray(answers, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"answers must be numbers with NaN for missing: {exc}") from None
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"answers must be a non-empty n × k matrix, got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("answers contain infinite values; use NaN for missing")
    return x
