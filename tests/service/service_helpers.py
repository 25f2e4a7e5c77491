"""Helpers shared by the service tests (accounts, sign-in, questionnaire rows)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from survey_platform.settings import Settings

TEST_PASSWORD_ITERATIONS = 1_000  # fast hashing in tests; production uses Piccolo's 600,000
PASSWORD = "correct-horse-9"
T = TypeVar("T")
REQUIRE_SERVICES = os.environ.get("SURVEY_TEST_REQUIRE_SERVICES") == "1"


async def in_app(client: AsyncTestClient[Litestar], function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``function(*args)`` on the app's event loop (the test client serves the app from another thread)."""
    return await asyncio.to_thread(client.blocking_portal.call, function, *args)


async def make_account(
    client: AsyncTestClient[Litestar], role: str, username: str | None = None
) -> tuple[str, int]:
    """Create an account directly through the service; returns (username, id)."""
    from survey_platform.accounts.service import create_account

    name = username or f"{role}-{secrets.token_hex(3)}"

    async def create() -> int:
        account = await create_account(name, PASSWORD, role, iterations=TEST_PASSWORD_ITERATIONS)
        return account.id

    return name, await in_app(client, create)


async def bearer(client: AsyncTestClient[Litestar], username: str) -> dict[str, str]:
    """Sign in and return an Authorization header."""
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # tests authenticate explicitly with the returned header
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def headers_for(client: AsyncTestClient[Litestar], role: str) -> dict[str, str]:
    username, _ = await make_account(client, role)
    return await bearer(client, username)


async def insert_questionnaire_version(
    client: AsyncTestClient[Litestar], questionnaire_id: str = "city-satisfaction", kind: str = "survey"
) -> int:
    """A questionnaire-version row written directly (for tests that do not need a parsed questionnaire)."""
    import datetime
    import hashlib

    from survey_platform.storage.tables import QuestionnaireVersion

    source = f"id: {questionnaire_id}\n# {secrets.token_hex(8)}\n"

    async def insert() -> list[dict[str, Any]]:
        return await QuestionnaireVersion.insert(
            QuestionnaireVersion(
                questionnaire_id=questionnaire_id,
                version="1",
                kind=kind,
                title=questionnaire_id,
                content_hash=hashlib.sha256(source.encode()).hexdigest(),
                source=source,
                registered_at=datetime.datetime.now(datetime.UTC),
            )
        ).returning(QuestionnaireVersion.id)

    rows = await in_app(client, insert)
    return rows[0]["id"]


GOOD = {"resident": True, "sex": "f", "age": 41, "supply": 8, "complaint": False}
T0 = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.UTC)


async def open_campaign(client: AsyncTestClient[Litestar], code: str = "mini-2026") -> dict[str, Any]:
    """Register the test questionnaire's version, a city, and an open campaign over them."""
    admin = await headers_for(client, "admin")
    versions = (await client.get("/api/v1/questionnaires", params={"questionnaire": "mini_city"})).json()
    assert len(versions) == 1, versions
    city = {"code": "wuxi", "name_zh": "无锡", "name_en": "Wuxi", "province": "江苏", "population": 7_490_000}
    if (await client.get("/api/v1/cities/wuxi")).status_code == 404:
        assert (await client.post("/api/v1/cities", json=city, headers=admin)).status_code == 201
    payload = {"code": code, "name": "测试", "questionnaire_version": versions[0]["id"], "cities": ["wuxi"]}
    assert (await client.post("/api/v1/campaigns", json=payload, headers=admin)).status_code == 201
    opened = await client.post(f"/api/v1/campaigns/{code}/open", headers=admin)
    assert opened.status_code == 200
    return opened.json()


async def field_account(
    client: AsyncTestClient[Litestar], campaign: str, role: str = "interviewer"
) -> tuple[dict[str, str], int]:
    """An account of ``role`` assigned to ``campaign`` (by an admin); returns (its bearer header, its id)."""
    admin = await headers_for(client, "admin")
    name, account_id = await make_account(client, role)
    field = {"interviewer": "interviewers", "inspector": "inspectors", "reviewer": "reviewers"}[role]
    current = (await client.get(f"/api/v1/campaigns/{campaign}/{field}", headers=admin)).json()[field]
    reply = await client.put(
        f"/api/v1/campaigns/{campaign}/{field}", json={field: [*current, account_id]}, headers=admin
    )
    assert reply.status_code == 200, reply.text
    return await bearer(client, name), account_id


def submission(**changes: Any) -> dict[str, Any]:
    body = {
        "id": str(uuid.uuid4()),
        "city": "wuxi",
        "answers": dict(GOOD),
        "started_at": T0.isoformat(),
        "submitted_at": (T0 + datetime.timedelta(minutes=9)).isoformat(),
        "channel": "online",
    }
    body.update(changes)
    return body


