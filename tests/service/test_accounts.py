"""Accounts: sign-in (bearer and cookie), roles, admin management, session revocation, audit log."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from piccolo.apps.user.tables import BaseUser
from service_helpers import PASSWORD, bearer, empty_postgres, headers_for, in_app, make_account

from survey_platform.settings import Settings


async def test_login_gives_token_and_cookie(client: AsyncTestClient[Litestar]) -> None:
    username, _ = await make_account(client, "reviewer")
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["account"]["role"] == "reviewer"
    cookie = response.headers["set-cookie"]
    assert "survey_session=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    # the cookie alone authenticates (page use) ...
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["username"] == username
    # ... and so does the bearer token without cookies
    client.cookies.clear()
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["role"] == "reviewer"


async def test_wrong_password_and_unknown_user_are_401(client: AsyncTestClient[Litestar]) -> None:
    username, _ = await make_account(client, "inspector")
    for name, password in ((username, "wrong-password"), ("nobody-here", PASSWORD)):
        response = await client.post("/api/v1/auth/login", json={"username": name, "password": password})
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_password_is_stored_hashed_by_piccolo(client: AsyncTestClient[Litestar]) -> None:
    username, _ = await make_account(client, "inspector")
    query = BaseUser.select(BaseUser.password).where(BaseUser.username == username).first()
    row = await in_app(client, query.run)
    assert row["password"].startswith("pbkdf2_sha256$") and PASSWORD not in row["password"]


async def test_admin_manages_accounts_and_others_cannot(client: AsyncTestClient[Litestar]) -> None:
    admin = await headers_for(client, "admin")
    inspector = await headers_for(client, "inspector")
    new = {"username": "field-01", "password": PASSWORD, "role": "inspector", "display_name": "张三"}
    assert (await client.post("/api/v1/accounts", json=new, headers=inspector)).status_code == 403
    assert (await client.post("/api/v1/accounts", json=new)).status_code == 401
    created = await client.post("/api/v1/accounts", json=new, headers=admin)
    assert created.status_code == 201, created.text
    assert (await client.post("/api/v1/accounts", json=new, headers=admin)).status_code == 409
    bad = await client.post(
        "/api/v1/accounts", json={**new, "username": "x", "password": "short"}, headers=admin
    )
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["errors"]} == {"$.username", "$.password"}
    boss = await client.post(
        "/api/v1/accounts", json={**new, "username": "field-02", "role": "boss"}, headers=admin
    )
    assert boss.status_code == 422 and [e["path"] for e in boss.json()["errors"]] == ["$.role"]
    listing = await client.get("/api/v1/accounts", headers=admin)
    assert "field-01" in {a["username"] for a in listing.json()}
    log = await client.get("/api/v1/audit-log", headers=admin)
    assert any(e["action"] == "account.create" and e["detail"]["username"] == "field-01" for e in log.json())


async def test_role_change_revokes_sessions(client: AsyncTestClient[Litestar]) -> None:
    admin = await headers_for(client, "admin")
    username, user_id = await make_account(client, "reviewer")
    reviewer = await bearer(client, username)
    client.cookies.clear()
    assert (await client.get("/api/v1/auth/me", headers=reviewer)).status_code == 200
    changed = await client.patch(f"/api/v1/accounts/{user_id}", json={"role": "inspector"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["role"] == "inspector"
    assert (await client.get("/api/v1/auth/me", headers=reviewer)).status_code == 401
    again = await bearer(client, username)
    assert (await client.get("/api/v1/auth/me", headers=again)).json()["role"] == "inspector"
    await client.patch(f"/api/v1/accounts/{user_id}", json={"active": False}, headers=admin)
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 401


async def test_logout_ends_the_session(client: AsyncTestClient[Litestar]) -> None:
    headers = await headers_for(client, "inspector")
    client.cookies.clear()
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def _raw(settings: Settings, statement: str) -> list[Any]:
    """Run one SQL statement on a connection of its own (not the application's)."""
    if settings.database_url:
        connection = await asyncpg.connect(settings.database_url)
        try:
            return [tuple(row) for row in await connection.fetch(statement)]
        finally:
            await connection.close()
    lite = sqlite3.connect(settings.sqlite_path, timeout=30)
    try:
        with lite:  # commits, or rolls back on error
            return lite.execute(statement).fetchall()
    finally:
        lite.close()


async def test_audit_log_is_append_only_in_the_database(
    client: AsyncTestClient[Litestar], settings: Settings, backend: str
) -> None:
    admin = await headers_for(client, "admin")
    city = {"code": "hefei", "name_zh": "合肥"}
    assert (await client.post("/api/v1/cities", json=city, headers=admin)).status_code == 201
    before = await _raw(settings, "SELECT * FROM audit_log ORDER BY id")
    assert before and any("city.create" in row for row in before)
    entry = before[-1][0]
    refused = [
        f"UPDATE audit_log SET actor = 'mallory' WHERE id = {entry}",
        "UPDATE audit_log SET detail = '{}'",
        f"DELETE FROM audit_log WHERE id = {entry}",
        "DELETE FROM audit_log",
    ]
    if backend == "postgres":
        refused.append("TRUNCATE audit_log")
    error = asyncpg.PostgresError if backend == "postgres" else sqlite3.DatabaseError
    for statement in refused:
        with pytest.raises(error, match="append-only"):
            await _raw(settings, statement)
    assert await _raw(settings, "SELECT * FROM audit_log ORDER BY id") == before
    # appending still works, through the service
    city = {"code": "bengbu", "name_zh": "蚌埠"}
    assert (await client.post("/api/v1/cities", json=city, headers=admin)).status_code == 201
    assert len(await _raw(settings, "SELECT * FROM audit_log")) == len(before) + 1

    if backend == "postgres":
        # the suite's cleanup empties the log on a connection of its own, and the guard stays on for others
        await empty_postgres(settings.database_url)
        assert await _raw(settings, "SELECT count(*) FROM audit_log") == [(0,)]
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await _raw(settings, "DELETE FROM audit_log")


async def test_users_change_their_own_password_with_the_old_one(client: AsyncTestClient[Litestar]) -> None:
    username, _ = await make_account(client, "inspector")
    first = await bearer(client, username)
    second = await bearer(client, username)  # another device
    url = "/api/v1/auth/password"
    wrong = await client.post(
        url, json={"old_password": "not-it-at-all", "new_password": "a-new-long-one"}, headers=first
    )
    assert wrong.status_code == 422 and [e["path"] for e in wrong.json()["errors"]] == ["$.old_password"]
    for weak in ("short-1", "1234567890", "password2026", f"{username}-2026x"):
        refused = await client.post(url, json={"old_password": PASSWORD, "new_password": weak}, headers=first)
        assert refused.status_code == 422, weak
        assert [e["path"] for e in refused.json()["errors"]] == ["$.new_password"], weak
    changed = await client.post(
        url, json={"old_password": PASSWORD, "new_password": "river-lantern-42"}, headers=first
    )
    assert changed.status_code == 200, changed.text
    client.cookies.clear()
    # every earlier session ended (this device gets a fresh one in the reply)
    assert (await client.get("/api/v1/auth/me", headers=first)).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=second)).status_code == 401
    fresh = {"Authorization": f"Bearer {changed.json()['token']}"}
    assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200
    old = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/v1/auth/login", json={"username": username, "password": "river-lantern-42"})
    assert new.status_code == 200


