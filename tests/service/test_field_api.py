"""The field app's API on SQLite and PostgreSQL: what a field account works on, venues added in the field (once,
whatever the re-sends), follow-up visits, photo capture times, and corrections sent twice after a lost reply."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import (
    PNG,
    bearer,
    field_account,
    headers_for,
    in_app,
    inspection_setup,
    make_account,
    open_campaign,
    upload,
)

from survey_platform.storage.tables import AuditLogEntry, AuditReview, Photo, Venue

pytestmark = pytest.mark.usefixtures("client")


def new_venue(**changes: Any) -> dict[str, Any]:
    body = {
        "client_id": str(uuid.uuid4()),
        "campaign": "qr-2026",
        "name": "新开的茶饮店 <b>",
        "category": "tea_fast_food",
        "city": "taiyuan",
        "address": "迎泽大街 1 号",
        "latitude": 37.8706,
        "longitude": 112.5489,
    }
    body.update(changes)
    return body


async def test_assignments_list_what_each_field_account_works_on(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    await open_campaign(client)  # mini-2026: a survey in Wuxi
    await open_campaign(client, "other-2026")
    interviewer, _ = await field_account(client, "mini-2026")

    mine = await client.get("/api/v1/field/assignments", headers=interviewer)
    assert mine.status_code == 200, mine.text
    (survey,) = mine.json()["campaigns"]
    assert survey["code"] == "mini-2026" and survey["kind"] == "survey" and survey["accepts_new"] is True
    assert survey["cities"] == [{"code": "wuxi", "name_zh": "无锡", "name_en": "Wuxi"}]
    assert survey["venues"] is None and survey["returned"] == 0
    versions = (await client.get("/api/v1/questionnaires", params={"questionnaire": "mini_city"})).json()
    assert survey["questionnaire_version"] == versions[0]["id"]
    assert mine.json()["account"]["role"] == "interviewer"

    inspections = (await client.get("/api/v1/field/assignments", headers=ctx["inspector"])).json()
    assert [c["code"] for c in inspections["campaigns"]] == ["qr-2026"]
    assert inspections["campaigns"][0]["venues"] == "/api/v1/field/campaigns/qr-2026/venues"
    # a campaign over a venue list works in its venues' cities
    assert inspections["campaigns"][0]["cities"] == [{"code": "taiyuan", "name_zh": "太原", "name_en": ""}]
    assert (await client.get("/api/v1/field/assignments", headers=ctx["other"])).json()["campaigns"] == []
    admin = (await client.get("/api/v1/field/assignments", headers=ctx["admin"])).json()
    assert {c["code"] for c in admin["campaigns"]} == {"qr-2026", "mini-2026", "other-2026"}
    assert (await client.get("/api/v1/field/assignments", headers=ctx["reviewer"])).status_code == 403
    assert (await client.get("/api/v1/field/assignments")).status_code == 401


async def test_a_closed_campaign_stays_listed_while_audits_wait_there_for_correction(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await inspection_setup(client)
    audit = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": {"counter_payment": True}}
    sent = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
    assert sent.status_code == 201, sent.text
    assert (await client.post("/api/v1/campaigns/qr-2026/close", headers=ctx["admin"])).status_code == 200
    assert (await client.get("/api/v1/field/assignments", headers=ctx["inspector"])).json()["campaigns"] == []

    review = {"action": "return", "comment": "请补拍照片 / add a photo"}
    returned = await client.post(f"/api/v1/audits/{audit['id']}/review", json=review, headers=ctx["reviewer"])
    assert returned.status_code == 200, returned.text
    (closed,) = (await client.get("/api/v1/field/assignments", headers=ctx["inspector"])).json()["campaigns"]
    assert closed["code"] == "qr-2026" and closed["status"] == "closed"
    assert closed["accepts_new"] is False and closed["returned"] == 1


async def test_an_inspection_campaigns_venues_for_the_phone(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    reply = await client.get("/api/v1/field/campaigns/qr-2026/venues", headers=ctx["inspector"])
    assert reply.status_code == 200, reply.text
    (venue,) = reply.json()
    assert venue["id"] == ctx["venue"] and venue["name"] == "某停车场" and venue["city"] == "taiyuan"
    assert venue["last_visit"] is None
    assert (
        await client.get("/api/v1/field/campaigns/qr-2026/venues", headers=ctx["other"])
    ).status_code == 403
    await open_campaign(client)
    survey = await client.get("/api/v1/field/campaigns/mini-2026/venues", headers=ctx["admin"])
    assert survey.status_code == 409 and "not an inspection" in survey.json()["detail"]
    missing = await client.get("/api/v1/field/campaigns/nope/venues", headers=ctx["inspector"])
    assert missing.status_code == 404


async def _venues_with_client_id(client: AsyncTestClient[Litestar], client_id: str) -> list[dict[str, Any]]:
    query = Venue.select(Venue.id).where(Venue.client_id == uuid.UUID(client_id))
    return await in_app(client, query.run)


async def test_a_venue_added_in_the_field_is_registered_once_and_joins_the_campaign(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await inspection_setup(client)
    body = new_venue()
    first = await client.post("/api/v1/field/venues", json=body, headers=ctx["inspector"])
    assert first.status_code == 201, first.text
    venue = first.json()
    assert venue["name"] == "新开的茶饮店 <b>" and venue["latitude"] == 37.8706
    again = await client.post("/api/v1/field/venues", json=body, headers=ctx["inspector"])
    assert again.status_code == 200 and again.json() == venue
    assert len(await _venues_with_client_id(client, body["client_id"])) == 1

    campaign = (await client.get("/api/v1/campaigns/qr-2026")).json()
    assert campaign["venues"] == [ctx["venue"], venue["id"]]
    listed = (await client.get("/api/v1/field/campaigns/qr-2026/venues", headers=ctx["inspector"])).json()
    assert [v["id"] for v in listed] == [ctx["venue"], venue["id"]]
    audit = {"id": str(uuid.uuid4()), "venue": venue["id"], "answers": {"counter_payment": True}}
    batch = await client.post(
        "/api/v1/batch", json={"audits": [{**audit, "campaign": "qr-2026"}]}, headers=ctx["inspector"]
    )
    assert batch.json()["audits"][0]["status"] == 201, batch.text

    other = await client.post(
        "/api/v1/field/venues", json={**body, "name": "另一家"}, headers=ctx["inspector"]
    )
    assert other.status_code == 409 and other.json()["errors"][0]["path"] == "$.client_id"
    log = await in_app(
        client,
        AuditLogEntry.select(AuditLogEntry.actor).where(AuditLogEntry.action == "venue.create_in_field").run,
    )
    assert len(log) == 1


async def test_two_sends_of_one_new_venue_at_once_register_it_once(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    body = new_venue()
    replies = await asyncio.gather(
        *(client.post("/api/v1/field/venues", json=body, headers=ctx["inspector"]) for _ in range(4))
    )
    assert sorted(r.status_code for r in replies) == [200, 200, 200, 201], [r.text for r in replies]
    assert len({r.json()["id"] for r in replies}) == 1
    assert len(await _venues_with_client_id(client, body["client_id"])) == 1
    campaign = (await client.get("/api/v1/campaigns/qr-2026")).json()
    assert campaign["venues"] == [ctx["venue"], replies[0].json()["id"]]


async def test_new_venues_are_refused_where_they_do_not_belong(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    unknown = await client.post(
        "/api/v1/field/venues", json=new_venue(city="atlantis"), headers=ctx["inspector"]
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["path"] == "$.city"
    bad = await client.post(
        "/api/v1/field/venues", json=new_venue(category="Car Park"), headers=ctx["inspector"]
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "$.category", bad.text
    assert (
        await client.post("/api/v1/field/venues", json=new_venue(), headers=ctx["other"])
    ).status_code == 403
    interviewer = await headers_for(client, "interviewer")
    assert (
        await client.post("/api/v1/field/venues", json=new_venue(), headers=interviewer)
    ).status_code == 403

    sent = new_venue()
    assert (await client.post("/api/v1/field/venues", json=sent, headers=ctx["inspector"])).status_code == 201
    assert (await client.post("/api/v1/campaigns/qr-2026/close", headers=ctx["admin"])).status_code == 200
    late = await client.post("/api/v1/field/venues", json=new_venue(), headers=ctx["inspector"])
    assert late.status_code == 409 and "not open" in late.json()["detail"]
    resent = await client.post("/api/v1/field/venues", json=sent, headers=ctx["inspector"])
    assert resent.status_code == 200  # the reply to a venue registered before the close is still given


async def test_a_campaign_by_city_takes_new_venues_of_its_cities_only(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await inspection_setup(client)
    admin = ctx["admin"]
    await client.post("/api/v1/cities", json={"code": "datong", "name_zh": "大同"}, headers=admin)
    version = (
        await client.get("/api/v1/questionnaires", params={"questionnaire": "mini_inspection"})
    ).json()[0]
    campaign = {
        "code": "qr-city",
        "name": "按城市",
        "questionnaire_version": version["id"],
        "cities": ["taiyuan"],
    }
    assert (await client.post("/api/v1/campaigns", json=campaign, headers=admin)).status_code == 201
    assert (
        await client.put(
            "/api/v1/campaigns/qr-city/inspectors", json={"inspectors": [ctx["inspector_id"]]}, headers=admin
        )
    ).status_code == 200
    assert (await client.post("/api/v1/campaigns/qr-city/open", headers=admin)).status_code == 200
    elsewhere = await client.post(
        "/api/v1/field/venues", json=new_venue(campaign="qr-city", city="datong"), headers=ctx["inspector"]
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["code"] == "scope"
    here = await client.post(
        "/api/v1/field/venues", json=new_venue(campaign="qr-city"), headers=ctx["inspector"]
    )
    assert here.status_code == 201
    assert (await client.get("/api/v1/campaigns/qr-city")).json()["venues"] == []  # covered by its city
    listed = (await client.get("/api/v1/field/campaigns/qr-city/venues", headers=ctx["inspector"])).json()
    assert here.json()["id"] in [v["id"] for v in listed] and ctx["venue"] in [v["id"] for v in listed]


async def test_a_follow_up_starts_from_the_venues_latest_approved_audit(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await inspection_setup(client)
    path = f"/api/v1/field/venues/{ctx['venue']}/last-audit"
    none = await client.get(path, headers=ctx["inspector"])
    assert none.status_code == 404 and "no approved audit" in none.json()["detail"]
    sha = (await upload(client, ctx["inspector"], PNG)).json()["sha256"]
    audits = []
    for answers in (
        {"counter_payment": False, "counter_photo": [sha], "phone_demanded": True},
        {"counter_payment": True, "phone_demanded": True},
    ):
        audit = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": answers}
        sent = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
        assert sent.status_code == 201, sent.text
        audits.append(audit["id"])
    assert (await client.get(path, headers=ctx["inspector"])).status_code == 404  # nothing approved yet
    for audit_id in audits[:1]:
        approved = await client.post(
            f"/api/v1/audits/{audit_id}/review", json={"action": "approve"}, headers=ctx["reviewer"]
        )
        assert approved.status_code == 200

    reply = await client.get(path, headers=ctx["inspector"])
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["audit"] == audits[0] and body["campaign"] == "qr-2026"
    assert [(c["question"], c["severity"]) for c in body["failed_checks"]] == [
        ("counter_payment", "major"),
        ("phone_demanded", "critical"),
    ]
    assert body["failed_checks"][0]["label"]["zh-CN"] == "可在柜台付款"
    assert body["venue"]["last_visit"]["audit"] == audits[0]
    venues = (await client.get("/api/v1/field/campaigns/qr-2026/venues", headers=ctx["inspector"])).json()
    assert venues[0]["last_visit"]["outcome"] == "approved"

    assert (await client.get(path, headers=ctx["other"])).status_code == 403
    assert (await client.get(path, headers=ctx["admin"])).status_code == 200
    interviewer = await headers_for(client, "interviewer")
    assert (await client.get(path, headers=interviewer)).status_code == 403
    assert (
        await client.get("/api/v1/field/venues/999999/last-audit", headers=ctx["admin"])
    ).status_code == 404


async def _photo_row(client: AsyncTestClient[Litestar], sha: str) -> dict[str, Any]:
    return await in_app(client, Photo.select().where(Photo.sha256 == sha).first().run)


async def test_a_photo_keeps_the_time_it_was_taken(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    inspector = ctx["inspector"]
    taken = {"X-Captured-At": "2026-05-01T09:30:05+08:00"}
    first = await client.post(
        "/api/v1/photos", content=PNG, headers={**inspector, **taken, "content-type": "image/png"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["captured_at"] == "2026-05-01T01:30:05Z"
    later = {"X-Captured-At": "2026-06-01T10:00:00+08:00"}
    again = await client.post(
        "/api/v1/photos", content=PNG, headers={**inspector, **later, "content-type": "image/png"}
    )
    assert again.status_code == 200 and again.json()["captured_at"] == "2026-05-01T01:30:05Z"
    sha = first.json()["sha256"]
    meta = await client.get(f"/api/v1/photos/{sha}/meta", headers=inspector)
    assert meta.json()["captured_at"] == "2026-05-01T01:30:05Z"
    row = await _photo_row(client, sha)
    assert row["captured_at"].isoformat().startswith("2026-05-01T01:30:05")

    for bad in ("yesterday", "2026-05-01T09:30:05"):
        refused = await client.post(
            "/api/v1/photos",
            content=PNG + b"x",
            headers={**inspector, "X-Captured-At": bad, "content-type": "image/png"},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["path"] == "header:x-captured-at"
        assert "UTC offset" in refused.json()["errors"][0]["message"]


async def test_a_correction_sent_again_after_a_lost_reply_changes_nothing(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await inspection_setup(client)
    audit = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": {"counter_payment": True}}
    assert (
        await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
    ).status_code == 201
    review = {"action": "return", "comment": "手机号一题漏填 / the phone question is missing"}
    assert (
        await client.post(f"/api/v1/audits/{audit['id']}/review", json=review, headers=ctx["reviewer"])
    ).status_code == 200
    correction = {
        "answers": {"counter_payment": True, "phone_demanded": False},
        "location": {"latitude": 37.87, "longitude": 112.55, "accuracy": 9.5},
        "started_at": "2026-05-01T09:00:00+08:00",
        "submitted_at": "2026-05-01T09:20:00+08:00",
    }
    path = f"/api/v1/audits/{audit['id']}"
    first = await client.put(path, json=correction, headers=ctx["inspector"])
    assert first.status_code == 200 and first.json()["review_state"] == "submitted", first.text
    again = await client.put(path, json=correction, headers=ctx["inspector"])
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    history = await in_app(client, AuditReview.select(AuditReview.action).order_by(AuditReview.id).run)
    assert [h["action"] for h in history] == ["submit", "return", "resubmit"]
    different = await client.put(
        path,
        json={**correction, "answers": {"counter_payment": True, "phone_demanded": True}},
        headers=ctx["inspector"],
    )
    assert different.status_code == 409 and "cannot resubmit" in different.json()["detail"]


async def test_an_account_that_only_reviews_has_no_field_work(client: AsyncTestClient[Litestar]) -> None:
    name, _ = await make_account(client, "reviewer")
    reviewer = await bearer(client, name)
    assert (await client.get("/api/v1/field/assignments", headers=reviewer)).status_code == 403
    assert (await client.post("/api/v1/field/venues", json=new_venue(), headers=reviewer)).status_code == 403
