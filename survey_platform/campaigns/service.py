"""Campaigns: creation (draft), edits while draft, and status transitions, each written to the audit log."""

from __future__ import annotations

import datetime
import json

import msgspec

from survey_platform.accounts.service import Principal
from survey_platform.campaigns.lifecycle import TransitionError, is_editable, next_status
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import Campaign, CampaignChange, CampaignIn, CampaignMethod
from survey_platform.places.service import existing_city_codes, existing_venue_ids
from survey_platform.publishing.model import driver_outcome_problem
from survey_platform.storage import audit_log
from survey_platform.storage.errors import Conflict, FieldProblem, InvalidInput, NotFound
from survey_platform.storage.tables import Campaign as CampaignTable
from survey_platform.storage.tables import QuestionnaireVersion


def _loads(value: object) -> list:  # type: ignore[type-arg]
    return json.loads(value) if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]


def _method(value: object) -> CampaignMethod:
    """The declared settings a campaign shows. Publishing reads the stored settings itself, strictly
    (``publishing.inputs.campaign_method``): a setting this shape lacks, or a value it cannot read (written by hand
    into the database), is left out here rather than breaking every page that lists campaigns."""
    try:
        declared = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return CampaignMethod()
    if not isinstance(declared, dict):
        return CampaignMethod()
    valid = {}
    for name in CampaignMethod.__struct_fields__:
        if name in declared:
            try:
                msgspec.convert({name: declared[name]}, CampaignMethod)
            except msgspec.ValidationError:
                continue
            valid[name] = declared[name]
    return msgspec.convert(valid, CampaignMethod)


def _campaign(row: dict[str, object]) -> Campaign:
    return Campaign(
        id=row["id"],  # type: ignore[arg-type]
        code=row["code"],  # type: ignore[arg-type]
        name=row["name"],  # type: ignore[arg-type]
        questionnaire_version=row["questionnaire"],  # type: ignore[arg-type]
        questionnaire_id=row["questionnaire.questionnaire_id"],  # type: ignore[arg-type]
        kind=row["questionnaire.kind"],  # type: ignore[arg-type]
        cities=_loads(row["city_codes"]),
        venues=_loads(row["venue_ids"]),
        starts_on=row["starts_on"],  # type: ignore[arg-type]
        ends_on=row["ends_on"],  # type: ignore[arg-type]
        min_sample_per_city=row["min_sample_per_city"],  # type: ignore[arg-type]
        method=_method(row["method"]),
        status=row["status"],  # type: ignore[arg-type]
    )


def _query():  # type: ignore[no-untyped-def]
    return CampaignTable.select(
        *CampaignTable.all_columns(),
        CampaignTable.questionnaire.questionnaire_id,
        CampaignTable.questionnaire.kind,
    )


async def list_campaigns(include_drafts: bool) -> list[Campaign]:
    query = _query().order_by(CampaignTable.id)
    if not include_drafts:
        query = query.where(CampaignTable.status != "draft")
    return [_campaign(row) for row in await query.run()]


async def campaign_by_id(campaign_id: int) -> Campaign:
    row = await _query().where(CampaignTable.id == campaign_id).first().run()
    if row is None:
        raise NotFound(f"活动不存在 / campaign {campaign_id} not found")
    return _campaign(row)


async def get_campaign(code: str, include_drafts: bool = True) -> Campaign:
    row = await _query().where(CampaignTable.code == code).first().run()
    if row is None or (row["status"] == "draft" and not include_drafts):
        raise NotFound(f"活动不存在 / campaign {code!r} not found")
    return _campaign(row)


async def _check_scope(
    questionnaire_version: int,
    cities: list[str],
    venues: list[int],
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    method: CampaignMethod,
) -> None:
    problems: list[FieldProblem] = []
    if not await QuestionnaireVersion.exists().where(QuestionnaireVersion.id == questionnaire_version).run():
        problems.append(
            FieldProblem(
                "$.questionnaire_version",
                "unknown",
                f"问卷版本不存在 / no questionnaire version {questionnaire_version}",
            )
        )
    elif isinstance(method.driver_outcome, str):
        questionnaire = await QuestionnaireCatalog().get(questionnaire_version)
        problem = driver_outcome_problem(questionnaire, method.driver_outcome)
        if problem:
            problems.append(FieldProblem("$.method.driver_outcome", "unknown", problem))
    known_cities = await existing_city_codes(cities)
    for index, code in enumerate(cities):
        if code not in known_cities:
            problems.append(
                FieldProblem(f"$.cities[{index}]", "unknown", f"城市不存在 / unknown city {code!r}")
            )
    known_venues = await existing_venue_ids(venues)
    for index, venue in enumerate(venues):
        if venue not in known_venues:
            problems.append(
                FieldProblem(f"$.venues[{index}]", "unknown", f"场所不存在 / unknown venue {venue}")
            )
    if len(set(cities)) != len(cities):
        problems.append(FieldProblem("$.cities", "unique", "城市重复 / a city is listed twice"))
    if len(set(venues)) != len(venues):
        problems.append(FieldProblem("$.venues", "unique", "场所重复 / a venue is listed twice"))
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(
            FieldProblem("$.ends_on", "order", "结束日期早于开始日期 / ends_on is before starts_on")
        )
    if problems:
        raise InvalidInput("活动设置无效 / invalid campaign", tuple(problems))


