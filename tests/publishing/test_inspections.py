"""Inspection releases: compliance from audits.compliance, Wilson problem rates, named venues with legal basis."""

from __future__ import annotations

import msgspec
import pytest
from publishing_helpers import SMALL_METHOD
from statsmodels.stats.proportion import proportion_confint

from survey_platform.audits.compliance import audit_compliance
from survey_platform.publishing.compute import ReleaseInputError, compute_release
from survey_platform.publishing.model import ReleaseInputs, ReleaseResults
from survey_platform.publishing.synthetic import NationalCampaign, inspection_release_inputs
from survey_platform.questionnaire.model import Questionnaire

replace = msgspec.structs.replace


@pytest.fixture(scope="module")
def inputs(small_campaign: NationalCampaign, inspection_q: Questionnaire) -> ReleaseInputs:
    return inspection_release_inputs(small_campaign, inspection_q, SMALL_METHOD)


@pytest.fixture(scope="module")
def results(inputs: ReleaseInputs, inspection_q: Questionnaire) -> ReleaseResults:
    return compute_release(inputs, inspection_q)


def test_rates_count_problem_venues_with_wilson_intervals(
    inputs: ReleaseInputs, results: ReleaseResults, small_campaign: NationalCampaign
) -> None:
    insp = results.inspections
    assert insp is not None and results.rankings is None
    inspection_problem = [a for a in (inputs.audits or []) if a.follow_up == "pending"]
    assert inspection_problem
    assert insp.overall.n == len(inputs.audits or []) == 120
    assert insp.overall.problems == len(inspection_problem)
    low, high = proportion_confint(insp.overall.problems, insp.overall.n, alpha=0.05, method="wilson")
    assert (insp.overall.ci_low, insp.overall.ci_high) == pytest.approx((low, high))
    venues = {v.key: v for v in small_campaign.inspection.venues}  # type: ignore[union-attr]
    for row in insp.by_category:
        members = [a for a in inputs.audits or [] if venues[a.venue_id].category == row.group]
        assert row.n == len(members) and row.problems == sum(a.follow_up == "pending" for a in members)
        assert row.rate == pytest.approx(row.problems / row.n)
    car_park = next(r for r in insp.by_category if r.group == "car_park")
    assert (car_park.label_zh, car_park.label_en) == ("停车场", "Car park")
    assert sum(r.n for r in insp.by_city) == 120
    city = insp.by_city[0]
    assert city.label_zh == next(c.name_zh for c in inputs.cities if c.code == city.group)


def test_venue_compliance_is_the_one_definition(
    inputs: ReleaseInputs, results: ReleaseResults, inspection_q: Questionnaire
) -> None:
    verdicts = audit_compliance(inspection_q, [a.answers for a in inputs.audits or []])
    by_audit = {v.audit: v for v in results.inspections.venues}  # type: ignore[union-attr]
    for audit, verdict in zip(inputs.audits or [], verdicts, strict=True):
        row = by_audit[audit.id]
        assert (row.score, row.problem, row.any_critical, tuple(row.violated)) == (
            verdict.score,
            verdict.problem,
            verdict.any_critical,
            verdict.violated,
        )


def test_named_venues_carry_failed_checks_legal_basis_and_follow_up(
    inputs: ReleaseInputs, results: ReleaseResults
) -> None:
    named = results.inspections.named  # type: ignore[union-attr]
    problems = [v for v in results.inspections.venues if v.problem]  # type: ignore[union-attr]
    assert len(named) == len(problems) > 0
    assert [v.any_critical for v in named] == sorted((v.any_critical for v in named), reverse=True)
    follow = {a.venue_id: a for a in inputs.audits or []}
    forced = next((f for v in named for f in v.failed if f.check == "chk_forced_follow"), None)
    assert forced is not None
    assert forced.severity == "critical" and forced.label_zh.startswith("扫码后是否必须关注公众号")
    assert [b.id for b in forced.legal_basis] == ["cpl_9", "cpl_16_2", "cpl_26"]
    art16 = forced.legal_basis[1]
    assert (art16.law_zh, art16.article_zh, art16.article_en) == (
        "消费者权益保护法",
        "第十六条第二款",
        "Art. 16 ¶2",
    )
    assert art16.summary_en.startswith("No unfair")
    assert forced.recommendation_zh == "取消强制关注，提供“纯净版”付款码。"
    for venue in named:
        assert venue.follow_up == follow[venue.venue_id].follow_up == "pending"
        assert venue.follow_up_date == follow[venue.venue_id].follow_up_date
        severities = [f.severity for f in venue.failed]
        order = {"critical": 0, "major": 1, "minor": 2}
        assert severities == sorted(severities, key=order.__getitem__)
    checks = {c.check: c for c in results.inspections.checks}  # type: ignore[union-attr]
    plate = checks["chk_plate_binding"]
    assert plate.n_applicable == sum(1 for a in inputs.audits or [] if a.category == "car_park")


def test_any_critical_rule_and_repeated_visits(inputs: ReleaseInputs, inspection_q: Questionnaire) -> None:
    strict = compute_release(
        replace(inputs, method=replace(inputs.method, problem_rule="any_critical")), inspection_q
    )
    assert all(v.problem == v.any_critical for v in strict.inspections.venues)  # type: ignore[union-attr]
    audits = list(inputs.audits or [])
    first = audits[0]
    clean = {k: v for k, v in first.answers.items() if not k.startswith("ev_")}
    for q in inspection_q.questions:
        if q.check is not None and q.id in clean:
            clean[q.id] = q.check.pass_if
    revisit = replace(
        first, id="ffffffff-0000-4000-8000-000000000000", answers=clean, approved_at="2099-01-01"
    )
    again = compute_release(replace(inputs, audits=[*audits, revisit]), inspection_q)
    assert again.inspections.n_venues == len(audits)  # type: ignore[union-attr]
    row = next(v for v in again.inspections.venues if v.venue_id == first.venue_id)  # type: ignore[union-attr]
    assert row.audit == revisit.id and not row.problem
    assert [n.code for n in again.notes] == ["venue_inspected_again"]


def test_inspection_inputs_errors(
    inputs: ReleaseInputs, inspection_q: Questionnaire, survey_q: Questionnaire
) -> None:
    with pytest.raises(ReleaseInputError, match="no approved audits"):
        compute_release(replace(inputs, audits=[]), inspection_q)
    with pytest.raises(ReleaseInputError, match="questionnaire"):
        compute_release(inputs, survey_q)
