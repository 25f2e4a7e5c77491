"""Pure rules of ingestion: scope checks, quality flags, status, and the canonical body hash."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import math
from collections.abc import Collection, Iterable, Mapping

import msgspec

from survey_platform.storage.errors import FieldProblem

CLOCK_SKEW_TOLERANCE = datetime.timedelta(minutes=10)
MAX_SECTION_SECONDS = (
    31 * 24 * 3600
)  # a draft may be resumed days later; a section shown longer is a broken clock


@dataclasses.dataclass(frozen=True, slots=True)
class CampaignContext:
    """What ingestion needs to know about a campaign (cached briefly per process)."""

    id: int
    code: str
    status: str
    kind: str
    questionnaire_version: int
    cities: frozenset[str]
    venues: frozenset[int]


_CANONICAL = msgspec.json.Encoder(order="sorted")


def body_hash(campaign_code: str, submission: msgspec.Struct) -> str:
    """SHA-256 of the campaign code and the submission's canonical JSON (sorted keys): equal content, equal hash.

    The idempotency key's partner for responses and audits: a re-sent UUID with the same hash is a replay, with
    another hash a conflict.
    """
    digest = hashlib.sha256(campaign_code.encode())
    digest.update(b"\0")
    digest.update(_CANONICAL.encode(submission))
    return digest.hexdigest()


def scope_problems(
    campaign: CampaignContext, city: str | None, venue: int | None, questionnaire_version: int | None
) -> list[FieldProblem]:
    """Where the submission does not fit the campaign (unknown city/venue, other questionnaire version)."""
    problems: list[FieldProblem] = []
    if questionnaire_version is not None and questionnaire_version != campaign.questionnaire_version:
        problems.append(
            FieldProblem(
                "$.questionnaire_version",
                "version",
                f"本活动使用问卷版本 {campaign.questionnaire_version} / this campaign uses questionnaire version "
                f"{campaign.questionnaire_version}, not {questionnaire_version}",
            )
        )
    if campaign.cities:
        if city is None:
            problems.append(FieldProblem("$.city", "required", "须填写城市 / the city is required"))
        elif city not in campaign.cities:
            problems.append(
                FieldProblem(
                    "$.city", "scope", f"城市不在本活动范围内 / city {city!r} is not in this campaign"
                )
            )
    elif city is not None:
        problems.append(FieldProblem("$.city", "scope", "本活动不按城市抽样 / this campaign has no cities"))
    if campaign.venues:
        if venue is None:
            problems.append(FieldProblem("$.venue", "required", "须填写场所 / the venue is required"))
        elif venue not in campaign.venues:
            problems.append(
                FieldProblem(
                    "$.venue", "scope", f"场所不在本活动范围内 / venue {venue} is not in this campaign"
                )
            )
    elif venue is not None:
        problems.append(FieldProblem("$.venue", "scope", "本活动不含场所 / this campaign has no venues"))
    return problems


def timing(
    started_at: datetime.datetime | None,
    submitted_at: datetime.datetime | None,
    received_at: datetime.datetime,
) -> tuple[float | None, list[FieldProblem]]:
    """Interview duration in seconds, and problems with the timestamps (naive or inverted)."""
    problems: list[FieldProblem] = []
    for path, value in (("$.started_at", started_at), ("$.submitted_at", submitted_at)):
        if value is not None and value.tzinfo is None:
            problems.append(FieldProblem(path, "timezone", "时间须带时区 / the time needs a UTC offset"))
    if problems or started_at is None or submitted_at is None:
        return None, problems
    if submitted_at < started_at:
        problems.append(
            FieldProblem("$.submitted_at", "order", "提交时间早于开始时间 / submitted before it started")
        )
        return None, problems
    return (submitted_at - started_at).total_seconds(), problems


def paradata_problems(
    sections: Mapping[str, float], section_ids: Collection[str], limit: float = MAX_SECTION_SECONDS
) -> list[FieldProblem]:
    """Times reported for sections the questionnaire does not have, and times outside 0..``limit`` seconds."""
    problems: list[FieldProblem] = []
    for name, seconds in sections.items():
        path = f"$.paradata.sections.{name}"
        if name not in section_ids:
            problems.append(
                FieldProblem(
                    path, "unknown", f"问卷没有此部分 / the questionnaire has no section {name[:100]!r}"
                )
            )
        elif not (math.isfinite(seconds) and 0 <= seconds <= limit):
            problems.append(
                FieldProblem(
                    path,
                    "range",
                    f"用时应在 0 到 {limit} 秒之间 / expected seconds from 0 to {limit}, not {seconds}",
                )
            )
    return problems


def quality_flags(submitted_at: datetime.datetime | None, received_at: datetime.datetime) -> tuple[str, ...]:
    """Flags one response carries on arrival: clock skew (submitted "in the future").

    Speeding is not judged here: it is a campaign-level rule (shorter than a fraction of the campaign's median
    duration, ``scoring.quality.flag_speeding``) applied when the campaign's responses are reviewed; ingestion
    records the duration it needs.
    """
    if submitted_at is not None and submitted_at - received_at > CLOCK_SKEW_TOLERANCE:
        return ("clock_skew",)
    return ()


def status_of(eligible: bool, flags: Iterable[str]) -> tuple[str, str]:
    """(status, reason): screened-out respondents are excluded; flagged responses await review."""
    if not eligible:
        return "excluded", "screened_out"
    flag_list = list(flags)
    if flag_list:
        return "flagged", ",".join(flag_list)
    return "valid", ""
