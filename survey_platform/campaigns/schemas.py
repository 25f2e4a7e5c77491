"""Request and response shapes for campaigns and questionnaire versions."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import msgspec

from scoring.sample_size import DEFAULT_MIN_SAMPLE
from survey_platform.places.schemas import CityCode
from survey_platform.publishing.model import CityWeighting, ProblemRule

CampaignCode = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$", description="e.g. '2026-city'")
]


class CampaignMethod(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The release method settings a campaign declares (``publishing.model.MethodSettings`` says what each does);
    one left out takes the platform's default, and every release records the settings it used."""

    city_weighting: CityWeighting | msgspec.UnsetType = msgspec.UNSET
    sales_share: Annotated[float, msgspec.Meta(ge=0, le=1)] | msgspec.UnsetType = msgspec.UNSET
    driver_outcome: (
        Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")] | msgspec.UnsetType | None
    ) = msgspec.UNSET
    suppression_min_n: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | msgspec.UnsetType = msgspec.UNSET
    claim_top_k: Annotated[int, msgspec.Meta(ge=1, le=1000)] | msgspec.UnsetType = msgspec.UNSET
    problem_rule: ProblemRule | msgspec.UnsetType = msgspec.UNSET


class CampaignIn(msgspec.Struct, forbid_unknown_fields=True):
    code: CampaignCode
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    questionnaire_version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    cities: Annotated[list[CityCode], msgspec.Meta(max_length=2000)] = msgspec.field(default_factory=list)
    venues: Annotated[
        list[Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]], msgspec.Meta(max_length=100_000)
    ] = msgspec.field(default_factory=list)
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None
    min_sample_per_city: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = DEFAULT_MIN_SAMPLE
    method: CampaignMethod = msgspec.field(default_factory=CampaignMethod)


class CampaignChange(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    questionnaire_version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    cities: Annotated[list[CityCode], msgspec.Meta(max_length=2000)] | None = None
    venues: (
        Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]], msgspec.Meta(max_length=100_000)]
        | None
    ) = None
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None
    min_sample_per_city: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] | None = None
    method: CampaignMethod | None = None  # replaces the declared settings as a whole


class Campaign(msgspec.Struct):
    id: int
    code: str
    name: str
    questionnaire_version: int
    questionnaire_id: str
    kind: str
    cities: list[str]
    venues: list[int]
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    min_sample_per_city: int
    method: CampaignMethod
    status: str


class QuestionnaireVersionSummary(msgspec.Struct):
    id: int
    questionnaire_id: str
    version: str
    revision: int
    kind: str
    title: str
    content_hash: str
    registered_at: datetime.datetime


class QuestionnaireVersionDetail(QuestionnaireVersionSummary, kw_only=True):
    source: str
    client: dict[str, Any] | None = None


AccountIds = Annotated[
    list[Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]], msgspec.Meta(max_length=10_000)
]


class InspectorAssignment(msgspec.Struct, forbid_unknown_fields=True):
    """The inspectors assigned to an inspection campaign (they submit its audits)."""

    inspectors: AccountIds


class InterviewerAssignment(msgspec.Struct, forbid_unknown_fields=True):
    """The interviewers assigned to a survey campaign (they submit its street-intercept interviews)."""

    interviewers: AccountIds


class ReviewerAssignment(msgspec.Struct, forbid_unknown_fields=True):
    """The reviewers assigned to a campaign (they review its audits and flagged interviews)."""

    reviewers: AccountIds
