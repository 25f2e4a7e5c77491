"""Public pages of releases (no sign-in), rendered from the frozen release and stored (``page_cache``):

| URL | page |
|---|---|
| ``/releases`` | every release, newest first (superseded ones marked) |
| ``/releases/{release}`` | a release's overview: headline figures, claims, notes, its pages, its correction |
| ``/releases/{release}/rankings?sort=&order=&province=`` | the city rankings (survey releases) |
| ``/releases/{release}/cities/{city}`` | one city |
| ``/releases/{release}/provinces/{province}`` | one province |
| ``/releases/{release}/inspections`` | problem rates and named businesses (inspection releases) |
| ``/releases/{release}/methodology`` | how the numbers were made, the fingerprints and how to verify them |
| ``/releases/{release}/data`` | the open-data files with their column documentation |

An unknown release, city or province (or a page the release's kind has not) is the HTML 404 page; a bad query
parameter the 400 page naming it.
"""

from __future__ import annotations

import math
import urllib.parse
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import FromPath, Parameter

from survey_platform.pages import release_charts as charts
from survey_platform.pages.i18n import translate
from survey_platform.pages.page_cache import ReleasePages, release_pages
from survey_platform.pages.release_views import (
    SORT_DEFAULT_ORDER,
    ReleaseRef,
    bilingual,
    changes_by_city,
    city_name,
    datapackage_docs,
    dimension_ids,
    human_size,
    label,
    node_labels,
    province_names,
    rank_set,
    rank_wording,
    rankings_query,
    short_labels,
    sorted_rows,
    trend_releases,
)
from survey_platform.pages.rendering import language_of, render_to_string
from survey_platform.publishing.charts import ChartError
from survey_platform.publishing.service import StoredRelease, get_release, release_file
from survey_platform.questionnaire.model import Questionnaire
from survey_platform.storage.errors import NotFound

Query = Annotated[str | None, Parameter(max_length=100, required=False)]


def _translator(language: str) -> Any:
    def t(key: str, /, **params: Any) -> str:
        return translate(language, key, **params)

    return t


def _not_found(what: str) -> NotFound:
    return NotFound(f"{what} 不存在 / {what} not found")


async def _known(pages: ReleasePages, code: str) -> None:
    """Refuse an unknown release before anything else (from the release-list snapshot, no query)."""
    if await pages.summary(code) is None:
        raise _not_found(f"release {code}")


def _here(path: str, params: dict[str, str] | None = None) -> str:
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


def _chart(
    pages: ReleasePages, stored: StoredRelease, name: str, language: str, draw: Any, part: str = ""
) -> str:
    """A chart of this release from the cache, drawn now if it is the first time ("" if it cannot be drawn)."""
    key = (stored.meta.release, stored.meta.results_hash, name, language, part)
    try:
        return pages.charts.get(key, draw)
    except ChartError:
        return ""


def _common(stored: StoredRelease, language: str, section: str) -> dict[str, Any]:
    """What every release page's template gets: the release, its results, the page's section, helpers."""
    meta = stored.meta
    t = _translator(language)
    return {
        "release": meta,
        "results": stored.results,
        "section": section,
        "campaign_name": bilingual(meta.campaign_name, language),
        "base": f"/releases/{meta.release}",
        "bi": lambda text: bilingual(text, language),
        "lab": lambda zh, en: label(zh, en, language),
        "rank_text": lambda rank, low, high: rank_wording(rank, low, high, t),
        "rank_set": rank_set,
        "labels": node_labels(stored.results.tree, language),
        "dimensions": dimension_ids(stored.results.tree),
        "human_size": human_size,
        "sep": "：" if language == "zh-CN" else ": ",
    }


async def _render(request: Request[Any, Any, Any], template: str, here: str, **context: Any) -> str:
    return render_to_string(request, template, here=here, **context)


# ------------------------------------------------------------------------------------------------------- pages


