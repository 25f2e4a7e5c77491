"""Inspection audits: submission by assigned inspectors, correction after a return, review with history."""

from __future__ import annotations

import dataclasses
import datetime
import json
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from survey_platform.accounts.roles import STAFF_ROLES
from survey_platform.accounts.service import Principal
from survey_platform.audits.consistency import venue_contradictions
from survey_platform.audits.lifecycle import CommentRequired, ReviewError, next_review_state
from survey_platform.audits.photos import missing_photos, others_photos
from survey_platform.audits.schemas import (
    AuditCorrection,
    AuditDetail,
    AuditSubmission,
    AuditSummary,
    BatchAudit,
    Location,
    ReviewEvent,
)
from survey_platform.campaigns.assignments import may_review, require_submitter, reviewed_campaign_ids
from survey_platform.campaigns.lifecycle import accepts_reviews, accepts_submissions, frozen_message
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import Campaign
from survey_platform.campaigns.scope import includes_venue
from survey_platform.campaigns.service import get_campaign, status_at_commit
from survey_platform.questionnaire import Questionnaire, validate_answers
from survey_platform.responses.rules import body_hash
from survey_platform.responses.schemas import BatchItemResult, failed_item
from survey_platform.storage import audit_log
from survey_platform.storage.database import write_transaction
from survey_platform.storage.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
)
from survey_platform.storage.tables import Audit, AuditReview, Venue

LOW_GPS_ACCURACY_METRES = 100.0


