"""The admin's room, campaigns: create from a registered questionnaire (cities or venues, minimum sample, period),
edit a draft, open, close, publish a release, assign field staff and reviewers, the QR codes, and field progress
refreshing by itself (``js/progress.js`` polls ``GET /api/v1/campaigns/{code}/progress``).

Admins only. The pages call the services the API calls (``campaigns.service``, ``campaigns.assignments``,
``campaigns.progress``, ``publishing.service``); their errors appear beside the field they name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Redirect, Template

from scoring.sample_size import DEFAULT_MIN_SAMPLE
from survey_platform.accounts.roles import ASSIGNABLE_ROLES
from survey_platform.accounts.service import Principal, list_accounts
from survey_platform.campaigns import assignments
from survey_platform.campaigns.controller import transition_now
from survey_platform.campaigns.progress import campaign_progress
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import Campaign, CampaignChange, CampaignIn
from survey_platform.campaigns.service import create_campaign, get_campaign, list_campaigns, update_campaign
from survey_platform.pages.forms import FORM, FormErrors, convert_form, errors_from, read_form, text, texts
from survey_platform.pages.i18n import translate
from survey_platform.pages.rendering import language_of, render
from survey_platform.pages.staff import ADMIN_GUARD, SIGNED_IN, link, staff_context
from survey_platform.places.service import list_cities, list_venues
from survey_platform.publishing.model import MethodSettings
from survey_platform.publishing.service import list_releases, publish
from survey_platform.storage.errors import DomainError

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
CAMPAIGN_FIELDS = (
    "code",
    "name",
    "questionnaire_version",
    "cities",
    "venues",
    "min_sample_per_city",
    "starts_on",
    "ends_on",
    "method",
)
#: the release method settings the campaign form shows (the others are declared through the API or the command line)
METHOD_FIELDS: dict[str, int] = {"city_weighting": 40, "sales_share": 20}  # name → longest value read
#: the QR codes of a survey campaign, served by the citizen survey's admin routes
QR_LINKS: tuple[tuple[str, str], ...] = (
    ("admin.qr.svg", "/admin/qr/{code}.svg"),
    ("admin.qr.png", "/admin/qr/{code}.png"),
    ("admin.qr.poster", "/admin/qr/{code}/poster"),
)


def _catalog(request: Request[Any, Any, Any]) -> QuestionnaireCatalog:
    return request.app.state.questionnaires


@get("/admin", name="admin", guards=[ADMIN_GUARD], dependencies=SIGNED_IN, include_in_schema=False)
async def admin_home(request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Template:
    """Every campaign with its status and what can be done with it."""
    campaigns = await list_campaigns(include_drafts=True)
    return render(request, "admin/index.html", **staff_context(request, principal), campaigns=campaigns)


def _field_messages(language: str) -> dict[str, str]:
    """What each campaign field expects, for a value that does not fit."""
    return {name: translate(language, f"admin.campaign.invalid.{name}") for name in CAMPAIGN_FIELDS}


def _form_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": text(form, "code", 200),
        "name": text(form, "name", 400),
        "questionnaire_version": text(form, "questionnaire_version", 20),
        "cities": texts(form, "cities"),
        "venues": texts(form, "venues"),
        "min_sample_per_city": text(form, "min_sample_per_city", 20),
        "starts_on": text(form, "starts_on", 20),
        "ends_on": text(form, "ends_on", 20),
    }
    method = {name: text(form, name, longest) for name, longest in METHOD_FIELDS.items()}
    values["method"] = {key: value for key, value in method.items() if value}
    return {key: value for key, value in values.items() if value not in ("", None)}


async def _campaign_form(
    request: Request[Any, Any, Any],
    principal: Principal,
    *,
    values: Mapping[str, Any],
    campaign: Campaign | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Template:
    versions = await _catalog(request).list_versions()
    cities = await list_cities()
    venues = await list_venues(limit=5000)
    provinces: dict[str, list[Any]] = {}
    for city in cities:
        provinces.setdefault(city.province, []).append(city)
    venues_by_city: dict[str, list[Any]] = {}
    for venue in venues:
        venues_by_city.setdefault(venue.city, []).append(venue)
    return render(
        request,
        "admin/campaign_form.html",
        status_code=status_code,
        **staff_context(request, principal),
        campaign=campaign,
        values=values,
        chosen_cities=set(values.get("cities", [])),
        chosen_venues={str(v) for v in values.get("venues", [])},
        versions=sorted(versions, key=lambda v: (v.kind, v.questionnaire_id, -v.revision)),
        provinces=sorted(provinces.items()),
        venues_by_city=sorted(venues_by_city.items()),
        city_names={city.code: city.name_zh for city in cities},
        errors=errors or FormErrors(),
    )


@get(
    "/admin/new-campaign",
    name="admin_campaign_new",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    include_in_schema=False,
)
async def new_campaign(request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Template:
    """The form for a new campaign (a draft until it is opened)."""
    return await _campaign_form(request, principal, values={"min_sample_per_city": str(DEFAULT_MIN_SAMPLE)})


@post(
    "/admin/new-campaign",
    name="admin_campaign_create",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def create_campaign_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Response[Any]:
    form = await read_form(request)
    values = _form_values(form)
    language = language_of(request)
    data, errors = convert_form(values, CampaignIn, _field_messages(language))
    if data is not None:
        try:
            created = await create_campaign(data, principal)
        except DomainError as error:
            errors = errors_from(error, language, CAMPAIGN_FIELDS)
        else:
            return Redirect(link(f"/admin/campaigns/{created.code}", {"done": "created"}), status_code=303)
    return await _campaign_form(request, principal, values=values, errors=errors, status_code=422)


@get(
    "/admin/campaigns/{code:str}/edit",
    name="admin_campaign_edit",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    include_in_schema=False,
)
async def edit_campaign(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], code: Annotated[str, CODE]
) -> Template:
    """The same form for a draft campaign."""
    campaign = await get_campaign(code)
    values = {
        "code": campaign.code,
        "name": campaign.name,
        "questionnaire_version": str(campaign.questionnaire_version),
        "cities": campaign.cities,
        "venues": [str(v) for v in campaign.venues],
        "min_sample_per_city": str(campaign.min_sample_per_city),
        "starts_on": campaign.starts_on.isoformat() if campaign.starts_on else "",
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else "",
        "method": {
            key: str(value)
            for key, value in msgspec.to_builtins(campaign.method).items()
            if key in METHOD_FIELDS
        },
    }
    return await _campaign_form(request, principal, values=values, campaign=campaign)


@post(
    "/admin/campaigns/{code:str}/edit",
    name="admin_campaign_update",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def update_campaign_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], code: Annotated[str, CODE]
) -> Response[Any]:
    campaign = await get_campaign(code)
    form = await read_form(request)
    values = {**_form_values(form), "code": code}
    language = language_of(request)
    change_values = {k: v for k, v in values.items() if k != "code"}
    change_values.setdefault("cities", [])
    change_values.setdefault("venues", [])
    # the form's settings as sent (an emptied one goes back to the default); the others stay as they are
    declared = {k: v for k, v in msgspec.to_builtins(campaign.method).items() if k not in METHOD_FIELDS}
    change_values["method"] = {**declared, **change_values.get("method", {})}
    data, errors = convert_form(change_values, CampaignChange, _field_messages(language))
    if data is not None:
        try:
            await update_campaign(code, data, principal)
        except DomainError as error:
            errors = errors_from(error, language, CAMPAIGN_FIELDS)
        else:
            return Redirect(link(f"/admin/campaigns/{code}", {"done": "updated"}), status_code=303)
    return await _campaign_form(
        request, principal, values=values, campaign=campaign, errors=errors, status_code=422
    )


async def _campaign_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    code: str,
    *,
    errors: FormErrors | None = None,
    done: str = "",
    status_code: int = 200,
) -> Template:
    campaign = await get_campaign(code)
    accounts = await list_accounts()
    roles = ASSIGNABLE_ROLES.get(campaign.kind, ())
    assigned = {role: set(await assignments.assigned(code, role)) for role in roles}
    return render(
        request,
        "admin/campaign.html",
        status_code=status_code,
        **staff_context(request, principal),
        campaign=campaign,
        default_method=MethodSettings(),
        releases=await list_releases(campaign=code),
        roles=roles,
        people={
            role: [a for a in accounts if a.role == role and (a.active or a.id in assigned[role])]
            for role in roles
        },
        assigned=assigned,
        qr_links=[(key, path.format(code=code)) for key, path in QR_LINKS]
        if campaign.kind == "survey"
        else [],
        errors=errors or FormErrors(),
        done=done,
    )


@get(
    "/admin/campaigns/{code:str}",
    name="admin_campaign",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    include_in_schema=False,
)
async def campaign_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    code: Annotated[str, CODE],
    done: Annotated[str, Parameter(max_length=20)] = "",
) -> Template:
    """One campaign: status and its next step, scope, people, releases, QR codes, progress."""
    return await _campaign_page(request, principal, code, done=done)


@post(
    "/admin/campaigns/{code:str}/status",
    name="admin_campaign_status",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def change_status(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], code: Annotated[str, CODE]
) -> Response[Any]:
    """Open a draft or close an open campaign."""
    form = await read_form(request)
    action = text(form, "action", 20)
    try:
        await transition_now(request, code, action, principal)
    except DomainError as error:
        if error.status == 404:
            raise
        errors = errors_from(error, language_of(request), ())
        return await _campaign_page(request, principal, code, errors=errors, status_code=error.status)
    return Redirect(link(f"/admin/campaigns/{code}", {"done": action}), status_code=303)


@post(
    "/admin/campaigns/{code:str}/publish",
    name="admin_campaign_publish",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def publish_campaign(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], code: Annotated[str, CODE]
) -> Response[Any]:
    """Publish a release of a closed campaign (or a correction of a published one)."""
    form = await read_form(request)
    try:
        await publish(code, _catalog(request), note=text(form, "note"), actor=principal)
    except DomainError as error:
        if error.status == 404:
            raise
        errors = errors_from(error, language_of(request), ("note",))
        return await _campaign_page(request, principal, code, errors=errors, status_code=error.status)
    return Redirect(link(f"/admin/campaigns/{code}", {"done": "published"}) + "#releases", status_code=303)


@post(
    "/admin/campaigns/{code:str}/assignments",
    name="admin_campaign_assign",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def assign_people(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], code: Annotated[str, CODE]
) -> Response[Any]:
    """Replace the campaign's accounts in one role with the ticked ones."""
    form = await read_form(request)
    role = text(form, "role", 20)
    ids = [int(value) for value in texts(form, "account") if value.isdigit() and len(value) < 10]
    try:
        await assignments.assign(code, role, ids, principal)
    except DomainError as error:
        if error.status == 404:
            raise
        errors = errors_from(error, language_of(request), ())
        return await _campaign_page(request, principal, code, errors=errors, status_code=error.status)
    return Redirect(link(f"/admin/campaigns/{code}", {"done": "assigned"}) + "#people", status_code=303)


@get(
    "/admin/campaigns/{code:str}/progress",
    name="admin_progress",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    include_in_schema=False,
)
async def progress_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], code: Annotated[str, CODE]
) -> Template:
    """Field progress, refreshing by itself every few seconds."""
    progress = await campaign_progress(code, request.app.state.quality)
    return render(
        request,
        "admin/progress.html",
        **staff_context(request, principal),
        progress=progress,
        api=f"/api/v1/campaigns/{code}/progress",
    )


ROUTES = (
    admin_home,
    new_campaign,
    create_campaign_page,
    edit_campaign,
    update_campaign_page,
    campaign_page,
    change_status,
    publish_campaign,
    assign_people,
    progress_page,
)
