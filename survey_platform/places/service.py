"""Cities and venues: listing, creation, updates and bulk import (with audit-log entries)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import msgspec

from survey_platform.accounts.roles import STAFF_ROLES
from survey_platform.accounts.service import Principal
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.places.margins import margin_problems, weighting_categories
from survey_platform.places.schemas import City, CityIn, Venue, VenueIn, Visit
from survey_platform.storage import audit_log
from survey_platform.storage.database import write_transaction
from survey_platform.storage.errors import Conflict, FieldProblem, InvalidInput, NotFound
from survey_platform.storage.tables import City as CityTable
from survey_platform.storage.tables import Venue as VenueTable


def _loads(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def _city(row: dict[str, object]) -> City:
    return City(
        id=row["id"],  # type: ignore[arg-type]
        code=row["code"],  # type: ignore[arg-type]
        name_zh=row["name_zh"],  # type: ignore[arg-type]
        name_en=row["name_en"],  # type: ignore[arg-type]
        province=row["province"],  # type: ignore[arg-type]
        population=row["population"],  # type: ignore[arg-type]
        retail_sales=row["retail_sales"],  # type: ignore[arg-type]
        margins=_loads(row["margins"]) or {},  # type: ignore[arg-type]
    )


def _actor(actor: Principal | None) -> dict[str, object]:
    return {"actor_id": actor.user_id if actor else None, "actor": actor.username if actor else "system"}


async def list_cities() -> list[City]:
    return [_city(row) for row in await CityTable.select().order_by(CityTable.code).run()]


async def get_city(code: str) -> City:
    row = await CityTable.select().where(CityTable.code == code).first().run()
    if row is None:
        raise NotFound(f"城市不存在 / city {code!r} not found")
    return _city(row)


def _city_values(city: CityIn) -> dict[str, object]:
    return {
        "name_zh": city.name_zh,
        "name_en": city.name_en,
        "province": city.province,
        "population": city.population,
        "retail_sales": city.retail_sales,
        "margins": json.dumps(city.margins, ensure_ascii=False),
    }


async def check_margins(cities: Sequence[CityIn], catalog: QuestionnaireCatalog, single: bool = True) -> None:
    """Refuse (422) margins that do not fit the registered survey questionnaires (``places.margins``).

    Paths are ``$.margins...`` for one city (``single``), ``$[n].margins...`` for the n-th city of an import.
    """
    if not any(city.margins for city in cities):
        return
    known = weighting_categories(await catalog.of_kind("survey"))
    problems = [
        problem
        for n, city in enumerate(cities)
        for problem in margin_problems(
            city.code, city.margins, known, "$.margins" if single else f"$[{n}].margins"
        )
    ]
    if problems:
        raise InvalidInput("加权边际无效 / invalid weighting margins", tuple(problems))


async def create_city(city: CityIn, catalog: QuestionnaireCatalog, actor: Principal | None = None) -> City:
    await check_margins([city], catalog)
    if await CityTable.exists().where(CityTable.code == city.code).run():
        raise Conflict(f"城市代码已存在 / city code {city.code!r} exists")
    await CityTable.insert(CityTable(code=city.code, **_city_values(city))).run()
    await audit_log.record(**_actor(actor), action="city.create", entity="city", entity_id=city.code)
    return await get_city(city.code)


async def update_city(
    code: str, city: CityIn, catalog: QuestionnaireCatalog, actor: Principal | None = None
) -> City:
    if city.code != code:
        raise InvalidInput(
            "城市代码不可更改 / the city code cannot change", (FieldProblem("$.code", "const", code),)
        )
    await get_city(code)
    await check_margins([city], catalog)
    values = {getattr(CityTable, key): value for key, value in _city_values(city).items()}
    await CityTable.update(values).where(CityTable.code == code).run()
    await audit_log.record(**_actor(actor), action="city.update", entity="city", entity_id=code)
    return await get_city(code)


async def import_cities(
    cities: Iterable[CityIn], catalog: QuestionnaireCatalog, actor: Principal | None = None
) -> tuple[int, int]:
    """Insert new cities and update existing ones (by code); returns (created, updated).

    Nothing is written when any city's margins are refused (paths ``$[n].margins...``).
    """
    created = updated = 0
    batch = list(cities)
    await check_margins(batch, catalog, single=False)
    existing = {row["code"] for row in await CityTable.select(CityTable.code).run()}
    async with CityTable._meta.db.transaction():
        for city in batch:
            if city.code in existing:
                values = {getattr(CityTable, key): value for key, value in _city_values(city).items()}
                await CityTable.update(values).where(CityTable.code == city.code).run()
                updated += 1
            else:
                await CityTable.insert(CityTable(code=city.code, **_city_values(city))).run()
                existing.add(city.code)
                created += 1
    await audit_log.record(
        **_actor(actor),
        action="city.import",
        entity="city",
        entity_id="*",
        detail={"created": created, "updated": updated},
    )
    return created, updated


async def _city_ids(codes: Iterable[str]) -> dict[str, int]:
    wanted = list(set(codes))
    if not wanted:
        return {}
    rows = await CityTable.select(CityTable.id, CityTable.code).where(CityTable.code.is_in(wanted)).run()
    return {row["code"]: row["id"] for row in rows}


def _venue(row: dict[str, object]) -> Venue:
    return Venue(
        id=row["id"],  # type: ignore[arg-type]
        name=row["name"],  # type: ignore[arg-type]
        category=row["category"],  # type: ignore[arg-type]
        city=row["city.code"],  # type: ignore[arg-type]
        address=row["address"],  # type: ignore[arg-type]
        latitude=row["latitude"],  # type: ignore[arg-type]
        longitude=row["longitude"],  # type: ignore[arg-type]
        visit_history=msgspec.convert(_loads(row["visit_history"]) or [], list[Visit]),
    )


def _venue_query():  # type: ignore[no-untyped-def]
    return VenueTable.select(*VenueTable.all_columns(exclude=[VenueTable.city]), VenueTable.city.code)


async def venues_where(ids: Iterable[int] | None = None, cities: Iterable[str] | None = None) -> list[Venue]:
    """Venues by id (``ids``), else in ``cities``, else all; ordered by id."""
    query = _venue_query().order_by(VenueTable.id)
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        query = query.where(VenueTable.id.is_in(wanted))
    elif cities is not None:
        codes = sorted(set(cities))
        if not codes:
            return []
        query = query.where(VenueTable.city.code.is_in(codes))
    return [_venue(row) for row in await query.run()]


async def list_venues(
    city: str | None = None, category: str | None = None, limit: int = 1000, offset: int = 0
) -> list[Venue]:
    query = _venue_query().order_by(VenueTable.id).limit(limit).offset(offset)
    if city:
        query = query.where(VenueTable.city.code == city)
    if category:
        query = query.where(VenueTable.category == category)
    return [_venue(row) for row in await query.run()]


def sees_audits(viewer: Principal | None) -> bool:
    """Whether ``viewer`` may see which audits a venue's visits come from (not the public, not interviewers)."""
    return viewer is not None and viewer.role in (*STAFF_ROLES, "inspector")


