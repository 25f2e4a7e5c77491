"""Who may submit what: batches are a field-staff route; responses record who sent them and through which channel."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import field_account, headers_for, in_app, make_account, open_campaign, submission

from survey_platform.storage.tables import SurveyResponse

pytestmark = pytest.mark.usefixtures("client")


async def _stored(client: AsyncTestClient[Litestar], response_id: str) -> dict[str, Any] | None:
    import uuid

    query = (
        SurveyResponse.select(SurveyResponse.channel, SurveyResponse.submitted_by)
        .where(SurveyResponse.uuid == uuid.UUID(response_id))
        .first()
    )
    return await in_app(client, query.run)


async def test_anonymous_batches_are_refused_whole(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    items = [{**submission(), "campaign": "mini-2026"} for _ in range(3)]
    reply = await client.post("/api/v1/batch", json={"responses": items})
    assert reply.status_code == 401, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    for item in items:
        assert await _stored(client, item["id"]) is None


async def test_a_batch_records_the_interviewer_and_the_intercept_channel(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    interviewer, interviewer_id = await field_account(client, "mini-2026")
    items = [{**submission(channel="qr"), "campaign": "mini-2026"}, {**submission(), "campaign": "mini-2026"}]
    reply = await client.post("/api/v1/batch", json={"responses": items}, headers=interviewer)
    assert reply.status_code == 200 and reply.json()["created"] == 2, reply.text
    for item in items:
        assert await _stored(client, item["id"]) == {"channel": "intercept", "submitted_by": interviewer_id}


async def test_only_assigned_field_staff_and_admins_submit_each_item(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    await open_campaign(client, "other-2026")
    interviewer, _ = await field_account(client, "mini-2026")
    reviewer = await headers_for(client, "reviewer")
    items = [{**submission(), "campaign": "mini-2026"}, {**submission(), "campaign": "other-2026"}]
    mine = (await client.post("/api/v1/batch", json={"responses": items}, headers=interviewer)).json()
    assert [r["status"] for r in mine["results"]] == [201, 403]
    assert "not assigned" in mine["results"][1]["detail"]
    theirs = (
        await client.post(
            "/api/v1/batch", json={"responses": [{**submission(), "campaign": "mini-2026"}]}, headers=reviewer
        )
    ).json()
    assert [r["status"] for r in theirs["results"]] == [403]
    admin = await headers_for(client, "admin")
    anywhere = (await client.post("/api/v1/batch", json={"responses": [items[1]]}, headers=admin)).json()
    assert [r["status"] for r in anywhere["results"]] == [201]


async def test_anonymous_single_posts_record_qr_or_online_and_no_account(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    scanned, online = submission(channel="qr"), submission()
    assert (await client.post("/api/v1/campaigns/mini-2026/responses", json=scanned)).status_code == 201
    assert (await client.post("/api/v1/campaigns/mini-2026/responses", json=online)).status_code == 201
    assert await _stored(client, scanned["id"]) == {"channel": "qr", "submitted_by": None}
    assert await _stored(client, online["id"]) == {"channel": "online", "submitted_by": None}
    posing = await client.post("/api/v1/campaigns/mini-2026/responses", json=submission(channel="intercept"))
    assert posing.status_code == 422
    assert [e["path"] for e in posing.json()["errors"]] == ["$.channel"]


async def test_a_signed_in_interviewer_posting_alone_is_recorded_too(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    interviewer, interviewer_id = await field_account(client, "mini-2026")
    body = submission(channel="online")
    reply = await client.post("/api/v1/campaigns/mini-2026/responses", json=body, headers=interviewer)
    assert reply.status_code == 201, reply.text
    assert await _stored(client, body["id"]) == {"channel": "intercept", "submitted_by": interviewer_id}


async def test_assignments_fit_the_campaign_kind_and_name_missing_accounts(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    admin = await headers_for(client, "admin")
    _, inspector_id = await make_account(client, "inspector")
    _, interviewer_id = await make_account(client, "interviewer")
    wrong_kind = await client.put(
        "/api/v1/campaigns/mini-2026/inspectors", json={"inspectors": [inspector_id]}, headers=admin
    )
    assert wrong_kind.status_code == 422
    assert "survey" in wrong_kind.json()["errors"][0]["message"]
    missing = await client.put(
        "/api/v1/campaigns/mini-2026/interviewers",
        json={"interviewers": [interviewer_id, 99999]},
        headers=admin,
    )
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {
            "path": "$.interviewers[1]",
            "code": "unknown",
            "message": "账户 99999 不存在 / account 99999 does not exist",
        }
    ]
    wrong_role = await client.put(
        "/api/v1/campaigns/mini-2026/interviewers", json={"interviewers": [inspector_id]}, headers=admin
    )
    assert (
        wrong_role.status_code == 422
        and "role inspector, not interviewer" in wrong_role.json()["errors"][0]["message"]
    )
    ok = await client.put(
        "/api/v1/campaigns/mini-2026/interviewers", json={"interviewers": [interviewer_id]}, headers=admin
    )
    assert ok.status_code == 200 and ok.json() == {"interviewers": [interviewer_id]}
    listed = await client.get("/api/v1/campaigns/mini-2026/interviewers", headers=admin)
    assert listed.json() == {"interviewers": [interviewer_id]}
