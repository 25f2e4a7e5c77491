"""A campaign's release inputs read from the database (the only I/O in of a release).

What feeds a survey release: the campaign's responses that are eligible (not screened out), not excluded at
ingestion and not excluded by a reviewer (``responses.reviews``), sorted by UUID; with per-city counts of what was
collected, screened out, excluded by review and flagged by the quality rules but kept after review. What feeds an inspection
release: the campaign's approved audits. Everything else the computation uses (method settings and seed, the
cities with their populations and margins, the previous release's figures) is read here too and recorded in the
release, so that ``release verify`` can recompute from exactly the same inputs.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

import msgspec

from survey_platform.audits.compliance import audit_compliance
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import Campaign
from survey_platform.publishing.model import (
    AuditInput,
    CityCounts,
    CityInput,
    EstimateSE,
    MethodSettings,
    PreviousRelease,
    ReleaseInputs,
    ReleaseResults,
    SurveyInputs,
)
from survey_platform.responses.reviews import latest_decisions
from survey_platform.storage.errors import InvalidInput
from survey_platform.storage.tables import (
    Audit,
    AuditReview,
    City,
    QuestionnaireVersion,
    Release,
    SurveyResponse,
    Venue,
)
from survey_platform.storage.tables import Campaign as CampaignTable

_ANSWERS = msgspec.json.Decoder(dict[str, Any])
_CANONICAL = msgspec.json.Encoder(order="sorted")


def _loads(value: object) -> Any:
    if isinstance(value, str | bytes):
        return _ANSWERS.decode(value) if value[:1] in ("{", b"{") else json.loads(value)
    return value


def method_settings(campaign: Campaign, declared: dict[str, Any], seed: int) -> MethodSettings:
    """The campaign's method: its declared settings over the defaults, its minimum sample, this release's seed."""
    try:
        return msgspec.convert(
            {**declared, "seed": seed, "min_sample_per_city": campaign.min_sample_per_city}, MethodSettings
        )
    except msgspec.ValidationError as error:
        raise InvalidInput(
            f"活动的方法设置无效 / the campaign's method settings are invalid: {error}"
        ) from None


async def campaign_method(campaign_id: int) -> dict[str, Any]:
    """The campaign's method settings as stored: the API and the forms write only ``CampaignMethod``'s fields, but
    any ``MethodSettings`` field declared there is used, and a value that is not valid stops the release."""
    row = (
        await CampaignTable.select(CampaignTable.method).where(CampaignTable.id == campaign_id).first().run()
    )
    try:
        declared = _loads(row["method"]) if row else {}
    except ValueError:
        declared = None
    if not isinstance(declared, dict):
        raise InvalidInput(
            "活动的方法设置不是 JSON 对象 / the campaign's method settings are not a JSON object"
        )
    return declared


async def _cities(codes: list[str]) -> list[CityInput]:
    rows = await City.select().where(City.code.is_in(codes or [""])).order_by(City.code).run()
    return [
        CityInput(
            code=row["code"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            province=row["province"],
            population=int(row["population"]),
            retail_sales=row["retail_sales"],
            margins=_loads(row["margins"]) or {},
        )
        for row in rows
    ]


async def survey_inputs(
    campaign: Campaign, catalog: QuestionnaireCatalog, timings: dict[str, float] | None = None
) -> SurveyInputs:
    """The responses that feed a survey release, and the per-city counts of what did not.

    ``timings`` (optional) receives the seconds spent reading the rows ("query") and decoding and sorting them
    with the reviewers' decisions ("decode"). A reviewed interview is a flagged one (reviewers decide the quality
    rules' flags): "flagged_kept" counts those kept.
    """
    started = time.perf_counter()
    rows = (
        await SurveyResponse.select(
            SurveyResponse.uuid,
            SurveyResponse.body_hash,
            SurveyResponse.city_code,
            SurveyResponse.answers,
            SurveyResponse.channel,
            SurveyResponse.eligible,
            SurveyResponse.status,
        )
        .where(SurveyResponse.campaign == campaign.id)
        .run()
    )
    decisions = await latest_decisions(campaign.id)
    queried = time.perf_counter()
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    kept: list[tuple[str, str, str, dict[str, Any], str]] = []
    for row in rows:
        key = str(row["uuid"])
        city = row["city_code"]
        counts[city]["collected"] += 1
        if not row["eligible"] or row["status"] == "excluded":
            counts[city]["screened_out"] += 1
            continue
        decision = decisions.get(key)
        if decision is not None:
            if decision.decision == "exclude":
                counts[city]["excluded_by_review"] += 1
                continue
            counts[city]["flagged_kept"] += 1  # flagged by the quality rules, reviewed and kept
        answers = row["answers"]
        answers = _ANSWERS.decode(answers) if isinstance(answers, str | bytes) else answers
        kept.append((key, row["body_hash"], city, answers, row["channel"]))
    kept.sort(key=lambda item: item[0])
    if timings is not None:
        timings["query"] = queried - started
        timings["decode"] = time.perf_counter() - queried
    return SurveyInputs(
        ids=[k[0] for k in kept],
        body_hashes=[k[1] for k in kept],
        cities=[k[2] for k in kept],
        answers=[k[3] for k in kept],
        channels=[k[4] for k in kept],
        counts={city: CityCounts(**dict(c)) for city, c in sorted(counts.items())},
    )


def answers_digest(answers: dict[str, Any]) -> str:
    """SHA-256 of answers' canonical JSON (sorted keys): what an audit input's ``body_hash`` holds, so that the
    release's fingerprint pins the answers actually used (an audit's stored answers change when it is corrected)."""
    return hashlib.sha256(_CANONICAL.encode(answers)).hexdigest()


async def audit_inputs(
    campaign: Campaign, catalog: QuestionnaireCatalog, recorded: Sequence[AuditInput] = ()
) -> list[AuditInput]:
    """The approved audits of an inspection campaign, with each venue's follow-up status.

    Follow-up (回头看): a later approved audit of the same venue in another campaign; "fixed" when it found no
    problem (``audits.compliance``), "not_fixed" otherwise; "pending" while there is none. With ``recorded`` (a
    release being verified), what the release recorded about each audit's venue, approval and follow-up is used
    instead of today's (venues are renamed, follow-ups come later): only the answers are read again.
    """
    rows = (
        await Audit.select(
            Audit.id,
            Audit.uuid,
            Audit.body_hash,
            Audit.venue,
            Audit.answers,
            Audit.venue.name.as_alias("venue_name"),
            Audit.venue.category.as_alias("category"),
            Audit.venue.city.code.as_alias("city"),
        )
        .where((Audit.campaign == campaign.id) & (Audit.review_state == "approved"))
        .order_by(Audit.uuid)
        .run()
    )
    approved_at = await _approval_times([row["id"] for row in rows])
    follow_ups = await _follow_ups(campaign, catalog, {row["venue"]: approved_at[row["id"]] for row in rows})
    as_recorded = {audit.id: audit for audit in recorded}
    audits = []
    for row in rows:
        answers = _loads(row["answers"]) or {}
        live = AuditInput(
            id=str(row["uuid"]),
            body_hash=answers_digest(answers),
            venue_id=str(row["venue"]),
            venue_name=row["venue_name"],
            city=row["city"],
            category=row["category"],
            answers=answers,
            approved_at=approved_at[row["id"]].date().isoformat(),
            follow_up=follow_ups.get(row["venue"], ("pending", None))[0],
            follow_up_date=follow_ups.get(row["venue"], ("pending", None))[1],
        )
        before = as_recorded.get(live.id)
        if before is not None:
            live = msgspec.structs.replace(before, body_hash=live.body_hash, answers=answers)
        audits.append(live)
    return audits


async def _approval_times(audit_ids: list[int]) -> dict[int, datetime.datetime]:
    rows = (
        await AuditReview.select(AuditReview.audit, AuditReview.at)
        .where(AuditReview.audit.is_in(audit_ids or [0]) & (AuditReview.to_state == "approved"))
        .order_by(AuditReview.id)
        .run()
    )
    return {row["audit"]: row["at"] for row in rows}


async def _follow_ups(
    campaign: Campaign, catalog: QuestionnaireCatalog, approved: dict[int, datetime.datetime]
) -> dict[int, tuple[str, str | None]]:
    """venue id → (follow-up status, date) from later approved audits of the venue in other campaigns."""
    if not approved:
        return {}
    later = (
        await Audit.select(Audit.id, Audit.venue, Audit.answers, Audit.questionnaire)
        .where(
            Audit.venue.is_in(list(approved))
            & (Audit.campaign != campaign.id)
            & (Audit.review_state == "approved")
        )
        .order_by(Audit.id)
        .run()
    )
    times = await _approval_times([row["id"] for row in later])
    out: dict[int, tuple[str, str | None]] = {}
    for row in later:
        at = times.get(row["id"])
        if at is None or at <= approved[row["venue"]]:
            continue
        questionnaire = await catalog.get(row["questionnaire"])
        (verdict,) = audit_compliance(questionnaire, [_loads(row["answers"]) or {}])
        out[row["venue"]] = ("not_fixed" if verdict.problem else "fixed", at.date().isoformat())
    return out


async def previous_release(campaign: Campaign) -> PreviousRelease | None:
    """The current release of the latest earlier campaign (created before this one) of the same questionnaire, as
    figures to compare with (a correction of last year's release, published after this year's campaign began, still
    compares with the year before)."""
    created = (
        await CampaignTable.select(CampaignTable.created_at)
        .where(CampaignTable.id == campaign.id)
        .first()
        .run()
    )["created_at"]
    questionnaire_id = (
        await QuestionnaireVersion.select(QuestionnaireVersion.questionnaire_id)
        .where(QuestionnaireVersion.id == campaign.questionnaire_version)
        .first()
        .run()
    )["questionnaire_id"]
    row = (
        await Release.select(Release.code, Release.created_at, Release.results)
        .where(
            (Release.status == "current")
            & (Release.campaign != campaign.id)
            & (Release.campaign.created_at < created)
            & (Release.kind == "survey")
            & (Release.questionnaire.questionnaire_id == questionnaire_id)
        )
        .order_by(Release.campaign.created_at, ascending=False)
        .first()
        .run()
    )
    if row is None:
        return None
    results = msgspec.json.decode(row["results"], type=ReleaseResults)
    if results.rankings is None or results.national is None:
        return None

    def figure(score: float | None, se: float | None) -> EstimateSE | None:
        return EstimateSE(score=score, se=se) if score is not None and se is not None else None

    national = figure(results.rankings.national.score, results.rankings.national.se)
    if national is None:
        return None
    cities = {
        city.city: estimate
        for city in results.rankings.cities
        if (estimate := figure(city.score, city.se)) is not None
    }
    dimensions = {
        node.node: estimate
        for node in results.national.nodes
        if node.level == "dimension" and (estimate := figure(node.figure.score, node.figure.se)) is not None
    }
    return PreviousRelease(
        id=row["code"],
        published=row["created_at"].date().isoformat(),
        national=national,
        cities=cities,
        dimensions=dimensions,
    )


async def release_inputs(
    campaign: Campaign,
    catalog: QuestionnaireCatalog,
    seed: int,
    *,
    recorded: ReleaseInputs | None = None,
    timings: dict[str, float] | None = None,
) -> ReleaseInputs:
    """Everything a release of ``campaign`` is computed from.

    With ``recorded`` (``release verify``), only the responses and audits are read again; the recorded method,
    cities and previous release are used as they were.
    """
    version = (
        await QuestionnaireVersion.select(
            QuestionnaireVersion.questionnaire_id,
            QuestionnaireVersion.version,
            QuestionnaireVersion.content_hash,
        )
        .where(QuestionnaireVersion.id == campaign.questionnaire_version)
        .first()
        .run()
    )
    if recorded is not None:
        base = recorded
    else:
        if campaign.kind == "survey":
            codes = campaign.cities
        else:
            venue_cities = (
                await Venue.select(Venue.city.code.as_alias("city"))
                .where(Venue.id.is_in(campaign.venues or [0]))
                .run()
            )
            codes = sorted(set(campaign.cities) | {row["city"] for row in venue_cities})
        base = ReleaseInputs(
            campaign_code=campaign.code,
            campaign_name=campaign.name,
            campaign_kind=campaign.kind,  # type: ignore[arg-type]
            questionnaire_id=version["questionnaire_id"],
            questionnaire_version=version["version"],
            questionnaire_hash=version["content_hash"],
            method=method_settings(campaign, await campaign_method(campaign.id), seed),
            cities=await _cities(codes),
            previous=await previous_release(campaign) if campaign.kind == "survey" else None,
        )
    if campaign.kind == "survey":
        return msgspec.structs.replace(
            base, survey=await survey_inputs(campaign, catalog, timings), audits=None
        )
    recorded_audits = (recorded.audits or []) if recorded is not None else []
    return msgspec.structs.replace(
        base, survey=None, audits=await audit_inputs(campaign, catalog, recorded_audits)
    )


def recorded_part(inputs: ReleaseInputs) -> ReleaseInputs:
    """The inputs as a release records them: without the responses' and audits' answers (the fingerprint pins
    those); what it used about each audit's venue, approval and follow-up is kept."""
    audits = None
    if inputs.audits is not None:
        audits = [msgspec.structs.replace(audit, answers={}) for audit in inputs.audits]
    return msgspec.structs.replace(inputs, survey=None, audits=audits)


__all__ = ["audit_inputs", "previous_release", "recorded_part", "release_inputs", "survey_inputs"]
