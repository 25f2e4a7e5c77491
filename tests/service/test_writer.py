"""The group-commit writer and the one-pass body decoding of the submission routes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import secrets
import time
import uuid

import pytest
from litestar.testing import AsyncTestClient
from service_helpers import field_account, in_app, open_campaign, submission

from survey_platform.app import create_app
from survey_platform.settings import Settings
from survey_platform.storage.tables import Campaign, SurveyResponse
from survey_platform.storage.writer import SQLITE_INSERT_CHUNK, GroupCommitWriter, ResponseRow

LONG_LINGER_MS = 5_000.0  # far longer than any of these tests may take


def _row(campaign: dict[str, object], **changes: object) -> ResponseRow:
    now = datetime.datetime.now(datetime.UTC)
    fields: dict[str, object] = {
        "uuid": uuid.uuid4(),
        "campaign_id": campaign["id"],
        "city_code": "wuxi",
        "venue_id": None,
        "questionnaire_id": campaign["questionnaire"],
        "answers_json": '{"q_overall": 8}',
        "body_hash": secrets.token_hex(32),
        "channel": "intercept",
        "started_at": now - datetime.timedelta(minutes=9),
        "submitted_at": now,
        "received_at": now,
        "duration_seconds": 540.0,
        "eligible": True,
        "quality_flags": (),
        "status": "valid",
        "status_reason": "",
        **changes,
    }
    return ResponseRow(**fields)  # type: ignore[arg-type]


async def _campaign() -> dict[str, object]:
    row = (
        await Campaign.select(Campaign.id, Campaign.questionnaire).where(Campaign.code == "mini-2026").first()
    )
    assert row is not None
    return row


async def test_writer_commits_at_once_unless_a_write_is_announced(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, write_batch_ms=LONG_LINGER_MS))
    async with AsyncTestClient(app=app) as client:
        await open_campaign(client)

        async def scenario() -> dict[str, object]:
            writer: GroupCommitWriter = app.state.writer
            campaign = await _campaign()
            started = time.monotonic()
            (alone,) = await writer.write([_row(campaign)])
            lone_seconds = time.monotonic() - started
            batches_before = writer.batches
            with writer.expecting():  # a request still validating: the writer waits for it
                first = asyncio.ensure_future(writer.write([_row(campaign)]))
                await asyncio.sleep(0.3)
                held = not first.done()
                second = writer.enqueue([_row(campaign), _row(campaign)])
            released = time.monotonic()
            outcomes = await first, await second
            after_release = time.monotonic() - released
            return {
                "alone": alone.kind,
                "lone_seconds": lone_seconds,
                "held": held,
                "after_release": after_release,
                "kinds": [o.kind for group in outcomes for o in group],
                "batches": writer.batches - batches_before,
                "stored": await SurveyResponse.count(),
            }

        seen = await in_app(client, scenario)
    assert seen["alone"] == "created"
    assert seen["lone_seconds"] < LONG_LINGER_MS / 1000 / 2  # did not sit out the linger
    assert seen["held"] is True
    assert seen["after_release"] < LONG_LINGER_MS / 1000 / 2  # committed once the last announced one queued
    assert seen["kinds"] == ["created"] * 3
    assert seen["batches"] == 1  # the announced request joined the waiting one: one transaction
    assert seen["stored"] == 4


@pytest.mark.parametrize("via", ["copy", "insert"])
async def test_writer_classifies_resends_conflicts_and_closed_campaigns(
    settings: Settings, backend: str, via: str
) -> None:
    """PostgreSQL tries a COPY first and falls back to the insert-or-skip (``via="insert"`` drives the latter
    alone, so that both paths see every case); SQLite has one path."""
    async with AsyncTestClient(app=create_app(settings)) as client:
        await open_campaign(client)

        async def scenario() -> tuple[list[list[str]], list[int], int]:
            writer: GroupCommitWriter = app_writer(client)
            if backend == "postgres":
                writer.store.copy_first = via == "copy"  # type: ignore[attr-defined]
            refused = []  # PostgreSQL: COPYs refused for holding a stored UUID, after each write
            campaign = await _campaign()
            original = _row(campaign)
            same = _row(campaign, uuid=original.uuid, body_hash=original.body_hash)  # an identical re-send
            other = _row(campaign, uuid=original.uuid)  # same UUID, different body hash
            first = await writer.write([original, same, other])
            refused.append(getattr(writer.store, "copies_refused", -1))
            second = await writer.write([same, other, _row(campaign)])
            refused.append(getattr(writer.store, "copies_refused", -1))
            await Campaign.update({Campaign.status: "closed"}).where(Campaign.code == "mini-2026")
            third = await writer.write([_row(campaign), same])  # late: refused; a re-send: still a replay
            kinds = [[o.kind for o in outcomes] for outcomes in (first, second, third)]
            return kinds, refused, await SurveyResponse.count()

        kinds, refused, stored = await in_app(client, scenario)
    assert kinds == [
        ["created", "replayed", "conflict"],
        ["replayed", "conflict", "created"],
        ["closed", "replayed"],
    ]
    assert stored == 2  # the original and the new row of the second batch, once each
    if backend == "postgres":
        # COPY: the first batch went in whole; the second, holding a stored UUID, was refused and written again
        assert refused == ([0, 1] if via == "copy" else [0, 0])


@pytest.mark.parametrize("via", ["copy", "insert"])
async def test_a_uuid_refused_for_a_closed_campaign_is_stored_by_its_next_row_of_an_open_one(
    settings: Settings, backend: str, via: str
) -> None:
    """One batch holds the same UUID twice, first for a closed campaign, then for an open one: the first row is
    refused and the second stored (the batch's first plan sent only the first)."""
    async with AsyncTestClient(app=create_app(settings)) as client:
        await open_campaign(client, "closed-2026")
        await open_campaign(client)

        async def scenario() -> tuple[list[str], list[str]]:
            writer: GroupCommitWriter = app_writer(client)
            if backend == "postgres":
                writer.store.copy_first = via == "copy"  # type: ignore[attr-defined]
            await Campaign.update({Campaign.status: "closed"}).where(Campaign.code == "closed-2026")
            closed = (
                await Campaign.select(Campaign.id, Campaign.questionnaire)
                .where(Campaign.code == "closed-2026")
                .first()
            )
            late = _row(closed)  # type: ignore[arg-type]
            moved = _row(await _campaign(), uuid=late.uuid)  # the same UUID, for the open campaign
            outcomes = await writer.write([late, moved])
            stored = await SurveyResponse.select(SurveyResponse.campaign.code).run()
            return [o.kind for o in outcomes], [row["campaign.code"] for row in stored]

        kinds, stored = await in_app(client, scenario)
    assert kinds == ["closed", "created"] and stored == ["mini-2026"]


async def test_a_large_group_is_written_whole_across_insert_chunks(settings: Settings) -> None:
    """More rows than one multi-row INSERT holds (SQLite: 250 per statement), each row's own values kept (paradata
    too: through COPY and, for the second batch that holds stored UUIDs, through PostgreSQL's insert-or-skip)."""
    count = 2 * SQLITE_INSERT_CHUNK + 17
    async with AsyncTestClient(app=create_app(settings)) as client:
        await open_campaign(client)

        async def scenario() -> tuple[list[str], list[str], dict[str, object]]:
            writer: GroupCommitWriter = app_writer(client)
            campaign = await _campaign()
            rows = [
                _row(
                    campaign,
                    answers_json=f'{{"q_overall": {index % 11}}}',
                    quality_flags=("speeding",) if index % 3 == 0 else (),
                    status="flagged" if index % 3 == 0 else "valid",
                    paradata_json=f'{{"sections": {{"main": {index}.5}}}}' if index % 2 else None,
                )
                for index in range(count)
            ]
            first = await writer.write(rows)
            late = _row(campaign, paradata_json='{"sections": {"main": 7.25, "extra": 0}}')
            again = await writer.write([*rows[:: SQLITE_INSERT_CHUNK // 2], late])
            rows.append(late)
            stored = await SurveyResponse.select(
                SurveyResponse.uuid,
                SurveyResponse.answers,
                SurveyResponse.status,
                SurveyResponse.quality_flags,
                SurveyResponse.paradata,
            ).output(load_json=True)
            expected = {
                str(row.uuid): (
                    json.loads(row.answers_json),
                    row.status,
                    list(row.quality_flags),
                    json.loads(row.paradata_json) if row.paradata_json else None,
                )
                for row in rows
            }
            found = {
                str(record["uuid"]): (
                    record["answers"],
                    record["status"],
                    record["quality_flags"],
                    record["paradata"],
                )
                for record in stored
            }
            assert set(found) >= set(expected)
            mismatched = {key: found[key] for key in expected if found[key] != expected[key]}
            return [o.kind for o in first], [o.kind for o in again], mismatched

        first, again, mismatched = await in_app(client, scenario)
    assert first == ["created"] * count
    assert again == ["replayed"] * (len(again) - 1) + ["created"]
    assert mismatched == {}


def app_writer(client: AsyncTestClient) -> GroupCommitWriter:  # type: ignore[type-arg]
    return client.app.state.writer  # type: ignore[no-any-return]


async def test_timestamps_keep_their_instant_whatever_the_offset(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(settings)) as client:
        await open_campaign(client)
        body = submission(started_at="2026-05-01T17:00:00+08:00", submitted_at="2026-05-01T09:09:30Z")
        reply = await client.post("/api/v1/campaigns/mini-2026/responses", json=body)
        assert reply.status_code == 201, reply.text
        naive = await client.post(
            "/api/v1/campaigns/mini-2026/responses", json=submission(started_at="2026-05-01T09:00:00")
        )
        assert naive.status_code == 422 and naive.json()["errors"][0]["path"] == "$.started_at"

        async def stored() -> dict[str, object]:
            row = await (
                SurveyResponse.select(SurveyResponse.started_at, SurveyResponse.duration_seconds)
                .where(SurveyResponse.uuid == uuid.UUID(body["id"]))
                .first()
            )
            assert row is not None
            return row

        row = await in_app(client, stored)
    started = row["started_at"]
    assert started.replace(tzinfo=started.tzinfo or datetime.UTC) == datetime.datetime(
        2026, 5, 1, 9, 0, tzinfo=datetime.UTC
    )
    assert row["duration_seconds"] == 570.0


async def test_bodies_decode_in_one_pass_with_litestar_rules_and_paths(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(settings)) as client:
        await open_campaign(client)
        url = "/api/v1/campaigns/mini-2026/responses"
        lenient = await client.post(url, json=submission(questionnaire_version="1", venue=None))
        assert lenient.status_code in (201, 422), (
            lenient.text
        )  # "1" is read as 1 (Litestar's non-strict rules)
        assert all(e["path"] != "$.questionnaire_version" for e in lenient.json().get("errors", []))
        bad = await client.post(url, json=submission(channel="fax"))
        assert bad.status_code == 422
        assert [e["path"] for e in bad.json()["errors"]] == ["$.channel"]
        interviewer, _ = await field_account(client, "mini-2026")
        batch = await client.post(
            "/api/v1/batch",
            json={"responses": [{**submission(), "campaign": "mini-2026", "city": 7}]},
            headers=interviewer,
        )
        assert batch.status_code == 422
        assert [e["path"] for e in batch.json()["errors"]] == ["$.responses[0].city"]
        truncated = await client.post(
            "/api/v1/batch",
            content=b'{"responses": [{"id": ',
            headers={"content-type": "application/json", **interviewer},
        )
        assert truncated.status_code == 400 and truncated.json()["errors"][0]["code"] == "malformed"