def without_audits(venue: Venue) -> Venue:
    """The venue as the public sees it: visit dates and outcomes, without audit ids."""
    return msgspec.structs.replace(
        venue, visit_history=[msgspec.structs.replace(visit, audit="") for visit in venue.visit_history]
    )


async def get_venue(venue_id: int) -> Venue:
    row = await _venue_query().where(VenueTable.id == venue_id).first().run()
    if row is None:
        raise NotFound(f"场所不存在 / venue {venue_id} not found")
    return _venue(row)


async def _venue_values(venue: VenueIn) -> dict[str, object]:
    ids = await _city_ids([venue.city])
    if venue.city not in ids:
        raise InvalidInput(
            "城市不存在 / unknown city", (FieldProblem("$.city", "unknown", f"unknown city {venue.city!r}"),)
        )
    return {
        "name": venue.name,
        "category": venue.category,
        "city": ids[venue.city],
        "address": venue.address,
        "latitude": venue.latitude,
        "longitude": venue.longitude,
    }


async def create_venue(venue: VenueIn, actor: Principal | None = None) -> Venue:
    values = await _venue_values(venue)
    rows = await VenueTable.insert(VenueTable(**values)).returning(VenueTable.id).run()
    venue_id = rows[0]["id"]
    await audit_log.record(**_actor(actor), action="venue.create", entity="venue", entity_id=venue_id)
    return await get_venue(venue_id)


