"""Accounts: sign-in (bearer and cookie), roles, admin management, session revocation, audit log."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from piccolo.apps.user.tables import BaseUser
from service_helpers import PASSWORD, bearer, headers_for, in_app, make_account


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
    bad = await client.post("/api/v1/accounts", json={**new, "username": "x", "role": "boss"}, headers=admin)
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["errors"]} == {"$.username", "$.role"}
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
