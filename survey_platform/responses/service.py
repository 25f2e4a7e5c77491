"""Ingestion of responses: validate exactly like the browser, then store through the group-commit writer.

Who sent a response is recorded: an anonymous citizen (channel ``qr`` or ``online``, no account; at most
``SURVEY_ANON_RESPONSES_PER_HOUR`` new responses per salted address hash and campaign in any hour), or a signed-in
field account allowed to submit to the campaign (``campaigns.assignments.require_submitter``; channel
``intercept``, the account recorded). The campaign must be open when the row is committed (the writer checks it
inside its transaction); the cached campaign status here only refuses early what is already known to be closed.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import Sequence

import msgspec

from survey_platform.accounts.service import Principal
from survey_platform.campaigns.assignments import require_submitter
from survey_platform.campaigns.lifecycle import accepts_submissions
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.limits import Limited, SlidingWindowLimiter
from survey_platform.questionnaire import Questionnaire, validate_answers
from survey_platform.responses.rules import (
    CampaignContext,
    body_hash,
    paradata_problems,
    quality_flags,
    scope_problems,
    status_of,
    timing,
)
from survey_platform.responses.schemas import (
    ANONYMOUS_CHANNELS,
    BatchItemResult,
    BatchResult,
    BatchSubmission,
    IgnoredAnswer,
    Paradata,
    Submission,
    SubmissionResult,
    failed_item,
    tally,
)
from survey_platform.settings import Settings
from survey_platform.storage.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    InvalidInput,
    NotFound,
    TooManyRequests,
)
from survey_platform.storage.tables import Campaign, QuestionnaireVersion, SurveyResponse
from survey_platform.storage.writer import GroupCommitWriter, ResponseRow, StoredSummary, WriteOutcome

CAMPAIGN_CACHE_SECONDS = 1.0
NOT_ASKED = "问题不适用（跳过逻辑），答案未保存 / not asked under the skip logic: this answer was not stored"
BATCH_YIELD_EVERY = 50


def submission_hash(campaign_code: str, submission: Submission) -> str:
    """SHA-256 of the campaign code and the submission's canonical JSON (sorted keys).

    A batch item hashes like the same submission sent alone, so a response first sent alone and later again in
    an offline-sync batch is recognised as a re-send.
    """
    if isinstance(submission, BatchSubmission):
        submission = submission.submission()
    return body_hash(campaign_code, submission)


_JSON = msgspec.json.Encoder()


class Ingestor:
    """Validates submissions against their campaign and questionnaire version and hands them to the writer."""

    def __init__(
        self,
        writer: GroupCommitWriter,
        catalog: QuestionnaireCatalog,
        settings: Settings,
        anonymous_limit: SlidingWindowLimiter | None = None,
    ) -> None:
        self.writer = writer
        self.catalog = catalog
        self.settings = settings
        self.anonymous_limit = anonymous_limit or SlidingWindowLimiter(
            "anonymous-responses", settings.anon_responses_per_hour, 3600
        )
        self._campaigns: dict[str, tuple[float, CampaignContext | None]] = {}
        self._codes: dict[int, str] = {}
        self._refreshing: dict[str, asyncio.Future[None]] = {}

    def forget(self, code: str) -> None:
        """Drop the cached context of a campaign (after its status changed in this process)."""
        self._campaigns.pop(code, None)

    async def campaign(self, code: str) -> CampaignContext:
        """The campaign's ingestion context (drafts look like missing campaigns).

        Cached for a second; one lookup refreshes it while concurrent requests keep using the cached value,
        so a burst of requests costs one query, not one each.
        """
        cached = self._campaigns.get(code)
        if cached is None or time.monotonic() - cached[0] > CAMPAIGN_CACHE_SECONDS:
            refresh = self._refreshing.get(code)
            if refresh is None:
                refresh = asyncio.ensure_future(self._load_campaign(code))
                self._refreshing[code] = refresh
                refresh.add_done_callback(lambda _: self._refreshing.pop(code, None))
            if cached is None:
                await asyncio.shield(refresh)
                cached = self._campaigns[code]
        context = cached[1]
        if context is None or context.status == "draft":
            raise NotFound(f"活动不存在 / campaign {code!r} not found")
        return context

    async def _load_campaign(self, code: str) -> None:
        row = (
            await Campaign.select(
                Campaign.id,
                Campaign.status,
                Campaign.questionnaire,
                Campaign.city_codes,
                Campaign.venue_ids,
                Campaign.questionnaire.kind.as_alias("kind"),
            )
            .where(Campaign.code == code)
            .first()
            .run()
        )
        context = None
        if row is not None:
            context = CampaignContext(
                id=row["id"],
                code=code,
                status=row["status"],
                kind=row["kind"],
                questionnaire_version=row["questionnaire"],
                cities=frozenset(_json_list(row["city_codes"])),
                venues=frozenset(_json_list(row["venue_ids"])),
            )
            self._codes[context.id] = code
        self._campaigns[code] = (time.monotonic(), context)

    def prepare_with(
        self,
        campaign: CampaignContext,
        questionnaire: Questionnaire,
        submission: Submission,
        received_at: datetime.datetime,
        submitted_by: int | None,
    ) -> tuple[ResponseRow, tuple[str, ...]]:
        """Validate one submission (every bad field reported) and build its row (pure: no I/O, no awaiting);
        returns the row and the answer keys left out because their question was not relevant.

        ``submitted_by``: the signed-in field account sending it (channel ``intercept``), or None for an anonymous
        citizen, who may only declare ``qr`` or ``online``.
        """
        if not accepts_submissions(campaign.status):
            raise closed_error(campaign.code, campaign.status)
        if campaign.kind != "survey":
            raise Conflict(
                f"活动 {campaign.code} 是检查活动，请提交检查记录 / campaign {campaign.code!r} is an inspection "
                "campaign: send audits, not responses"
            )
        problems = scope_problems(
            campaign, submission.city, submission.venue, submission.questionnaire_version
        )
        duration, timing_problems = timing(submission.started_at, submission.submitted_at, received_at)
        problems.extend(timing_problems)
        paradata = submission.paradata if isinstance(submission.paradata, Paradata) else None
        if paradata is not None:
            problems.extend(paradata_problems(paradata.sections, [s.id for s in questionnaire.sections]))
        # an anonymous citizen answers alone: the interviewer's sections were not asked
        check = validate_answers(questionnaire, submission.answers, self_completed=submitted_by is None)
        problems.extend(FieldProblem(f"$.{error.path}", error.code, error.message) for error in check.errors)
        if submitted_by is None and submission.channel not in ANONYMOUS_CHANNELS:
            problems.append(
                FieldProblem(
                    "$.channel",
                    "channel",
                    "拦访须由登录的访员提交 / intercept interviews are sent by a signed-in interviewer; "
                    f"expected one of {', '.join(ANONYMOUS_CHANNELS)}",
                )
            )
        if problems:
            raise InvalidInput("答案无效 / the response is invalid", tuple(problems))
        flags = quality_flags(submission.submitted_at, received_at)
        status, reason = status_of(check.eligible, flags)
        row = ResponseRow(
            uuid=submission.id,
            campaign_id=campaign.id,
            city_code=submission.city or "",
            venue_id=submission.venue,
            questionnaire_id=campaign.questionnaire_version,
            answers_json=_JSON.encode(check.values).decode(),
            body_hash=submission_hash(campaign.code, submission),
            channel=submission.channel if submitted_by is None else "intercept",
            started_at=submission.started_at,
            submitted_at=submission.submitted_at,
            received_at=received_at,
            duration_seconds=duration,
            eligible=check.eligible,
            quality_flags=flags,
            status=status,
            status_reason=reason,
            submitted_by=submitted_by,
            paradata_json=_JSON.encode(paradata).decode() if paradata is not None else None,
        )
        return row, check.dropped

    async def _context(
        self, code: str, principal: Principal
    ) -> tuple[CampaignContext, Questionnaire] | DomainError:
        """A batch's view of one campaign: its context and questionnaire, or the error every item of it gets."""
        try:
            campaign = await self.campaign(code)
            await require_submitter(campaign.id, code, campaign.kind, principal)
            return campaign, await self.catalog.get(campaign.questionnaire_version)
        except DomainError as error:
            return error

    def result(self, stored: StoredSummary, dropped: Sequence[str] = ()) -> SubmissionResult:
        return SubmissionResult(
            id=stored.uuid,
            campaign=self._codes.get(stored.campaign_id, ""),
            status=stored.status,
            eligible=stored.eligible,
            quality_flags=list(stored.quality_flags),
            received_at=stored.received_at,
            ignored=[IgnoredAnswer(f"$.answers.{key}", NOT_ASKED) for key in dropped],
        )

    async def submit(
        self, code: str, submission: Submission, principal: Principal | None, address_key: str
    ) -> tuple[bool, SubmissionResult]:
        """Store one submission; returns (created, result).

        Raises Conflict for a UUID reused with other content or a campaign that is not open (at commit),
        Forbidden for an account that may not submit to the campaign, TooManyRequests when an anonymous sender's
        hourly limit for this campaign is reached (a re-send of a stored response is never refused or counted).
        """
        with self.writer.expecting():
            campaign = await self.campaign(code)
            if principal is not None:
                await require_submitter(campaign.id, code, campaign.kind, principal)
            questionnaire = await self.catalog.get(campaign.questionnaire_version)
            row, dropped = self.prepare_with(
                campaign,
                questionnaire,
                submission,
                datetime.datetime.now(datetime.UTC),
                principal.user_id if principal else None,
            )
            taken = False  # whether this request took a new slot of the anonymous sender's hourly limit
            limit_key, slot = f"{address_key}:{campaign.id}", str(submission.id)
            if principal is None:
                taken = await self._anonymous_slot(limit_key, slot, submission)
            queued = self.writer.enqueue([row])
        try:
            (outcome,) = await asyncio.shield(queued)
        except BaseException:
            if taken:
                await self.anonymous_limit.release(limit_key, slot)
            raise
        if taken and outcome.kind != "created":
            await self.anonymous_limit.release(limit_key, slot)
        if outcome.kind == "closed":
            raise closed_error(code, "closed")
        if outcome.kind == "conflict":
            raise Conflict(
                f"该编号已用于不同内容 / response {submission.id} was already stored with different content"
            )
        assert outcome.stored is not None
        return outcome.kind == "created", self.result(outcome.stored, dropped)

    async def _anonymous_slot(self, key: str, slot: str, submission: Submission) -> bool:
        """Take the submission's slot of the anonymous sender's hourly limit (named by its UUID, so concurrent
        copies share one); returns whether a new slot was taken. A re-send of a stored response is let through."""
        try:
            return (await self.anonymous_limit.reserve(key, slot))[1]
        except Limited as limited:
            if await SurveyResponse.exists().where(SurveyResponse.uuid == submission.id).run():
                return False  # a re-send: answered from the stored row, not counted
            raise TooManyRequests(
                f"提交过于频繁，请 {limited.retry_after} 秒后再试 / too many responses from this connection for "
                f"this campaign; try again in {limited.retry_after} s",
                limited.retry_after,
            ) from None

    async def submit_batch(self, items: Sequence[BatchSubmission], principal: Principal) -> BatchResult:
        """Store many submissions (offline sync by a signed-in field account): each item succeeds or fails on its own.

        An item of a campaign the account may not submit to fails with 403; of a campaign not open at commit,
        with 409.
        """
        received_at = datetime.datetime.now(datetime.UTC)
        results: list[BatchItemResult | None] = [None] * len(items)
        rows: list[ResponseRow] = []
        dropped: list[tuple[str, ...]] = []
        positions: list[int] = []
        contexts: dict[str, tuple[CampaignContext, Questionnaire] | DomainError] = {}
        for index, item in enumerate(items):
            if index % BATCH_YIELD_EVERY == BATCH_YIELD_EVERY - 1:
                await asyncio.sleep(0)  # let other requests run while a large batch is validated
            try:
                context = contexts.get(item.campaign)
                if context is None:
                    context = contexts[item.campaign] = await self._context(item.campaign, principal)
                if isinstance(context, DomainError):
                    raise context
                row, ignored = self.prepare_with(*context, item, received_at, principal.user_id)
                rows.append(row)
                dropped.append(ignored)
                positions.append(index)
            except DomainError as error:
                results[index] = failed_item(index, item.id, error)
        outcomes: list[WriteOutcome] = await self.writer.write(rows) if rows else []
        for index, outcome, ignored in zip(positions, outcomes, dropped, strict=True):
            if outcome.kind in ("conflict", "closed"):
                error = (
                    closed_error(items[index].campaign, "closed")
                    if outcome.kind == "closed"
                    else Conflict("该编号已用于不同内容 / UUID already stored with different content")
                )
                results[index] = failed_item(index, items[index].id, error)
                continue
            assert outcome.stored is not None
            results[index] = BatchItemResult(
                index=index,
                status=201 if outcome.kind == "created" else 200,
                id=items[index].id,
                result=self.result(outcome.stored, ignored),
            )
        final = [result for result in results if result is not None]
        created, replayed, failed = tally(final)
        return BatchResult(created=created, replayed=replayed, failed=failed, results=final)


def closed_error(code: str, status: str) -> Conflict:
    """The refusal of a submission to a campaign that is not open."""
    return Conflict(f"活动未开放 / campaign {code!r} is {status}, not open for responses")


def _json_list(value: object) -> list:  # type: ignore[type-arg]
    return json.loads(value) if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]


__all__ = ["Ingestor", "QuestionnaireVersion", "submission_hash"]
