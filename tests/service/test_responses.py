"""Public response submission: validation like the browser, idempotency on the client UUID, batch sync."""

from __future__ import annotations

import asyncio
import datetime
import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import GOOD, T0, field_account, headers_for, in_app, open_campaign, submission

from survey_platform.storage.tables import SurveyResponse

pytestmark = pytest.mark.usefixtures("client")


async def stored_count(client: AsyncTestClient[Litestar], response_id: str | None = None) -> int:
    query = SurveyResponse.count()
    if response_id:
        query = query.where(SurveyResponse.uuid == uuid.UUID(response_id))
    return await in_app(client, query.run)


async def test_questionnaire_registered_with_client_form(client: AsyncTestClient[Litestar]) -> None:
    versions = (await client.get("/api/v1/questionnaires")).json()
    mini = [v for v in versions if v["questionnaire_id"] == "mini_city"]
    assert len(mini) == 1 and mini[0]["kind"] == "survey" and len(mini[0]["content_hash"]) == 64
    detail = (await client.get(f"/api/v1/questionnaires/{mini[0]['id']}")).json()
    assert "screen: . == true" in detail["source"]
    assert detail["client"]["id"] == "mini_city"


async def test_submit_is_idempotent_on_the_client_uuid(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    body = submission()
    first = await client.post("/api/v1/campaigns/mini-2026/responses", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "valid" and first.json()["eligible"] is True
    again = await client.post(
        "/api/v1/campaigns/mini-2026/responses", json=dict(reversed(list(body.items())))
    )
    assert again.status_code == 200 and again.json() == first.json()
    changed = await client.post("/api/v1/campaigns/mini-2026/responses", json={**body, "channel": "qr"})
    assert changed.status_code == 409
    assert changed.headers["content-type"].startswith("application/problem+json")
    assert await stored_count(client, body["id"]) == 1


async def test_hundred_concurrent_resends_store_one_row(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    body = submission()
    replies = await asyncio.gather(
        *(client.post("/api/v1/campaigns/mini-2026/responses", json=body) for _ in range(100))
    )
    codes = sorted(reply.status_code for reply in replies)
    assert codes == [200] * 99 + [201]
    assert len({reply.text for reply in replies}) == 1
    assert await stored_count(client) == 1


async def test_every_bad_field_is_reported(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    answers = {"resident": True, "sex": "x", "age": 3, "supply": 11, "complaint": True, "shoe_size": 42}
    response = await client.post(
        "/api/v1/campaigns/mini-2026/responses", json=submission(answers=answers, city="beijing")
    )
    assert response.status_code == 422
    paths = {error["path"] for error in response.json()["errors"]}
    assert paths == {
        "$.city",
        "$.answers.sex",
        "$.answers.age",
        "$.answers.supply",
        "$.answers.complaint_result",
        "$.answers.shoe_size",
    }
    assert await stored_count(client) == 0


async def test_screened_out_fast_and_future_responses(client: AsyncTestClient[Litestar]) -> None:
    """Screened-out respondents are excluded; a fast interview is stored valid with its duration (speeding is
    the campaign-level rule of ``scoring.quality``, judged against the campaign's median); a response from the
    future is flagged for clock skew."""
    await open_campaign(client)
    out = await client.post(
        "/api/v1/campaigns/mini-2026/responses", json=submission(answers={"resident": False})
    )
    assert out.status_code == 201 and out.json()["status"] == "excluded" and out.json()["eligible"] is False
    fast = submission(submitted_at=(T0 + datetime.timedelta(seconds=20)).isoformat())
    stored = await client.post("/api/v1/campaigns/mini-2026/responses", json=fast)
    assert stored.status_code == 201
    assert stored.json()["status"] == "valid" and stored.json()["quality_flags"] == []
    row = await in_app(
        client,
        SurveyResponse.select(SurveyResponse.duration_seconds)
        .where(SurveyResponse.uuid == uuid.UUID(fast["id"]))
        .first()
        .run,
    )
    assert row["duration_seconds"] == 20.0
    now = datetime.datetime.now(datetime.UTC)
    future = submission(
        started_at=(now + datetime.timedelta(hours=1)).isoformat(),
        submitted_at=(now + datetime.timedelta(hours=1, minutes=9)).isoformat(),
    )
    skewed = await client.post("/api/v1/campaigns/mini-2026/responses", json=future)
    assert skewed.json()["status"] == "flagged" and skewed.json()["quality_flags"] == ["clock_skew"]


async def test_campaign_must_be_open(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.post("/api/v1/campaigns/nope/responses", json=submission())).status_code == 404
    await open_campaign(client)
    admin = await headers_for(client, "admin")
    await client.post("/api/v1/campaigns/mini-2026/close", headers=admin)
    closed = await client.post("/api/v1/campaigns/mini-2026/responses", json=submission())
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]


async def test_batch_partial_success(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    stored = submission()
    assert (await client.post("/api/v1/campaigns/mini-2026/responses", json=stored)).status_code == 201
    items = [
        {**submission(), "campaign": "mini-2026"},
        {**stored, "campaign": "mini-2026"},  # identical re-send
        {**stored, "channel": "qr", "campaign": "mini-2026"},  # same UUID, other content
        {**submission(answers={"resident": True}), "campaign": "mini-2026"},  # required answers missing
        {**submission(), "campaign": "no-such-campaign"},
    ]
    interviewer, _ = await field_account(client, "mini-2026")
    reply = await client.post("/api/v1/batch", json={"responses": items}, headers=interviewer)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert [r["status"] for r in body["results"]] == [201, 200, 409, 422, 404]
    assert (body["created"], body["replayed"], body["failed"]) == (1, 1, 3)
    assert any(e["path"] == "$.answers.sex" for e in body["results"][3]["errors"])
    assert await stored_count(client) == 2


async def test_hostile_bodies_get_clear_4xx(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    url = "/api/v1/campaigns/mini-2026/responses"
    deep = (
        b'{"id": "'
        + str(uuid.uuid4()).encode()
        + b'", "answers": {"a": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}"
    )
    cases = [
        (b"{not json", "application/json", 400),
        (b'{"id": "x"}', "text/plain", 415),
        (deep, "application/json", (400, 413)),
        (
            b'{"id": "' + str(uuid.uuid4()).encode() + b'", "answers": {}, "extra": 1}',
            "application/json",
            422,
        ),
        (b'{"id": "not-a-uuid", "answers": {}}', "application/json", 422),
        (
            b'{"id": "' + str(uuid.uuid4()).encode() + b'", "answers": {"a": "' + b"x" * 2_000_000 + b'"}}',
            "application/json",
            413,
        ),
    ]
    for body, content_type, expected in cases:
        reply = await client.post(url, content=body, headers={"content-type": content_type})
        allowed = expected if isinstance(expected, tuple) else (expected,)
        assert reply.status_code in allowed, (body[:40], reply.status_code, reply.text[:200])
        assert reply.headers["content-type"].startswith("application/problem+json")
    assert await stored_count(client) == 0


async def test_answers_to_questions_not_asked_are_named_in_the_receipt(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    body = submission(
        answers={**GOOD, "complaint": False, "complaint_result": 3}
    )  # asked only after a complaint
    reply = await client.post("/api/v1/campaigns/mini-2026/responses", json=body)
    assert reply.status_code == 201, reply.text
    assert [i["path"] for i in reply.json()["ignored"]] == ["$.answers.complaint_result"]
    assert "not stored" in reply.json()["ignored"][0]["message"]
    stored = await in_app(
        client,
        SurveyResponse.select(SurveyResponse.answers)
        .where(SurveyResponse.uuid == uuid.UUID(body["id"]))
        .first()
        .run,
    )
    answers = (
        stored["answers"]
        if isinstance(stored["answers"], dict)
        else __import__("json").loads(stored["answers"])
    )
    assert "complaint_result" not in answers
    again = await client.post("/api/v1/campaigns/mini-2026/responses", json=body)  # a re-send says so again
    assert again.status_code == 200 and [i["path"] for i in again.json()["ignored"]] == [
        "$.answers.complaint_result"
    ]
    interviewer, _ = await field_account(client, "mini-2026")
    item = {
        **submission(answers={**GOOD, "complaint": False, "complaint_result": 3}),
        "campaign": "mini-2026",
    }
    batch = await client.post("/api/v1/batch", json={"responses": [item]}, headers=interviewer)
    assert [i["path"] for i in batch.json()["results"][0]["result"]["ignored"]] == [
        "$.answers.complaint_result"
    ]