async def test_new_accounts_need_a_long_uncommon_password(client: AsyncTestClient[Litestar]) -> None:
    admin = await headers_for(client, "admin")
    for weak in ("nine-char", "qwertyuiop", "aaaaaaaaaaaa", "woaini1314520"):
        reply = await client.post(
            "/api/v1/accounts",
            json={"username": "field-09", "password": weak, "role": "interviewer"},
            headers=admin,
        )
        assert reply.status_code == 422 and reply.json()["errors"][0]["path"] == "$.password", weak


async def test_deactivation_in_another_process_ends_sessions_at_once(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    from test_late_writes import _cli

    username, _ = await make_account(client, "interviewer")
    session = await bearer(client, username)
    assert (await client.get("/api/v1/auth/me", headers=session)).status_code == 200
    done = _cli(settings, "user", "deactivate", username)
    assert done.returncode == 0, done.stderr
    assert (await client.get("/api/v1/auth/me", headers=session)).status_code == 401


def test_user_create_without_a_terminal_or_password_says_so_in_one_line(settings: Settings) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATA_DIR": str(settings.data_dir)}
    env.pop("SURVEY_PASSWORD", None)
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "survey_platform.cli", "user", "create", "nobody", "--role", "admin"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "SURVEY_PASSWORD" in lines[0], done.stderr