@get("/releases", name="releases", include_in_schema=False)
async def releases_index(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Every release, newest first; superseded ones point to their correction."""
    pages = release_pages(request)
    language = language_of(request)
    listed = await pages.releases()

    async def render() -> str:
        return await _render(
            request,
            "public/releases.html",
            "/releases",
            listed=listed,
            bi=lambda text: bilingual(text, language),
        )

    return await pages.page(request, ("releases",), language, render)


@get("/releases/{release:str}", name="release", include_in_schema=False)
async def release_overview(request: Request[Any, Any, Any], release: FromPath[str]) -> Response[bytes]:
    """A release's overview: headline figures with intervals, claims, notes and the way into its pages."""
    pages = release_pages(request)
    language = language_of(request)
    await _known(pages, release)

    async def render() -> str:
        stored = await get_release(release)
        results = stored.results
        claims = {"top": [c for c in results.claims if c.kind == "top"], "bottom": []}
        claims["bottom"] = [c for c in results.claims if c.kind == "bottom"]
        names = {c.city: city_name(c, language) for c in results.cities}
        notes = [n for n in results.notes if n.code != "not_ranked"]
        return await _render(
            request,
            "public/release.html",
            f"/releases/{release}",
            **_common(stored, language, "overview"),
            claims=claims,
            names=names,
            notes=notes,
        )

    return await pages.page(request, ("release", release), language, render)


@get("/releases/{release:str}/rankings", name="release_rankings", include_in_schema=False)
async def rankings_page(
    request: Request[Any, Any, Any],
    release: FromPath[str],
    sort: Query = None,
    order: Query = None,
    province: Query = None,
) -> Response[bytes]:
    """The rankings: scores with intervals, ranks with their sets, tiers, n, change; sortable, by province."""
    pages = release_pages(request)
    language = language_of(request)
    await _known(pages, release)

    async def render() -> str:
        stored = await get_release(release)
        rankings = stored.results.rankings
        if rankings is None:
            raise _not_found(f"rankings of release {release}")
        query = rankings_query(sort, order, province, province_names(rankings.cities))
        t = _translator(language)
        results = stored.results
        changes = changes_by_city(results)
        rows = sorted_rows(rankings.cities, query, language, changes)
        details = {c.city: c for c in results.cities}
        national_nodes = {n.node: n for n in results.national.nodes} if results.national else {}
        return await _render(
            request,
            "public/rankings.html",
            _here(f"/releases/{release}/rankings", query.params()),
            **_common(stored, language, "rankings"),
            rankings=rankings,
            rows=rows,
            details=details,
            national_nodes=national_nodes,
            query=query,
            sort_keys=list(SORT_DEFAULT_ORDER),
            sort_url=lambda key: _here(f"/releases/{release}/rankings", query.toggled(key)),
            provinces=province_names(rankings.cities),
            n_ranked=sum(1 for r in rankings.cities if r.ranked),
            unranked=[r for r in rankings.cities if not r.ranked],
            name=lambda row: city_name(row, language),
            score_chart=_chart(
                pages,
                stored,
                "rankings-scores",
                language,
                lambda: charts.rankings_interval(results, language, t),
            ),
            rank_chart=_chart(
                pages,
                stored,
                "rankings-ranks",
                language,
                lambda: charts.rankings_rank_sets(results, language, t),
            ),
        )

    return await pages.page(request, ("rankings", release, sort, order, province), language, render)


async def _questionnaire(request: Request[Any, Any, Any], stored: StoredRelease) -> Questionnaire | None:
    """The questionnaire version the release was computed from (for question and choice labels), if stored."""
    catalog = request.app.state.questionnaires
    results = stored.results

    async def read() -> Questionnaire | None:
        for version in await catalog.list_versions(results.questionnaire_id):
            if version.version == results.questionnaire_version and version.content_hash == (
                results.questionnaire_hash
            ):
                return await catalog.get(version.id)
        return None

    return await release_pages(request).remember(("questionnaire", stored.meta.release), read)


def _variable_labels(questionnaire: Questionnaire | None, language: str) -> tuple[dict[str, str], dict]:
    """Weighting question id → its label, and (question id, choice code) → the choice's label."""
    if questionnaire is None:
        return {}, {}
    questions: dict[str, str] = {}
    choices: dict[tuple[str, str], str] = {}
    for question_id in questionnaire.weighting_variables():
        question = questionnaire.question(question_id)
        if question.label is not None:
            questions[question_id] = question.label.get(language)
        if question.choices is not None:
            for choice in question.choices.choices:
                choices[(question_id, choice.code)] = choice.label.get(language)
    return questions, choices


async def _trend(
    pages: ReleasePages, stored: StoredRelease, city: str
) -> tuple[list[tuple[str, Any, Any, Any]], list[tuple[str, Any, Any, Any]], list[str]]:
    """The city's and the national figure over the releases of the same questionnaire (oldest first)."""
    meta = stored.meta
    refs = [
        ReleaseRef(r.release, r.campaign, r.questionnaire, r.status, r.created_at)
        for r in await pages.releases()
    ]
    here = ReleaseRef(meta.release, meta.campaign, meta.questionnaire, meta.status, meta.created_at)
    chosen = trend_releases(here, refs)
    labels = short_labels([r.campaign for r in chosen])
    city_points: list[tuple[str, Any, Any, Any]] = []
    national_points: list[tuple[str, Any, Any, Any]] = []
    for ref, name in zip(chosen, labels, strict=True):
        other = stored if ref.release == meta.release else await get_release(ref.release)
        detail = other.results.city(city)
        if detail is not None and detail.score.score is not None:
            city_points.append((name, detail.score.score, detail.score.ci_low, detail.score.ci_high))
        national = other.results.rankings.national if other.results.rankings else None
        if national is not None and national.score is not None:
            national_points.append((name, national.score, national.ci_low, national.ci_high))
    return city_points, national_points, [r.release for r in chosen]


def _trend_rows(
    city: list[tuple[str, Any, Any, Any]], national: list[tuple[str, Any, Any, Any]]
) -> list[Any]:
    """(release label, the city's point or None, the national point or None), in the releases' order."""
    labels = list(dict.fromkeys([p[0] for p in national] + [p[0] for p in city]))
    here, there = {p[0]: p for p in city}, {p[0]: p for p in national}
    return [(name, here.get(name), there.get(name)) for name in labels]


@get("/releases/{release:str}/cities/{city:str}", name="release_city", include_in_schema=False)
async def city_page(
    request: Request[Any, Any, Any], release: FromPath[str], city: FromPath[str]
) -> Response[bytes]:
    """One city: its figures against the national ones, drivers (四分图), rank robustness, sample, trend."""
    pages = release_pages(request)
    language = language_of(request)
    await _known(pages, release)

    async def render() -> str:
        stored = await get_release(release)
        detail = stored.results.city(city)
        if detail is None:
            raise _not_found(f"city {city} in release {release}")
        t = _translator(language)
        results = stored.results
        questionnaire = await _questionnaire(request, stored)
        questions, choices = _variable_labels(questionnaire, language)
        city_points, national_points, trend_codes = await _trend(pages, stored, city)
        name = city_name(detail, language)
        trend_svg = ""
        if len(city_points) >= 2:
            trend_svg = _chart(
                pages,
                stored,
                "city-trend",
                language,
                lambda: charts.trend(city_points, national_points, name, t),
                part=f"{city}:{','.join(trend_codes)}",
            )
        quadrant_svg = ""
        if detail.drivers is not None and detail.drivers.drivers:
            drivers = detail.drivers
            quadrant_svg = _chart(
                pages,
                stored,
                "city-quadrant",
                language,
                lambda: charts.quadrant(drivers, results, language, t),
                part=city,
            )
        diff_svg = _chart(
            pages,
            stored,
            "city-differences",
            language,
            lambda: charts.city_differences(detail, results, language, t),
            part=city,
        )
        labels = node_labels(results.tree, language)
        return await _render(
            request,
            "public/city.html",
            f"/releases/{release}/cities/{city}",
            **_common(stored, language, "rankings"),
            city=detail,
            name=name,
            n_ranked=sum(1 for r in results.rankings.cities if r.ranked) if results.rankings else 0,
            trend_rows=_trend_rows(city_points, national_points),
            trend_chart=trend_svg,
            quadrant_chart=quadrant_svg,
            diff_chart=diff_svg,
            priorities=[labels.get(p, p) for p in (detail.drivers.priorities if detail.drivers else [])],
            question_label=lambda q: questions.get(q, q),
            choice_label=lambda q, c: choices.get((q, c), c),
            notes=[n for n in results.notes if n.city == city and n.code != "not_ranked"],
            province=results.province(detail.province),
        )

    return await pages.page(request, ("city", release, city), language, render)


@get("/releases/{release:str}/provinces/{province:str}", name="release_province", include_in_schema=False)
async def province_page(
    request: Request[Any, Any, Any], release: FromPath[str], province: FromPath[str]
) -> Response[bytes]:
    """One province: its cities, its population-weighted figure with interval, its standing among provinces."""
    pages = release_pages(request)
    language = language_of(request)
    await _known(pages, release)

    async def render() -> str:
        stored = await get_release(release)
        result = stored.results.province(province)
        if result is None:
            raise _not_found(f"province {province} in release {release}")
        t = _translator(language)
        results = stored.results
        rows = [r for r in (results.rankings.cities if results.rankings else []) if r.province == province]
        rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.city))
        return await _render(
            request,
            "public/province.html",
            f"/releases/{release}/provinces/{urllib.parse.quote(province)}",
            **_common(stored, language, "rankings"),
            province=result,
            rows=rows,
            name=lambda row: city_name(row, language),
            n_provinces=len(results.provinces),
            provinces_sorted=sorted(
                results.provinces, key=lambda p: (p.rank is None, p.rank or 0, p.province)
            ),
            national=results.rankings.national if results.rankings else None,
            chart=_chart(
                pages,
                stored,
                "provinces",
                language,
                lambda: charts.provinces(results, language, t, highlight=province),
                part=province,
            ),
        )

    return await pages.page(request, ("province", release, province), language, render)


