"""Fixtures for the service tests: a fresh app per test on SQLite (temp dir) and, when reachable, PostgreSQL.

PostgreSQL runs use one database per test session (``survey_test_<random>``, dropped at the end) and empty
every table before each test; they also move sessions and rate limits to Redis (a random namespace per test).
With SURVEY_TEST_REQUIRE_SERVICES=1 (CI) an unreachable service fails the tests instead of skipping them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from service_helpers import TEST_PASSWORD_ITERATIONS, empty_postgres

from survey_platform.app import create_app
from survey_platform.settings import Settings

DATABASE_URL = os.environ.get("SURVEY_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SURVEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("SURVEY_TEST_REQUIRE_SERVICES") == "1"


@dataclass(frozen=True)
class Services:
    database_url: str | None
    redis_url: str | None
    reason: str


def _with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


async def _probe_and_create() -> Services:
    reasons = []
    database_url = None
    try:
        connection = await asyncpg.connect(DATABASE_URL, timeout=3)
        name = f"survey_test_{secrets.token_hex(4)}"
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()
        database_url = _with_database(DATABASE_URL, name)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        reasons.append(f"PostgreSQL at {DATABASE_URL} unreachable: {error}")
    redis_url = None
    try:
        client = Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        await client.ping()
        await client.aclose()
        redis_url = REDIS_URL
    except Exception as error:
        reasons.append(f"Redis at {REDIS_URL} unreachable: {error}")
    return Services(database_url, redis_url, "; ".join(reasons))


async def _drop(database_url: str) -> None:
    name = urllib.parse.urlsplit(database_url).path.lstrip("/")
    connection = await asyncpg.connect(DATABASE_URL, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    found = asyncio.run(_probe_and_create())
    yield found
    if found.database_url:
        asyncio.run(_drop(found.database_url))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(backend: str, services: Services, tmp_path: Path) -> Settings:
    """Settings for one test: SQLite in a temp dir, or the session's PostgreSQL database plus Redis."""
    overrides: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "password_iterations": TEST_PASSWORD_ITERATIONS,
        "address_salt": "test-salt",
        "questionnaires_dir": Path(__file__).resolve().parent / "data",
    }
    if backend == "postgres":
        if services.database_url is None or services.redis_url is None:
            if REQUIRE_SERVICES:
                pytest.fail(services.reason)
            pytest.skip(services.reason)
        asyncio.run(empty_postgres(services.database_url))
        overrides["database_url"] = services.database_url
        overrides["redis_url"] = services.redis_url
        overrides["redis_namespace"] = f"survey-test-{secrets.token_hex(4)}"
    return Settings.from_env({}, **overrides)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
