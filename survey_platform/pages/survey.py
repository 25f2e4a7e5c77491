"""The citizen survey (public, no account) and its QR codes (admins).

- ``/s/{campaign}/{city}`` (``/s/{campaign}`` for a campaign without cities): the survey page, rendered in the
  browser from the campaign's questionnaire version (``js/survey-page.js``); ``?via=qr`` records channel ``qr``.
  A campaign with cities opened without one lists its cities; a closed or published campaign says it has ended.
- ``/admin/qr/{campaign}.svg``, ``.png`` and ``/admin/qr/{campaign}/poster`` (``?city=CODE``): the link's QR code
  and a printable A4 poster with the campaign's name and the privacy promise.

The page sets no cookie, loads nothing from another host and asks for nothing but the answers.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec
from jinja2 import Environment
from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from markupsafe import Markup

from survey_platform.accounts.guards import require
from survey_platform.campaigns.links import channel_of, survey_path, survey_url
from survey_platform.campaigns.qr import qr_png, qr_svg
from survey_platform.campaigns.recent import RecentReads
from survey_platform.campaigns.schemas import Campaign
from survey_platform.campaigns.service import get_campaign
from survey_platform.pages.i18n import catalog
from survey_platform.pages.rendering import language_of, render
from survey_platform.places.service import get_city, list_cities
from survey_platform.questionnaire import Questionnaire
from survey_platform.storage.errors import NotFound

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
UI_PREFIX = "survey.ui."
SECONDS_PER_ANSWER = (
    7  # the time estimate shown before starting: a matrix row or a question takes about this long
)
PRIVATE = {"Cache-Control": "private, no-cache"}
POSTER_CSS = Path(__file__).resolve().parent / "static" / "css" / "poster.css"
FILE_KINDS: Mapping[str, str] = {"svg": "image/svg+xml", "png": "image/png"}
Via = Annotated[str | None, QueryParameter(max_length=20, description="qr when opened from a printed code")]
CityQuery = Annotated[str | None, QueryParameter(max_length=40, description="a city of the campaign")]


@functools.cache
def ui_strings(language: str) -> dict[str, str]:
    """The interface strings the survey script uses (``survey.ui.*``) in ``language``."""
    return {key: text for key, text in catalog(language).items() if key.startswith(UI_PREFIX)}


_CLIENT_JSON: dict[str, str] = {}


def client_json(questionnaire: Questionnaire) -> str:
    """The questionnaire's client JSON text, encoded once per questionnaire version (versions never change)."""
    found = _CLIENT_JSON.get(questionnaire.content_hash)
    if found is None:
        found = _CLIENT_JSON[questionnaire.content_hash] = msgspec.json.encode(
            questionnaire.to_client_json()
        ).decode()
    return found


def asked_count(questionnaire: Questionnaire) -> int:
    """How many answers a respondent alone gives at most: matrix rows and answerable questions outside the
    interviewer's sections."""
    return sum(
        len(q.items) if q.type == "matrix" else 1
        for section in questionnaire.sections
        if section.filled_by != "interviewer"
        for q in section.questions
        if q.answerable
    )


def minutes_needed(questionnaire: Questionnaire) -> int:
    """The time estimate shown before starting, in whole minutes (at least 1)."""
    return max(1, math.ceil(asked_count(questionnaire) * SECONDS_PER_ANSWER / 60))


def draft_key(campaign: str, city: str | None, questionnaire: Questionnaire) -> str:
    """Where the browser keeps the draft: one per campaign, city and questionnaire version."""
    return f"survey:{campaign}:{city or ''}:{questionnaire.content_hash[:16]}"


def page_data(
    *,
    campaign: Campaign,
    city: str | None,
    channel: str,
    questionnaire: Questionnaire,
    language: str,
) -> Markup:
    """The data block of the survey page: the questionnaire, the interface strings and the fixed fields."""
    rest = {
        "lang": language,
        "strings": ui_strings(language),
        "draft_key": draft_key(campaign.code, city, questionnaire),
        "submit_url": f"/api/v1/campaigns/{campaign.code}/responses",
        "fields": {"city": city, "channel": channel, "questionnaire_version": campaign.questionnaire_version},
    }
    encoded = msgspec.json.encode(rest).decode()
    text = '{"questionnaire":' + client_json(questionnaire) + "," + encoded[1:]
    return Markup(text.replace("<", "\\u003c"))


def _campaign_code(code: str) -> str:
    if not CODE.fullmatch(code):
        raise NotFound(f"活动不存在 / campaign {code[:80]!r} not found")
    return code


async def _survey_campaign(code: str, *, include_drafts: bool) -> Campaign:
    campaign = await get_campaign(_campaign_code(code), include_drafts=include_drafts)
    if campaign.kind != "survey":
        raise NotFound(
            f"活动 {code} 没有问卷页面 / campaign {code!r} has no survey page (it is an inspection)"
        )
    return campaign


def _check_city(campaign: Campaign, city: str | None) -> None:
    if city is not None and city not in campaign.cities:
        raise NotFound(f"城市不在本活动范围内 / city {city[:40]!r} is not in campaign {campaign.code!r}")


def city_name(city: Any, language: str) -> str:
    """A city's name in ``language`` (English falls back to the Chinese name)."""
    return (city.name_en or city.name_zh) if language == "en" else city.name_zh