@get("/releases/{release:str}/inspections", name="release_inspections", include_in_schema=False)
async def inspections_page(request: Request[Any, Any, Any], release: FromPath[str]) -> Response[bytes]:
    """Problem rates by city and venue category with intervals; named businesses, their violations and the law."""
    pages = release_pages(request)
    language = language_of(request)
    await _known(pages, release)

    async def render() -> str:
        stored = await get_release(release)
        inspections = stored.results.inspections
        if inspections is None:
            raise _not_found(f"inspection results of release {release}")
        t = _translator(language)
        city_names = {r.group: label(r.label_zh, r.label_en, language) for r in inspections.by_city} | {
            c.code: label(c.name_zh, c.name_en, language) for c in stored.inputs.cities
        }
        categories = {r.group: label(r.label_zh, r.label_en, language) for r in inspections.by_category}
        return await _render(
            request,
            "public/inspections.html",
            f"/releases/{release}/inspections",
            **_common(stored, language, "inspections"),
            inspections=inspections,
            city_names=city_names,
            categories=categories,
            city_chart=_chart(
                pages,
                stored,
                "problem-rates-city",
                language,
                lambda: charts.problem_rates(
                    inspections.by_city, language, t, title=t("inspections.chart.city")
                ),
            ),
            category_chart=_chart(
                pages,
                stored,
                "problem-rates-category",
                language,
                lambda: charts.problem_rates(
                    inspections.by_category, language, t, title=t("inspections.chart.category")
                ),
            ),
        )

    return await pages.page(request, ("inspections", release), language, render)


