"""The release pages' content over a release made through the real API (cities, a campaign, citizens' answers,
close, publish, a correction), on SQLite and PostgreSQL: honest wording, unranked cities with their reason,
escaping of what people typed, the superseded banner and the correction's changelog, sorting and filtering,
404 and 400 pages, stored pages and charts drawn once."""

from __future__ import annotations

import dataclasses
import html
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import headers_for

from survey_platform.app import create_app
from survey_platform.pages.page_cache import ReleasePages
from survey_platform.publishing.synthetic import national_campaign
from survey_platform.questionnaire.load import load_questionnaire
from survey_platform.settings import Settings

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
CAMPAIGN_NAME = '城市测评 <script>window.__x=1</script> & "2026"'
CITY_NAME = "甲<b>市</b>"
NOTE = "<img src=x onerror=alert(1)> 更正人口"
SIZES = (26, 24, 9)  # interviews per city; the campaign ranks cities with at least 20
MIN_SAMPLE = 20


@pytest.fixture
def release_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, questionnaires_dir=QUESTIONNAIRES, anon_responses_per_hour=0, rate_limit_per_minute=0
    )


async def _publish_campaign(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    """Three cities, a campaign, citizens' answers (26, 24 and 9), closed and published through the API."""
    admin = await headers_for(client, "admin")
    survey = load_questionnaire(QUESTIONNAIRES / "city_satisfaction.yaml").questionnaire
    assert survey is not None
    demo = national_campaign(7, 3, max(SIZES), survey=survey, previous=False, bad_interviews=False)
    cities = []
    for index, city in enumerate(demo.cities):
        body = {
            "code": city.code,
            "name_zh": CITY_NAME if index == 0 else city.name_zh,
            "name_en": city.name_en,
            "province": city.province,
            "population": city.population,
            "margins": {},  # too few answers here to rake: equal weights, and the release says so
        }
        reply = await client.post("/api/v1/cities", json=body, headers=admin)
        assert reply.status_code == 201, reply.text
        cities.append(body)
    versions = (
        await client.get("/api/v1/questionnaires", params={"questionnaire": "city_satisfaction"})
    ).json()
    campaign = {
        "code": "city-2026",
        "name": CAMPAIGN_NAME,
        "questionnaire_version": versions[0]["id"],
        "cities": [c["code"] for c in cities],
        "min_sample_per_city": MIN_SAMPLE,
    }
    assert (await client.post("/api/v1/campaigns", json=campaign, headers=admin)).status_code == 201
    assert (await client.post("/api/v1/campaigns/city-2026/open", headers=admin)).status_code == 200
    for city, size in zip(demo.cities, SIZES, strict=True):
        answers = [r for r in demo.current.responses if r.city == city.code and r.quality == "ok"][:size]
        for response in answers:
            submission = {
                "id": response.id,
                "answers": response.answers,
                "city": response.city,
                "started_at": response.started_at,
                "submitted_at": response.submitted_at,
                "channel": "online",
            }
            reply = await client.post("/api/v1/campaigns/city-2026/responses", json=submission)
            assert reply.status_code in (200, 201), reply.text
    assert (await client.post("/api/v1/campaigns/city-2026/close", headers=admin)).status_code == 200
    reply = await client.post("/api/v1/campaigns/city-2026/releases", json={"seed": 3}, headers=admin)
    assert reply.status_code == 201, reply.text
    return {"admin": admin, "cities": cities, "release": reply.json()["release"]}


def _text(page: str) -> str:
    """The page's visible text, tags removed and entities decoded, whitespace collapsed."""
    without = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    inline = re.sub(r"</?(a|span|strong|b|code)\b[^>]*>", "", without)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", inline)))


async def test_release_pages_over_a_real_release(release_settings: Settings) -> None:
    app = create_app(release_settings)
    async with AsyncTestClient(app=app) as client:
        made = await _publish_campaign(client)
        release, cities = made["release"], made["cities"]
        base = f"/releases/{release}"
        rankings = (await client.get(f"/api/v1/releases/{release}/rankings")).json()
        small = cities[2]

        # rankings: honest wording, unranked city with its reason, what people typed escaped
        page = await client.get(f"{base}/rankings")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        body = page.text
        assert "<script>window.__x" not in body and "&lt;script&gt;window.__x=1&lt;/script&gt;" in body
        assert "<b>市</b>" not in body and "甲&lt;b&gt;市&lt;/b&gt;" in body
        text = _text(body)
        ranked = [c for c in rankings["cities"] if c["ranked"]]
        assert len(ranked) == 2
        for row, cell in zip(ranked, _rank_cells(body), strict=False):
            expected = f"第 {row['rank']} 名" + (
                ""
                if row["rank_low"] == row["rank_high"]
                else f"（可能为第 {row['rank_low']}–{row['rank_high']} 名）"
            )
            assert cell == expected, "a rank is written with its rank set"
        assert _rank_cells(body)[-1] == "未排名"
        assert "未排名的城市" in text
        assert f"{small['name_zh']}：样本量 9 低于最低样本量 {MIN_SAMPLE}" in text
        english_body = (await client.get(f"{base}/rankings", cookies={"lang": "en"})).text
        for row, cell in zip(ranked, _rank_cells(english_body), strict=False):
            assert cell.startswith(f"rank {row['rank']}")
            assert (
                row["rank_low"] == row["rank_high"]
                or f"(plausible {row['rank_low']}–{row['rank_high']})" in cell
            )
        assert f"{small['name_en']}: sample size 9 below the minimum {MIN_SAMPLE}" in _text(english_body)

        # sorting and filtering on the server (no script needed)
        by_n = (await client.get(f"{base}/rankings", params={"sort": "n", "order": "asc"})).text
        assert _row_names(by_n) == [cities[2]["name_zh"], cities[1]["name_zh"], CITY_NAME], "by n: 9, 24, 26"
        province = cities[1]["province"]
        filtered = (await client.get(f"{base}/rankings", params={"province": province})).text
        in_province = [c for c in cities if c["province"] == province]
        assert f"显示 {len(in_province)} / 3 个城市" in _text(filtered)
        assert sorted(_row_names(filtered)) == sorted(
            CITY_NAME if c is cities[0] else c["name_zh"] for c in in_province
        )
        bad = await client.get(f"{base}/rankings", params={"sort": "rank;drop"})
        assert bad.status_code == 400 and "text/html" in bad.headers["content-type"]
        assert "sort=" in html.unescape(bad.text) and "rank, score, change, n, name" in bad.text  # zh-CN part
        english = await client.get(f"{base}/rankings", params={"sort": "rank;drop"}, cookies={"lang": "en"})
        assert "is not one of rank, score, change, n, name" in html.unescape(english.text)
        unknown = await client.get(f"{base}/rankings", params={"province": "没有这个省"})
        assert unknown.status_code == 400 and "没有这个省" in html.unescape(unknown.text)

        # the city page of the unranked city, its province, methodology, data
        city_page = _text((await client.get(f"{base}/cities/{small['code']}")).text)
        assert f"未排名：样本量 9 低于最低样本量 {MIN_SAMPLE}" in city_page
        assert "收集的问卷 9" in city_page
        province_page = await client.get(f"{base}/provinces/{urllib.parse.quote(province)}")
        assert province_page.status_code == 200 and province in province_page.text
        methodology = _text((await client.get(f"{base}/methodology")).text)
        assert f"survey-platform release verify {release}" in methodology
        meta = (await client.get(f"/api/v1/releases/{release}")).json()
        assert meta["inputs_fingerprint"] in methodology and meta["results_hash"] in methodology
        data = await client.get(f"{base}/data")
        assert f'href="/api/v1/releases/{release}/files/cities.csv"' in data.text
        assert "置信区间下限" in _text(data.text)

        # unknown things are the HTML 404 page; a survey release has no inspections page
        for path in (
            "/releases/nope",
            "/releases/nope/rankings",
            f"{base}/cities/nope",
            f"{base}/provinces/{urllib.parse.quote('没有')}",
            f"{base}/inspections",
        ):
            missing = await client.get(path)
            assert missing.status_code == 404, path
            assert "找不到页面" in missing.text and "text/html" in missing.headers["content-type"]

        # a correction: the city's population fixed, published again with a note
        pages = app.state.release_pages
        fixed = {**cities[0], "population": cities[0]["population"] * 2}
        reply = await client.put(f"/api/v1/cities/{fixed['code']}", json=fixed, headers=made["admin"])
        assert reply.status_code == 200, reply.text
        reply = await client.post(
            "/api/v1/campaigns/city-2026/releases", json={"note": NOTE, "seed": 3}, headers=made["admin"]
        )
        assert reply.status_code == 201, reply.text
        correction = reply.json()["release"]
        pages.forget()  # as after the snapshot's few seconds; the test does not wait for a clock
        old = await client.get(f"{base}/rankings")
        assert old.status_code == 200, "a superseded release stays readable"
        assert "本发布已被更正" in old.text
        assert f'href="/releases/{correction}/rankings"' in old.text
        new = await client.get(f"/releases/{correction}")
        assert "本发布是一次更正" in new.text and f'href="{base}"' in new.text
        assert "<img src=x" not in new.text and "&lt;img src=x onerror=alert(1)&gt;" in new.text
        assert "的人口已更正" in _text(new.text)
        assert "本发布已被更正" not in new.text
        listing = _text((await client.get("/releases")).text)
        assert f"已被更正 → {correction}" in listing and CAMPAIGN_NAME in listing


def _rank_cells(page: str) -> list[str]:
    return [html.unescape(c).strip() for c in re.findall(r'<td class="rank">(.*?)</td>', page, flags=re.S)]


def _row_names(page: str) -> list[str]:
    found = re.findall(r'<th scope="row" class="sticky"><a href="[^"]+">(.*?)</a>', page, flags=re.S)
    return [html.unescape(name) for name in found]


async def test_pages_are_stored_and_charts_drawn_once(release_settings: Settings) -> None:
    app = create_app(release_settings)
    async with AsyncTestClient(app=app) as client:
        made = await _publish_campaign(client)
        path = f"/releases/{made['release']}/rankings"
        first = await client.get(path, headers={"accept-encoding": "gzip"})
        pages: ReleasePages = app.state.release_pages
        rendered, drawn = pages.rendered, pages.charts.drawn
        assert rendered == 1 and drawn == 2  # the page once; its two charts once
        again = await client.get(path, headers={"accept-encoding": "gzip"})
        assert again.text == first.text and again.headers["etag"] == first.headers["etag"]
        assert again.headers["content-encoding"] == "gzip" and "Accept-Encoding" in again.headers["vary"]
        assert (pages.rendered, pages.charts.drawn) == (rendered, drawn), "served from the store"
        sorted_page = await client.get(path, params={"sort": "score"})
        assert pages.rendered == rendered + 1 and pages.charts.drawn == drawn, "charts reused across sorts"
        assert sorted_page.status_code == 200
        english = await client.get(path, cookies={"lang": "en"})
        assert english.headers["content-language"] == "en" and pages.charts.drawn == drawn + 2
        cached = await client.get(path, headers={"if-none-match": first.headers["etag"]})
        assert cached.status_code == 304
        plain = await client.get(path, headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.text == first.text
        assert plain.headers["content-security-policy"].startswith("default-src 'self'")
