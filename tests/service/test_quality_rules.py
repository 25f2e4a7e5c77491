"""The campaign-level quality rules on real answer sets: one definition each (scoring.quality), applied to a
campaign's eligible interviews."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from survey_platform.questionnaire.load import load_questionnaire
from survey_platform.responses.quality import campaign_quality

CITY = load_questionnaire(Path(__file__).resolve().parents[2] / "questionnaires" / "city_satisfaction.yaml")


def _answers(seed: int) -> dict[str, Any]:
    """A plausible, varied answer set (points vary with the item and the seed)."""
    questionnaire = CITY.questionnaire
    assert questionnaire is not None
    values: dict[str, Any] = {"q_resident_6m": True, "q_offline_purchase": True, "q_had_dispute": False}
    values["q_purchase_count"] = 1 + seed  # each respondent differs somewhere
    for question in questionnaire.questions:
        if question.type == "matrix" and question.id != "dispute_matrix":
            values[question.id] = {
                item.id: 3 + (seed * 7 + k * 3) % 8 for k, item in enumerate(question.items)
            }
    values.update(
        q_privacy_worry=4, q_overall=7, q_sex=["male", "female"][seed % 2], q_age_band="35_44",
        q_district_zone="core", q_compared_last_year="same", q_hukou="local",
        q_education_level="college", q_income="3000_5999", q_interview_mode="intercept",
    )  # fmt: skip
    return values


def test_each_rule_flags_what_it_defines_and_nothing_else() -> None:
    questionnaire = CITY.questionnaire
    assert questionnaire is not None
    answers = [_answers(seed) for seed in range(20)]
    durations: list[float | None] = [600.0 + 10 * i for i in range(20)]
    durations[1] = 100.0  # < 0.3 × the median (≈ 700 s): speeding
    for question in ("supply_matrix",):  # one grid answered 9 throughout: straight-lining
        answers[2][question] = dict.fromkeys(answers[2][question], 9)
    for item in list(answers[3]["environment_matrix"])[:12]:  # most items "don't know": too many missing
        answers[3]["environment_matrix"][item] = "dont_know"
    for matrix in ("supply_matrix", "rights_matrix"):
        for item in answers[3][matrix]:
            answers[3][matrix][item] = "dont_know"
    answers[5] = copy.deepcopy(answers[4])  # a copied interview: both copies flagged
    answers[7] = copy.deepcopy(answers[6])
    answers[7]["q_age_band"] = "65_plus"  # same answers, another respondent: not a duplicate
    durations[19] = None  # no paradata: never speeding
    ids = [f"r{i}" for i in range(20)]
    quality = campaign_quality(questionnaire, ids, answers, durations)
    assert quality.flags == {
        "r1": ("speeding",),
        "r2": ("straightlining",),
        "r3": ("too_many_missing",),
        "r4": ("duplicate",),
        "r5": ("duplicate",),
    }
    assert quality.counts == {"speeding": 1, "straightlining": 1, "too_many_missing": 1, "duplicate": 2}
    assert quality.median_duration is not None and 650 < quality.median_duration < 750


def test_an_empty_campaign_has_no_flags() -> None:
    quality = campaign_quality(CITY.questionnaire, [], [], [])  # type: ignore[arg-type]
    assert quality.flags == {} and quality.median_duration is None
