"""No write after close, no change after publish: the campaign's status is checked when the write commits."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import field_account, headers_for, in_app, inspection_setup, open_campaign, submission

from survey_platform.settings import Settings
from survey_platform.storage.tables import Audit, Campaign, SurveyResponse
from survey_platform.storage.writer import ResponseRow, plan_batch

RESPONSES = "/api/v1/campaigns/mini-2026/responses"


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line in another process, on the test's database."""
    env = {**os.environ, "DATA_DIR": str(settings.data_dir)}
    env.pop("DATABASE_URL", None)
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    return subprocess.run(
        [sys.executable, "-m", "survey_platform.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _count(client: AsyncTestClient[Litestar]) -> int:
    return await in_app(client, SurveyResponse.count().run)


async def test_a_close_in_another_process_refuses_the_very_next_post(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    await open_campaign(client)
    interviewer, _ = await field_account(client, "mini-2026")
    stored = submission()
    assert (await client.post(RESPONSES, json=stored)).status_code == 201  # this process now caches "open"
    closed = _cli(settings, "campaign", "close", "mini-2026")
    assert closed.returncode == 0, closed.stderr
    late = await client.post(RESPONSES, json=submission())
    assert late.status_code == 409, late.text
    assert "not open" in late.json()["detail"]
    batch = await client.post(
        "/api/v1/batch", json={"responses": [{**submission(), "campaign": "mini-2026"}]}, headers=interviewer
    )
    assert [r["status"] for r in batch.json()["results"]] == [409]
    # a re-send of what was stored before the close is still acknowledged (a lost reply is not a late write)
    assert (await client.post(RESPONSES, json=stored)).status_code == 200
    assert await _count(client) == 1


@pytest.mark.parametrize("via", ["copy", "insert"])
async def test_a_write_that_waits_for_a_close_is_refused_when_the_close_commits(
    client: AsyncTestClient[Litestar], settings: Settings, backend: str, via: str
) -> None:
    """Another process closes the campaign in a transaction that has not committed yet: the write waits for it
    (the campaign row's lock) and, once the close commits, stores nothing. (SQLite has one path.)"""
    await open_campaign(client)

    async def scenario() -> tuple[list[str], bool, int, int]:
        campaign = await Campaign.select(Campaign.id).where(Campaign.code == "mini-2026").first()
        store = client.app.state.writer.store
        if backend == "postgres":
            store.copy_first = via == "copy"
            closer: Any = await asyncpg.connect(settings.database_url)
            await closer.execute("BEGIN")
            await closer.execute("UPDATE campaign SET status = 'closed' WHERE code = 'mini-2026'")
        else:
            closer = sqlite3.connect(settings.sqlite_path, isolation_level=None)
            closer.execute("BEGIN IMMEDIATE")
            closer.execute("UPDATE campaign SET status = 'closed' WHERE code = 'mini-2026'")
        write = asyncio.ensure_future(store.write([_row(campaign["id"]), _row(campaign["id"])]))
        await asyncio.sleep(0.5)
        waited = not write.done()
        if backend == "postgres":
            await closer.execute("COMMIT")
            await closer.close()
        else:
            closer.execute("COMMIT")
            closer.close()
        outcomes = await asyncio.wait_for(write, 30)
        return (
            [o.kind for o in outcomes],
            waited,
            await SurveyResponse.count(),
            getattr(store, "copies_refused", 0),
        )

    kinds, waited, stored, refused = await in_app(client, scenario)
    assert waited  # the write could not commit before the close did
    assert kinds == ["closed", "closed"] and stored == 0
    if backend == "postgres" and via == "copy":
        assert refused == 1  # the table's trigger waited for the close, then refused the COPY


def _row(campaign: int) -> ResponseRow:
    import datetime

    now = datetime.datetime.now(datetime.UTC)
    return ResponseRow(
        uuid.uuid4(),
        campaign,
        "wuxi",
        None,
        1,
        "{}",
        "h",
        "online",
        None,
        None,
        now,
        None,
        True,
        (),
        "valid",
        "",
    )


def test_the_writer_plans_rows_of_closed_campaigns_as_refused() -> None:
    open_row, closed_row = _row(1), _row(2)
    stored_before_close = _row(2)
    to_insert, outcomes = plan_batch(
        [open_row, closed_row, stored_before_close],
        {stored_before_close.uuid: stored_before_close.summary()},
        open_campaigns={1},
    )
    assert to_insert == [open_row]
    assert [o.kind for o in outcomes] == ["created", "closed", "replayed"]


async def _audit(client: AsyncTestClient[Litestar], ctx: dict[str, Any], answers: dict[str, Any]) -> Any:
    body = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": answers}
    return await client.post("/api/v1/campaigns/qr-2026/audits", json=body, headers=ctx["inspector"])


ANSWERS = {"counter_payment": True}  # a valid answer set of tests/service/data/mini_inspection.yaml


async def test_after_close_corrections_and_reviews_go_on_and_after_publish_nothing_changes(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    ctx = await inspection_setup(client)
    answers = ANSWERS
    first, second = await _audit(client, ctx, answers), await _audit(client, ctx, answers)
    assert first.status_code == 201 and second.status_code == 201, first.text
    first_id, second_id = first.json()["id"], second.json()["id"]
    review = f"/api/v1/audits/{first_id}/review"
    returned = await client.post(
        review, json={"action": "return", "comment": "照片不清楚"}, headers=ctx["reviewer"]
    )
    assert returned.status_code == 200
    closed = _cli(settings, "campaign", "close", "qr-2026")
    assert closed.returncode == 0, closed.stderr
    assert (await _audit(client, ctx, answers)).status_code == 409  # nothing new after close
    corrected = await client.put(
        f"/api/v1/audits/{first_id}", json={"answers": answers}, headers=ctx["inspector"]
    )
    assert corrected.status_code == 200, corrected.text  # the returned audit may still be corrected
    decided = await client.post(
        f"/api/v1/audits/{second_id}/review", json={"action": "approve"}, headers=ctx["reviewer"]
    )
    assert decided.status_code == 200  # and reviewers still decide
    published = _cli(settings, "publish", "qr-2026")
    assert published.returncode == 0, published.stderr
    frozen = await client.post(review, json={"action": "approve"}, headers=ctx["reviewer"])
    assert frozen.status_code == 409 and "published" in frozen.json()["detail"]
    again = await client.put(
        f"/api/v1/audits/{first_id}", json={"answers": answers}, headers=ctx["inspector"]
    )
    assert again.status_code == 409
    states = await in_app(client, Audit.select(Audit.review_state).order_by(Audit.id).run)
    assert [s["review_state"] for s in states] == ["submitted", "approved"]


async def test_an_admin_cannot_add_an_audit_after_close_either(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    ctx = await inspection_setup(client)
    assert _cli(settings, "campaign", "close", "qr-2026").returncode == 0
    admin = await headers_for(client, "admin")
    body = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": ANSWERS}
    assert (
        await client.post("/api/v1/campaigns/qr-2026/audits", json=body, headers=admin)
    ).status_code == 409


async def test_postgresql_without_its_trigger_writes_through_the_checked_insert(
    client: AsyncTestClient[Litestar], settings: Settings, backend: str
) -> None:
    """COPY is checked by the table's trigger only: a database where it is disabled must not lose the check."""
    if backend != "postgres":
        pytest.skip("the trigger and COPY are PostgreSQL's; SQLite checks inside its write transaction")
    await open_campaign(client)

    async def scenario() -> tuple[bool, bool, list[str], int]:
        store = client.app.state.writer.store
        campaign = await Campaign.select(Campaign.id).where(Campaign.code == "mini-2026").first()
        admin: Any = await asyncpg.connect(settings.database_url)
        try:
            await admin.execute("ALTER TABLE response DISABLE TRIGGER response_campaign_open")
            await store.open()
            without = store.copy_first
            await Campaign.update({Campaign.status: "closed"}).where(Campaign.code == "mini-2026")
            outcomes = await store.write([_row(campaign["id"])])
            await admin.execute("ALTER TABLE response ENABLE TRIGGER response_campaign_open")
            store.copy_first = True
            await store.open()
            return without, store.copy_first, [o.kind for o in outcomes], await SurveyResponse.count()
        finally:
            await admin.execute("ALTER TABLE response ENABLE TRIGGER response_campaign_open")
            await admin.close()

    without, again, kinds, stored = await in_app(client, scenario)
    assert (without, again) == (False, True)
    assert kinds == ["closed"] and stored == 0
