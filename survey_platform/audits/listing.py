"""The reviewer's list of audits: filtered by campaign, city, venue category, inspector and review state, newest
first, a page at a time; the values each filter offers; a venue's other audits (its earlier visits).

Admins see every audit; reviewers those of the campaigns they are assigned to (``campaigns.assignments``), like
``audits.service.may_see``. Everything here reads; reviews go through ``audits.service``.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from survey_platform.accounts.service import Principal
from survey_platform.audits.lifecycle import REVIEW_ACTIONS
from survey_platform.campaigns.assignments import reviewed_campaign_ids
from survey_platform.storage.tables import Audit

#: the review states, in the order a reviewer meets them
REVIEW_STATES: tuple[str, ...] = ("submitted", "returned", "approved", "rejected")
assert set(REVIEW_STATES) == {new for _, new in REVIEW_ACTIONS.values()}


class AuditFilter(msgspec.Struct, frozen=True, kw_only=True):
    """What the list is narrowed to; None (or "") leaves a dimension open. ``inspector`` is a username."""

    campaign: str | None = None
    city: str | None = None
    category: str | None = None
    inspector: str | None = None
    state: str | None = None

    def as_query(self) -> dict[str, str]:
        """The filter as query parameters (only the dimensions that are set)."""
        return {name: value for name in self.__struct_fields__ if (value := getattr(self, name))}


class DeskAudit(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the list (with the answers, so the page can show each audit's compliance)."""

    id: uuid.UUID
    campaign: str
    campaign_name: str
    venue_id: int
    venue: str
    category: str
    city: str
    city_name: str
    inspector: str
    review_state: str
    quality_flags: list[str]
    received_at: datetime.datetime
    questionnaire: int
    answers: dict[str, Any]


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    rows: list[DeskAudit]
    total: int
    offset: int
    limit: int
    states: dict[str, int]  # audits per review state under the filter's other dimensions


class FilterChoices(msgspec.Struct, frozen=True, kw_only=True):
    """The values each filter can take among the audits the reviewer may see: (value, label) pairs."""

    campaigns: list[tuple[str, str]]
    cities: list[tuple[str, str]]
    categories: list[str]
    inspectors: list[str]


def _loads(value: object) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def visible_campaigns(principal: Principal) -> list[int] | None:
    """The campaign ids whose audits ``principal`` may review (None: all of them, for an admin)."""
    return await reviewed_campaign_ids(principal)


def _conditions(visible: list[int] | None, where: AuditFilter, with_state: bool = True) -> list[Any]:
    conditions: list[Any] = []
    if visible is not None:
        conditions.append(Audit.campaign.is_in(visible or [0]))
    if where.campaign:
        conditions.append(Audit.campaign.code == where.campaign)
    if where.city:
        conditions.append(Audit.venue.city.code == where.city)
    if where.category:
        conditions.append(Audit.venue.category == where.category)
    if where.inspector:
        conditions.append(Audit.inspector.username == where.inspector)
    if with_state and where.state:
        conditions.append(Audit.review_state == where.state)
    return conditions


def _where(query: Any, conditions: list[Any]) -> Any:
    for condition in conditions:
        query = query.where(condition)
    return query


async def list_for_review(principal: Principal, where: AuditFilter, limit: int, offset: int) -> AuditPage:
    """One page of the audits ``principal`` may review that match ``where``, newest first."""
    visible = await visible_campaigns(principal)
    conditions = _conditions(visible, where)
    query = Audit.select(
        Audit.uuid,
        Audit.campaign.code.as_alias("campaign_code"),
        Audit.campaign.name.as_alias("campaign_name"),
        Audit.venue.as_alias("venue_id"),
        Audit.venue.name.as_alias("venue_name"),
        Audit.venue.category.as_alias("category"),
        Audit.venue.city.code.as_alias("city"),
        Audit.venue.city.name_zh.as_alias("city_name"),
        Audit.inspector.username.as_alias("inspector_name"),
        Audit.review_state,
        Audit.quality_flags,
        Audit.received_at,
        Audit.questionnaire,
        Audit.answers,
    )
    rows = await (
        _where(query, conditions)
        .order_by(Audit.received_at, Audit.id, ascending=False)
        .limit(limit)
        .offset(offset)
        .run()
    )
    total = await _where(Audit.count(), conditions).run()
    by_state = await _where(
        Audit.select(Audit.review_state, Count(Audit.id, alias="n")).group_by(Audit.review_state),
        _conditions(visible, where, with_state=False),
    ).run()
    return AuditPage(
        rows=[
            DeskAudit(
                id=row["uuid"],
                campaign=row["campaign_code"],
                campaign_name=row["campaign_name"],
                venue_id=row["venue_id"],
                venue=row["venue_name"],
                category=row["category"],
                city=row["city"],
                city_name=row["city_name"],
                inspector=row["inspector_name"],
                review_state=row["review_state"],
                quality_flags=_loads(row["quality_flags"]) or [],
                received_at=row["received_at"],
                questionnaire=row["questionnaire"],
                answers=_loads(row["answers"]) or {},
            )
            for row in rows
        ],
        total=int(total),
        offset=offset,
        limit=limit,
        states={state: 0 for state in REVIEW_STATES} | {r["review_state"]: int(r["n"]) for r in by_state},
    )


