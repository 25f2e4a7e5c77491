"""What a field account works on, venues added in the field, and follow-up visits (回头看).

- :func:`assignments`: the campaigns an interviewer or inspector is assigned to (admins: every open campaign):
  the open ones, and closed ones while audits of theirs wait there for correction.
- :func:`campaign_venues`: an inspection campaign's venues (``campaigns.scope``), for the phone to keep offline.
- :func:`add_field_venue`: a venue an inspector added offline, registered once whatever the re-sends (its client
  UUID) and added to the campaign's venue list when the campaign has one.
- :func:`follow_up`: the latest approved audit of a venue, for inspectors assigned to a campaign covering it.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

from survey_platform.accounts.roles import SUBMITTER_ROLE
from survey_platform.accounts.service import Principal
from survey_platform.audits.compliance import check_answers
from survey_platform.campaigns.assignments import assigned_campaign_ids, require_submitter
from survey_platform.campaigns.lifecycle import accepts_submissions
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import Campaign
from survey_platform.campaigns.scope import includes_venue
from survey_platform.campaigns.service import get_campaign, list_campaigns
from survey_platform.field.schemas import (
    FailedCheck,
    FieldAssignments,
    FieldCampaign,
    FieldCity,
    FieldVenue,
    FollowUp,
    NewVenue,
)
from survey_platform.places.schemas import Venue
from survey_platform.places.service import existing_city_codes, get_venue, list_cities, venues_where
from survey_platform.storage import audit_log
from survey_platform.storage.database import write_transaction
from survey_platform.storage.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from survey_platform.storage.tables import Audit
from survey_platform.storage.tables import Campaign as CampaignTable
from survey_platform.storage.tables import City as CityTable
from survey_platform.storage.tables import Venue as VenueTable

APPROVED = "approved"


def venues_url(code: str) -> str:
    return f"/api/v1/field/campaigns/{code}/venues"


def works_on(campaign: Campaign, principal: Principal, assigned: set[int], returned: int) -> bool:
    """Whether ``principal`` sees ``campaign`` in the field app (pure): an admin, every open campaign; a field
    account, the campaigns of its kind it is assigned to while open, or closed with audits returned to it."""
    if principal.role == "admin":
        return accepts_submissions(campaign.status)
    if SUBMITTER_ROLE.get(campaign.kind) != principal.role or campaign.id not in assigned:
        return False
    return accepts_submissions(campaign.status) or (campaign.status == "closed" and returned > 0)


async def _returned_counts(account_id: int) -> dict[int, int]:
    rows = (
        await Audit.select(Audit.campaign)
        .where((Audit.inspector == account_id) & (Audit.review_state == "returned"))
        .run()
    )
    counts: dict[int, int] = {}
    for row in rows:
        counts[row["campaign"]] = counts.get(row["campaign"], 0) + 1
    return counts


async def assignments(principal: Principal) -> FieldAssignments:
    """The campaigns ``principal`` works on in the field, with their cities (see :func:`works_on`)."""
    campaigns = await list_campaigns(include_drafts=False)
    assigned = await assigned_campaign_ids(principal)
    returned = await _returned_counts(principal.user_id)
    chosen = [c for c in campaigns if works_on(c, principal, assigned, returned.get(c.id, 0))]
    cities = {c.code: c for c in await list_cities()} if chosen else {}
    where = {c.code: await _cities_of(c) for c in chosen}
    return FieldAssignments(
        account=principal,
        campaigns=[
            FieldCampaign(
                code=c.code,
                name=c.name,
                kind=c.kind,
                status=c.status,
                accepts_new=accepts_submissions(c.status),
                questionnaire_version=c.questionnaire_version,
                questionnaire_id=c.questionnaire_id,
                starts_on=c.starts_on,
                ends_on=c.ends_on,
                cities=[
                    FieldCity(code, cities[code].name_zh, cities[code].name_en)
                    for code in where[c.code]
                    if code in cities
                ],
                returned=returned.get(c.id, 0),
                venues=venues_url(c.code) if c.kind == "inspection" else None,
            )
            for c in chosen
        ],
    )


async def _cities_of(campaign: Campaign) -> list[str]:
    """Where a campaign works: its cities, else (an inspection over a venue list) the cities of its venues."""
    if campaign.cities or not campaign.venues:
        return list(campaign.cities)
    return sorted({venue.city for venue in await venues_where(ids=campaign.venues)})


async def _field_campaign(code: str, principal: Principal) -> Campaign:
    """An inspection campaign ``principal`` may submit to (assigned inspectors, admins), else 404/403/409."""
    campaign = await get_campaign(code, include_drafts=False)
    if campaign.kind != "inspection":
        raise Conflict(
            f"活动 {code} 不是检查活动 / campaign {code!r} is not an inspection campaign: it has no venues"
        )
    await require_submitter(campaign.id, code, campaign.kind, principal)
    return campaign


def last_visit(venue: Venue) -> Any:
    """The latest approved visit in a venue's history, or None."""
    approved = [visit for visit in venue.visit_history if visit.outcome == APPROVED]
    return max(approved, key=lambda visit: visit.date) if approved else None