@get("/releases/{release:str}/methodology", name="release_methodology", include_in_schema=False)
async def methodology_page(request: Request[Any, Any, Any], release: FromPath[str]) -> Response[bytes]:
    """How the release was computed, generated from its questionnaire, method settings and inputs."""
    pages = release_pages(request)
    language = language_of(request)
    await _known(pages, release)

    async def render() -> str:
        stored = await get_release(release)
        questionnaire = await _questionnaire(request, stored)
        questions, choices = _variable_labels(questionnaire, language)
        cities = {c.code: c for c in stored.inputs.cities}
        return await _render(
            request,
            "public/methodology.html",
            f"/releases/{release}/methodology",
            **_common(stored, language, "methodology"),
            method=stored.inputs.method,
            input_cities=cities,
            questionnaire_title=questionnaire.title.get(language) if questionnaire else "",
            question_label=lambda q: questions.get(q, q),
            choice_label=lambda q, c: choices.get((q, c), c),
            name=lambda c: label(c.name_zh, c.name_en, language),
            rank_coverage_percent=_percent(stored.inputs.method.rank_coverage),
            level_percent=_percent(stored.inputs.method.level),
        )

    return await pages.page(request, ("methodology", release), language, render)


def _percent(value: float) -> str:
    percent = value * 100
    return f"{percent:.0f}" if math.isclose(percent, round(percent)) else f"{percent:g}"


@get("/releases/{release:str}/data", name="release_data", include_in_schema=False)
async def data_page(request: Request[Any, Any, Any], release: FromPath[str]) -> Response[bytes]:
    """The release's open-data files, with every column documented from its ``datapackage.json``."""
    pages = release_pages(request)
    language = language_of(request)
    await _known(pages, release)

    async def render() -> str:
        stored = await get_release(release)

        async def read_descriptor() -> bytes | None:
            try:
                return (await release_file(release, "datapackage.json"))[1]
            except NotFound:
                return None

        descriptor = await pages.remember(("datapackage", release), read_descriptor)
        description, resources = datapackage_docs(descriptor, language) if descriptor else ("", [])
        files = {f.name: f for f in stored.meta.files}
        return await _render(
            request,
            "public/data.html",
            f"/releases/{release}/data",
            **_common(stored, language, "data"),
            files=stored.meta.files,
            by_name=files,
            resources=resources,
            package_description=description,
        )

    return await pages.page(request, ("data", release), language, render)


ROUTES = (
    releases_index,
    release_overview,
    rankings_page,
    city_page,
    province_page,
    inspections_page,
    methodology_page,
    data_page,
)