@get("/s/{campaign:str}", name="survey_campaign", include_in_schema=False)
async def campaign_survey_page(
    request: Request[Any, Any, Any], campaign: FromPath[str], via: Via = None
) -> Template:
    """The survey of a campaign without cities, or the list of its cities."""
    return await survey_page(request, campaign, None, via)


@get("/s/{campaign:str}/{city:str}", name="survey", include_in_schema=False)
async def city_survey_page(
    request: Request[Any, Any, Any], campaign: FromPath[str], city: FromPath[str], via: Via = None
) -> Template:
    """The survey of a campaign for one of its cities."""
    return await survey_page(request, campaign, city, via)


async def survey_page(
    request: Request[Any, Any, Any], campaign: str, city: str | None, via: str | None
) -> Template:
    """The survey of ``campaign`` for ``city``: the questions (open), the city list (no city given), or the end."""
    cache: RecentReads = request.app.state.recent
    found = await cache.get(("campaign", campaign), lambda: _survey_campaign(campaign, include_drafts=False))
    _check_city(found, city)
    language = language_of(request)
    if found.status != "open":
        return render(request, "survey/ended.html", campaign=found)
    if found.cities and city is None:
        cities = sorted((c for c in await list_cities() if c.code in found.cities), key=lambda c: c.code)
        links = [(city_name(c, language), survey_path(found.code, c.code)) for c in cities]
        return render(
            request, "survey/cities.html", campaign=found, links=links, via=via if via == "qr" else None
        )
    place = await cache.get(("city", city), lambda: get_city(city)) if city is not None else None
    questionnaire = await request.app.state.questionnaires.get(found.questionnaire_version)
    return render(
        request,
        "survey/survey.html",
        campaign=found,
        city_label=city_name(place, language) if place is not None else "",
        minutes=minutes_needed(questionnaire),
        data=page_data(
            campaign=found,
            city=city,
            channel=channel_of(via),
            questionnaire=questionnaire,
            language=language,
        ),
    )


# -- QR codes and posters (admins) -------------------------------------------------------------------------------


def base_url(request: Request[Any, Any, Any]) -> str:
    """The public address for printed links: ``SURVEY_PUBLIC_URL``, else the address this request came to."""
    configured: str = request.app.state.settings.public_url
    return configured or str(request.base_url).rstrip("/")


async def _printed(
    request: Request[Any, Any, Any], code: str, city: str | None
) -> tuple[Campaign, str | None]:
    found = await _survey_campaign(code, include_drafts=True)
    _check_city(found, city)
    return found, city


@get("/admin/qr/{name:str}", name="qr_code", guards=[require("admin")], include_in_schema=False)
async def qr_file(
    request: Request[Any, Any, Any], name: FromPath[str], city: CityQuery = None
) -> Response[bytes]:
    """``{campaign}.svg`` or ``{campaign}.png``: the QR code of the survey link (with ``?via=qr``)."""
    code, _, kind = name.rpartition(".")
    if kind not in FILE_KINDS or not code:
        raise NotFound(f"没有此文件 / no such file {name[:90]!r}: expected CAMPAIGN.svg or CAMPAIGN.png")
    found, city = await _printed(request, code, city)
    url = survey_url(base_url(request), found.code, city)
    body = qr_svg(url, title=found.name).encode() if kind == "svg" else qr_png(url)
    filename = f"{found.code}{'-' + city if city else ''}.{kind}"
    return Response(
        body,
        media_type=FILE_KINDS[kind],
        headers={**PRIVATE, "Content-Disposition": f'inline; filename="{filename}"'},
    )


def poster_context(campaign: Campaign, city_label: str, base: str, city: str | None) -> dict[str, Any]:
    """What the poster template shows: the name, the place, the code (inline SVG) and the link to type."""
    return {
        "campaign": campaign,
        "city_label": city_label,
        "qr": Markup(qr_svg(survey_url(base, campaign.code, city), title=campaign.name, inline=True)),
        "typed_url": survey_url(base, campaign.code, city, via_qr=False),
    }


@get("/admin/qr/{campaign:str}/poster", name="qr_poster", guards=[require("admin")], include_in_schema=False)
async def qr_poster(
    request: Request[Any, Any, Any], campaign: FromPath[str], city: CityQuery = None
) -> Template:
    """A printable A4 poster (print it from the browser): the campaign, the code and the privacy promise."""
    found, city = await _printed(request, campaign, city)
    place = await get_city(city) if city is not None else None
    context = poster_context(found, place.name_zh if place is not None else "", base_url(request), city)
    template = render(request, "survey/poster.html", standalone=False, lang="zh-CN", **context)
    template.headers.update({**PRIVATE, "Content-Language": "zh-CN, en"})
    return template


def standalone_poster(environment: Environment, context: dict[str, Any]) -> str:
    """The poster as one self-contained HTML file (stylesheet inside) for ``survey-platform qr``."""
    return environment.get_template("survey/poster.html").render(
        lang="zh-CN", standalone=True, poster_css=Markup(POSTER_CSS.read_text(encoding="utf-8")), **context
    )


ROUTES = (campaign_survey_page, city_survey_page, qr_file, qr_poster)