def field_venue(venue: Venue) -> FieldVenue:
    return FieldVenue(
        id=venue.id,
        name=venue.name,
        category=venue.category,
        city=venue.city,
        address=venue.address,
        latitude=venue.latitude,
        longitude=venue.longitude,
        last_visit=last_visit(venue),
    )


async def campaign_venues(code: str, principal: Principal) -> list[FieldVenue]:
    """The venues an inspection campaign covers (``campaigns.scope.includes_venue``)."""
    campaign = await _field_campaign(code, principal)
    if campaign.venues:
        venues = await venues_where(ids=campaign.venues)
    elif campaign.cities:
        venues = await venues_where(cities=campaign.cities)
    else:
        venues = await venues_where()
    return [field_venue(venue) for venue in venues]


def _same_venue(row: dict[str, Any], data: NewVenue, city_id: int) -> bool:
    return (
        row["name"] == data.name
        and row["category"] == data.category
        and row["city"] == city_id
        and row["address"] == data.address
        and row["latitude"] == data.latitude
        and row["longitude"] == data.longitude
    )


async def _registered(client_id: uuid.UUID, data: NewVenue, city_id: int) -> int | None:
    """The id of the venue registered earlier with ``client_id`` (a re-send), None if there is none; a client id
    reused for another venue is refused (409)."""
    row = await VenueTable.select().where(VenueTable.client_id == client_id).first().run()
    if row is None:
        return None
    if not _same_venue(row, data, city_id):
        raise Conflict(
            f"该编号已用于另一个场所 / client_id {client_id} was already used for a different venue",
            (FieldProblem("$.client_id", "conflict", "already used for a different venue"),),
        )
    return int(row["id"])


async def add_field_venue(data: NewVenue, principal: Principal) -> tuple[bool, FieldVenue]:
    """Register a venue added in the field (201) or find the one a re-send names (200); returns (created, venue).

    The campaign must be an open inspection the account may submit to; the city must exist and, for a campaign
    with cities, be one of them. A campaign with a venue list gets the new venue added to it (in the same
    transaction), so the audit that names it is in scope. Written to the audit log.
    """
    campaign = await _field_campaign(data.campaign, principal)
    problems: list[FieldProblem] = []
    if data.city not in await existing_city_codes([data.city]):
        problems.append(FieldProblem("$.city", "unknown", f"城市不存在 / unknown city {data.city!r}"))
    elif campaign.cities and data.city not in campaign.cities:
        problems.append(
            FieldProblem(
                "$.city",
                "scope",
                f"城市不在本活动范围内 / city {data.city!r} is not one of campaign {campaign.code!r}'s cities",
            )
        )
    if problems:
        raise InvalidInput("场所无效 / the venue is invalid", tuple(problems))
    city = await CityTable.select(CityTable.id).where(CityTable.code == data.city).first().run()
    assert city is not None
    for attempt in (1, 2):
        try:
            found = await _insert_venue(campaign, data, city["id"])
            break
        except Conflict:
            raise
        except Exception as error:  # a concurrent send of the same venue committed first: look again, once
            if attempt == 2 or "unique" not in str(error).lower():
                raise
    if found[0] is False:
        return False, field_venue(await get_venue(found[1]))
    await audit_log.record(
        actor_id=principal.user_id,
        actor=principal.username,
        action="venue.create_in_field",
        entity="venue",
        entity_id=found[1],
        detail={"campaign": campaign.code, "client_id": str(data.client_id)},
    )
    return True, field_venue(await get_venue(found[1]))