async def counts_by_campaign(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Audits per review state of each of ``campaign_ids`` (every state listed, zero included)."""
    counts = {campaign: dict.fromkeys(REVIEW_STATES, 0) for campaign in campaign_ids}
    if not campaign_ids:
        return counts
    rows = await (
        Audit.select(Audit.campaign, Audit.review_state, Count(Audit.id, alias="n"))
        .where(Audit.campaign.is_in(campaign_ids))
        .group_by(Audit.campaign, Audit.review_state)
        .run()
    )
    for row in rows:
        counts[row["campaign"]][row["review_state"]] = int(row["n"])
    return counts


async def filter_choices(principal: Principal) -> FilterChoices:
    """The campaigns, cities, venue categories and inspectors among the audits ``principal`` may review."""
    visible = await visible_campaigns(principal)
    base = _conditions(visible, AuditFilter())

    async def distinct(*columns: Any) -> list[dict[str, Any]]:
        return await _where(Audit.select(*columns).distinct(), base).run()

    campaigns = await distinct(Audit.campaign.code.as_alias("code"), Audit.campaign.name.as_alias("name"))
    cities = await distinct(Audit.venue.city.code.as_alias("code"), Audit.venue.city.name_zh.as_alias("name"))
    categories = await distinct(Audit.venue.category.as_alias("category"))
    inspectors = await distinct(Audit.inspector.username.as_alias("username"))
    return FilterChoices(
        campaigns=sorted((r["code"], r["name"]) for r in campaigns),
        cities=sorted((r["code"], r["name"]) for r in cities),
        categories=sorted(r["category"] for r in categories),
        inspectors=sorted(r["username"] for r in inspectors),
    )


class VenueVisit(msgspec.Struct, frozen=True, kw_only=True):
    """Another audit of the same venue, as the reviewer may see it."""

    id: uuid.UUID
    campaign: str
    inspector: str
    review_state: str
    received_at: datetime.datetime


async def other_visits(principal: Principal, venue_id: int, except_id: uuid.UUID) -> list[VenueVisit]:
    """The venue's other audits that ``principal`` may see, newest first (its earlier and later visits)."""
    visible = await visible_campaigns(principal)
    conditions = [*_conditions(visible, AuditFilter()), Audit.venue == venue_id, Audit.uuid != except_id]
    rows = (
        await _where(
            Audit.select(
                Audit.uuid,
                Audit.campaign.code.as_alias("campaign_code"),
                Audit.inspector.username.as_alias("inspector_name"),
                Audit.review_state,
                Audit.received_at,
            ),
            conditions,
        )
        .order_by(Audit.received_at, ascending=False)
        .run()
    )
    return [
        VenueVisit(
            id=row["uuid"],
            campaign=row["campaign_code"],
            inspector=row["inspector_name"],
            review_state=row["review_state"],
            received_at=row["received_at"],
        )
        for row in rows
    ]


__all__ = [
    "REVIEW_STATES",
    "AuditFilter",
    "AuditPage",
    "DeskAudit",
    "FilterChoices",
    "VenueVisit",
    "counts_by_campaign",
    "filter_choices",
    "list_for_review",
    "other_visits",
    "visible_campaigns",
]
