"""The demo: a realistic national campaign with known truth, loaded through the service's own code paths.

Builds the synthetic campaign (``publishing.synthetic``: 100 real cities with provinces, populations and margins,
this year's and last year's city satisfaction survey, a QR-code inspection of ~200 venues) and submits it the way
clients do: accounts, cities and campaigns through their services; street interviews as batches from signed-in,
assigned interviewers and scan/online answers as anonymous single responses (``responses.service.Ingestor``, the
code the API calls); evidence photos and audits from signed-in inspectors; a reviewer excludes the interviews the
quality rules flag that are speeders or straight-liners, and approves the audits; each campaign is closed and
published. The true values are written beside the data (``DATA_DIR/demo-truth.json``), and the accounts (with a
password made for this demo) to ``DATA_DIR/demo-accounts.txt``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import secrets
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from scoring.sample_size import DEFAULT_MIN_SAMPLE
from survey_platform.accounts.service import Principal, create_account
from survey_platform.audits.photos import store_photo
from survey_platform.audits.schemas import AuditSubmission, Location
from survey_platform.audits.service import review_audit, store_audit
from survey_platform.campaigns import assignments
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import CampaignIn
from survey_platform.campaigns.service import create_campaign, transition
from survey_platform.places.schemas import CityIn, VenueIn
from survey_platform.places.service import create_venue, import_cities
from survey_platform.publishing import service as releases
from survey_platform.publishing.synthetic import NationalCampaign, SyntheticSurvey, national_campaign
from survey_platform.responses.quality import campaign_quality
from survey_platform.responses.reviews import decide_many
from survey_platform.responses.schemas import BatchSubmission, Submission
from survey_platform.responses.service import Ingestor
from survey_platform.settings import Settings
from survey_platform.storage.tables import Campaign as CampaignTable
from survey_platform.storage.tables import QuestionnaireVersion, SurveyResponse
from survey_platform.storage.writer import GroupCommitWriter, PostgresResponseStore, SQLiteResponseStore

INTERVIEWERS = 12
INSPECTORS = 4
BATCH = 500
Progress = Callable[[str, int, int | None], None]  # (phase, advance, total) → shown by the caller


@dataclasses.dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str


@dataclasses.dataclass(frozen=True, slots=True)
class DemoResult:
    accounts: list[DemoAccount]
    password: str
    releases: list[str]
    truth_path: Path
    accounts_path: Path


async def _version_id(questionnaire_id: str) -> int:
    row = (
        await QuestionnaireVersion.select(QuestionnaireVersion.id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
        .order_by(QuestionnaireVersion.id, ascending=False)
        .first()
        .run()
    )
    if row is None:
        raise RuntimeError(f"questionnaire {questionnaire_id!r} is not registered (QUESTIONNAIRES_DIR)")
    return int(row["id"])


def _writer(settings: Settings) -> GroupCommitWriter:
    from survey_platform.storage.tables import SurveyResponse as Table

    store = (
        PostgresResponseStore(Table._meta.db)
        if settings.uses_postgres
        else SQLiteResponseStore(settings.sqlite_path, synchronous=settings.sqlite_synchronous)
    )
    return GroupCommitWriter(
        store, max_rows=settings.write_batch_rows, linger_seconds=settings.write_batch_ms / 1000
    )


async def _accounts(password: str, iterations: int) -> dict[str, list[Principal]]:
    made: dict[str, list[Principal]] = {"admin": [], "reviewer": [], "interviewer": [], "inspector": []}
    plan = [("demo-admin", "admin"), ("demo-reviewer", "reviewer")]
    plan += [(f"demo-interviewer-{i:02d}", "interviewer") for i in range(1, INTERVIEWERS + 1)]
    plan += [(f"demo-inspector-{i:02d}", "inspector") for i in range(1, INSPECTORS + 1)]
    for username, role in plan:
        account = await create_account(username, password, role, display_name=username, iterations=iterations)
        made[role].append(Principal(account.id, account.username, account.role))
    return made


async def _survey_campaign(
    survey: SyntheticSurvey,
    cities: Sequence[str],
    version: int,
    min_sample: int,
    people: dict[str, list[Principal]],
    ingestor: Ingestor,
    catalog: QuestionnaireCatalog,
    progress: Progress,
) -> str:
    """Create, staff and open a survey campaign, submit its interviews, review them, close and publish it."""
    admin = people["admin"][0]
    await create_campaign(
        CampaignIn(
            code=survey.code,
            name=survey.name,
            questionnaire_version=version,
            cities=list(cities),
            min_sample_per_city=min_sample,
        ),
        admin,
    )
    await assignments.assign(survey.code, "interviewer", [p.user_id for p in people["interviewer"]], admin)
    await assignments.assign(survey.code, "reviewer", [p.user_id for p in people["reviewer"]], admin)
    await transition(survey.code, "open", admin)
    phase = f"{survey.year} 调查 / survey"
    progress(phase, 0, len(survey.responses))
    intercepts = [r for r in survey.responses if r.channel == "intercept"]
    interviewers = people["interviewer"]
    for start in range(0, len(intercepts), BATCH):
        chunk = intercepts[start : start + BATCH]
        by_interviewer: dict[int, list[BatchSubmission]] = {}
        for index, response in enumerate(chunk, start):
            item = BatchSubmission(
                id=uuid.UUID(response.id),
                answers=response.answers,
                city=response.city,
                started_at=datetime.datetime.fromisoformat(response.started_at),
                submitted_at=datetime.datetime.fromisoformat(response.submitted_at),
                channel="intercept",
                campaign=survey.code,
            )
            by_interviewer.setdefault(interviewers[index % len(interviewers)].user_id, []).append(item)
        for principal in interviewers:
            items = by_interviewer.get(principal.user_id)
            if items:
                result = await ingestor.submit_batch(items, principal)
                if result.failed:
                    raise RuntimeError(f"demo interviews refused: {result.results[0]}")
        progress(phase, len(chunk), None)
    citizens = [r for r in survey.responses if r.channel != "intercept"]
    for start in range(0, len(citizens), 200):
        chunk = citizens[start : start + 200]
        await asyncio.gather(
            *(
                ingestor.submit(
                    survey.code,
                    Submission(
                        id=uuid.UUID(r.id),
                        answers=r.answers,
                        city=r.city,
                        started_at=datetime.datetime.fromisoformat(r.started_at),
                        submitted_at=datetime.datetime.fromisoformat(r.submitted_at),
                        channel=r.channel,
                    ),
                    None,
                    f"demo-citizen-{r.id}",  # each citizen answers from their own phone
                )
                for r in chunk
            )
        )
        progress(phase, len(chunk), None)
    await _review_interviews(survey, catalog, people["reviewer"][0])
    await transition(survey.code, "close", admin)
    stored = await releases.publish(survey.code, catalog, actor=admin, seed=survey.year)
    return stored.meta.release


async def _review_interviews(
    survey: SyntheticSurvey, catalog: QuestionnaireCatalog, reviewer: Principal
) -> None:
    """The reviewer goes through the interviews the quality rules flag: speeders and straight-liners are excluded."""
    campaign = (
        await CampaignTable.select(CampaignTable.id, CampaignTable.questionnaire)
        .where(CampaignTable.code == survey.code)
        .first()
        .run()
    )
    rows = (
        await SurveyResponse.select(
            SurveyResponse.uuid, SurveyResponse.answers, SurveyResponse.duration_seconds
        )
        .where((SurveyResponse.campaign == campaign["id"]) & (SurveyResponse.eligible == True))  # noqa: E712
        .run()
    )
    answers = [
        msgspec.json.decode(r["answers"]) if isinstance(r["answers"], str) else r["answers"] for r in rows
    ]
    questionnaire = await catalog.get(campaign["questionnaire"])
    quality = campaign_quality(
        questionnaire, [str(r["uuid"]) for r in rows], answers, [r["duration_seconds"] for r in rows]
    )
    kind = {r.id: r.quality for r in survey.responses}
    decisions = []
    for response_id, flags in quality.flags.items():
        if kind.get(response_id) in ("speeder", "straightliner"):
            reason = f"{'、'.join(flags)}：复核录音与定位后排除 / excluded after checking the recording and location"
            decisions.append((uuid.UUID(response_id), "exclude", reason))
        else:
            decisions.append((uuid.UUID(response_id), "keep", "复核无误 / checked, genuine"))

    async def flagged(_campaign: int) -> frozenset[str]:
        return frozenset(quality.flags)

    await decide_many(decisions, reviewer, flagged)


async def _inspection_campaign(
    demo: NationalCampaign,
    version: int,
    people: dict[str, list[Principal]],
    settings: Settings,
    catalog: QuestionnaireCatalog,
    progress: Progress,
) -> str:
    """Venues, the inspection campaign, photos and audits from the inspectors, review, close, publish."""
    inspection = demo.inspection
    assert inspection is not None
    admin = people["admin"][0]
    phase = f"{inspection.year} 扫码体察 / inspection"
    progress(phase, 0, len(inspection.audits) + len(inspection.venues))
    venue_ids: dict[str, int] = {}
    for venue in inspection.venues:
        created = await create_venue(
            VenueIn(
                name=venue.name,
                category=venue.category,
                city=venue.city,
                address=venue.address,
                latitude=venue.latitude,
                longitude=venue.longitude,
            ),
            admin,
        )
        venue_ids[venue.key] = created.id
        progress(phase, 1, None)
    await create_campaign(
        CampaignIn(
            code=inspection.code,
            name=inspection.name,
            questionnaire_version=version,
            venues=sorted(venue_ids.values()),
        ),
        admin,
    )
    await assignments.assign(inspection.code, "inspector", [p.user_id for p in people["inspector"]], admin)
    await assignments.assign(inspection.code, "reviewer", [p.user_id for p in people["reviewer"]], admin)
    await transition(inspection.code, "open", admin)
    inspectors = people["inspector"]
    stored: list[uuid.UUID] = []
    for index, audit in enumerate(inspection.audits):
        inspector = inspectors[index % len(inspectors)]
        for sha, data in audit.photos.items():
            await store_photo(
                settings.photos_dir, data, "image/jpeg", settings.max_photo_bytes, inspector.user_id, sha
            )
        submission = AuditSubmission(
            id=uuid.UUID(audit.id),
            venue=venue_ids[audit.venue_key],
            answers=audit.answers_for(venue_ids[audit.venue_key]),
            location=Location(**audit.location),
            started_at=datetime.datetime.fromisoformat(audit.started_at),
            submitted_at=datetime.datetime.fromisoformat(audit.submitted_at),
        )
        await store_audit(inspection.code, submission, inspector, catalog)
        stored.append(submission.id)
        progress(phase, 1, None)
    reviewer = people["reviewer"][0]
    for audit_id in stored:
        await review_audit(audit_id, "approve", "", reviewer)
    await transition(inspection.code, "close", admin)
    release = await releases.publish(inspection.code, catalog, actor=admin, seed=inspection.year)
    return release.meta.release


async def load_demo(
    settings: Settings,
    catalog: QuestionnaireCatalog,
    *,
    cities: int = 100,
    per_city: int = 600,
    seed: int = 2025,
    min_sample: int = DEFAULT_MIN_SAMPLE,
    progress: Progress = lambda _phase, _advance, _total: None,
) -> DemoResult:
    """Build and load the demo into an empty database (see the module docstring); returns what to print.
    ``min_sample`` is the survey campaigns' minimum sample per city (a smaller demo needs a lower one for its
    cities to be ranked)."""
    survey_version = await _version_id("city_satisfaction")
    inspection_version = await _version_id("qr_code_inspection")
    survey_q = await catalog.get(survey_version)
    inspection_q = await catalog.get(inspection_version)
    progress("生成样本 / synthetic data", 0, 1)
    demo = await asyncio.to_thread(
        national_campaign, seed, cities, per_city, survey=survey_q, inspection=inspection_q
    )
    progress("生成样本 / synthetic data", 1, None)
    password = "demo-" + secrets.token_urlsafe(9)
    people = await _accounts(password, settings.password_iterations)
    admin = people["admin"][0]
    await import_cities(
        [
            CityIn(
                code=c.code,
                name_zh=c.name_zh,
                name_en=c.name_en,
                province=c.province,
                population=c.population,
                retail_sales=c.retail_sales,
                margins=c.margins,
            )
            for c in demo.cities
        ],
        catalog,
        admin,
    )
    codes = [c.code for c in demo.cities]
    writer = _writer(settings)
    ingestor = Ingestor(writer, catalog, dataclasses.replace(settings, anon_responses_per_hour=0))
    await writer.start()
    made: list[str] = []
    try:
        for survey in (demo.previous, demo.current):
            if survey is not None:
                made.append(
                    await _survey_campaign(
                        survey, codes, survey_version, min_sample, people, ingestor, catalog, progress
                    )
                )
    finally:
        await writer.stop()
    if demo.inspection is not None:
        made.append(await _inspection_campaign(demo, inspection_version, people, settings, catalog, progress))
    truth_path = settings.data_dir / "demo-truth.json"
    truth = {
        "seed": seed,
        "surveys": {
            s.code: msgspec.to_builtins(s.truth) for s in (demo.previous, demo.current) if s is not None
        },
        "inspection": {"code": demo.inspection.code, "problem_share": demo.inspection.problem_share}
        if demo.inspection
        else None,
    }
    truth_path.write_bytes(msgspec.json.format(msgspec.json.encode(truth), indent=1))
    accounts = [DemoAccount(p.username, p.role) for role in people.values() for p in role]
    accounts_path = settings.data_dir / "demo-accounts.txt"
    accounts_path.write_text(
        "# 演示账户 / demo accounts (password for all: "
        + password
        + ")\n"
        + "".join(f"{a.username}\t{a.role}\n" for a in accounts),
        encoding="utf-8",
    )
    return DemoResult(accounts, password, made, truth_path, accounts_path)


async def database_is_empty() -> bool:
    """Whether the database holds no campaign yet (``serve --demo`` loads the demo only then)."""
    return not await CampaignTable.exists().run()


__all__ = ["DemoResult", "database_is_empty", "load_demo"]
