"""The release pages of the demo in Chromium at phone size, in both languages: home, rankings (sorted and
filtered), a city, a province, the inspections, the methodology and the open data; axe-core clean, nothing
requested from another host, no Content Security Policy violation; the rankings print as readable A4."""

from __future__ import annotations

import io
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import Watch, check_accessible, has_no_horizontal_scroll, screenshot, watch_page
from service_helpers import LiveServer

from survey_platform.settings import Settings

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
SURVEY = "city-satisfaction-2025-r1"
PREVIOUS = "city-satisfaction-2024-r1"
INSPECTION = "qr-inspection-2025-r1"
LANGUAGES = ("zh-CN", "en")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server over a small demo (12 cities × 80 interviews, ranked from 60), loaded by the CLI."""
    settings = Settings.from_env({}, data_dir=tmp_path_factory.mktemp("demo") / "data")
    server = LiveServer(settings, env={"QUESTIONNAIRES_DIR": str(QUESTIONNAIRES)})
    server.cli("demo", "--cities", "12", "--per-city", "80", "--min-sample", "60")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api(demo_server: LiveServer) -> dict[str, Any]:
    """What the JSON API says about the demo's releases (the pages must agree with it)."""
    with httpx.Client(base_url=demo_server.url, timeout=30) as client:
        return {
            "rankings": client.get(f"/api/v1/releases/{SURVEY}/rankings").json(),
            "inspections": client.get(f"/api/v1/releases/{INSPECTION}/inspections").json(),
        }


def _open(phone: Any, server: LiveServer, language: str) -> Watch:
    phone.add_cookies([{"name": "lang", "value": language, "url": server.url}])
    return watch_page(phone, server.url, guard_routes=True)


@pytest.fixture(params=LANGUAGES)
def watched_demo(request: pytest.FixtureRequest, phone: Any, demo_server: LiveServer) -> Iterator[Watch]:
    watch = _open(phone, demo_server, request.param)
    watch.language = request.param  # type: ignore[attr-defined]
    yield watch
    watch.assert_clean()


def _language(watch: Watch) -> str:
    """The language the test asked for (the page's own ``<html lang>`` is checked in ``_checked``)."""
    return watch.language  # type: ignore[attr-defined]


def _checked(watch: Watch, name: str) -> None:
    page = watch.page
    assert page.locator("html").get_attribute("lang") == _language(watch)
    assert has_no_horizontal_scroll(page), f"{name}: the page scrolls sideways at 360 px"
    check_accessible(page)
    screenshot(page, f"{name}-{_language(watch)}")


def test_home_shows_the_current_releases_with_their_headline(watched_demo: Watch, api: dict) -> None:
    page = watched_demo.page
    english = _language(watched_demo) == "en"
    response = page.goto(watched_demo.url("/"))
    assert response is not None and response.status == 200
    card = page.locator('[data-release-slot="city-satisfaction-2025"]')
    national = api["rankings"]["national"]
    text = card.inner_text()
    assert f"{national['score']:.1f}" in text
    assert f"{national['ci_low']:.1f}–{national['ci_high']:.1f}" in text
    assert ("Change since the previous release" if english else "较上期") in text
    assert "29.5%" in page.locator('[data-release-slot="qr-inspection-2025"]').inner_text()
    _checked(watched_demo, "release-home")
    card.get_by_role("link", name="City rankings" if english else "城市排名").click()
    page.wait_for_url(re.compile(f"/releases/{SURVEY}/rankings$"))


def _row_scores(page: Any) -> list[float]:
    cells = page.locator("table.rankings tbody tr td.number .score").all_inner_texts()
    return [float(c) for c in cells]


def test_rankings_sorted_and_filtered_without_javascript_help(watched_demo: Watch, api: dict) -> None:
    page = watched_demo.page
    english = _language(watched_demo) == "en"
    page.goto(watched_demo.url(f"/releases/{SURVEY}/rankings"))
    assert page.locator("h1").inner_text() == ("City rankings" if english else "城市排名")
    cities = api["rankings"]["cities"]
    first = cities[0]
    rank_cell = page.locator("table.rankings tbody tr").first.locator("td.rank").inner_text()
    expected = (
        f"rank 1 (plausible {first['rank_low']}–{first['rank_high']})"
        if english
        else f"第 1 名（可能为第 {first['rank_low']}–{first['rank_high']} 名）"
    )
    assert rank_cell == expected, "a rank is never written without its set"
    assert _row_scores(page) == sorted(_row_scores(page), reverse=True)
    _checked(watched_demo, "release-rankings")

    score_header = page.locator("table.rankings thead th", has_text="Score" if english else "得分").first
    score_header.get_by_role("link").click()  # by score, best first
    page.wait_for_url(re.compile(r"sort=score"))
    page.locator("table.rankings thead th", has_text="Score" if english else "得分").first.get_by_role(
        "link"
    ).click()  # the same column again: lowest first
    page.wait_for_url(re.compile(r"order=asc"))
    scores = _row_scores(page)
    assert scores == sorted(scores) and len(scores) == len(cities)
    assert page.locator("th[aria-sort='ascending']").count() == 1

    province = max({c["province"] for c in cities}, key=lambda p: sum(c["province"] == p for c in cities))
    page.get_by_label("Filter by province" if english else "按省份筛选").select_option(province)
    page.get_by_role("button", name="Apply" if english else "筛选").click()
    page.wait_for_url(re.compile("province="))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query["province"] == [province] and query["sort"] == ["score"] and query["order"] == ["asc"]
    shown = page.locator("table.rankings tbody tr")
    in_province = [c for c in cities if c["province"] == province]
    assert shown.count() == len(in_province)
    names = {c["name_en"] if english else c["name_zh"] for c in in_province}
    assert set(shown.locator("th").all_inner_texts()) == names
    _checked(watched_demo, "release-rankings-filtered")


