"""The reviewer's queue of flagged interviews, the interviewers' flag rates, and the cache of each campaign's flags.

The quality rules (``responses.quality.campaign_quality``) judge a survey campaign's interviews as a whole: every
eligible interview (not screened out, not excluded at ingestion), including those a reviewer has excluded since,
so that a decision never changes which interviews are flagged. Judging 60,000 interviews takes seconds, so
:class:`QualityCache` keeps each campaign's flags until its interviews change (responses are only ever added: the
count and the highest row id tell), computing off the event loop, once however many requests ask at once. The
queue always uses fresh flags (:meth:`QualityCache.current`); the field-progress page takes the latest ones and
says when they were computed (:meth:`QualityCache.latest`), so it never waits.

A reviewer keeps or excludes each flagged interview with a reason (``responses.reviews.decide``); the next
release leaves the excluded ones out (``publishing.inputs``). Per interviewer, the share of their interviews that
were flagged is compared with everyone else's (``scoring.quality.flag_rate_outliers``), so that a fabricating
interviewer stands out.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
import math
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

from scoring.quality import flag_rate_outliers
from survey_platform.accounts.service import Principal, accounts_by_id
from survey_platform.campaigns.assignments import may_review
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import Campaign
from survey_platform.campaigns.service import campaign_by_id, get_campaign
from survey_platform.responses.quality import FLAGS, CampaignQuality, campaign_quality
from survey_platform.responses.reviews import ReviewDecision, latest_decisions
from survey_platform.storage.errors import NotFound
from survey_platform.storage.tables import SurveyResponse

logger = logging.getLogger(__name__)

QueueState = Literal["pending", "decided", "all"]
_ANSWERS = msgspec.json.Decoder(dict[str, Any])


@dataclasses.dataclass(frozen=True, slots=True)
class JudgedInterview:
    """What the queue shows of one judged interview besides its answers."""

    id: str
    city: str
    channel: str
    submitted_by: int | None
    duration: float | None
    received_at: datetime.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class CampaignFlags:
    """One campaign's quality flags as computed over ``judged`` interviews at ``computed_at``."""

    campaign_id: int
    fingerprint: tuple[int, int]
    computed_at: datetime.datetime
    quality: CampaignQuality
    judged: int
    interviews_by_account: dict[int | None, int]  # judged interviews per submitting account (None: citizens)
    flagged: dict[str, JudgedInterview]  # the flagged ones, by response UUID (text)

    @property
    def flagged_count(self) -> int:
        return len(self.flagged)


async def _fingerprint(campaign_id: int) -> tuple[int, int]:
    """(number of responses, highest row id) of a campaign: changes whenever a response is added."""
    rows = await SurveyResponse.raw(
        "SELECT COUNT(*) AS n, MAX(id) AS last FROM response WHERE campaign = {}", campaign_id
    ).run()
    return int(rows[0]["n"] or 0), int(rows[0]["last"] or 0)


def _judge(
    campaign_id: int,
    fingerprint: tuple[int, int],
    rows: Sequence[Mapping[str, Any]],
    questionnaire: Any,
) -> CampaignFlags:
    """The pure part, run in a worker thread: decode the answers and apply the quality rules."""
    ids = [str(row["uuid"]) for row in rows]
    answers = [
        _ANSWERS.decode(row["answers"]) if isinstance(row["answers"], str | bytes) else row["answers"] or {}
        for row in rows
    ]
    quality = campaign_quality(questionnaire, ids, answers, [row["duration_seconds"] for row in rows])
    flagged = {
        key: JudgedInterview(
            id=key,
            city=row["city_code"],
            channel=row["channel"],
            submitted_by=row["submitted_by"],
            duration=row["duration_seconds"],
            received_at=row["received_at"],
        )
        for key, row in zip(ids, rows, strict=True)
        if key in quality.flags
    }
    return CampaignFlags(
        campaign_id=campaign_id,
        fingerprint=fingerprint,
        computed_at=datetime.datetime.now(datetime.UTC),
        quality=quality,
        judged=len(rows),
        interviews_by_account=dict(Counter(row["submitted_by"] for row in rows)),
        flagged=flagged,
    )


