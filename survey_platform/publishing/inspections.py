"""Inspection results of a release: per-venue compliance, problem rates with Wilson intervals, named venues.

Compliance is ``survey_platform.audits.compliance`` (the one definition: the checklist's own index and
``scoring.inspection``'s problem rule); rates are ``scoring.inspection.problem_rates`` (Wilson 1927 score
intervals, statsmodels ``proportion_confint(method="wilson")``); the order of named venues is
``scoring.inspection.named_venues`` (critical violations first, then by ascending score).
"""

from __future__ import annotations

from collections.abc import Sequence

from scoring.inspection import ProblemRate, VenueResult, named_venues, problem_rates
from survey_platform.audits.compliance import audit_compliance, check_questions, scoring_checks
from survey_platform.questionnaire.model import Label, Questionnaire, text

from .errors import ReleaseInputError
from .model import (
    AuditInput,
    CheckSummary,
    CityInput,
    FailedCheck,
    InspectionResults,
    LegalReference,
    MethodSettings,
    NamedVenueResult,
    Note,
    ProblemRateRow,
    VenueCompliance,
)

ALL = "全部/all"


def inspection_results(
    questionnaire: Questionnaire,
    audits: Sequence[AuditInput],
    cities: Sequence[CityInput],
    method: MethodSettings,
) -> tuple[InspectionResults, list[Note]]:
    """Compliance of every inspected venue (its latest approved audit), problem rates overall / by city / by venue
    category, per-check failure counts and the named problem venues with their failed checks' legal basis."""
    checks = check_questions(questionnaire)
    if not checks:
        raise ReleaseInputError(
            f"问卷 {questionnaire.id} 没有检查项 / questionnaire {questionnaire.id} has no inspection checks"
        )
    if not audits:
        raise ReleaseInputError("没有已批准的检查记录 / no approved audits to publish")
    latest, notes = _latest_per_venue(audits)
    verdicts = audit_compliance(questionnaire, [a.answers for a in latest])
    catalogue = {c.code: c for c in scoring_checks(questionnaire)}
    results: list[VenueResult] = []
    venues: list[VenueCompliance] = []
    for audit, verdict in zip(latest, verdicts, strict=True):
        problem = verdict.any_critical if method.problem_rule == "any_critical" else verdict.problem
        results.append(
            VenueResult(
                venue_id=audit.venue_id,
                name=audit.venue_name,
                city=audit.city,
                category=audit.category,
                score=verdict.score,
                any_critical=verdict.any_critical,
                problem=problem,
                violated=tuple(catalogue[c] for c in verdict.violated),
                n_applicable=verdict.n_applicable,
            )
        )
        venues.append(
            VenueCompliance(
                audit=audit.id,
                venue_id=audit.venue_id,
                venue_name=audit.venue_name,
                city=audit.city,
                category=audit.category,
                score=verdict.score,
                problem=problem,
                any_critical=verdict.any_critical,
                n_applicable=verdict.n_applicable,
                violated=list(verdict.violated),
                approved_at=audit.approved_at,
            )
        )
    city_names = {c.code: (c.name_zh, c.name_en or c.code) for c in cities}
    category_names = _category_labels(questionnaire, {a.category for a in latest})
    overall = _rate_row(problem_rates(results, level=method.level)[ALL], ("全部", "All"))
    by_city = [
        _rate_row(rate, city_names.get(key, (key, key)))
        for key, rate in sorted(problem_rates(results, by="city", level=method.level).items())
    ]
    by_category = [
        _rate_row(rate, category_names.get(key, (key, key)))
        for key, rate in sorted(problem_rates(results, by="category", level=method.level).items())
    ]
    by_venue = {a.venue_id: a for a in latest}
    verdict_of = {a.venue_id: v for a, v in zip(latest, verdicts, strict=True)}
    named = [
        NamedVenueResult(
            audit=by_venue[v.venue_id].id,
            venue_id=v.venue_id,
            venue_name=v.name,
            city=v.city,
            category=v.category,
            score=v.score,
            any_critical=v.any_critical,
            failed=[_failed_check(questionnaire, c.code) for c in v.violations],
            approved_at=by_venue[v.venue_id].approved_at,
            follow_up=by_venue[v.venue_id].follow_up,
            follow_up_date=by_venue[v.venue_id].follow_up_date,
        )
        for v in named_venues(results)
    ]
    summaries = []
    for q in checks:
        answers = [verdict_of[a.venue_id].answers[q.id] for a in latest]
        applicable = sum(a != "na" for a in answers)
        failed = sum(a == "fail" for a in answers)
        summaries.append(
            CheckSummary(
                check=q.id,
                label_zh=text(q.label, "zh-CN"),
                label_en=text(q.label, "en"),
                severity=q.check.severity,  # type: ignore[union-attr]
                n_applicable=applicable,
                n_failed=failed,
                fail_rate=failed / applicable if applicable else None,
            )
        )
    return (
        InspectionResults(
            n_venues=len(latest),
            problem_rule=method.problem_rule,
            overall=overall,
            by_city=by_city,
            by_category=by_category,
            checks=summaries,
            venues=venues,
            named=named,
        ),
        notes,
    )


