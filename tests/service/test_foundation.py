"""App factory, health, OpenAPI, problem details, migrations and settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from survey_platform.settings import Settings, SettingsError


async def test_health_and_schema(client: AsyncTestClient[Litestar], backend: str) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "postgresql" if backend == "postgres" else "sqlite",
    }
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/health" in paths and "/api/v1/auth/login" in paths


async def test_unknown_route_is_a_problem_document(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (
        body["status"] == 404 and body["title"] == "Not Found" and body["instance"] == "/api/v1/no-such-thing"
    )


async def test_malformed_json_is_400_with_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b'{"username": "a", ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]


async def test_schema_violation_is_422_with_field_path(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/api/v1/auth/login", json={"username": "a", "password": 5})
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["$.password"]
    unknown = await client.post("/api/v1/auth/login", json={"username": "a", "password": "b", "extra": 1})
    assert unknown.status_code == 422
    assert "extra" in unknown.json()["errors"][0]["message"]


def test_sqlite_file_created_in_wal_mode(tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from survey_platform.app import create_app

    settings = Settings.from_env({"DATA_DIR": str(tmp_path / "fresh")})
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
    connection = sqlite3.connect(settings.sqlite_path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        connection.close()
    assert {"piccolo_user", "account_role", "audit_log", "campaign", "response", "city", "venue"} <= tables


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {"DATA_DIR": "/srv/x", "DATABASE_URL": "postgresql://u@h/db", "SURVEY_RATE_LIMIT_PER_MINUTE": "7"}
    )
    assert settings.sqlite_path == Path("/srv/x/survey.sqlite")
    assert settings.database_url == "postgresql://u@h/db" and settings.rate_limit_per_minute == 7
    assert Settings.from_env({}).data_dir == Path("data") and Settings.from_env({}).database_url is None
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        Settings.from_env({"DATABASE_URL": "mysql://x"})
    with pytest.raises(SettingsError, match="SURVEY_MAX_BODY_BYTES"):
        Settings.from_env({"SURVEY_MAX_BODY_BYTES": "lots"})