class QualityCache:
    """Each survey campaign's quality flags, recomputed only when its interviews changed (see the module doc)."""

    def __init__(self, catalog: QuestionnaireCatalog) -> None:
        self.catalog = catalog
        self._entries: dict[int, CampaignFlags] = {}
        self._running: dict[int, asyncio.Task[CampaignFlags]] = {}

    async def current(self, campaign: Campaign) -> CampaignFlags:
        """The flags of every interview stored now (computed if anything changed since the last time)."""
        fingerprint = await _fingerprint(campaign.id)
        cached = self._entries.get(campaign.id)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        return await asyncio.shield(self._start(campaign, fingerprint))

    async def flagged_ids(self, campaign_id: int) -> frozenset[str]:
        """The response ids of a campaign that the quality rules flag now (``responses.reviews.FlaggedLookup``)."""
        campaign = await campaign_by_id(campaign_id)
        return frozenset((await self.current(campaign)).quality.flags)

    async def latest(
        self, campaign: Campaign, fingerprint: tuple[int, int] | None = None
    ) -> CampaignFlags | None:
        """The last flags computed (perhaps over fewer interviews than there are now), never waiting; a stale or
        missing entry starts a computation in the background for the next call. ``fingerprint``: the campaign's
        (number of responses, highest row id) when the caller has just counted them."""
        fingerprint = fingerprint or await _fingerprint(campaign.id)
        cached = self._entries.get(campaign.id)
        if cached is None or cached.fingerprint != fingerprint:
            self._start(campaign, fingerprint)
        return cached

    def _start(self, campaign: Campaign, fingerprint: tuple[int, int]) -> asyncio.Task[CampaignFlags]:
        running = self._running.get(campaign.id)
        if running is not None and not running.done():
            return running
        task = asyncio.ensure_future(self._compute(campaign, fingerprint))
        self._running[campaign.id] = task
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[CampaignFlags]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.error("quality flags could not be computed", exc_info=error)

    async def _compute(self, campaign: Campaign, fingerprint: tuple[int, int]) -> CampaignFlags:
        rows = await (
            SurveyResponse.select(
                SurveyResponse.uuid,
                SurveyResponse.answers,
                SurveyResponse.duration_seconds,
                SurveyResponse.city_code,
                SurveyResponse.channel,
                SurveyResponse.submitted_by,
                SurveyResponse.received_at,
            )
            .where(
                (SurveyResponse.campaign == campaign.id)
                & (SurveyResponse.eligible == True)  # noqa: E712 (a column comparison, not a truth test)
                & (SurveyResponse.status != "excluded")
                & (SurveyResponse.id <= fingerprint[1])
            )
            .order_by(SurveyResponse.uuid)
            .run()
        )
        questionnaire = await self.catalog.get(campaign.questionnaire_version)
        flags = await asyncio.to_thread(_judge, campaign.id, fingerprint, rows, questionnaire)
        cached = self._entries.get(campaign.id)
        if cached is None or cached.fingerprint[1] <= fingerprint[1]:
            self._entries[campaign.id] = flags
        return flags

    async def close(self) -> None:
        """Stop computations still running (the application is stopping)."""
        for task in list(self._running.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._running.clear()


class FlaggedInterview(msgspec.Struct, kw_only=True):
    """An interview the quality rules flagged, with the reviewer's decision (null while it awaits one)."""

    id: uuid.UUID
    city: str
    channel: str
    interviewer: str | None  # the account that sent it; null for a citizen who answered by QR code or online
    flags: list[str]
    duration_seconds: float | None
    received_at: datetime.datetime
    decision: ReviewDecision | None


class InterviewerQuality(msgspec.Struct, kw_only=True):
    """How often one interviewer's interviews were flagged, against everyone else's rate.

    ``p_value``: the exact one-sided binomial test of this rate against the other interviewers' rate, ``p_holm``
    the same Holm-adjusted over all interviewers (``scoring.quality.flag_rate_outliers``); ``stands_out`` when
    ``p_holm`` < 0.05. Citizens who answered by themselves form one row (``account_id`` null) outside the test.
    """

    account_id: int | None
    username: str | None
    display_name: str
    interviews: int
    flagged: int
    flag_rate: float
    excluded: int
    others_rate: float | None
    p_value: float | None
    p_holm: float | None
    stands_out: bool


class FlaggedQueue(msgspec.Struct, kw_only=True):
    """A survey campaign's flagged interviews (one page of them) and its interviewers' flag rates."""

    campaign: str
    computed_at: datetime.datetime
    interviews: int  # eligible interviews judged by the quality rules
    flagged: int
    pending: int  # flagged interviews without a decision
    excluded: int  # flagged interviews whose latest decision is "exclude"
    median_duration: float | None
    counts: dict[str, int]  # flagged interviews per rule (an interview can break several)
    interviewers: list[InterviewerQuality]
    total: int  # flagged interviews matching the query (before paging)
    items: list[FlaggedInterview]


def interviewer_quality(
    interviews: Mapping[int | None, int],
    flagged: Mapping[int | None, int],
    excluded: Mapping[int | None, int],
    names: Mapping[int, tuple[str, str]],
) -> list[InterviewerQuality]:
    """Per submitting account: interviews, flagged, excluded, flag rate and the outlier test (pure).

    ``names``: account id → (username, display name). Interviewers that stand out come first, then by flag rate;
    the citizens' row (account None) last.
    """
    accounts = sorted(account for account in interviews if account is not None)
    test = flag_rate_outliers([flagged.get(a, 0) for a in accounts], [interviews[a] for a in accounts])
    rows = [
        InterviewerQuality(
            account_id=account,
            username=names.get(account, (f"#{account}", ""))[0],
            display_name=names.get(account, ("", ""))[1],
            interviews=interviews[account],
            flagged=flagged.get(account, 0),
            flag_rate=flagged.get(account, 0) / interviews[account],
            excluded=excluded.get(account, 0),
            others_rate=None if math.isnan(test.rest_rate[i]) else float(test.rest_rate[i]),
            p_value=float(test.p_value[i]),
            p_holm=float(test.p_holm[i]),
            stands_out=bool(test.outlier[i]),
        )
        for i, account in enumerate(accounts)
    ]
    rows.sort(key=lambda row: (not row.stands_out, -row.flag_rate, row.username or ""))
    if interviews.get(None):
        rows.append(
            InterviewerQuality(
                account_id=None,
                username=None,
                display_name="",
                interviews=interviews[None],
                flagged=flagged.get(None, 0),
                flag_rate=flagged.get(None, 0) / interviews[None],
                excluded=excluded.get(None, 0),
                others_rate=None,
                p_value=None,
                p_holm=None,
                stands_out=False,
            )
        )
    return rows


async def reviewable_survey(code: str, principal: Principal) -> Campaign:
    """The survey campaign ``code`` if ``principal`` reviews it (admins: any); NotFound otherwise."""
    campaign = await get_campaign(code)
    if campaign.kind != "survey" or not await may_review(campaign.id, principal):
        raise NotFound(f"没有可审核的调查活动 {code} / no survey campaign {code!r} for you to review")
    return campaign


async def flagged_queue(
    code: str,
    principal: Principal,
    cache: QualityCache,
    *,
    state: QueueState = "all",
    flag: str | None = None,
    interviewer: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> FlaggedQueue:
    """The campaign's flagged interviews (pending first, then newest first) filtered by decision ``state``, rule
    ``flag`` and submitting account ``interviewer``, one page of them; and the interviewers' flag rates."""
    campaign = await reviewable_survey(code, principal)
    flags = await cache.current(campaign)
    decisions = await latest_decisions(campaign.id)
    flagged_by: Counter[int | None] = Counter()
    excluded_by: Counter[int | None] = Counter()
    for key, row in flags.flagged.items():
        flagged_by[row.submitted_by] += 1
        decision = decisions.get(key)
        if decision is not None and decision.decision == "exclude":
            excluded_by[row.submitted_by] += 1
    accounts = await accounts_by_id([a for a in flags.interviews_by_account if a is not None])
    names = {a.id: (a.username, a.display_name) for a in accounts.values()}

    def wanted(key: str, row: JudgedInterview) -> bool:
        decided = key in decisions
        return (
            (state == "all" or (state == "decided") == decided)
            and (flag is None or flag in flags.quality.flags[key])
            and (interviewer is None or row.submitted_by == interviewer)
        )

    chosen = [(key, row) for key, row in flags.flagged.items() if wanted(key, row)]
    chosen.sort(key=lambda item: (item[0] in decisions, -item[1].received_at.timestamp(), item[0]))
    items = [
        FlaggedInterview(
            id=uuid.UUID(key),
            city=row.city,
            channel=row.channel,
            interviewer=names.get(row.submitted_by, ("", ""))[0] if row.submitted_by is not None else None,
            flags=list(flags.quality.flags[key]),
            duration_seconds=row.duration,
            received_at=row.received_at,
            decision=decisions.get(key),
        )
        for key, row in chosen[offset : offset + limit]
    ]
    return FlaggedQueue(
        campaign=campaign.code,
        computed_at=flags.computed_at,
        interviews=flags.judged,
        flagged=flags.flagged_count,
        pending=sum(1 for key in flags.flagged if key not in decisions),
        excluded=sum(excluded_by.values()),
        median_duration=flags.quality.median_duration,
        counts={name: flags.quality.counts.get(name, 0) for name in FLAGS},
        interviewers=interviewer_quality(flags.interviews_by_account, flagged_by, excluded_by, names),
        total=len(chosen),
        items=items,
    )


async def interview_answers(response_ids: Sequence[uuid.UUID]) -> dict[str, dict[str, Any]]:
    """The stored answers of the given interviews, by UUID (text); for a queue page already authorised."""
    if not response_ids:
        return {}
    rows = (
        await SurveyResponse.select(SurveyResponse.uuid, SurveyResponse.answers)
        .where(SurveyResponse.uuid.is_in(list(response_ids)))
        .run()
    )
    return {
        str(row["uuid"]): _ANSWERS.decode(row["answers"])
        if isinstance(row["answers"], str | bytes)
        else row["answers"] or {}
        for row in rows
    }


__all__ = [
    "CampaignFlags",
    "FlaggedInterview",
    "FlaggedQueue",
    "InterviewerQuality",
    "QualityCache",
    "flagged_queue",
    "interview_answers",
    "interviewer_quality",
    "reviewable_survey",
]
