"""Limits that stop stuffing and guessing: anonymous responses per address and campaign, failed sign-ins per
account and address (shared through Redis), and client addresses behind trusted proxies only."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from service_helpers import (
    PASSWORD,
    LiveServer,
    field_account,
    live_open_campaign,
    make_account,
    open_campaign,
    submission,
)

from survey_platform.app import create_app
from survey_platform.net import client_address, parse_networks
from survey_platform.settings import Settings

RESPONSES = "/api/v1/campaigns/mini-2026/responses"


async def test_anonymous_responses_are_limited_per_campaign_not_per_request(settings: Settings) -> None:
    limited = dataclasses.replace(settings, anon_responses_per_hour=3)
    async with AsyncTestClient(app=create_app(limited)) as client:
        await open_campaign(client)
        await open_campaign(client, "other-2026")
        first = submission()
        assert (await client.post(RESPONSES, json=first)).status_code == 201
        # re-sends of a stored response do not count
        assert [(await client.post(RESPONSES, json=first)).status_code for _ in range(4)] == [200] * 4
        statuses = [(await client.post(RESPONSES, json=submission())).status_code for _ in range(3)]
        assert statuses == [201, 201, 429]
        refused = await client.post(RESPONSES, json=submission())
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        # ... nor are they refused once the limit is reached
        assert (await client.post(RESPONSES, json=first)).status_code == 200
        # every campaign has its own limit; signed-in interviewers have none
        assert (
            await client.post("/api/v1/campaigns/other-2026/responses", json=submission())
        ).status_code == 201
        interviewer, _ = await field_account(client, "mini-2026")
        assert (await client.post(RESPONSES, json=submission(), headers=interviewer)).status_code == 201
    if limited.redis_url:
        redis = Redis.from_url(limited.redis_url)
        keys = [key.decode() async for key in redis.scan_iter(f"{limited.redis_namespace}:limit:*")]
        await redis.aclose()
        assert any("anonymous-responses" in key for key in keys), keys
        assert not any("testclient" in key or "127.0.0.1" in key for key in keys), "raw client address stored"


async def test_zero_switches_the_anonymous_limit_off(settings: Settings) -> None:
    async with AsyncTestClient(
        app=create_app(dataclasses.replace(settings, anon_responses_per_hour=0))
    ) as client:
        await open_campaign(client)
        statuses = {(await client.post(RESPONSES, json=submission())).status_code for _ in range(25)}
        assert statuses == {201}


async def test_failed_sign_ins_are_throttled_per_account_and_address(settings: Settings) -> None:
    limited = dataclasses.replace(settings, login_failures=3)
    async with AsyncTestClient(app=create_app(limited)) as client:
        name, _ = await make_account(client, "reviewer")
        other, _ = await make_account(client, "reviewer")
        wrong = {"username": name, "password": "not-the-password"}
        assert [(await client.post("/api/v1/auth/login", json=wrong)).status_code for _ in range(3)] == [
            401
        ] * 3
        right = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert right.status_code == 429, right.text
        assert 1 <= int(right.headers["retry-after"]) <= limited.login_window_seconds
        # the same address trying another account is refused too (per-address count)
        elsewhere = await client.post("/api/v1/auth/login", json={"username": other, "password": PASSWORD})
        assert elsewhere.status_code == 429
        if limited.redis_url:
            # a second process sharing Redis sees the same count
            async with AsyncTestClient(app=create_app(limited)) as second:
                shared = await second.post(
                    "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
                )
                assert shared.status_code == 429


async def test_a_success_clears_the_account_failures(settings: Settings) -> None:
    limited = dataclasses.replace(settings, login_failures=3)
    async with AsyncTestClient(app=create_app(limited)) as client:
        name, _ = await make_account(client, "reviewer")
        wrong = {"username": name, "password": "not-the-password"}
        for _ in range(2):
            assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
        ok = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert ok.status_code == 200


def test_forwarded_headers_are_believed_only_from_trusted_proxies() -> None:
    trusted = parse_networks("10.0.0.0/8, ::1")
    chain = [(b"x-forwarded-for", b"198.51.100.7, 10.1.2.3")]
    assert client_address("10.0.0.1", chain, trusted) == "198.51.100.7"  # skips the trusted hop 10.1.2.3
    assert (
        client_address("203.0.113.9", chain, trusted) == "203.0.113.9"
    )  # an untrusted peer's header is ignored
    assert client_address("10.0.0.1", chain, ()) == "10.0.0.1"  # no trusted proxies: nothing is believed
    spoofed = [(b"x-forwarded-for", b"1.1.1.1, 198.51.100.7")]  # the client wrote 1.1.1.1 itself
    assert client_address("10.0.0.1", spoofed, trusted) == "198.51.100.7"
    rfc7239 = [(b"forwarded", b'for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"')]
    assert client_address("::1", rfc7239, trusted, "forwarded") == "2001:db8::17"


def test_only_the_header_the_proxy_writes_is_read() -> None:
    trusted = parse_networks("10.0.0.0/8")
    # nginx appends the peer to X-Forwarded-For and passes the client's own Forwarded header through untouched
    headers = [(b"forwarded", b"for=6.6.6.6"), (b"x-forwarded-for", b"203.0.113.9")]
    assert client_address("10.0.0.1", headers, trusted) == "203.0.113.9"
    # a node that is not an address makes the client unknown: the proxy's own address, not a key of their choosing
    assert client_address("10.0.0.1", [(b"x-forwarded-for", b"unknown")], trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", [(b"x-forwarded-for", b"hello-world, 10.0.0.2")], trusted) == "10.0.0.1"


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two real servers on SQLite, anonymous limit 1: one trusts 127.0.0.1 as a proxy, one trusts nothing."""
    servers = []
    for name, trusted in (("trusting", "127.0.0.1"), ("plain", "")):
        settings = Settings.from_env({}, data_dir=tmp_path / name)
        env = {"SURVEY_ANON_RESPONSES_PER_HOUR": "1", "SURVEY_TRUSTED_PROXIES": trusted}
        server = LiveServer(settings, env=env)
        server.start()
        live_open_campaign(server)
        servers.append(server)
    try:
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(proxied: tuple[LiveServer, LiveServer]) -> None:
    trusting, plain = proxied

    def post(server: LiveServer, client: str) -> int:
        body = {**submission(), "id": str(uuid.uuid4())}
        reply = httpx.post(
            f"{server.url}/api/v1/campaigns/live/responses", json=body, headers={"X-Forwarded-For": client}
        )
        return reply.status_code

    assert [post(trusting, "203.0.113.1"), post(trusting, "203.0.113.1"), post(trusting, "203.0.113.2")] == [
        201,
        429,
        201,
    ]
    # without trusted proxies the header is ignored: every request is the same client (the peer)
    assert [post(plain, "203.0.113.1"), post(plain, "203.0.113.2")] == [201, 429]