def photo_answers(questionnaire: Questionnaire, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, sha256) of every photo referenced by the answers (pure)."""
    found: list[tuple[str, str]] = []
    for question in questionnaire.questions:
        if question.type == "photo" and isinstance(values.get(question.id), list):
            found.extend((f"$.answers.{question.id}.{n}", h) for n, h in enumerate(values[question.id]))
    return found


def gps_flags(location: Location | None) -> tuple[str, ...]:
    if location is not None and location.accuracy is not None and location.accuracy > LOW_GPS_ACCURACY_METRES:
        return ("low_gps_accuracy",)
    return ()


async def _venue_in_scope(campaign: Campaign, venue_id: int) -> list[FieldProblem]:
    row = (
        await Venue.select(Venue.id, Venue.city.code.as_alias("city"))
        .where(Venue.id == venue_id)
        .first()
        .run()
    )
    if row is None:
        return [FieldProblem("$.venue", "unknown", f"场所不存在 / unknown venue {venue_id}")]
    if includes_venue(campaign, venue_id, row["city"]):
        return []
    if campaign.venues:
        return [
            FieldProblem(
                "$.venue", "scope", f"场所不在本活动范围内 / venue {venue_id} is not in this campaign"
            )
        ]
    return [
        FieldProblem(
            "$.venue", "scope", "场所所在城市不在本活动范围内 / the venue's city is not in this campaign"
        )
    ]


async def _checked_values(
    catalog: QuestionnaireCatalog,
    campaign: Campaign,
    answers: dict[str, Any],
    problems: list[FieldProblem],
    venue: int,
    principal: Principal,
    attached: Collection[str] = (),
) -> tuple[dict[str, Any], list[str]]:
    """Validated answers and the photos they reference; a photo must be ``attached`` or uploaded before by the same
    account (an admin may use any: knowing another inspector's photo hash must not make it readable); a venue
    answer must name the audit's ``venue``."""
    questionnaire = await catalog.get(campaign.questionnaire_version)
    check = validate_answers(questionnaire, answers)
    problems.extend(FieldProblem(f"$.{e.path}", e.code, e.message) for e in check.errors)
    problems.extend(venue_contradictions(questionnaire, check.values, venue))
    photos = photo_answers(questionnaire, check.values)
    referenced = {sha for _, sha in photos} - set(attached)
    missing = await missing_photos(referenced)
    foreign = await others_photos(referenced - missing, principal) if principal.role != "admin" else set()
    problems.extend(
        FieldProblem(path, "missing_photo", f"照片未上传 / photo {sha} was not uploaded")
        for path, sha in photos
        if sha in missing
    )
    problems.extend(
        FieldProblem(
            path,
            "photo_owner",
            f"照片由其他账户上传 / photo {sha} was uploaded by another account: upload your own",
        )
        for path, sha in photos
        if sha in foreign
    )
    return check.values, sorted({sha for _, sha in photos})


@dataclasses.dataclass(frozen=True, slots=True)
class Attachment:
    """A photo sent together with an audit, already checked; ``store`` saves it once the audit is accepted.

    ``path`` names the part in error messages (e.g. ``form:photos[0]``).
    """

    sha256: str
    path: str
    store: Callable[[], Awaitable[object]]


async def submit_audit(
    campaign_code: str,
    data: AuditSubmission,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    attachments: Sequence[Attachment] = (),
) -> tuple[bool, AuditDetail]:
    """Store an audit (201), recognise an identical re-send (200), refuse a reused UUID (409).

    ``attachments`` are photos sent in the same request: the answers may reference them by SHA-256 as if
    they had been uploaded before, each must be referenced, and they are stored only when the audit is valid.
    """
    created = await store_audit(campaign_code, data, principal, catalog, attachments)
    return created, await get_audit(data.id, principal)


async def store_audit(
    campaign_code: str,
    data: AuditSubmission,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    attachments: Sequence[Attachment] = (),
) -> bool:
    """:func:`submit_audit` without reading the stored audit back; returns whether it was created."""
    campaign = await get_campaign(campaign_code, include_drafts=False)
    if campaign.kind != "inspection":
        raise Conflict(
            f"活动 {campaign_code} 不是检查活动 / campaign {campaign_code!r} is not an inspection campaign"
        )
    await require_submitter(campaign.id, campaign_code, campaign.kind, principal)
    if (
        not accepts_submissions(campaign.status)
        and not await Audit.exists().where(Audit.uuid == data.id).run()
    ):
        raise _not_open(campaign_code, campaign.status)  # known early; checked again at commit
    problems = await _venue_in_scope(campaign, data.venue)
    attached = {a.sha256 for a in attachments}
    values, photos = await _checked_values(
        catalog, campaign, data.answers, problems, data.venue, principal, attached
    )
    problems.extend(
        FieldProblem(
            a.path,
            "unreferenced",
            f"照片未被任何照片题引用 / photo {a.sha256} is not referenced by any photo answer",
        )
        for a in attachments
        if a.sha256 not in photos
    )
    if problems:
        raise InvalidInput("检查记录无效 / the audit is invalid", tuple(problems))
    digest = body_hash(campaign_code, data)
    if attachments:
        # Refuse a reused UUID before writing any photo (the insert below checks again, atomically). Should the
        # insert still fail, the photos stay stored without an audit: content-addressed and harmless, like a
        # two-step upload whose audit never came, and a re-send finds them in place.
        await _refuse_conflict(data.id, digest, principal)
        for attachment in attachments:
            await attachment.store()
    now = datetime.datetime.now(datetime.UTC)
    flags = gps_flags(data.location)
    for attempt in (1, 2):
        try:
            return await _insert_once(campaign, data, principal, values, photos, digest, flags, now)
        except Exception as error:  # a concurrent insert of the same UUID: look again, once
            if attempt == 2 or "unique" not in str(error).lower():
                raise
    raise AssertionError("unreachable")


async def _refuse_conflict(audit_id: uuid.UUID, body_hash: str, principal: Principal) -> None:
    existing = (
        await Audit.select(Audit.body_hash, Audit.inspector).where(Audit.uuid == audit_id).first().run()
    )
    if existing is not None and (
        existing["body_hash"] != body_hash or existing["inspector"] != principal.user_id
    ):
        raise Conflict(f"该编号已用于不同内容 / audit {audit_id} was already stored with different content")


def _not_open(code: str, status: str) -> Conflict:
    return Conflict(f"活动未开放 / campaign {code!r} is {status}, not open for audits")


async def submit_audit_batch(
    items: Sequence[BatchAudit], principal: Principal, catalog: QuestionnaireCatalog
) -> list[BatchItemResult]:
    """The audits of an offline-sync batch, each stored or refused on its own (partial success).

    Every item needs an account that may submit to its campaign (an assigned inspector, or an admin), else 403;
    the photos must have been uploaded before (``POST /photos``).
    """
    results: list[BatchItemResult] = []
    for index, item in enumerate(items):
        try:
            created = await store_audit(item.campaign, item.submission(), principal, catalog)
            results.append(BatchItemResult(index=index, status=201 if created else 200, id=item.id))
        except DomainError as error:
            results.append(failed_item(index, item.id, error))
    return results


async def _insert_once(
    campaign: Campaign,
    data: AuditSubmission,
    principal: Principal,
    values: dict[str, Any],
    photos: list[str],
    body_hash: str,
    flags: tuple[str, ...],
    now: datetime.datetime,
) -> bool:
    async with write_transaction(Audit._meta.db):
        existing = (
            await Audit.select(Audit.body_hash, Audit.inspector).where(Audit.uuid == data.id).first().run()
        )
        if existing is not None:
            if existing["body_hash"] != body_hash or existing["inspector"] != principal.user_id:
                raise Conflict(
                    f"该编号已用于不同内容 / audit {data.id} was already stored with different content"
                )
            return False
        status = await status_at_commit(campaign.id)
        if not accepts_submissions(status):
            raise _not_open(campaign.code, status)
        rows = (
            await Audit.insert(
                Audit(
                    uuid=data.id,
                    campaign=campaign.id,
                    venue=data.venue,
                    inspector=principal.user_id,
                    questionnaire=campaign.questionnaire_version,
                    answers=json.dumps(values, ensure_ascii=False, default=str),
                    body_hash=body_hash,
                    started_at=data.started_at,
                    submitted_at=data.submitted_at,
                    received_at=now,
                    latitude=data.location.latitude if data.location else None,
                    longitude=data.location.longitude if data.location else None,
                    accuracy_m=data.location.accuracy if data.location else None,
                    photos=json.dumps(photos),
                    quality_flags=json.dumps(list(flags)),
                    status="flagged" if flags else "valid",
                    status_reason=",".join(flags),
                    review_state="submitted",
                    updated_at=now,
                )
            )
            .returning(Audit.id)
            .run()
        )
        await _history(rows[0]["id"], principal, "submit", "", "submitted", "", now)
        return True


async def _history(
    audit_id: int,
    actor: Principal,
    action: str,
    from_state: str,
    to_state: str,
    comment: str,
    at: datetime.datetime,
) -> None:
    await AuditReview.insert(
        AuditReview(
            audit=audit_id,
            at=at,
            actor_id=actor.user_id,
            actor=actor.username,
            action=action,
            from_state=from_state,
            to_state=to_state,
            comment=comment,
        )
    ).run()


async def _audit_row(audit_id: uuid.UUID, principal: Principal) -> dict[str, Any]:
    row = (
        await Audit.select(
            *Audit.all_columns(),
            Audit.campaign.code.as_alias("campaign_code"),
            Audit.inspector.username.as_alias("inspector_name"),
        )
        .where(Audit.uuid == audit_id)
        .first()
        .run()
    )
    if row is None or not await may_see(row, principal):
        raise NotFound(f"检查记录不存在 / audit {audit_id} not found")  # others' audits look missing
    return row


async def may_see(row: dict[str, Any], principal: Principal) -> bool:
    """Admins see every audit; reviewers those of campaigns they review; inspectors their own."""
    if principal.role in STAFF_ROLES:
        return await may_review(row["campaign"], principal)
    return bool(row["inspector"] == principal.user_id)


def _loads(value: object) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["uuid"],
        "campaign": row["campaign_code"],
        "venue": row["venue"],
        "inspector": row["inspector_name"],
        "review_state": row["review_state"],
        "status": row["status"],
        "quality_flags": _loads(row["quality_flags"]) or [],
        "received_at": row["received_at"],
    }


