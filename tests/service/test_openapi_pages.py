"""The ``/schema`` pages load nothing from another host and carry no inline script or style; Swagger UI really
renders in Chromium under the strict Content Security Policy, without a request leaving the server."""

from __future__ import annotations

import html.parser
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import LiveServer

from survey_platform.settings import Settings

Client = AsyncTestClient[Litestar]
CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("SURVEY_TEST_REQUIRE_BROWSER") == "1"
# The policy the pages' security headers set on every response (script-src/style-src 'self': no inline code).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".json": "application/"}
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "poster", "data"}


class PageParts(html.parser.HTMLParser):
    """Every URL a page references, and anything inline: script text, style elements and attributes, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.urls.append(value)
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.inline.append("<style>")
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"<script>{data.strip()[:60]}")


def schema_pages(app: Litestar) -> list[str]:
    """The GET routes under /schema without path parameters: every page the app serves there."""
    return sorted(
        route.path
        for route in app.routes
        if route.path.startswith("/schema") and "{" not in route.path and "GET" in route.methods
    )


async def test_schema_pages_reference_only_served_same_origin_urls(app: Litestar, client: Client) -> None:
    pages = schema_pages(app)
    assert {"/schema", "/schema/swagger", "/schema/openapi.json", "/schema/openapi.yaml"} <= set(pages)
    html_pages = 0
    for page in pages:
        reply = await client.get(page)
        assert reply.status_code == 200, page
        if not reply.headers["content-type"].startswith("text/html"):
            continue
        html_pages += 1
        parts = PageParts()
        parts.feed(reply.text)
        assert not parts.inline, f"{page}: inline code {parts.inline}"
        assert parts.urls, page
        for url in parts.urls:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(f"http://testserver.local{page}", url))
            assert (target.scheme, target.netloc) == ("http", "testserver.local"), (
                f"{page}: {url} is off-site"
            )
            asset = await client.get(target.path)
            assert asset.status_code == 200, url
            expected = next(kind for suffix, kind in CONTENT_TYPES.items() if target.path.endswith(suffix))
            assert asset.headers["content-type"].startswith(expected), (url, asset.headers["content-type"])
    assert html_pages >= 2


async def test_the_cdn_renderers_are_gone_and_assets_are_versioned(client: Client) -> None:
    for page in ("/schema/redoc", "/schema/elements", "/schema/rapidoc", "/schema/oauth2-redirect.html"):
        assert (await client.get(page)).status_code == 404, page
    parts = PageParts()
    parts.feed((await client.get("/schema")).text)
    script = next(url for url in parts.urls if url.endswith("/swagger-ui-bundle.js"))
    reply = await client.get(script)
    assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert b"SwaggerUIBundle" in reply.content
    stale = script.replace(script.split("/")[-2], "000000000000")
    assert (await client.get(stale)).status_code == 404
    assert (await client.get(script.replace("swagger-ui-bundle.js", "index.html"))).status_code == 404


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(Settings.from_env({}, data_dir=tmp_path_factory.mktemp("schema") / "data"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _browser_or_skip() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Playwright for Python is not installed (pip install -e '.[test]')"
    else:
        if CHROMIUM.exists():
            return
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if REQUIRE_BROWSER:
        pytest.fail(reason)
    pytest.skip(reason)


def test_swagger_ui_renders_under_the_strict_policy_in_chromium(live_server: LiveServer) -> None:
    _browser_or_skip()
    from playwright.sync_api import Route, sync_playwright

    origin = live_server.url
    off_site: list[str] = []
    problems: list[str] = []

    def same_origin_with_policy(route: Route) -> None:
        if not route.request.url.startswith(origin + "/"):
            off_site.append(route.request.url)
            route.abort()
            return
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        try:
            page = browser.new_page()
            page.route("**/*", same_origin_with_policy)
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation',"
                " (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
            )
            page.goto(f"{origin}/schema")
            page.wait_for_selector(".opblock", timeout=30_000)
            assert page.locator(".opblock").count() > 30
            assert "survey-platform" in page.locator(".info .title").inner_text()
            assert page.locator("button.authorize").count() == 1  # the security schemes are declared
            # an operation opens and shows its problem-details answers
            page.locator("#operations-accounts-ApiV1AccountsListAccounts .opblock-summary").click()
            page.wait_for_selector("#operations-accounts-ApiV1AccountsListAccounts .responses-table")
            opened = page.locator("#operations-accounts-ApiV1AccountsListAccounts").inner_text()
            assert "application/problem+json" in opened and "403" in opened
        finally:
            browser.close()
    assert not off_site, off_site
    assert not problems, problems
