"""Public pages (no sign-in): the home page, the privacy note and the language switch. The release pages are in
``pages/releases.py``."""

from __future__ import annotations

import dataclasses
import datetime
import urllib.parse
from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.params import FromQuery, Parameter, QueryParameter
from litestar.response import Redirect, Template

from survey_platform.campaigns.schemas import Campaign
from survey_platform.campaigns.service import list_campaigns
from survey_platform.pages.i18n import LANG_COOKIE, LANG_COOKIE_MAX_AGE, LANGUAGES, normalise_language
from survey_platform.pages.page_cache import ReleasePages, release_pages
from survey_platform.pages.release_views import bilingual
from survey_platform.pages.rendering import language_of, render
from survey_platform.publishing.service import ReleaseSummary, get_release

#: the order in which the home page lists public campaigns: results first, then the ones collecting answers
HOME_ORDER: tuple[str, ...] = ("published", "open", "closed")


def campaigns_by_status(campaigns: Sequence[Campaign]) -> list[tuple[str, list[Campaign]]]:
    """Public campaigns grouped by status in :data:`HOME_ORDER`; empty groups left out, order within kept."""
    groups = [(status, [c for c in campaigns if c.status == status]) for status in HOME_ORDER]
    return [(status, members) for status, members in groups if members]


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site (no scheme, no host, no ``//`` or ``\\``), else ``"/"``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x20 or c == "\\" for c in target):
        return "/"
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


@dataclasses.dataclass(frozen=True, slots=True)
class Headline:
    """A campaign's current release on the home page: the national figure (survey) or the overall problem rate
    (inspection) with its interval, and the change of the national figure since the previous release."""

    release: str
    kind: str
    created_at: datetime.datetime
    score: float | None
    low: float | None
    high: float | None
    change: float | None = None
    change_significant: bool = False


def current_releases(releases: Sequence[ReleaseSummary]) -> dict[str, ReleaseSummary]:
    """Campaign code → its current (not superseded) release, the newest if there were several."""
    latest: dict[str, ReleaseSummary] = {}
    for release in releases:  # newest first
        if release.status == "current" and release.campaign not in latest:
            latest[release.campaign] = release
    return latest


def newest_release_first(campaigns: Sequence[Campaign], headlines: dict[str, Headline]) -> list[Campaign]:
    """Campaigns with a release, newest release first (this year's results before last year's), then the others
    in their order."""
    released = sorted(
        (c for c in campaigns if c.code in headlines),
        key=lambda c: headlines[c.code].created_at,
        reverse=True,
    )
    return released + [c for c in campaigns if c.code not in headlines]


async def _headline(pages: ReleasePages, summary: ReleaseSummary) -> Headline:
    async def read() -> Headline:
        results = (await get_release(summary.release)).results
        if results.rankings is not None:
            national, change = (
                results.rankings.national,
                results.national.change if results.national else None,
            )
            return Headline(
                summary.release, "survey", summary.created_at, national.score, national.ci_low, national.ci_high,
                change.difference if change else None, bool(change and change.significant),
            )  # fmt: skip
        overall = results.inspections.overall if results.inspections else None
        return Headline(
            summary.release, "inspection", summary.created_at,
            overall.rate if overall else None, overall.ci_low if overall else None,
            overall.ci_high if overall else None,
        )  # fmt: skip

    return await pages.remember(("headline", summary.release), read)


@get("/", name="home", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    """The platform's purpose, its public campaigns by status (drafts are never public) and, for each, the
    headline of its current release."""
    campaigns = await list_campaigns(include_drafts=False)
    pages = release_pages(request)
    current = current_releases(await pages.releases())
    headlines = {c.code: await _headline(pages, current[c.code]) for c in campaigns if c.code in current}
    language = language_of(request)
    groups = [
        (status, newest_release_first(members, headlines))
        for status, members in campaigns_by_status(campaigns)
    ]
    return render(
        request,
        "home.html",
        groups=groups,
        headlines=headlines,
        bi=lambda text: bilingual(text, language),
    )


@get("/privacy", name="privacy", include_in_schema=False)
async def privacy(request: Request[Any, Any, Any]) -> Template:
    """What the platform stores about a visitor, and why."""
    return render(request, "privacy.html")


@get("/lang", name="set_language", include_in_schema=False)
async def set_language(
    request: Request[Any, Any, Any],
    to: FromQuery[Annotated[str, Parameter(max_length=20, description="zh-CN or en")]],
    next_: Annotated[str, QueryParameter(name="next", max_length=2000)] = "/",
) -> Response[Any]:
    """The language switch: remember ``to`` in the ``lang`` cookie and go back to ``next``."""
    language = normalise_language(to)
    if to.lower() != language.lower():
        raise HTTPException(
            status_code=400,
            detail=f"不支持的语言 / unsupported language {to!r}: expected one of {', '.join(LANGUAGES)}",
        )
    cookie = Cookie(
        key=LANG_COOKIE,
        value=language,
        max_age=LANG_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies(request.url.scheme),
    )
    return Redirect(safe_next(next_), status_code=303, cookies=[cookie])


ROUTES = (home, privacy, set_language)