# A 1×1 PNG (hand-made: signature, IHDR, IDAT, IEND).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def inspection_setup(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    """An open inspection campaign over one venue, with one assigned and one unassigned inspector."""
    admin = await headers_for(client, "admin")
    name, inspector_id = await make_account(client, "inspector")
    other_name, _ = await make_account(client, "inspector")
    reviewer_name, reviewer_id = await make_account(client, "reviewer")
    reviewer = await bearer(client, reviewer_name)
    await client.post("/api/v1/cities", json={"code": "taiyuan", "name_zh": "太原"}, headers=admin)
    venue = (
        await client.post(
            "/api/v1/venues",
            json={"name": "某停车场", "category": "car_park", "city": "taiyuan"},
            headers=admin,
        )
    ).json()["id"]
    version = (
        await client.get("/api/v1/questionnaires", params={"questionnaire": "mini_inspection"})
    ).json()[0]["id"]
    campaign = {"code": "qr-2026", "name": "扫码体察", "questionnaire_version": version, "venues": [venue]}
    assert (await client.post("/api/v1/campaigns", json=campaign, headers=admin)).status_code == 201
    assigned = await client.put(
        "/api/v1/campaigns/qr-2026/inspectors", json={"inspectors": [inspector_id]}, headers=admin
    )
    assert assigned.status_code == 200 and assigned.json() == {"inspectors": [inspector_id]}
    reviewers = await client.put(
        "/api/v1/campaigns/qr-2026/reviewers", json={"reviewers": [reviewer_id]}, headers=admin
    )
    assert reviewers.status_code == 200, reviewers.text
    assert (await client.post("/api/v1/campaigns/qr-2026/open", headers=admin)).status_code == 200
    return {
        "admin": admin,
        "reviewer": reviewer,
        "reviewer_id": reviewer_id,
        "inspector_id": inspector_id,
        "inspector": await bearer(client, name),
        "other": await bearer(client, other_name),
        "venue": venue,
    }


async def upload(
    client: AsyncTestClient[Litestar], headers: dict[str, str], data: bytes, kind: str = "image/png"
) -> Any:
    return await client.post("/api/v1/photos", content=data, headers={**headers, "content-type": kind})


DATA = Path(__file__).resolve().parent / "data"
ANSWERS = {"resident": True, "sex": "m", "age": 35, "supply": 7, "complaint": False}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`survey-platform serve` in a subprocess; can be killed with SIGKILL and started again."""

    def __init__(
        self,
        settings: Settings,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_level: str = "warning",
        output: Path | None = None,
    ) -> None:
        self.settings = settings
        self.workers = workers
        self.log_level = log_level
        self.output = output  # the server's standard output and error, else discarded
        self.port = _free_port()
        self.env = {
            **os.environ,
            "DATA_DIR": str(settings.data_dir),
            "QUESTIONNAIRES_DIR": str(DATA),
            "SURVEY_RATE_LIMIT_PER_MINUTE": "0",
            "SURVEY_ANON_RESPONSES_PER_HOUR": "0",  # these servers test durability, not limits
            "SURVEY_PASSWORD_ITERATIONS": "1000",
            "SURVEY_PASSWORD": PASSWORD,
        }
        self.env.pop("REDIS_URL", None)
        if settings.database_url:
            self.env["DATABASE_URL"] = settings.database_url
        else:
            self.env.pop("DATABASE_URL", None)
        if settings.redis_url:
            self.env["REDIS_URL"] = settings.redis_url
            self.env["SURVEY_REDIS_NAMESPACE"] = settings.redis_namespace
        self.env.update(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "survey_platform.cli", *args],
            env=self.env,
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        log = self.output.open("ab") if self.output is not None else None
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "survey_platform.cli",
                "serve",
                "--port",
                str(self.port),
                "--log-level",
                self.log_level,
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=log if log is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
        )
        if log is not None:
            log.close()  # the child has its own copy
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("the server did not start within 30 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def empty_postgres(database_url: str) -> None:
    """Empty every table before a test.

    ``audit_log`` refuses TRUNCATE through a trigger (append-only); this connection alone switches to
    ``session_replication_role = replica``, under which ordinary triggers do not fire. The setting dies with the
    connection, so the application's own connections keep the guard.
    """
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("SET session_replication_role = replica")
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migration'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


def live_open_campaign(server: LiveServer, code: str = "live") -> dict[str, str]:
    """An admin (created with the CLI) and an open survey campaign on a live server; returns the admin's header."""
    admin = f"admin-{secrets.token_hex(3)}"
    server.cli("user", "create", admin, "--role", "admin")
    with httpx.Client(base_url=server.url) as client:
        token = client.post("/api/v1/auth/login", json={"username": admin, "password": PASSWORD}).json()[
            "token"
        ]
        headers = {"Authorization": f"Bearer {token}"}
        version = client.get("/api/v1/questionnaires", params={"questionnaire": "mini_city"}).json()[0]["id"]
        if client.get("/api/v1/cities/wuxi").status_code == 404:
            assert client.post(
                "/api/v1/cities", json={"code": "wuxi", "name_zh": "无锡"}, headers=headers
            ).is_success
        campaign = {"code": code, "name": code, "questionnaire_version": version, "cities": ["wuxi"]}
        assert client.post("/api/v1/campaigns", json=campaign, headers=headers).status_code == 201
        assert client.post(f"/api/v1/campaigns/{code}/open", headers=headers).status_code == 200
    return headers


def mark_published(settings: Settings, code: str) -> None:
    """Set a campaign's status to published in the database directly, without a release.

    Only for page tests that need a campaign in each status and do not look at results (a real campaign becomes
    published by publishing a release, which needs interviews).
    """
    if settings.database_url:

        async def update() -> None:
            connection = await asyncpg.connect(settings.database_url)
            try:
                await connection.execute("UPDATE campaign SET status = 'published' WHERE code = $1", code)
            finally:
                await connection.close()

        asyncio.run(update())
        return
    import sqlite3

    connection = sqlite3.connect(settings.sqlite_path, timeout=30)
    try:
        with connection:
            connection.execute("UPDATE campaign SET status = 'published' WHERE code = ?", (code,))
    finally:
        connection.close()
