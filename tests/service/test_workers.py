"""`serve --workers 2`: two processes on one port share sessions through Redis and write one database."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_helpers import ANSWERS, PASSWORD, REQUIRE_SERVICES, LiveServer, empty_postgres

from survey_platform.settings import Settings


def _children(pid: int) -> list[str]:
    """Command lines of the processes whose parent is ``pid`` (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.append((stat.parent / "cmdline").read_text().replace("\0", " "))
        except OSError:
            continue
    return children


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pair(
    request: pytest.FixtureRequest, services: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    needed = [services.redis_url] + ([services.database_url] if request.param == "postgres" else [])
    if None in needed:
        if REQUIRE_SERVICES:
            pytest.fail(services.reason)
        pytest.skip(services.reason)
    overrides: dict[str, Any] = {
        "data_dir": tmp_path_factory.mktemp("workers") / "data",
        "redis_url": services.redis_url,
        "redis_namespace": f"survey-test-{secrets.token_hex(4)}",
    }
    if request.param == "postgres":
        asyncio.run(empty_postgres(services.database_url))
        overrides["database_url"] = services.database_url
    server = LiveServer(Settings.from_env({}, **overrides), workers=2)
    server.cli("user", "create", "workers-admin", "--role", "admin")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _fresh_connection_client(server: LiveServer) -> httpx.Client:
    """Every request on a new TCP connection, so the kernel may hand each one to either worker."""
    return httpx.Client(base_url=server.url, limits=httpx.Limits(max_keepalive_connections=0), timeout=30)


def test_two_worker_processes_serve_the_port(pair: LiveServer) -> None:
    assert pair.process is not None
    children = _children(pair.process.pid)
    # uvicorn's supervisor spawns the workers with multiprocessing (next to its resource tracker).
    assert sum("spawn_main" in command for command in children) == 2


def test_a_session_from_one_worker_is_valid_on_every_worker(pair: LiveServer) -> None:
    with _fresh_connection_client(pair) as client:
        login = client.post("/api/v1/auth/login", json={"username": "workers-admin", "password": PASSWORD})
        assert login.status_code == 200
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        statuses = [client.get("/api/v1/auth/me", headers=headers).status_code for _ in range(40)]
        assert statuses == [200] * 40
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        statuses = [client.get("/api/v1/auth/me", headers=headers).status_code for _ in range(40)]
        assert statuses == [401] * 40


async def test_concurrent_posts_across_workers_store_each_response_once(pair: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=pair.url, timeout=30) as client:
        login = await client.post(
            "/api/v1/auth/login", json={"username": "workers-admin", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        version = (await client.get("/api/v1/questionnaires", params={"questionnaire": "mini_city"})).json()[
            0
        ]["id"]
        await client.post("/api/v1/cities", json={"code": "wuxi", "name_zh": "无锡"}, headers=headers)
        code = f"w{secrets.token_hex(3)}"
        campaign = {"code": code, "name": code, "questionnaire_version": version, "cities": ["wuxi"]}
        assert (await client.post("/api/v1/campaigns", json=campaign, headers=headers)).status_code == 201
        assert (await client.post(f"/api/v1/campaigns/{code}/open", headers=headers)).status_code == 200

    path = f"/api/v1/campaigns/{code}/responses"
    distinct = [{"id": str(uuid.uuid4()), "city": "wuxi", "answers": ANSWERS} for _ in range(150)]
    resent = {"id": str(uuid.uuid4()), "city": "wuxi", "answers": ANSWERS}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=pair.url, limits=limits, timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post(path, json=body) for body in distinct),
            *(client.post(path, json=resent) for _ in range(50)),
        )
    assert [reply.status_code for reply in replies[:150]] == [201] * 150
    assert sorted(reply.status_code for reply in replies[150:]) == [200] * 49 + [201]

    async with httpx.AsyncClient(base_url=pair.url, timeout=30) as client:
        login = await client.post(
            "/api/v1/auth/login", json={"username": "workers-admin", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        export = await client.get(
            f"/api/v1/campaigns/{code}/export", params={"format": "csv"}, headers=headers
        )
    assert export.status_code == 200
    stored = export.text.splitlines()[1:]
    assert len(stored) == 151
    ids = {line.split(",")[0] for line in stored}
    assert ids == {body["id"] for body in distinct} | {resent["id"]}


def test_several_workers_without_redis_are_refused(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "survey_platform.cli", "serve", "--workers", "2", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "REDIS_URL" in result.stdout + result.stderr
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())
