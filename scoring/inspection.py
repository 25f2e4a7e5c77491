"""Inspections of venues (扫码消费体察): severity-weighted compliance, problem flags, problem rates, named venues.

Each check has a severity (critical / major / minor) and each venue answers it pass / fail / na (not
applicable). Definitions used here:

- compliance score = 100 × Σ_applicable w_s · [pass] / Σ_applicable w_s, with default severity weights
  critical 5, major 3, minor 1 (this project's convention, a parameter: no published weights exist for these
  checklists; the three classes mirror the priority / priority-foundation / core classes of the FDA Food Code).
  A venue with no applicable check has no score (``None``), never NaN.
- "any critical violation" = at least one failed critical check.
- a venue "has a problem" under ``rule="any_fail"`` (default: any failed check, as the consumer associations'
  reports count problem venues) or ``rule="any_critical"`` (only failed critical checks count).
- problem rates with Wilson score intervals (Wilson 1927, JASA 22(158); statsmodels
  ``proportion_confint(method="wilson")``), overall and by city or venue category.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from statsmodels.stats.proportion import proportion_confint

__all__ = [
    "ANSWERS",
    "DEFAULT_SEVERITY_WEIGHTS",
    "Check",
    "NamedVenue",
    "ProblemRate",
    "VenueInspection",
    "VenueResult",
    "named_venues",
    "problem_rates",
    "score_venue",
    "score_venues",
]

DEFAULT_SEVERITY_WEIGHTS: dict[str, float] = {"critical": 5.0, "major": 3.0, "minor": 1.0}
ANSWERS = ("pass", "fail", "na")
ProblemRule = Literal["any_fail", "any_critical"]


@dataclass(frozen=True)
class Check:
    """One checklist item: code, label (zh-CN), severity, and the legal basis to cite in reports."""

    code: str
    label: str
    severity: str
    legal_basis: str = ""


@dataclass(frozen=True)
class VenueInspection:
    """One inspected venue and its answer per check code: "pass", "fail" or "na"."""

    venue_id: str
    name: str
    city: str
    category: str
    answers: Mapping[str, str]


@dataclass(frozen=True)
class VenueResult:
    """Compliance of one venue. ``score`` is None when no check applied."""

    venue_id: str
    name: str
    city: str
    category: str
    score: float | None
    any_critical: bool
    problem: bool
    violated: tuple[Check, ...]
    n_applicable: int


@dataclass(frozen=True)
class ProblemRate:
    """Share of venues with a problem, with its Wilson interval."""

    group: str
    n: int
    problems: int
    rate: float
    ci_low: float
    ci_high: float
    level: float


@dataclass(frozen=True)
class NamedVenue:
    """A venue to name in a report, with its violated checks (most severe first)."""

    venue_id: str
    name: str
    city: str
    category: str
    score: float | None
    any_critical: bool
    violations: list[Check] = field(default_factory=list)


def score_venue(
    inspection: VenueInspection,
    checks: Sequence[Check],
    *,
    severity_weights: Mapping[str, float] | None = None,
    rule: ProblemRule = "any_fail",
) -> VenueResult:
    """Severity-weighted compliance score, any-critical flag, problem flag and violated checks of one venue.

    score = 100 × Σ_applicable w_s [pass] / Σ_applicable w_s (weights: module docstring). Every check must be
    answered with pass / fail / na; answers to unknown checks are an error.
    """
    weights = _severity_weights(severity_weights)
    by_code = _check_catalogue(checks, weights)
    if rule not in ("any_fail", "any_critical"):
        raise ValueError(f"rule must be 'any_fail' or 'any_critical', got {rule!r}")
    where = f"venue {inspection.venue_id!r} ({inspection.name})"
    unknown = sorted(set(inspection.answers) - set(by_code))
    if unknown:
        raise ValueError(f"{where}: answers for unknown checks {unknown}")
    missing = [c for c in by_code if c not in inspection.answers]
    if missing:
        raise ValueError(f"{where}: no answer for checks {missing} (use 'na' when a check does not apply)")
    earned = possible = 0.0
    violated: list[Check] = []
    n_applicable = 0
    for code, check in by_code.items():
        answer = inspection.answers[code]
        if answer not in ANSWERS:
            raise ValueError(f"{where}, check {code!r}: answer must be one of {ANSWERS}, got {answer!r}")
        if answer == "na":
            continue
        n_applicable += 1
        w = weights[check.severity]
        possible += w
        if answer == "pass":
            earned += w
        else:
            violated.append(check)
    rank = {s: i for i, s in enumerate(sorted(weights, key=lambda s: -weights[s]))}
    violated.sort(key=lambda c: rank[c.severity])
    any_critical = any(c.severity == "critical" for c in violated)
    problem = any_critical if rule == "any_critical" else bool(violated)
    return VenueResult(
        venue_id=inspection.venue_id,
        name=inspection.name,
        city=inspection.city,
        category=inspection.category,
        score=100.0 * earned / possible if possible > 0 else None,
        any_critical=any_critical,
        problem=problem,
        violated=tuple(violated),
        n_applicable=n_applicable,
    )


def score_venues(
    inspections: Iterable[VenueInspection],
    checks: Sequence[Check],
    *,
    severity_weights: Mapping[str, float] | None = None,
    rule: ProblemRule = "any_fail",
) -> list[VenueResult]:
    """``score_venue`` for every inspection; venue ids must be unique (a re-visit is a separate campaign)."""
    results = [score_venue(i, checks, severity_weights=severity_weights, rule=rule) for i in inspections]
    seen: set[str] = set()
    for r in results:
        if r.venue_id in seen:
            raise ValueError(f"venue {r.venue_id!r} appears twice in one set of inspections")
        seen.add(r.venue_id)
    return results


def problem_rates(
    results: Sequence[VenueResult],
    *,
    by: Literal["city", "category"] | None = None,
    level: float = 0.95,
) -> dict[str, ProblemRate]:
    """Problem rate with a Wilson score interval (statsmodels ``proportion_confint(method="wilson")``).

    ``by=None`` gives one entry "全部/all"; otherwise one entry per city or venue category, in first-seen order.
    An empty list of results is an error (a rate of 0 venues is undefined).
    """
    if by not in (None, "city", "category"):
        raise ValueError(f"by must be None, 'city' or 'category', got {by!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    if not results:
        raise ValueError("problem_rates needs at least one venue result")
    groups: dict[str, list[VenueResult]] = {}
    for r in results:
        key = "全部/all" if by is None else getattr(r, by)
        groups.setdefault(key, []).append(r)
    out: dict[str, ProblemRate] = {}
    for key, members in groups.items():
        n = len(members)
        k = sum(r.problem for r in members)
        low, high = proportion_confint(k, n, alpha=1.0 - level, method="wilson")
        out[key] = ProblemRate(key, n, k, k / n, float(low), float(high), level)
    return out


def named_venues(results: Sequence[VenueResult]) -> list[NamedVenue]:
    """Venues with a problem and their violated checks: critical ones first, then by ascending score."""
    flagged = [r for r in results if r.problem]
    flagged.sort(key=lambda r: (not r.any_critical, r.score if r.score is not None else 101.0, r.venue_id))
    return [
        NamedVenue(r.venue_id, r.name, r.city, r.category, r.score, r.any_critical, list(r.violated))
        for r in flagged
    ]


# ----------------------------------------------------------------------------------------------- internals


def _severity_weights(severity_weights: Mapping[str, float] | None) -> dict[str, float]:
    weights = dict(DEFAULT_SEVERITY_WEIGHTS if severity_weights is None else severity_weights)
    bad = {s: w for s, w in weights.items() if not (isinstance(w, int | float) and w > 0)}
    if bad:
        raise ValueError(f"severity_weights must be positive numbers; bad: {bad}")
    if "critical" not in weights:
        raise ValueError("severity_weights must define 'critical'")
    return weights


def _check_catalogue(checks: Sequence[Check], weights: Mapping[str, float]) -> dict[str, Check]:
    if not checks:
        raise ValueError("checks is empty: nothing to score")
    by_code: dict[str, Check] = {}
    for c in checks:
        if c.code in by_code:
            raise ValueError(f"check code {c.code!r} is defined twice")
        if c.severity not in weights:
            raise ValueError(f"check {c.code!r}: severity {c.severity!r} is not one of {sorted(weights)}")
        by_code[c.code] = c
    return by_code
