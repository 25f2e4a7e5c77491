"""A real uvicorn process on 127.0.0.1: concurrent idempotent re-sends, and kill -9 while clients post."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from service_helpers import ANSWERS, PASSWORD, REQUIRE_SERVICES, LiveServer, empty_postgres

from survey_platform.settings import Settings


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(
    request: pytest.FixtureRequest, services: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server per backend for this module (starting a process costs seconds)."""
    overrides: dict[str, Any] = {"data_dir": tmp_path_factory.mktemp("live") / "data"}
    if request.param == "postgres":
        if services.database_url is None:
            if REQUIRE_SERVICES:
                pytest.fail(services.reason)
            pytest.skip(services.reason)
        asyncio.run(empty_postgres(services.database_url))
        overrides["database_url"] = services.database_url
    server = LiveServer(Settings.from_env({}, **overrides))
    server.cli("user", "create", "live-admin", "--role", "admin")
    server.start()
    with httpx.Client(base_url=server.url) as client:
        token = client.post(
            "/api/v1/auth/login", json={"username": "live-admin", "password": PASSWORD}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        version = client.get("/api/v1/questionnaires", params={"questionnaire": "mini_city"}).json()[0]["id"]
        city = {"code": "wuxi", "name_zh": "无锡"}
        assert client.post("/api/v1/cities", json=city, headers=headers).status_code == 201
        campaign = {"code": "live", "name": "live", "questionnaire_version": version, "cities": ["wuxi"]}
        assert client.post("/api/v1/campaigns", json=campaign, headers=headers).status_code == 201
        assert client.post("/api/v1/campaigns/live/open", headers=headers).status_code == 200
    try:
        yield server
    finally:
        server.stop()


async def _stored_ids(settings: Settings) -> list[str]:
    if settings.database_url:
        connection = await asyncpg.connect(settings.database_url)
        try:
            return [str(row["uuid"]) for row in await connection.fetch("SELECT uuid FROM response")]
        finally:
            await connection.close()
    connection = sqlite3.connect(settings.sqlite_path)
    try:
        return [row[0] for row in connection.execute("SELECT uuid FROM response")]
    finally:
        connection.close()


def _body(response_id: str) -> dict[str, Any]:
    return {"id": response_id, "city": "wuxi", "answers": ANSWERS}


async def test_concurrent_resends_over_real_http(live: LiveServer) -> None:
    settings = live.settings
    before = set(await _stored_ids(settings))
    body = _body(str(uuid.uuid4()))
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=live.url, limits=limits, timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post("/api/v1/campaigns/live/responses", json=body) for _ in range(100))
        )
    assert sorted(reply.status_code for reply in replies) == [200] * 99 + [201]
    assert len({reply.text for reply in replies}) == 1
    assert set(await _stored_ids(settings)) - before == {body["id"]}


async def test_kill_9_loses_no_acknowledged_response(live: LiveServer) -> None:
    settings = live.settings
    before = set(await _stored_ids(settings))
    sent: list[str] = []
    acknowledged: set[str] = set()
    stop = asyncio.Event()

    async def poster(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            response_id = str(uuid.uuid4())
            sent.append(response_id)
            try:
                reply = await client.post("/api/v1/campaigns/live/responses", json=_body(response_id))
            except httpx.HTTPError:
                return
            if reply.status_code in (200, 201):
                acknowledged.add(response_id)

    async with httpx.AsyncClient(base_url=live.url, timeout=10) as client:
        posters = [asyncio.create_task(poster(client)) for _ in range(8)]
        while len(acknowledged) < 100:
            await asyncio.sleep(0.02)
        live.kill()  # SIGKILL while requests are in flight
        stop.set()
        await asyncio.gather(*posters)

    stored = await _stored_ids(settings)
    assert acknowledged <= set(stored), "an acknowledged response was lost"
    assert len(stored) == len(set(stored))

    live.start()
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        retries = await asyncio.gather(
            *(client.post("/api/v1/campaigns/live/responses", json=_body(rid)) for rid in sent)
        )
    for response_id, reply in zip(sent, retries, strict=True):
        assert reply.status_code in (200, 201), reply.text
        if response_id in acknowledged:
            assert reply.status_code == 200
    final = await _stored_ids(settings)
    assert len(final) == len(set(final)), "a response was stored twice"
    assert set(final) - before == set(sent), "after retries every response is stored exactly once"
