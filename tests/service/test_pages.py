"""The page foundation over HTTP: home page, languages, error pages, static files, security headers, compression."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from markupsafe import escape
from service_helpers import headers_for, in_app, insert_questionnaire_version, open_campaign, submission

from survey_platform.pages.security import CONTENT_SECURITY_POLICY

EN = {"cookie": "lang=en"}
SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "x-frame-options",
)


def _assert_secured(response: Any) -> None:
    for name in SECURITY_HEADERS:
        assert name in response.headers, f"{response.url}: no {name}"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "geolocation=()" in response.headers["permissions-policy"]


def _main(page: str) -> str:
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


async def _campaign(
    client: AsyncTestClient[Litestar], admin: dict[str, str], code: str, name: str, *steps: str
) -> None:
    version = await insert_questionnaire_version(client)
    body = {"code": code, "name": name, "questionnaire_version": version, "starts_on": "2026-05-01"}
    assert (await client.post("/api/v1/campaigns", json=body, headers=admin)).status_code == 201
    for step in steps:
        if step == "publish":  # a listing test: the status, not a release (service_helpers.mark_published)
            from survey_platform.storage.tables import Campaign

            await in_app(
                client, Campaign.update({Campaign.status: "published"}).where(Campaign.code == code).run
            )
            continue
        assert (await client.post(f"/api/v1/campaigns/{code}/{step}", headers=admin)).status_code == 200


async def test_home_lists_public_campaigns_by_status_escaped(client: AsyncTestClient[Litestar]) -> None:
    admin = await headers_for(client, "admin")
    hostile = '<script>alert(1)</script> & "引号"'
    await _campaign(client, admin, "c-draft", "草稿活动")
    await _campaign(client, admin, "c-open", hostile, "open")
    await _campaign(client, admin, "c-closed", "已结束的活动", "open", "close")
    await _campaign(client, admin, "c-pub", "2025 城市测评", "open", "close", "publish")

    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    text = page.text
    assert '<html lang="zh-CN">' in text and page.headers["content-language"] == "zh-CN"
    main = _main(text)
    assert "草稿活动" not in main and "c-draft" not in main  # drafts are never public
    assert "<script>" not in text and str(escape(hostile)) in main
    # published first, then open, then closed; each with its status in words
    order = [main.index(f'id="campaign-{code}"') for code in ("c-pub", "c-open", "c-closed")]
    assert order == sorted(order)
    for label in ("已发布结果", "正在进行", "已结束，待发布", "进行中", "已结束", "2026年5月1日 起"):
        assert label in main
    assert main.count("data-release-slot=") == 3

    english = await client.get("/", headers=EN)
    assert '<html lang="en">' in english.text and english.headers["content-language"] == "en"
    assert "Published results" in english.text and "from 1 May 2026" in english.text
    assert "正在进行" not in _main(english.text)
    assert english.headers["vary"].lower().startswith("cookie")


async def test_home_without_campaigns_says_so(client: AsyncTestClient[Litestar]) -> None:
    page = await client.get("/", headers=EN)
    assert "There are no public campaigns yet." in page.text


async def test_language_switch_sets_a_cookie_and_returns(client: AsyncTestClient[Litestar]) -> None:
    reply = await client.get("/lang", params={"to": "en", "next": "/privacy?x=1"}, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/privacy?x=1"
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith("lang=en;") and "Path=/" in cookie and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Max-Age=31536000" in cookie
    page = await client.get("/privacy")  # the client keeps the cookie
    assert '<html lang="en">' in page.text and "<h1>Privacy</h1>" in page.text
    back = await client.get("/lang", params={"to": "zh-CN", "next": "/"}, follow_redirects=False)
    assert back.headers["set-cookie"].startswith("lang=zh-CN;")
    # the switch on a page links back to the same page in the other language
    assert (
        'href="/lang?to=en&amp;next=%2Fprivacy"'
        in (await client.get("/privacy", headers={"cookie": "lang=zh-CN"})).text
    )


async def test_language_switch_refuses_foreign_targets_and_unknown_languages(
    client: AsyncTestClient[Litestar],
) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", ""):
        reply = await client.get("/lang", params={"to": "en", "next": target}, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"] == "/", target
    bad = await client.get("/lang", params={"to": "fr"}, headers=EN)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")
    assert "unsupported language &#39;fr&#39;" in bad.text and '<html lang="en">' in bad.text
    assert "set-cookie" not in bad.headers


async def test_page_errors_are_html_in_the_visitors_language_and_api_errors_stay_problems(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    @get("/boom-page", include_in_schema=False)
    async def boom_page() -> str:
        raise RuntimeError("secret internal detail")

    @get("/api/v1/boom", include_in_schema=False)
    async def boom_api() -> str:
        raise RuntimeError("secret internal detail")

    app.register(boom_page)
    app.register(boom_api)

    missing = await client.get("/no/such/page")
    assert missing.status_code == 404 and missing.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="zh-CN">' in missing.text and "找不到页面" in missing.text
    _assert_secured(missing)
    missing_en = await client.get("/no/such/page", headers=EN)
    assert "Page not found" in missing_en.text and "Error code 404" in missing_en.text

    failed = await client.get("/boom-page", headers=EN)
    assert failed.status_code == 500 and "Internal server error" in failed.text
    assert "secret internal detail" not in failed.text and "Traceback" not in failed.text

    api_missing = await client.get("/api/v1/no-such-thing")
    assert api_missing.status_code == 404
    assert api_missing.headers["content-type"].startswith("application/problem+json")
    api_failed = await client.get("/api/v1/boom")
    assert api_failed.status_code == 500 and api_failed.json()["status"] == 500
    assert "secret" not in api_failed.text
    _assert_secured(api_failed)


async def test_static_files_have_hashed_urls_cached_for_a_year(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    page = (await client.get("/")).text
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert stylesheet is not None
    url = stylesheet.group(1)
    version = app.state.assets.version
    assert url == f"/static/{version}/css/site.css" and re.fullmatch(r"[0-9a-f]{12}", version)

    css = await client.get(url)
    assert css.status_code == 200 and css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "@page { size: A4" in css.text
    _assert_secured(css)

    # the module the citizen survey will import, on a versioned URL, as JavaScript
    script = await client.get(app.state.assets.url("js/expr.js"))
    assert script.status_code == 200 and script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "export" in script.text

    # unversioned and outdated URLs: the current file, revalidated
    for other in ("/static/css/site.css", "/static/0123456789ab/css/site.css"):
        reply = await client.get(other)
        assert (
            reply.status_code == 200
            and reply.headers["cache-control"] == "no-cache"
            and reply.text == css.text
        )
    again = await client.get("/static/css/site.css", headers={"if-none-match": css.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    for unknown in (f"/static/{version}/css/nope.css", "/static/%2e%2e/app.py", "/static/pages/public.py"):
        assert (await client.get(unknown)).status_code == 404, unknown


async def test_every_kind_of_response_carries_the_security_headers(client: AsyncTestClient[Litestar]) -> None:
    for path in ("/", "/privacy", "/health", "/api/v1/campaigns", "/schema/openapi.json", "/nope"):
        _assert_secured(await client.get(path))
    problem = await client.post("/api/v1/auth/login", json={"username": "a"})
    assert problem.status_code == 422
    _assert_secured(problem)
    redirect = await client.get("/lang", params={"to": "en"}, follow_redirects=False)
    _assert_secured(redirect)


async def test_compression_of_pages_and_json_but_not_of_small_or_binary_responses(
    client: AsyncTestClient[Litestar],
) -> None:
    gzip = {"accept-encoding": "gzip"}
    page = await client.get("/", headers=gzip)
    assert page.headers["content-encoding"] == "gzip" and "accept-encoding" in page.headers["vary"].lower()
    assert int(page.headers["content-length"]) < len(page.content)  # httpx decoded what was sent compressed
    plain = await client.get("/", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == page.text
    health = await client.get("/health", headers=gzip)  # below the minimum size
    assert "content-encoding" not in health.headers


async def test_streamed_and_binary_downloads_survive_compression(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    for _ in range(3):
        assert (
            await client.post("/api/v1/campaigns/mini-2026/responses", json=submission())
        ).status_code == 201
    admin = await headers_for(client, "admin")
    url = "/api/v1/campaigns/mini-2026/export"
    streamed = await client.get(url, params={"format": "csv"}, headers={**admin, "accept-encoding": "gzip"})
    assert streamed.status_code == 200 and streamed.headers["content-encoding"] == "gzip"
    assert "content-length" not in streamed.headers  # still streamed, chunk by chunk
    plain = await client.get(url, params={"format": "csv"}, headers={**admin, "accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert streamed.content == plain.content and plain.content.count(b"\n") == 4
    workbook = await client.get(url, params={"format": "xlsx"}, headers={**admin, "accept-encoding": "gzip"})
    assert workbook.status_code == 200 and "content-encoding" not in workbook.headers  # a zip already
    assert workbook.content.startswith(b"PK")
