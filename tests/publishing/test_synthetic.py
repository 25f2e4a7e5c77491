"""The synthetic national campaign: valid answers, realistic truth, data-quality cases, determinism."""

from __future__ import annotations

import hashlib

import msgspec
import numpy as np
import pytest

from scoring.quality import flag_speeding, flag_straightlining
from survey_platform.publishing.compute import compute_release
from survey_platform.publishing.model import MethodSettings
from survey_platform.publishing.synthetic import NationalCampaign, national_campaign, survey_release_inputs
from survey_platform.questionnaire.answers import validate_answers
from survey_platform.questionnaire.model import Questionnaire


def test_every_answer_set_passes_validation(
    small_campaign: NationalCampaign, survey_q: Questionnaire
) -> None:
    assert small_campaign.previous is not None
    for survey in (small_campaign.current, small_campaign.previous):
        for r in survey.responses:
            check = validate_answers(survey_q, r.answers)
            assert check.ok, (r.id, check.errors[:3])
            assert check.eligible == (r.quality != "screened_out")
            assert check.dropped == ()
            assert r.duration_seconds > 0


def test_every_audit_passes_validation_with_its_evidence(
    small_campaign: NationalCampaign, inspection_q: Questionnaire
) -> None:
    assert small_campaign.inspection is not None
    evidence = {q.check.evidence for q in inspection_q.questions if q.check is not None}  # type: ignore[union-attr]
    for audit in small_campaign.inspection.audits:
        answers = audit.answers_for(4711)
        check = validate_answers(inspection_q, answers)
        assert check.ok, (audit.id, check.errors[:3])
        assert answers["q_venue"] == "4711"
        referenced = {sha for key in evidence if key for sha in answers.get(key, [])}
        assert referenced == set(audit.photos)
        for sha, jpeg in audit.photos.items():
            assert hashlib.sha256(jpeg).hexdigest() == sha
            assert jpeg[:3] == b"\xff\xd8\xff" and jpeg[-2:] == b"\xff\xd9" and audit.id.encode() in jpeg
        assert audit.problem == (audit.follow_up == "pending")


def test_the_inspection_has_about_30_percent_problem_venues(
    survey_q: Questionnaire, inspection_q: Questionnaire
) -> None:
    campaign = national_campaign(2, 100, 2, survey=survey_q, inspection=inspection_q, previous=False)
    assert campaign.inspection is not None
    insp = campaign.inspection
    assert len(insp.venues) == len(insp.audits) == 200
    assert 0.22 <= insp.problem_share <= 0.40
    assert insp.venues[0].city == "taiyuan" or "taiyuan" in {v.city for v in insp.venues}
    assert {v.category for v in insp.venues} >= {"car_park", "restaurant", "tea_fast_food"}
    assert len({v.name for v in insp.venues}) > 150


def test_a_national_campaign_looks_like_the_real_one(survey_q: Questionnaire) -> None:
    campaign = national_campaign(4, 100, 3, survey=survey_q, previous=True)
    truth = campaign.current.truth
    scores = np.array([t.score for t in truth.cities.values()])
    assert len(campaign.cities) == 100 and len({c.province for c in campaign.cities}) == 31
    assert 68 <= scores.min() <= 75 and 88 <= scores.max() <= 95
    assert abs(truth.national - 80.36) < 1.5
    dims = truth.national_dimensions
    assert abs(dims["supply"] - 81.67) < 1.0 and abs(dims["environment"] - 79.26) < 1.0
    assert abs(dims["rights"] - 80.48) < 1.0
    pop = np.array([c.population for c in campaign.cities], dtype=float)
    indicators = {
        k: float(pop @ np.array([truth.cities[c.code].indicators[k] for c in campaign.cities]) / pop.sum())
        for k in next(iter(truth.cities.values())).indicators
    }
    assert max(indicators, key=indicators.__getitem__) == "supply_convenience"
    assert min(indicators, key=indicators.__getitem__) == "transaction_safety"
    assert campaign.previous is not None and campaign.previous.truth.national < truth.national
    assert sorted(truth.ranks.values()) == list(range(1, 101))
    for city in campaign.cities:
        for shares in city.margins.values():
            assert sum(shares.values()) == pytest.approx(1.0, abs=1e-6)


def test_samples_differ_from_the_margins_and_bad_interviews_are_detectable(
    small_campaign: NationalCampaign, survey_q: Questionnaire
) -> None:
    responses = [r for r in small_campaign.current.responses if r.quality != "screened_out"]
    young = np.mean([r.answers["q_age_band"] == "18_24" for r in responses])
    young_pop = np.mean([c.margins["q_age_band"]["18_24"] for c in small_campaign.cities])
    assert young > 1.4 * young_pop
    speeding, _ = flag_speeding([r.duration_seconds for r in responses])
    quality = np.array([r.quality for r in responses])
    assert speeding[quality == "speeder"].all() and not speeding[quality == "ok"].any()
    items = [q for q in survey_q.questions if q.type == "matrix" and q.id != "dispute_matrix"]
    grid = np.array(
        [
            [np.nan if isinstance(v, str) else v for q in items for v in r.answers[q.id].values()]
            for r in responses
        ],
        dtype=float,
    )
    straight = flag_straightlining(grid, min_items=20)
    assert straight[quality == "straightliner"].all() and straight[quality == "ok"].mean() < 0.01
    channels = {r.channel for r in responses}
    assert channels == {"intercept", "qr", "online"}
    assert {r.answers["q_interview_mode"] for r in responses if r.channel == "qr"} == {"scan"}


def test_the_same_seed_gives_the_same_campaign(survey_q: Questionnaire, inspection_q: Questionnaire) -> None:
    a = national_campaign(9, 3, 30, survey=survey_q, inspection=inspection_q, inspection_venues=10)
    b = national_campaign(9, 3, 30, survey=survey_q, inspection=inspection_q, inspection_venues=10)
    c = national_campaign(10, 3, 30, survey=survey_q, inspection=inspection_q, inspection_venues=10)
    assert msgspec.json.encode(a) == msgspec.json.encode(b)
    assert msgspec.json.encode(a) != msgspec.json.encode(c)


def test_the_truth_is_the_estimand(survey_q: Questionnaire) -> None:
    """A single city with 60,000 interviews: the raked estimates land within 4 SE of the exact truth, for the
    index, the dimensions and the indicator whose items are asked only after a complaint."""
    campaign = national_campaign(21, 1, 60_000, survey=survey_q, previous=False, bad_interviews=False)
    inputs = survey_release_inputs(
        campaign,
        campaign.current,
        survey_q,
        MethodSettings(seed=1, driver_outcome=None, sensitivity_draws=10),
    )
    results = compute_release(inputs, survey_q)
    truth = campaign.current.truth.cities[campaign.cities[0].code]
    nodes = {n.node: n.figure for n in results.cities[0].nodes}
    expected = {"overall_satisfaction": truth.score, **truth.dimensions, **truth.indicators}
    for node in (
        "overall_satisfaction",
        "supply",
        "environment",
        "rights",
        "rights_protection",
        "transaction_safety",
    ):
        fig = nodes[node]
        assert abs(fig.score - expected[node]) < 4 * fig.se, (node, fig, expected[node])  # type: ignore[operator]
        assert fig.se < 0.15  # type: ignore[operator]