async def _insert_venue(campaign: Campaign, data: NewVenue, city_id: int) -> tuple[bool, int]:
    """Insert the venue and extend the campaign's venue list in one transaction; (created, venue id)."""
    async with write_transaction(VenueTable._meta.db):
        found = await _registered(data.client_id, data, city_id)
        if found is not None:
            return False, found
        query = CampaignTable.select(CampaignTable.status, CampaignTable.venue_ids).where(
            CampaignTable.id == campaign.id
        )
        if CampaignTable._meta.db.engine_type == "postgres":
            query = query.lock_rows("UPDATE")  # the venue list is read, extended and written back
        current = await query.first().run()
        if current is None or not accepts_submissions(current["status"]):
            status = current["status"] if current else "gone"
            raise Conflict(f"活动未开放 / campaign {campaign.code!r} is {status}, not open for new venues")
        rows = (
            await VenueTable.insert(
                VenueTable(
                    name=data.name,
                    category=data.category,
                    city=city_id,
                    address=data.address,
                    latitude=data.latitude,
                    longitude=data.longitude,
                    client_id=data.client_id,
                )
            )
            .returning(VenueTable.id)
            .run()
        )
        venue_id = int(rows[0]["id"])
        venues = _json_list(current["venue_ids"])
        if venues:
            await (
                CampaignTable.update({CampaignTable.venue_ids: json.dumps([*venues, venue_id])})
                .where(CampaignTable.id == campaign.id)
                .run()
            )
        return True, venue_id


def _json_list(value: object) -> list[Any]:
    return json.loads(value) if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]


async def _may_follow_up(principal: Principal, venue: Venue) -> bool:
    """Admins; inspectors assigned to a campaign (open or closed) that covers the venue."""
    if principal.role == "admin":
        return True
    if principal.role != "inspector":
        return False
    assigned = await assigned_campaign_ids(principal)
    return any(
        campaign.id in assigned
        and campaign.kind == "inspection"
        and includes_venue(campaign, venue.id, venue.city)
        for campaign in await list_campaigns(include_drafts=False)
    )


def failed_checks(questionnaire: Any, values: dict[str, Any]) -> list[FailedCheck]:
    """The checks an audit's answers failed, in questionnaire order, with their labels and severities (pure)."""
    verdicts = check_answers(questionnaire, values)
    return [
        FailedCheck(
            question=q.id,
            label=q.label.to_json() if q.label else {},
            severity=q.check.severity,  # type: ignore[union-attr]
        )
        for q in questionnaire.questions
        if verdicts.get(q.id) == "fail"
    ]


async def follow_up(venue_id: int, principal: Principal, catalog: QuestionnaireCatalog) -> FollowUp:
    """The latest approved audit of ``venue_id`` (404 when it has none, or to anyone who may not see it)."""
    try:
        venue = await get_venue(venue_id)
    except NotFound:
        raise NotFound(f"场所不存在 / venue {venue_id} not found") from None
    if not await _may_follow_up(principal, venue):
        raise Forbidden(
            f"未被分配到包含场所 {venue_id} 的检查活动 / you are not assigned to an inspection campaign that "
            f"covers venue {venue_id}"
        )
    row = (
        await Audit.select(
            Audit.uuid,
            Audit.answers,
            Audit.questionnaire,
            Audit.submitted_at,
            Audit.received_at,
            Audit.campaign.code.as_alias("campaign_code"),
        )
        .where((Audit.venue == venue_id) & (Audit.review_state == APPROVED))
        .order_by(Audit.received_at, ascending=False)
        .order_by(Audit.id, ascending=False)
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"场所 {venue_id} 没有已通过的检查记录 / venue {venue_id} has no approved audit yet")
    answers = json.loads(row["answers"]) if isinstance(row["answers"], str) else dict(row["answers"] or {})
    questionnaire = await catalog.get(row["questionnaire"])
    visited: datetime.datetime = row["submitted_at"] or row["received_at"]
    return FollowUp(
        venue=field_venue(venue),
        audit=row["uuid"],
        campaign=row["campaign_code"],
        questionnaire_version=row["questionnaire"],
        visited_at=visited,
        answers=answers,
        failed_checks=failed_checks(questionnaire, answers),
    )


__all__ = [
    "add_field_venue",
    "assignments",
    "campaign_venues",
    "failed_checks",
    "follow_up",
    "works_on",
]