def test_city_page(watched_demo: Watch, api: dict) -> None:
    page = watched_demo.page
    english = _language(watched_demo) == "en"
    city = api["rankings"]["cities"][3]
    page.goto(watched_demo.url(f"/releases/{SURVEY}/cities/{city['city']}"))
    assert page.locator("h1").inner_text() == (city["name_en"] if english else city["name_zh"])
    body = page.locator("main").inner_text()
    assert (f"plausible {city['rank_low']}–{city['rank_high']}" if english else "可能为第") in body
    assert page.locator("svg.chart").count() >= 3  # differences, quadrant, trend
    assert page.locator("svg[role='img'] title").count() >= 3
    trend = page.locator("table", has=page.locator("caption", has_text="release" if english else "历次发布"))
    assert trend.locator("tbody tr").count() == 2, "this year's release and last year's"
    verdicts = page.locator(".verdict").all_inner_texts()
    assert verdicts, "every node has a verdict against the national figure"
    _checked(watched_demo, "release-city")


def test_province_page(watched_demo: Watch, api: dict) -> None:
    page = watched_demo.page
    city = api["rankings"]["cities"][0]
    page.goto(watched_demo.url(f"/releases/{SURVEY}/provinces/{urllib.parse.quote(city['province'])}"))
    assert page.locator("h1").inner_text() == city["province"]
    assert page.locator("tr.current a[aria-current='page']").inner_text() == city["province"]
    assert page.locator("svg.chart").count() == 1
    _checked(watched_demo, "release-province")


def test_inspections_page(watched_demo: Watch, api: dict) -> None:
    page = watched_demo.page
    english = _language(watched_demo) == "en"
    page.goto(watched_demo.url(f"/releases/{INSPECTION}/inspections"))
    named = api["inspections"]["named"]
    assert page.locator("ol.named > li").count() == len(named)
    first = page.locator("ol.named > li").first
    assert first.locator("h3").inner_text() == named[0]["venue_name"]
    law = named[0]["failed"][0]["legal_basis"][0]
    assert (law["law_en"] if english else law["law_zh"]) in first.inner_text()
    assert page.locator("svg.chart").count() == 2  # by city, by venue category
    _checked(watched_demo, "release-inspections")


def test_methodology_page(watched_demo: Watch) -> None:
    page = watched_demo.page
    page.goto(watched_demo.url(f"/releases/{SURVEY}/methodology"))
    body = page.locator("main").inner_text()
    assert f"survey-platform release verify {SURVEY}" in body
    assert "Mogstad" in body and "calibrate" in body and "svyby" in body
    assert page.locator("table.tree tbody tr").count() > 40  # root, dimensions, indicators, items
    _checked(watched_demo, "release-methodology")


def test_open_data_page(watched_demo: Watch) -> None:
    page = watched_demo.page
    english = _language(watched_demo) == "en"
    page.goto(watched_demo.url(f"/releases/{SURVEY}/data"))
    link = page.get_by_role("link", name="cities.csv").first
    assert link.get_attribute("href") == f"/api/v1/releases/{SURVEY}/files/cities.csv"
    described = page.locator("section.resource", has=page.locator("h3", has_text="cities.csv"))
    text = described.inner_text()
    assert ("lower bound of the confidence interval" if english else "置信区间下限") in text
    _checked(watched_demo, "release-data")


def test_a_superseded_release_is_still_readable_and_the_previous_year_is_linked(
    watched_demo: Watch,
) -> None:
    page = watched_demo.page
    response = page.goto(watched_demo.url(f"/releases/{PREVIOUS}/rankings"))
    assert response is not None and response.status == 200
    assert page.locator(".banner--superseded").count() == 0  # last year's release is current for its campaign
    missing = page.goto(watched_demo.url("/releases/no-such-release/rankings"))
    assert missing is not None and missing.status == 404
    assert page.locator("html").get_attribute("lang") == _language(watched_demo)


@pytest.mark.parametrize("language", LANGUAGES)
def test_rankings_print_as_readable_a4(phone: Any, demo_server: LiveServer, language: str, api: dict) -> None:
    from pypdf import PdfReader

    watch = _open(phone, demo_server, language)
    page = watch.page
    page.goto(watch.url(f"/releases/{SURVEY}/rankings"))
    pdf = page.pdf(format="A4", print_background=False)
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 12
    for sheet in reader.pages:
        width, height = float(sheet.mediabox.width), float(sheet.mediabox.height)
        assert abs(width - 595.28) < 1 and abs(height - 841.89) < 1, (width, height)  # A4 in points
    text = "".join(sheet.extract_text() for sheet in reader.pages)
    compact = re.sub(r"\s+", "", text)
    title = "Cityrankings" if language == "en" else "城市排名"
    assert title in compact
    for city in api["rankings"]["cities"]:
        name = city["name_en"] if language == "en" else city["name_zh"]
        assert re.sub(r"\s+", "", name) in compact, f"{name} is missing from the printed rankings"
    (Path(__file__).resolve().parent / "screenshots").mkdir(exist_ok=True)
    (Path(__file__).resolve().parent / "screenshots" / f"release-rankings-{language}.pdf").write_bytes(pdf)
    watch.assert_clean()
