"""Reviewers' decisions on interviews the quality rules flagged: keep or exclude, with a reason; releases use them.

Only a flagged interview can be decided (a reviewer cannot hand-pick a city's sample): the caller says which
interviews of a campaign are flagged now (``FlaggedLookup``: ``responses.flagged.QualityCache.flagged_ids``, or the
quality rules applied directly). Decisions are appended (the latest one of an interview counts), by the campaign's
reviewers or an admin, while the campaign is open or closed; once it is published nothing changes (checked inside
the writing transaction).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, Literal

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


def _checked(index: int, decision: str, reason: str, prefix: str) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if decision not in ("keep", "exclude"):
        problems.append(
            FieldProblem(f"{prefix}.decision", "enum", "应为 keep 或 exclude / expected keep or exclude")
        )
    elif decision == "exclude" and not reason.strip():
        problems.append(
            FieldProblem(f"{prefix}.reason", "required", "请说明排除理由 / say why it is excluded")
        )
    return problems


FlaggedLookup = Callable[[int], Awaitable[Collection[str]]]  # campaign id → the response ids flagged now


async def decide(
    response_id: uuid.UUID, decision: str, reason: str, principal: Principal, flagged: FlaggedLookup
) -> ReviewDecision:
    """Record a reviewer's decision (an exclusion needs a reason). 404 for a response the reviewer may not see,
    409 for one the quality rules do not flag."""
    (made,) = await decide_many([(response_id, decision, reason)], principal, flagged, paths=("$",))
    return made


async def decide_many(
    decisions: Sequence[tuple[uuid.UUID, str, str]],
    principal: Principal,
    flagged: FlaggedLookup,
    *,
    paths: Sequence[str] | None = None,
) -> list[ReviewDecision]:
    """Record many decisions ((response id, keep|exclude, reason)) at once, all or none, in one transaction.

    Each response must be one the reviewer may review (404 naming it otherwise), flagged by the quality rules (409
    otherwise), in a campaign that is open or closed (409 once published). ``paths`` name each decision in errors
    (default ``$[n]``).
    """
    prefixes = list(paths) if paths is not None else [f"$[{n}]" for n in range(len(decisions))]
    problems = [p for n, (_, d, r) in enumerate(decisions) for p in _checked(n, d, r, prefixes[n])]
    if problems:
        raise InvalidInput("决定无效 / invalid decision", tuple(problems))
    now = datetime.datetime.now(datetime.UTC)
    wanted = {response_id for response_id, _, _ in decisions}
    async with write_transaction(SurveyResponse._meta.db):
        rows: dict[uuid.UUID, dict[str, Any]] = {}
        ids = list(wanted)
        for start in range(0, len(ids), CHUNK):
            for row in (
                await SurveyResponse.select(
                    SurveyResponse.id,
                    SurveyResponse.uuid,
                    SurveyResponse.campaign,
                    SurveyResponse.campaign.code.as_alias("code"),
                )
                .where(SurveyResponse.uuid.is_in(ids[start : start + CHUNK]))
                .run()
            ):
                rows[row["uuid"] if isinstance(row["uuid"], uuid.UUID) else uuid.UUID(str(row["uuid"]))] = row
        allowed: dict[int, bool] = {}
        for response_id in ids:
            row = rows.get(response_id)
            if row is not None and row["campaign"] not in allowed:
                allowed[row["campaign"]] = await may_review(row["campaign"], principal)
            if row is None or not allowed[row["campaign"]]:
                raise NotFound(f"访问记录不存在 / interview {response_id} not found")
        for campaign in allowed:
            now_flagged = await flagged(campaign)
            for response_id in ids:
                if rows[response_id]["campaign"] == campaign and str(response_id) not in now_flagged:
                    raise Conflict(
                        f"访问记录 {response_id} 未被质量规则标记，无需审核 / interview {response_id} is not flagged by "
                        "the quality rules: there is nothing to keep or exclude"
                    )
            status = await status_at_commit(campaign)
            if not accepts_reviews(status):
                code = next(row["code"] for row in rows.values() if row["campaign"] == campaign)
                raise Conflict(frozen_message(code, status))
        new_rows = [
            ResponseReview(
                response=rows[response_id]["id"],
                decision=decision,
                reason=reason.strip()[:2000],
                at=now,
                actor_id=principal.user_id,
                actor=principal.username,
            )
            for response_id, decision, reason in decisions
        ]
        for start in range(0, len(new_rows), CHUNK):
            await ResponseReview.insert(*new_rows[start : start + CHUNK]).run()
        await audit_log.record_many(
            [
                audit_log.Entry(
                    actor_id=principal.user_id,
                    actor=principal.username,
                    action=f"response.{decision}",
                    entity="response",
                    entity_id=str(response_id),
                    detail={"reason": reason.strip()[:200]},
                    at=now,
                )
                for response_id, decision, reason in decisions
            ]
        )
    return [
        ReviewDecision(response_id, decision, reason.strip(), principal.username, now)  # type: ignore[arg-type]
        for response_id, decision, reason in decisions
    ]


CHUNK = 500  # rows per statement: far below SQLite's and asyncpg's parameter limits


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


__all__ = ["Decision", "FlaggedLookup", "ReviewDecision", "decide", "decide_many", "latest_decisions"]
