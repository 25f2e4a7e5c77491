"""Cities, venues and campaigns through the API, including the campaign lifecycle."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import headers_for, insert_questionnaire_version

from survey_platform.campaigns.lifecycle import TransitionError, next_status

HANGZHOU = {
    "code": "hangzhou",
    "name_zh": "杭州",
    "name_en": "Hangzhou",
    "province": "浙江",
    "population": 12_376_000,
    "margins": {"sex": {"m": 0.51, "f": 0.49}},
}


async def test_cities_and_venues(client: AsyncTestClient[Litestar]) -> None:
    admin = await headers_for(client, "admin")
    assert (await client.post("/api/v1/cities", json=HANGZHOU)).status_code == 401
    created = await client.post("/api/v1/cities", json=HANGZHOU, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["margins"] == HANGZHOU["margins"]
    assert (await client.post("/api/v1/cities", json=HANGZHOU, headers=admin)).status_code == 409
    city = await client.get("/api/v1/cities/hangzhou")
    assert city.json()["name_zh"] == "杭州" and city.json()["population"] == 12_376_000
    assert (await client.get("/api/v1/cities/nowhere")).status_code == 404
    bad = await client.post(
        "/api/v1/cities", json={**HANGZHOU, "code": "Bad Code", "population": -1}, headers=admin
    )
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["errors"]} <= {"$.code", "$.population"} and bad.json()["errors"]

    venue = {
        "name": "某停车场",
        "category": "car_park",
        "city": "hangzhou",
        "latitude": 30.27,
        "longitude": 120.15,
    }
    made = await client.post("/api/v1/venues", json=venue, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["city"] == "hangzhou" and made.json()["visit_history"] == []
    unknown_city = await client.post("/api/v1/venues", json={**venue, "city": "atlantis"}, headers=admin)
    assert unknown_city.status_code == 422 and unknown_city.json()["errors"][0]["path"] == "$.city"
    listed = await client.get("/api/v1/venues", params={"city": "hangzhou", "category": "car_park"})
    assert [v["name"] for v in listed.json()] == ["某停车场"]
    assert (await client.get("/api/v1/venues", params={"category": "restaurant"})).json() == []


async def test_campaign_lifecycle(client: AsyncTestClient[Litestar]) -> None:
    admin = await headers_for(client, "admin")
    reviewer = await headers_for(client, "reviewer")
    await client.post("/api/v1/cities", json=HANGZHOU, headers=admin)
    version = await insert_questionnaire_version(client)
    client.cookies.clear()
    payload = {
        "code": "2026-city",
        "name": "2026 城市满意度",
        "questionnaire_version": version,
        "cities": ["hangzhou"],
    }
    assert (await client.post("/api/v1/campaigns", json=payload, headers=reviewer)).status_code == 403
    created = await client.post("/api/v1/campaigns", json=payload, headers=admin)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["status"] == "draft" and campaign["min_sample_per_city"] == 538
    assert campaign["kind"] == "survey" and campaign["cities"] == ["hangzhou"]
    # drafts are invisible to the public, visible to staff
    assert (await client.get("/api/v1/campaigns/2026-city")).status_code == 404
    assert (await client.get("/api/v1/campaigns/2026-city", headers=reviewer)).status_code == 200
    edited = await client.patch(
        "/api/v1/campaigns/2026-city", json={"min_sample_per_city": 600}, headers=admin
    )
    assert edited.json()["min_sample_per_city"] == 600
    # illegal transition, then the legal path
    assert (await client.post("/api/v1/campaigns/2026-city/close", headers=admin)).status_code == 409
    for action, status in (("open", "open"), ("close", "closed")):
        moved = await client.post(f"/api/v1/campaigns/2026-city/{action}", headers=admin)
        assert moved.status_code == 200 and moved.json()["status"] == status
    # a campaign becomes published only by publishing a release (POST /campaigns/{code}/releases)
    assert (await client.post("/api/v1/campaigns/2026-city/publish", headers=admin)).status_code in (404, 405)
    assert (
        await client.patch("/api/v1/campaigns/2026-city", json={"name": "x"}, headers=admin)
    ).status_code == 409
    assert [c["code"] for c in (await client.get("/api/v1/campaigns")).json()] == ["2026-city"]
    log = (await client.get("/api/v1/audit-log", params={"entity": "campaign"}, headers=admin)).json()
    assert [e["action"] for e in reversed(log)] == [
        "campaign.create",
        "campaign.update",
        "campaign.open",
        "campaign.close",
    ]


async def test_campaign_scope_is_checked(client: AsyncTestClient[Litestar]) -> None:
    admin = await headers_for(client, "admin")
    payload = {
        "code": "bad",
        "name": "x",
        "questionnaire_version": 999,
        "cities": ["atlantis"],
        "starts_on": "2026-05-01",
        "ends_on": "2026-04-01",
    }
    response = await client.post("/api/v1/campaigns", json=payload, headers=admin)
    assert response.status_code == 422
    assert {e["path"] for e in response.json()["errors"]} == {
        "$.questionnaire_version",
        "$.cities[0]",
        "$.ends_on",
    }


def test_transitions_are_one_way() -> None:
    assert next_status("draft", "open") == "open"
    for current, action in (("draft", "close"), ("open", "open"), ("published", "close"), ("closed", "open")):
        try:
            next_status(current, action)
        except TransitionError as error:
            assert current in str(error)
        else:
            raise AssertionError(f"{current} --{action}--> should fail")
