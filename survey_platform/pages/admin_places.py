"""The admin's room, places: the cities (with their weighting margins) and venues, and their import from a CSV or
XLSX file, previewed row by row before anything is written.

An upload is read and checked in full (``places.imports``: every cell, the margins against the registered survey
questionnaires, unknown cities, repeated rows); the preview lists each row with its problems. A file with any
problem writes nothing: the admin fixes it and uploads it again. A clean file is kept for half an hour in the
application's store (memory, or Redis with several processes), bound to the admin who sent it, and written only
when they confirm, all or nothing (``places.service.import_cities`` / ``import_venues``).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.stores.base import Store

from survey_platform.accounts.service import Principal
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.pages.forms import FORM, FormErrors, errors_from, read_form, text, upload
from survey_platform.pages.i18n import translate
from survey_platform.pages.messages import localise
from survey_platform.pages.rendering import language_of, render
from survey_platform.pages.staff import ADMIN_GUARD, SIGNED_IN, link, staff_context
from survey_platform.places.imports import (
    CITY_COLUMNS,
    VENUE_COLUMNS,
    ImportRow,
    Problem,
    city_rows,
    header_problems,
    read_sheet,
    venue_rows,
)
from survey_platform.places.margins import weighting_categories
from survey_platform.places.schemas import CityIn, VenueIn
from survey_platform.places.service import import_cities, import_venues, list_cities, list_venues, venue_keys
from survey_platform.storage.errors import DomainError

MAX_IMPORT_BYTES = 10_000_000
PENDING_SECONDS = 30 * 60
Kind = Literal["cities", "venues"]


class PendingImport(msgspec.Struct):
    """A checked import waiting for the admin's confirmation."""

    kind: str
    account: int
    filename: str
    cities: list[CityIn] = msgspec.field(default_factory=list)
    venues: list[VenueIn] = msgspec.field(default_factory=list)


def _store(request: Request[Any, Any, Any]) -> Store:
    return request.app.stores.get("pending-imports")


def _catalog(request: Request[Any, Any, Any]) -> QuestionnaireCatalog:
    return request.app.state.questionnaires


async def _places_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    *,
    errors: FormErrors | None = None,
    kind: str = "cities",
    done: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    cities = await list_cities()
    venues = await list_venues(limit=5000)
    per_city: dict[str, int] = {}
    for venue in venues:
        per_city[venue.city] = per_city.get(venue.city, 0) + 1
    return render(
        request,
        "admin/places.html",
        status_code=status_code,
        **staff_context(request, principal),
        cities=cities,
        venue_counts=per_city,
        venue_total=len(venues),
        errors=errors or FormErrors(),
        kind=kind,
        done=done or {},
        city_columns=CITY_COLUMNS,
        venue_columns=VENUE_COLUMNS,
    )


@get(
    "/admin/places",
    name="admin_places",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    include_in_schema=False,
)
async def places_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    imported: Annotated[str, Parameter(pattern="^(cities|venues)?$")] = "",
    created: Annotated[int, Parameter(ge=0, le=10**7)] = 0,
    updated: Annotated[int, Parameter(ge=0, le=10**7)] = 0,
) -> Template:
    """Cities and venues, and the import form."""
    done = {"kind": imported, "created": created, "updated": updated} if imported else None
    return await _places_page(request, principal, done=done)


def _problem_text(problem: Problem, language: str) -> str:
    """A problem in the visitor's language, without the column name the preview already shows beside it."""
    message = localise(problem.message, language)
    if problem.column:
        for prefix in (f"{problem.column}: ", f"{problem.column}："):
            message = message.removeprefix(prefix)
    return message


