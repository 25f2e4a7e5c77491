"""Public submissions are rate-limited per client, in the app's store (memory, or Redis when configured)."""

from __future__ import annotations

import dataclasses
import uuid

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from survey_platform.app import create_app
from survey_platform.settings import Settings


async def test_fourth_submission_in_a_minute_is_429(settings: Settings) -> None:
    limited = dataclasses.replace(settings, rate_limit_per_minute=3)
    async with AsyncTestClient(app=create_app(limited)) as client:
        statuses = []
        for _ in range(4):
            reply = await client.post(
                "/api/v1/campaigns/none/responses", json={"id": str(uuid.uuid4()), "answers": {}}
            )
            statuses.append(reply.status_code)
        assert statuses == [404, 404, 404, 429]
        assert reply.headers["content-type"].startswith("application/problem+json")
        # reads are not limited
        reads = [(await client.get("/api/v1/cities")).status_code for _ in range(5)]
        assert reads == [200] * 5
    if limited.redis_url:
        redis = Redis.from_url(limited.redis_url)
        keys = [key.decode() async for key in redis.scan_iter(f"{limited.redis_namespace}*")]
        await redis.aclose()
        assert any("rate_limit" in key for key in keys), keys
        assert not any("testclient" in key or "127.0.0.1" in key for key in keys), "raw client address stored"