def _actor(actor: Principal | None) -> dict[str, object]:
    return {"actor_id": actor.user_id if actor else None, "actor": actor.username if actor else "system"}


async def create_campaign(data: CampaignIn, actor: Principal | None = None) -> Campaign:
    await _check_scope(
        data.questionnaire_version, data.cities, data.venues, data.starts_on, data.ends_on, data.method
    )
    if await CampaignTable.exists().where(CampaignTable.code == data.code).run():
        raise Conflict(f"活动代码已存在 / campaign code {data.code!r} exists")
    now = datetime.datetime.now(datetime.UTC)
    await CampaignTable.insert(
        CampaignTable(
            code=data.code,
            name=data.name,
            questionnaire=data.questionnaire_version,
            city_codes=json.dumps(data.cities),
            venue_ids=json.dumps(data.venues),
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            min_sample_per_city=data.min_sample_per_city,
            method=msgspec.json.encode(data.method).decode(),
            status="draft",
            created_at=now,
            updated_at=now,
        )
    ).run()
    await audit_log.record(**_actor(actor), action="campaign.create", entity="campaign", entity_id=data.code)
    return await get_campaign(data.code)


async def update_campaign(code: str, change: CampaignChange, actor: Principal | None = None) -> Campaign:
    current = await get_campaign(code)
    if not is_editable(current.status):
        raise Conflict(f"只有草稿可修改 / only a draft campaign can be edited (this one is {current.status})")
    merged = {
        "questionnaire_version": change.questionnaire_version or current.questionnaire_version,
        "cities": change.cities if change.cities is not None else current.cities,
        "venues": change.venues if change.venues is not None else current.venues,
        "starts_on": change.starts_on or current.starts_on,
        "ends_on": change.ends_on or current.ends_on,
        "method": change.method if change.method is not None else current.method,
    }
    declared = (
        {CampaignTable.method: msgspec.json.encode(change.method).decode()}
        if change.method is not None
        else {}
    )
    await _check_scope(**merged)  # type: ignore[arg-type]
    await (
        CampaignTable.update(
            {
                CampaignTable.name: change.name or current.name,
                CampaignTable.questionnaire: merged["questionnaire_version"],
                CampaignTable.city_codes: json.dumps(merged["cities"]),
                CampaignTable.venue_ids: json.dumps(merged["venues"]),
                CampaignTable.starts_on: merged["starts_on"],
                CampaignTable.ends_on: merged["ends_on"],
                CampaignTable.min_sample_per_city: change.min_sample_per_city or current.min_sample_per_city,
                **declared,  # replaced as a whole when the change declares it, else left as stored
                CampaignTable.updated_at: datetime.datetime.now(datetime.UTC),
            }
        )
        .where(CampaignTable.code == code)
        .run()
    )
    await audit_log.record(**_actor(actor), action="campaign.update", entity="campaign", entity_id=code)
    return await get_campaign(code)


async def transition(code: str, action: str, actor: Principal | None = None) -> Campaign:
    """Apply ``action`` (open / close; publishing is :func:`survey_platform.publishing.service.publish`); the update
    only succeeds from the expected status."""
    current = await get_campaign(code)
    try:
        new = next_status(current.status, action)
    except TransitionError as error:
        raise Conflict(str(error)) from None
    updated = (
        await CampaignTable.update(
            {CampaignTable.status: new, CampaignTable.updated_at: datetime.datetime.now(datetime.UTC)}
        )
        .where((CampaignTable.code == code) & (CampaignTable.status == current.status))
        .returning(CampaignTable.id)
        .run()
    )
    if not updated:
        raise Conflict(f"活动状态已被他人更改 / campaign {code!r} changed concurrently; reload and retry")
    await audit_log.record(
        **_actor(actor),
        action=f"campaign.{action}",
        entity="campaign",
        entity_id=code,
        detail={"from": current.status, "to": new},
    )
    return await get_campaign(code)


async def status_at_commit(campaign_id: int, *, exclusive: bool = False) -> str:
    """The campaign's status, read inside the caller's write transaction so that it holds until commit.

    PostgreSQL: ``SELECT … FOR SHARE`` makes a concurrent status change wait for this transaction; ``exclusive``
    (``FOR UPDATE``, for the change itself, e.g. publishing) also makes every writer that reads the status wait, and
    then see the new one. SQLite: the caller's ``BEGIN IMMEDIATE`` (``storage.database.write_transaction``) already
    holds the database's write lock.
    """
    query = CampaignTable.select(CampaignTable.status).where(CampaignTable.id == campaign_id)
    if CampaignTable._meta.db.engine_type == "postgres":
        query = query.lock_rows("UPDATE" if exclusive else "SHARE")
    row = await query.first().run()
    if row is None:
        raise NotFound(f"活动不存在 / campaign {campaign_id} not found")
    return str(row["status"])