async def get_audit(audit_id: uuid.UUID, principal: Principal) -> AuditDetail:
    row = await _audit_row(audit_id, principal)
    history = await AuditReview.select().where(AuditReview.audit == row["id"]).order_by(AuditReview.id).run()
    location = None
    if row["latitude"] is not None and row["longitude"] is not None:
        location = Location(row["latitude"], row["longitude"], row["accuracy_m"])
    return AuditDetail(
        **_summary(row),
        answers=_loads(row["answers"]) or {},
        photos=_loads(row["photos"]) or [],
        location=location,
        history=[
            ReviewEvent(h["at"], h["actor"], h["action"], h["from_state"], h["to_state"], h["comment"])
            for h in history
        ],
        started_at=row["started_at"],
        submitted_at=row["submitted_at"],
    )


async def list_audits(
    principal: Principal, campaign: str | None, state: str | None, limit: int, offset: int
) -> list[AuditSummary]:
    query = (
        Audit.select(
            *Audit.all_columns(exclude=[Audit.answers]),
            Audit.campaign.code.as_alias("campaign_code"),
            Audit.inspector.username.as_alias("inspector_name"),
        )
        .order_by(Audit.id)
        .limit(limit)
        .offset(offset)
    )
    if principal.role in STAFF_ROLES:
        reviewed = await reviewed_campaign_ids(principal)
        if reviewed is not None:
            query = query.where(Audit.campaign.is_in(reviewed or [0]))
    else:
        query = query.where(Audit.inspector == principal.user_id)
    if campaign:
        query = query.where(Audit.campaign.code == campaign)
    if state:
        query = query.where(Audit.review_state == state)
    return [AuditSummary(**_summary(row)) for row in await query.run()]


