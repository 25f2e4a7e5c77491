"""Cross-site forgery: a browser's own session cookie is not enough to change anything; bearer tokens are exempt.
Session cookies are Secure except over plain HTTP when serving on a loopback address."""

from __future__ import annotations

import dataclasses

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import PASSWORD, headers_for, inspection_setup, make_account, open_campaign, submission

from survey_platform.app import create_app
from survey_platform.settings import Settings

pytestmark = pytest.mark.usefixtures("client")
OWN_ORIGIN = "http://testserver.local"


async def _cookie_session(client: AsyncTestClient[Litestar], role: str) -> str:
    """Sign in like a page does: the cookie stays in the client's jar; returns the session's CSRF token."""
    name, _ = await make_account(client, role)
    reply = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert reply.status_code == 200 and "survey_session" in client.cookies
    return reply.json()["csrf_token"]


async def test_a_cross_site_form_post_with_a_valid_cookie_is_refused(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    await _cookie_session(client, "admin")
    # what a hostile page's auto-submitting <form action=".../close" method=post> sends: the cookie and its origin
    forged = await client.post(
        "/api/v1/campaigns/mini-2026/close",
        data={"anything": "1"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert forged.status_code == 403, forged.text
    assert forged.headers["content-type"].startswith("application/problem+json")
    status = (await client.get("/api/v1/campaigns/mini-2026")).json()["status"]
    assert status == "open"


async def test_the_cookie_alone_never_changes_state_even_from_the_same_site(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    token = await _cookie_session(client, "admin")
    without = await client.post("/api/v1/campaigns/mini-2026/close", headers={"Origin": OWN_ORIGIN})
    assert without.status_code == 403 and "CSRF" in without.json()["detail"]
    wrong = await client.post("/api/v1/campaigns/mini-2026/close", headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    as_form = await client.post("/api/v1/campaigns/mini-2026/close", data={"csrf_token": "0" * 64})
    assert as_form.status_code == 403
    done = await client.post(
        "/api/v1/campaigns/mini-2026/close", headers={"X-CSRF-Token": token, "Origin": OWN_ORIGIN}
    )
    assert done.status_code == 200 and done.json()["status"] == "closed"


async def test_multipart_routes_are_protected_too(client: AsyncTestClient[Litestar]) -> None:
    await inspection_setup(client)
    client.cookies.clear()
    await _cookie_session(client, "inspector")
    reply = await client.post(
        "/api/v1/campaigns/qr-2026/audits/multipart", data={"audit": "{}"}, files={"photos": ("a.png", b"x")}
    )
    assert reply.status_code == 403 and "CSRF" in reply.json()["detail"]


async def test_bearer_requests_and_anonymous_json_need_no_token(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    admin = await headers_for(client, "admin")
    client.cookies.clear()
    reply = await client.post("/api/v1/campaigns/mini-2026/close", headers=admin)
    assert reply.status_code == 200
    await open_campaign(client, "other-2026")
    client.cookies.clear()
    anonymous = await client.post("/api/v1/campaigns/other-2026/responses", json=submission())
    assert anonymous.status_code == 201


async def test_signing_in_from_another_site_is_refused(client: AsyncTestClient[Litestar]) -> None:
    name, _ = await make_account(client, "reviewer")
    forged = await client.post(
        "/api/v1/auth/login",
        json={"username": name, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403 and "survey_session" not in client.cookies


@pytest.mark.parametrize(
    ("host", "secure_setting", "expected"),
    [
        ("127.0.0.1", "auto", False),
        ("0.0.0.0", "auto", True),
        ("127.0.0.1", "true", True),
        ("::", "false", False),
    ],
)
async def test_session_cookies_are_secure_except_plain_http_on_loopback(
    settings: Settings, host: str, secure_setting: str, expected: bool
) -> None:
    configured = dataclasses.replace(settings, host=host, cookie_secure=secure_setting)
    async with AsyncTestClient(app=create_app(configured)) as client:
        name, _ = await make_account(client, "reviewer")
        reply = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        cookie = reply.headers["set-cookie"]
        assert ("Secure" in cookie) is expected, cookie
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()


async def test_an_opaque_origin_is_another_site_but_a_tls_proxy_in_front_is_not(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    token = await _cookie_session(client, "admin")
    opaque = await client.post(
        "/api/v1/campaigns/mini-2026/close", headers={"X-CSRF-Token": token, "Origin": "null"}
    )
    assert opaque.status_code == 403  # a sandboxed frame or data: page, even with a stolen token
    behind_tls = await client.post(
        "/api/v1/campaigns/mini-2026/close",
        headers={"X-CSRF-Token": token, "Origin": "https://testserver.local"},
    )
    assert behind_tls.status_code == 200  # https outside, http inside: the same host


async def test_the_token_is_checked_against_the_session_the_request_acts_as(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    victim_token = await _cookie_session(client, "admin")
    victim_cookie = client.cookies["survey_session"]
    client.cookies.clear()
    await _cookie_session(client, "admin")  # another admin: only the token decides
    attacker_cookie = client.cookies["survey_session"]
    client.cookies.clear()
    # two cookies of one name: the request acts as the last one, so the token must be the last one's
    forged = await client.post(
        "/api/v1/campaigns/mini-2026/close",
        headers={
            "Cookie": f"survey_session={victim_cookie}; survey_session={attacker_cookie}",
            "X-CSRF-Token": victim_token,
        },
    )
    assert forged.status_code == 403