def _latest_per_venue(audits: Sequence[AuditInput]) -> tuple[list[AuditInput], list[Note]]:
    """One audit per venue: the latest approved (by approval date, then audit id), with a note for the others."""
    groups: dict[str, list[AuditInput]] = {}
    for audit in audits:
        groups.setdefault(audit.venue_id, []).append(audit)
    latest: list[AuditInput] = []
    notes: list[Note] = []
    for venue_id in sorted(groups):
        group = sorted(groups[venue_id], key=lambda a: (a.approved_at, a.id))
        latest.append(group[-1])
        if len(group) > 1:
            notes.append(
                Note(
                    code="venue_inspected_again",
                    text=f"场所 {venue_id} 本次活动中有 {len(group)} 条已批准的检查记录，采用最近批准的一条 / venue "
                    f"{venue_id} has {len(group)} approved audits in this campaign: the latest approved one counts",
                )
            )
    return latest, notes


def _rate_row(rate: ProblemRate, labels: tuple[str, str]) -> ProblemRateRow:
    return ProblemRateRow(
        group="all" if rate.group == ALL else rate.group,
        label_zh=labels[0],
        label_en=labels[1],
        n=rate.n,
        problems=rate.problems,
        rate=rate.rate,
        ci_low=rate.ci_low,
        ci_high=rate.ci_high,
    )


def _category_labels(questionnaire: Questionnaire, categories: set[str]) -> dict[str, tuple[str, str]]:
    """Labels of venue categories from the questionnaire's choice list that holds them all (else the codes)."""
    for choice_list in questionnaire.choice_lists.values():
        labels = {c.code: c.label for c in choice_list.choices}
        if categories <= set(labels):
            return {code: (labels[code].get("zh-CN"), labels[code].get("en")) for code in categories}
    return {}


def _failed_check(questionnaire: Questionnaire, check_id: str) -> FailedCheck:
    question = questionnaire.question(check_id)
    check = question.check
    assert check is not None
    return FailedCheck(
        check=check_id,
        label_zh=text(question.label, "zh-CN"),
        label_en=text(question.label, "en"),
        severity=check.severity,
        legal_basis=[_legal(questionnaire, basis) for basis in check.legal_basis],
        recommendation_zh=_optional(check.recommendation, "zh-CN"),
        recommendation_en=_optional(check.recommendation, "en"),
    )


def _legal(questionnaire: Questionnaire, basis_id: str) -> LegalReference:
    basis = questionnaire.legal_basis[basis_id]
    return LegalReference(
        id=basis_id,
        law_zh=basis.law.get("zh-CN"),
        law_en=basis.law.get("en"),
        article_zh=basis.article.get("zh-CN"),
        article_en=basis.article.get("en"),
        summary_zh=text(basis.summary, "zh-CN"),
        summary_en=text(basis.summary, "en"),
    )


def _optional(label: Label | None, language: str) -> str | None:
    return label.get(language) if label is not None else None