async def review_audit(audit_id: uuid.UUID, action: str, comment: str, principal: Principal) -> AuditDetail:
    """Approve, return (with a comment) or reject a submitted audit; the history keeps every step.

    Admins and the campaign's reviewers decide, while the campaign is open or closed (not once published).
    """
    now = datetime.datetime.now(datetime.UTC)
    async with write_transaction(Audit._meta.db):
        row = await _audit_row(audit_id, principal)
        status = await status_at_commit(row["campaign"])
        if not accepts_reviews(status):
            raise Conflict(frozen_message(row["campaign_code"], status))
        try:
            new_state = next_review_state(row["review_state"], action, comment)
        except CommentRequired as error:
            raise InvalidInput(str(error), (FieldProblem("$.comment", "required", str(error)),)) from None
        except ReviewError as error:
            raise Conflict(str(error)) from None
        moved = await (
            Audit.update({Audit.review_state: new_state, Audit.updated_at: now})
            .where((Audit.id == row["id"]) & (Audit.review_state == row["review_state"]))
            .returning(Audit.id)
            .run()
        )
        if not moved:  # another reviewer decided in the meantime (PostgreSQL runs both at once)
            raise Conflict(
                f"检查记录已被他人审核 / audit {audit_id} was reviewed by someone else meanwhile; reload"
            )
        await _history(row["id"], principal, action, row["review_state"], new_state, comment, now)
        if new_state == "approved":
            await _record_visit(row, now)
    await audit_log.record(
        actor_id=principal.user_id,
        actor=principal.username,
        action=f"audit.{action}",
        entity="audit",
        entity_id=str(audit_id),
        detail={"from": row["review_state"], "to": new_state},
    )
    return await get_audit(audit_id, principal)


@dataclasses.dataclass(frozen=True, slots=True)
class BulkReview:
    """What a review of several audits did: the audits it moved, and why each of the others was left alone."""

    done: tuple[uuid.UUID, ...]
    refused: tuple[tuple[uuid.UUID, str], ...]


async def review_many(
    audit_ids: Sequence[uuid.UUID], action: str, comment: str, principal: Principal
) -> BulkReview:
    """:func:`review_audit` for each audit in turn (each in its own transaction, each in the history and the audit
    log); an audit that cannot take the action (already reviewed, not visible, campaign published) is left alone
    and reported with the reason."""
    done: list[uuid.UUID] = []
    refused: list[tuple[uuid.UUID, str]] = []
    for audit_id in dict.fromkeys(audit_ids):  # each once, in the order given
        try:
            await review_audit(audit_id, action, comment, principal)
        except DomainError as error:
            refused.append((audit_id, error.detail))
        else:
            done.append(audit_id)
    return BulkReview(tuple(done), tuple(refused))


async def _record_visit(row: dict[str, Any], at: datetime.datetime) -> None:
    """Append the approved audit to its venue's visit history (the venue row locked: no visit is lost to a
    concurrent approval of another audit of it)."""
    query = Venue.select(Venue.visit_history).where(Venue.id == row["venue"])
    if Venue._meta.db.engine_type == "postgres":
        query = query.lock_rows("UPDATE")
    venue = await query.first().run()
    history = _loads(venue["visit_history"]) if venue else []
    history.append(
        {
            "date": at.date().isoformat(),
            "campaign": row["campaign_code"],
            "audit": str(row["uuid"]),
            "outcome": "approved",
        }
    )
    await (
        Venue.update({Venue.visit_history: json.dumps(history, ensure_ascii=False)})
        .where(Venue.id == row["venue"])
        .run()
    )


