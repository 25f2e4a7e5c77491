"""Reviewers' decisions on interviews the quality rules flagged: keep or exclude, with a reason; releases use them.

Decisions are appended (the latest one of an interview counts), by the campaign's reviewers or an admin, while the
campaign is open or closed; once it is published nothing changes (checked inside the writing transaction).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Literal

import msgspec

from survey_platform.accounts.service import Principal
from survey_platform.campaigns.assignments import may_review
from survey_platform.campaigns.lifecycle import accepts_reviews, frozen_message
from survey_platform.campaigns.service import status_at_commit
from survey_platform.storage import audit_log
from survey_platform.storage.database import write_transaction
from survey_platform.storage.errors import Conflict, FieldProblem, InvalidInput, NotFound
from survey_platform.storage.tables import ResponseReview, SurveyResponse

Decision = Literal["keep", "exclude"]


class ReviewDecision(msgspec.Struct, frozen=True):
    """The decision on one interview."""

    response: uuid.UUID
    decision: Decision
    reason: str
    actor: str
    at: datetime.datetime


async def decide(response_id: uuid.UUID, decision: str, reason: str, principal: Principal) -> ReviewDecision:
    """Record a reviewer's decision (an exclusion needs a reason). 404 for a response the reviewer may not see."""
    if decision not in ("keep", "exclude"):
        raise InvalidInput(
            "决定无效 / invalid decision",
            (FieldProblem("$.decision", "enum", "应为 keep 或 exclude / expected keep or exclude"),),
        )
    if decision == "exclude" and not reason.strip():
        raise InvalidInput(
            "排除须说明理由 / an exclusion needs a reason",
            (FieldProblem("$.reason", "required", "请说明排除理由 / say why it is excluded"),),
        )
    now = datetime.datetime.now(datetime.UTC)
    async with write_transaction(SurveyResponse._meta.db):
        row = (
            await SurveyResponse.select(
                SurveyResponse.id, SurveyResponse.campaign, SurveyResponse.campaign.code.as_alias("code")
            )
            .where(SurveyResponse.uuid == response_id)
            .first()
            .run()
        )
        if row is None or not await may_review(row["campaign"], principal):
            raise NotFound(f"访问记录不存在 / interview {response_id} not found")
        status = await status_at_commit(row["campaign"])
        if not accepts_reviews(status):
            raise Conflict(frozen_message(row["code"], status))
        await ResponseReview.insert(
            ResponseReview(
                response=row["id"],
                decision=decision,
                reason=reason.strip()[:2000],
                at=now,
                actor_id=principal.user_id,
                actor=principal.username,
            )
        ).run()
    await audit_log.record(
        actor_id=principal.user_id,
        actor=principal.username,
        action=f"response.{decision}",
        entity="response",
        entity_id=str(response_id),
        detail={"reason": reason.strip()[:200]},
    )
    return ReviewDecision(response_id, decision, reason.strip(), principal.username, now)  # type: ignore[arg-type]


async def latest_decisions(campaign_id: int) -> dict[str, ReviewDecision]:
    """The current decision of every reviewed interview of a campaign, by response UUID (text)."""
    rows = (
        await ResponseReview.select(
            ResponseReview.response.uuid.as_alias("uuid"),
            ResponseReview.decision,
            ResponseReview.reason,
            ResponseReview.actor,
            ResponseReview.at,
        )
        .where(ResponseReview.response.campaign == campaign_id)
        .order_by(ResponseReview.id)
        .run()
    )
    latest: dict[str, ReviewDecision] = {}
    for row in rows:  # in id order: a later decision replaces an earlier one
        key = str(row["uuid"])
        latest[key] = ReviewDecision(uuid.UUID(key), row["decision"], row["reason"], row["actor"], row["at"])
    return latest


__all__ = ["Decision", "ReviewDecision", "decide", "latest_decisions"]
