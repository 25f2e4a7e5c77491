"""Releases end to end on both databases: the demo through the service, the JSON API, verify, corrections,
conflicts, and a failed computation that stores nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import headers_for, in_app

from survey_platform.app import create_app
from survey_platform.publishing import service
from survey_platform.publishing.demo import load_demo
from survey_platform.settings import DEFAULT_QUESTIONNAIRES_DIR, Settings
from survey_platform.storage.errors import Conflict
from survey_platform.storage.tables import Campaign as CampaignTable
from survey_platform.storage.tables import Release, SurveyResponse

RANKING_KEYS = {
    "city", "name_zh", "name_en", "province", "n", "score", "se", "ci_low", "ci_high", "rank", "rank_low",
    "rank_high", "tier", "ranked", "reason", "dimensions",
}  # fmt: skip


@pytest.fixture
def real_settings(settings: Settings) -> Settings:
    """The test's database with the real questionnaires (city_satisfaction, qr_code_inspection)."""
    return dataclasses.replace(settings, questionnaires_dir=DEFAULT_QUESTIONNAIRES_DIR)


@pytest.fixture
async def demo(real_settings: Settings) -> AsyncIterator[tuple[AsyncTestClient[Litestar], Any]]:
    """A small demo (8 cities, 70 interviews each, minimum sample 60) loaded through the services."""
    async with AsyncTestClient(app=create_app(real_settings)) as client:
        catalog = client.app.state.questionnaires

        async def load() -> Any:
            return await load_demo(real_settings, catalog, cities=8, per_city=70, seed=7, min_sample=60)

        yield client, await in_app(client, load)


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATA_DIR": str(settings.data_dir),
        "QUESTIONNAIRES_DIR": str(settings.questionnaires_dir),
    }
    env.pop("DATABASE_URL", None)
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    return subprocess.run(
        [sys.executable, "-m", "survey_platform.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_the_demo_publishes_releases_readable_through_the_api(demo: Any) -> None:
    client, result = demo
    assert len(result.releases) == 3
    listed = (await client.get("/api/v1/releases")).json()
    assert [r["release"] for r in listed] == list(reversed(result.releases))  # newest first
    current = result.releases[1]  # this year's survey
    rankings = (await client.get(f"/api/v1/releases/{current}/rankings")).json()
    assert set(rankings) == {"release", "campaign", "questionnaire", "national", "cities"}
    assert set(rankings["national"]) == {"score", "se", "ci_low", "ci_high"}
    assert rankings["release"] == current and rankings["campaign"] == "city-satisfaction-2025"
    assert len(rankings["cities"]) == 8
    for city in rankings["cities"]:
        assert set(city) >= RANKING_KEYS
        assert city["ranked"] == (city["rank"] is not None) and (city["reason"] is None) == city["ranked"]
        assert city["ci_low"] <= city["score"] <= city["ci_high"]
        assert set(city["dimensions"]) == {"supply", "environment", "rights"}
        if city["ranked"]:
            assert city["rank_low"] <= city["rank"] <= city["rank_high"]
    first = rankings["cities"][0]["city"]
    detail = (await client.get(f"/api/v1/releases/{current}/cities/{first}")).json()
    assert detail["city"] == first and detail["exclusions"]["collected"] >= detail["n"]
    assert detail["change"]["previous_release"] == result.releases[0]  # change since last year
    province = detail["province"]
    assert (await client.get(f"/api/v1/releases/{current}/provinces/{province}")).json()[
        "province"
    ] == province
    meta = (await client.get(f"/api/v1/releases/{current}")).json()
    assert meta["status"] == "current" and len(meta["inputs_fingerprint"]) == 64 and meta["seed"] == 2025
    names = {f["name"] for f in meta["files"]}
    assert {"datapackage.json", "cities.csv", "release.xlsx", "release.json"} <= names
    package = await client.get(f"/api/v1/releases/{current}/files/datapackage.json")
    assert package.status_code == 200 and json.loads(package.content)["resources"]
    inspections = (await client.get(f"/api/v1/releases/{result.releases[2]}/inspections")).json()
    assert inspections["n_venues"] > 0 and 0.15 < inspections["overall"]["rate"] < 0.5
    for venue in inspections["named"]:
        assert venue["failed"] and all(check["legal_basis"] for check in venue["failed"])
    assert (await client.get(f"/api/v1/releases/{current}/inspections")).status_code == 404
    assert (await client.get("/api/v1/releases/nope/rankings")).status_code == 404


async def test_the_estimates_are_near_the_demo_truth(demo: Any) -> None:
    client, result = demo
    truth = json.loads(result.truth_path.read_text())["surveys"]["city-satisfaction-2025"]
    rankings = (await client.get(f"/api/v1/releases/{result.releases[1]}/rankings")).json()
    national = rankings["national"]
    # the truth weights cities by resident population, as the release does
    assert abs(national["score"] - truth["national"]) < 4 * national["se"], (national, truth["national"])
    misses = sum(
        not (c["score"] - 4 * c["se"] < truth["cities"][c["city"]]["score"] < c["score"] + 4 * c["se"])
        for c in rankings["cities"]
    )
    assert misses == 0


async def test_a_correction_supersedes_and_the_old_release_stays_readable(
    demo: Any, real_settings: Settings
) -> None:
    client, result = demo
    admin = await headers_for(client, "admin")
    current = result.releases[1]
    city = (await client.get(f"/api/v1/releases/{current}/rankings")).json()["cities"][0]["city"]
    stored = (await client.get(f"/api/v1/cities/{city}")).json()
    corrected = {**stored, "margins": {**stored["margins"], "q_sex": {"male": 0.45, "female": 0.55}}}
    corrected.pop("id")
    assert (await client.put(f"/api/v1/cities/{city}", json=corrected, headers=admin)).status_code == 200
    reply = await client.post(
        "/api/v1/campaigns/city-satisfaction-2025/releases", json={"note": "性别边际更正"}, headers=admin
    )
    assert reply.status_code == 201, reply.text
    new = reply.json()["release"]
    assert new == "city-satisfaction-2025-r2" and reply.json()["urls"]["rankings"].endswith("/rankings")
    old = (await client.get(f"/api/v1/releases/{current}")).json()
    assert old["status"] == "superseded" and old["superseded_by"] == new
    assert (await client.get(f"/api/v1/releases/{current}/rankings")).status_code == 200
    meta = (await client.get(f"/api/v1/releases/{new}")).json()
    assert meta["supersedes"] == current and meta["note"] == "性别边际更正"
    assert any(city in line and "margins" in line for line in meta["changelog"]), meta["changelog"]
    verified = _cli(real_settings, "release", "verify", new)
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_verify_finds_identical_numbers_then_what_changed(demo: Any, real_settings: Settings) -> None:
    client, result = demo
    release = result.releases[1]
    same = _cli(real_settings, "release", "verify", release)
    assert same.returncode == 0 and "identical" in same.stdout, same.stdout + same.stderr

    async def tamper() -> None:  # what nothing in the service can do after publish: change a stored answer
        row = (
            await SurveyResponse.select(SurveyResponse.id, SurveyResponse.answers)
            .where(
                (SurveyResponse.campaign.code == "city-satisfaction-2025")
                & (SurveyResponse.status == "valid")
                & (SurveyResponse.eligible == True)  # noqa: E712
            )
            .first()
            .run()
        )
        answers = json.loads(row["answers"]) if isinstance(row["answers"], str) else row["answers"]
        answers["supply_matrix"]["q_variety"] = 1 if answers["supply_matrix"].get("q_variety") != 1 else 10
        await (
            SurveyResponse.update({SurveyResponse.answers: json.dumps(answers)})
            .where(SurveyResponse.id == row["id"])
            .run()
        )

    await in_app(client, tamper)
    changed = _cli(real_settings, "release", "verify", release)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "$.rankings.cities" in changed.stdout or "$.cities" in changed.stdout


async def test_publishing_needs_a_closed_campaign_and_json_prints_the_addresses(
    demo: Any, real_settings: Settings
) -> None:
    client, _ = demo
    admin = await headers_for(client, "admin")
    versions = (
        await client.get("/api/v1/questionnaires", params={"questionnaire": "city_satisfaction"})
    ).json()
    campaign = {
        "code": "city-2026",
        "name": "2026",
        "questionnaire_version": versions[-1]["id"],
        "cities": [],
    }
    assert (await client.post("/api/v1/campaigns", json=campaign, headers=admin)).status_code == 201
    assert (await client.post("/api/v1/campaigns/city-2026/open", headers=admin)).status_code == 200
    refused = await client.post("/api/v1/campaigns/city-2026/releases", json={}, headers=admin)
    assert refused.status_code == 409 and "close it" in refused.json()["detail"]
    printed = _cli(real_settings, "publish", "city-satisfaction-2025", "--json", "--note", "again")
    assert printed.returncode == 0, printed.stderr
    body = json.loads(printed.stdout)
    assert (
        body["release"] == "city-satisfaction-2025-r2"
        and body["urls"]["api"] == "/api/v1/releases/" + body["release"]
    )


async def test_a_failed_computation_stores_nothing(demo: Any) -> None:
    client, result = demo
    admin = await headers_for(client, "admin")
    city = (await client.get(f"/api/v1/releases/{result.releases[1]}/rankings")).json()["cities"][0]["city"]
    stored = (await client.get(f"/api/v1/cities/{city}")).json()
    stored.pop("id")
    broken = {**stored, "population": 0}
    assert (await client.put(f"/api/v1/cities/{city}", json=broken, headers=admin)).status_code == 200
    before = await in_app(client, Release.count().run)
    reply = await client.post("/api/v1/campaigns/city-satisfaction-2025/releases", json={}, headers=admin)
    assert reply.status_code == 422 and city in reply.json()["detail"], reply.text
    assert await in_app(client, Release.count().run) == before


async def test_two_publishes_at_once_give_one_release_and_a_conflict(demo: Any) -> None:
    client, _ = demo
    catalog = client.app.state.questionnaires

    async def both() -> list[Any]:
        return await asyncio.gather(
            service.publish("city-satisfaction-2025", catalog, note="a"),
            service.publish("city-satisfaction-2025", catalog, note="b"),
            return_exceptions=True,
        )

    outcomes = await in_app(client, both)
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    stored = [o for o in outcomes if isinstance(o, service.StoredRelease)]
    assert len(conflicts) == 1 and len(stored) == 1, outcomes
    releases = await in_app(
        client,
        Release.select(Release.code, Release.status)
        .where(Release.campaign.code == "city-satisfaction-2025")
        .run,
    )
    assert sorted((r["code"], r["status"]) for r in releases) == [
        ("city-satisfaction-2025-r1", "superseded"),
        ("city-satisfaction-2025-r2", "current"),
    ]
    assert msgspec.json.decode(msgspec.json.encode(stored[0].meta))["release"] == "city-satisfaction-2025-r2"


async def test_an_inspection_release_verifies_after_its_venues_change(
    demo: Any, real_settings: Settings
) -> None:
    client, result = demo
    admin = await headers_for(client, "admin")
    inspection = result.releases[2]
    named = (await client.get(f"/api/v1/releases/{inspection}/inspections")).json()["named"][0]
    venue = (await client.get(f"/api/v1/venues/{named['venue_id']}", headers=admin)).json()
    renamed = {key: venue[key] for key in ("name", "category", "city", "address", "latitude", "longitude")}
    renamed["name"] = venue["name"] + "（已更名）"
    assert (await client.put(f"/api/v1/venues/{venue['id']}", json=renamed, headers=admin)).status_code == 200
    verified = _cli(real_settings, "release", "verify", inspection)
    assert verified.returncode == 0, (
        verified.stdout + verified.stderr
    )  # the release recorded the venue as it was


async def test_a_correction_of_last_years_release_does_not_compare_with_this_year(demo: Any) -> None:
    client, _ = demo
    admin = await headers_for(client, "admin")
    reply = await client.post("/api/v1/campaigns/city-satisfaction-2024/releases", json={}, headers=admin)
    assert reply.status_code == 201, reply.text
    corrected = (await client.get(f"/api/v1/releases/{reply.json()['release']}/rankings")).json()
    city = corrected["cities"][0]["city"]
    detail = (await client.get(f"/api/v1/releases/{reply.json()['release']}/cities/{city}")).json()
    assert detail["change"] is None  # no campaign of this questionnaire came before 2024's


async def test_a_campaign_declares_its_method_and_the_release_uses_it(
    demo: Any, real_settings: Settings
) -> None:
    client, result = demo
    admin = await headers_for(client, "admin")
    version = (
        await client.get("/api/v1/questionnaires", params={"questionnaire": "city_satisfaction"})
    ).json()[-1]["id"]
    base = {"code": "city-2027", "name": "2027", "questionnaire_version": version}
    for method, path in (
        ({"driver_outcome": "q_nope"}, "$.method.driver_outcome"),
        ({"driver_outcome": "q_sex"}, "$.method.driver_outcome"),  # not a likert question
        ({"sales_share": 2}, "$.method.sales_share"),
        ({"city_weighting": "gdp"}, "$.method.city_weighting"),
        ({"level": 0.9}, "$.method"),  # not a setting a campaign declares
    ):
        refused = await client.post("/api/v1/campaigns", json={**base, "method": method}, headers=admin)
        assert refused.status_code == 422, (method, refused.text)
        assert [e["path"] for e in refused.json()["errors"]] == [path], refused.json()
    mixed = {"city_weighting": "population_and_sales", "sales_share": 0.3}
    created = await client.post("/api/v1/campaigns", json={**base, "method": mixed}, headers=admin)
    assert created.status_code == 201 and created.json()["method"] == mixed, created.text
    edited = await client.patch(
        "/api/v1/campaigns/city-2027", json={"method": {"driver_outcome": None}}, headers=admin
    )
    assert edited.json()["method"] == {"driver_outcome": None}, edited.text  # replaced as a whole
    renamed = await client.patch("/api/v1/campaigns/city-2027", json={"name": "2027 年"}, headers=admin)
    assert renamed.json()["method"] == {"driver_outcome": None}  # a change without it leaves it as it was
    published = "city-satisfaction-2025"
    assert (await client.get(f"/api/v1/campaigns/{published}", headers=admin)).json()["method"] == {}
    late = await client.patch(f"/api/v1/campaigns/{published}", json={"method": mixed}, headers=admin)
    assert late.status_code == 409

    async def declare() -> None:  # what the campaign would have declared as a draft
        await (
            CampaignTable.update({CampaignTable.method: json.dumps(mixed)})
            .where(CampaignTable.code == published)
            .run()
        )

    await in_app(client, declare)
    reply = await client.post(f"/api/v1/campaigns/{published}/releases", json={}, headers=admin)
    assert reply.status_code == 201, reply.text
    new, old = reply.json()["release"], result.releases[1]
    meta = (await client.get(f"/api/v1/releases/{new}")).json()
    assert meta["method"]["city_weighting"] == "population_and_sales" and meta["method"]["sales_share"] == 0.3
    assert (await client.get(f"/api/v1/releases/{old}")).json()["method"]["city_weighting"] == "population"
    before = (await client.get(f"/api/v1/releases/{old}/rankings")).json()["national"]["score"]
    after = (await client.get(f"/api/v1/releases/{new}/rankings")).json()["national"]["score"]
    assert before != after  # the same interviews, cities weighted differently
    methodology = await client.get(f"/releases/{new}/methodology")
    assert "社会消费品零售总额混合加权（零售额占 30%）" in methodology.text, methodology.text[:500]
    assert _cli(real_settings, "release", "verify", new).returncode == 0

    for stored, words in (
        ('{"city_weighting": "gdp"}', "method settings are invalid"),
        ("[1]", "JSON object"),
    ):

        async def by_hand(text: str = stored) -> None:  # an operator's edit of the database
            await (
                CampaignTable.update({CampaignTable.method: text})
                .where(CampaignTable.code == published)
                .run()
            )

        await in_app(client, by_hand)
        listed = await client.get("/api/v1/campaigns", headers=admin)
        assert listed.status_code == 200  # shown without the unreadable settings
        assert next(c for c in listed.json() if c["code"] == published)["method"] == {}
        refused = await client.post(f"/api/v1/campaigns/{published}/releases", json={}, headers=admin)
        assert refused.status_code == 422 and words in refused.json()["detail"], refused.text


async def test_campaign_create_takes_method_settings_on_the_command_line(
    demo: Any, real_settings: Settings
) -> None:
    client, _ = demo
    made = _cli(
        real_settings, "campaign", "create", "city-2028", "--name", "2028", "--questionnaire",
        "city_satisfaction", "--method", "city_weighting=population_and_sales", "--method", "sales_share=0.25",
        "--method", "driver_outcome=null",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    admin = await headers_for(client, "admin")
    campaign = (await client.get("/api/v1/campaigns/city-2028", headers=admin)).json()
    assert campaign["method"] == {
        "city_weighting": "population_and_sales",
        "sales_share": 0.25,
        "driver_outcome": None,
    }
    for bad, words in (("sales_share", "KEY=VALUE"), ("sales_share=lots", "sales_share")):
        refused = _cli(
            real_settings, "campaign", "create", "city-2029", "--name", "x", "--questionnaire",
            "city_satisfaction", "--method", bad,
        )  # fmt: skip
        assert refused.returncode == 1 and words in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