async def update_venue(venue_id: int, venue: VenueIn, actor: Principal | None = None) -> Venue:
    await get_venue(venue_id)
    values = await _venue_values(venue)
    await (
        VenueTable.update({getattr(VenueTable, k): v for k, v in values.items()})
        .where(VenueTable.id == venue_id)
        .run()
    )
    await audit_log.record(**_actor(actor), action="venue.update", entity="venue", entity_id=venue_id)
    return await get_venue(venue_id)


async def import_venues(venues: Sequence[VenueIn], actor: Principal | None = None) -> tuple[int, int]:
    """Insert new venues and update existing ones, all or nothing; returns (created, updated).

    A venue is known by its city, name and address: a row naming an existing one updates its category and
    coordinates. Every city must exist (nothing is written otherwise).
    """
    ids = await _city_ids(venue.city for venue in venues)
    unknown = [
        FieldProblem(f"$[{n}].city", "unknown", f"城市不存在 / unknown city {venue.city!r}")
        for n, venue in enumerate(venues)
        if venue.city not in ids
    ]
    if unknown:
        raise InvalidInput("城市不存在 / unknown cities", tuple(unknown))
    created = updated = 0
    async with write_transaction(VenueTable._meta.db):
        rows = await (
            VenueTable.select(VenueTable.id, VenueTable.city, VenueTable.name, VenueTable.address)
            .where(VenueTable.city.is_in(sorted(set(ids.values())) or [0]))
            .run()
        )
        existing = {(row["city"], row["name"], row["address"]): row["id"] for row in rows}
        for venue in venues:
            values = {
                "name": venue.name,
                "category": venue.category,
                "city": ids[venue.city],
                "address": venue.address,
                "latitude": venue.latitude,
                "longitude": venue.longitude,
            }
            key = (ids[venue.city], venue.name, venue.address)
            if key in existing:
                await (
                    VenueTable.update({getattr(VenueTable, k): v for k, v in values.items()})
                    .where(VenueTable.id == existing[key])
                    .run()
                )
                updated += 1
            else:
                inserted = await VenueTable.insert(VenueTable(**values)).returning(VenueTable.id).run()
                existing[key] = inserted[0]["id"]
                created += 1
    await audit_log.record(
        **_actor(actor),
        action="venue.import",
        entity="venue",
        entity_id="*",
        detail={"created": created, "updated": updated},
    )
    return created, updated


async def venue_keys() -> set[tuple[str, str, str]]:
    """(city code, name, address) of every venue: what makes a venue the same one in an import."""
    rows = await VenueTable.select(VenueTable.city.code, VenueTable.name, VenueTable.address).run()
    return {(row["city.code"], row["name"], row["address"]) for row in rows}


async def existing_venue_ids(ids: Iterable[int]) -> set[int]:
    wanted = list(set(ids))
    if not wanted:
        return set()
    rows = await VenueTable.select(VenueTable.id).where(VenueTable.id.is_in(wanted)).run()
    return {row["id"] for row in rows}


async def existing_city_codes(codes: Iterable[str]) -> set[str]:
    return set(await _city_ids(codes))