async def correct_audit(
    audit_id: uuid.UUID, data: AuditCorrection, principal: Principal, catalog: QuestionnaireCatalog
) -> AuditDetail:
    """The inspector's corrected answers for a returned audit; it goes back to review.

    Allowed while the campaign is open or closed (a returned audit may be corrected after close), never once
    it is published.
    """
    row = await _audit_row(audit_id, principal)
    if row["inspector"] != principal.user_id:
        raise Forbidden("只能修改自己的检查记录 / only the inspector who made an audit can correct it")
    campaign = await get_campaign(row["campaign_code"])
    problems: list[FieldProblem] = []
    values, photos = await _checked_values(catalog, campaign, data.answers, problems, row["venue"], principal)
    if problems:
        raise InvalidInput("检查记录无效 / the audit is invalid", tuple(problems))
    now = datetime.datetime.now(datetime.UTC)
    flags = gps_flags(data.location)
    corrected = {
        Audit.answers: json.dumps(values, ensure_ascii=False, default=str),
        Audit.photos: json.dumps(photos),
        Audit.latitude: data.location.latitude if data.location else None,
        Audit.longitude: data.location.longitude if data.location else None,
        Audit.accuracy_m: data.location.accuracy if data.location else None,
        Audit.started_at: data.started_at,
        Audit.submitted_at: data.submitted_at,
    }
    async with write_transaction(Audit._meta.db):
        status = await status_at_commit(row["campaign"])
        if not accepts_reviews(status):
            raise Conflict(frozen_message(row["campaign_code"], status))
        current = (
            await Audit.select(*corrected, Audit.review_state).where(Audit.id == row["id"]).first().run()
        )
        if await _is_resent_correction(row["id"], current, corrected):
            return await get_audit(
                audit_id, principal
            )  # the reply to the first send was lost: nothing changes
        try:
            new_state = next_review_state(current["review_state"], "resubmit", "")
        except ReviewError as error:
            raise Conflict(str(error)) from None
        moved = await (
            Audit.update(
                {
                    **corrected,
                    Audit.quality_flags: json.dumps(list(flags)),
                    Audit.status: "flagged" if flags else "valid",
                    Audit.status_reason: ",".join(flags),
                    Audit.review_state: new_state,
                    Audit.updated_at: now,
                }
            )
            .where((Audit.id == row["id"]) & (Audit.review_state == current["review_state"]))
            .returning(Audit.id)
            .run()
        )
        if not moved:  # reviewed or corrected by another request meanwhile (PostgreSQL runs both at once)
            raise Conflict(f"检查记录已被他人更改 / audit {audit_id} changed meanwhile; reload and try again")
        await _history(row["id"], principal, "resubmit", current["review_state"], new_state, "", now)
    return await get_audit(audit_id, principal)


async def _is_resent_correction(
    audit_row_id: int, current: dict[str, Any], corrected: dict[Any, Any]
) -> bool:
    """Whether a correction is the same one sent again: the audit went back to review through a correction
    (its last step), which stored exactly these values. Then the re-send answers 200 and changes nothing, so a
    field app retrying after a lost reply gets a receipt rather than "cannot resubmit a submitted audit"."""
    if current["review_state"] != "submitted":
        return False
    last = (
        await AuditReview.select(AuditReview.action)
        .where(AuditReview.audit == audit_row_id)
        .order_by(AuditReview.id, ascending=False)
        .first()
        .run()
    )
    if last is None or last["action"] != "resubmit":
        return False
    return all(_same_value(current[column._meta.name], value) for column, value in corrected.items())


def _same_value(stored: object, sent: object) -> bool:
    """A stored column value equals what a correction would store (JSON compared parsed; times as instants)."""
    if isinstance(sent, str) and isinstance(stored, str | list | dict):
        return _loads(stored) == json.loads(sent)
    if isinstance(sent, datetime.datetime) and isinstance(stored, datetime.datetime):
        return sent == stored
    return stored == sent


__all__ = ["BulkReview", "may_see", "review_many", "submit_audit", "submit_audit_batch"]
