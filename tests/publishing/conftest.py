"""Shared fixtures: the two real questionnaires and small synthetic campaigns (module-scoped, deterministic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_platform.publishing.synthetic import NationalCampaign, national_campaign
from survey_platform.questionnaire.load import load_questionnaire
from survey_platform.questionnaire.model import Questionnaire

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


def _load(name: str) -> Questionnaire:
    result = load_questionnaire(QUESTIONNAIRES / name)
    assert result.questionnaire is not None, result.problems
    return result.questionnaire


@pytest.fixture(scope="session")
def survey_q() -> Questionnaire:
    return _load("city_satisfaction.yaml")


@pytest.fixture(scope="session")
def inspection_q() -> Questionnaire:
    return _load("qr_code_inspection.yaml")


@pytest.fixture(scope="session")
def small_campaign(survey_q: Questionnaire, inspection_q: Questionnaire) -> NationalCampaign:
    """6 cities × 220 genuine interviews (+ screened-out, speeders, straight-liners), last year, 120 venues."""
    return national_campaign(11, 6, 220, survey=survey_q, inspection=inspection_q, inspection_venues=120)