async def _rows(
    request: Request[Any, Any, Any], kind: str, data: bytes
) -> tuple[list[Problem], list[ImportRow[Any]], int]:
    """The file's problems as a whole, its rows, and how many rows would update an existing record."""
    sheet = read_sheet(data)
    problems = [*sheet.problems, *header_problems(kind, sheet.columns)]
    if kind == "cities":
        known = weighting_categories(await _catalog(request).of_kind("survey"))
        rows: list[ImportRow[Any]] = city_rows(sheet, known)
        existing = {city.code for city in await list_cities()}
        updates = sum(1 for row in rows if row.item is not None and row.item.code in existing)
    else:
        cities = {city.code: city for city in await list_cities()}
        rows = venue_rows(sheet, set(cities))
        known_venues = await venue_keys()
        updates = sum(
            1
            for row in rows
            if row.item is not None and (row.item.city, row.item.name, row.item.address) in known_venues
        )
    return problems, rows, updates


@post(
    "/admin/places/import",
    name="admin_places_import",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    request_max_body_size=MAX_IMPORT_BYTES + 100_000,
)
async def import_preview(request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Template:
    """Read an uploaded city or venue file and show every row with its problems; nothing is written."""
    form = await read_form(request)
    kind = text(form, "kind", 10)
    language = language_of(request)
    errors = FormErrors()
    if kind not in ("cities", "venues"):
        errors.add("kind", translate(language, "admin.places.invalid.kind"))
    file = upload(form, "file")
    if file is None:
        errors.add("file", translate(language, "admin.places.invalid.file"))
    if errors or file is None:
        return await _places_page(request, principal, errors=errors, kind=kind or "cities", status_code=422)
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        errors.add("file", translate(language, "admin.places.invalid.size", limit=f"{MAX_IMPORT_BYTES:,}"))
        return await _places_page(request, principal, errors=errors, kind=kind, status_code=413)
    problems, rows, updates = await _rows(request, kind, data)
    clean = not problems and rows and all(row.item is not None for row in rows)
    token = ""
    if clean:
        token = secrets.token_urlsafe(24)
        pending = PendingImport(
            kind=kind,
            account=principal.user_id,
            filename=file.filename[:200],
            cities=[row.item for row in rows] if kind == "cities" else [],
            venues=[row.item for row in rows] if kind == "venues" else [],
        )
        await _store(request).set(token, msgspec.json.encode(pending), expires_in=PENDING_SECONDS)
    return render(
        request,
        "admin/import_preview.html",
        status_code=200 if clean else 422,
        **staff_context(request, principal),
        kind=kind,
        filename=file.filename,
        problems=problems,
        rows=rows,
        columns=CITY_COLUMNS if kind == "cities" else VENUE_COLUMNS,
        bad_rows=sum(1 for row in rows if row.problems),
        updates=updates,
        token=token,
        say=lambda problem: _problem_text(problem, language),
    )


@post(
    "/admin/places/import/confirm",
    name="admin_places_confirm",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def import_confirm(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Response[Any]:
    """Write a previewed import (all or nothing), checked again against the data as it is now."""
    form = await read_form(request)
    token = text(form, "token", 100)
    language = language_of(request)
    raw = await _store(request).get(token) if token else None
    pending = msgspec.json.decode(raw, type=PendingImport) if raw is not None else None
    if pending is None or pending.account != principal.user_id:
        errors = FormErrors()
        errors.add(None, translate(language, "admin.places.expired"))
        return await _places_page(request, principal, errors=errors, status_code=409)
    try:
        if pending.kind == "cities":
            created, updated = await import_cities(pending.cities, _catalog(request), principal)
        else:
            created, updated = await import_venues(pending.venues, principal)
    except DomainError as error:
        errors = errors_from(error, language, ())
        return await _places_page(
            request, principal, errors=errors, kind=pending.kind, status_code=error.status
        )
    await _store(request).delete(token)
    return Redirect(
        link("/admin/places", {"imported": pending.kind, "created": created, "updated": updated}),
        status_code=303,
    )


ROUTES = (places_page, import_preview, import_confirm)

__all__ = ["ROUTES", "Kind"]
