"""Browser tests: Playwright for Python driving Debian's Chromium against the real server.

Skipped (saying why) where ``/usr/bin/chromium`` is missing, unless ``SURVEY_TEST_REQUIRE_BROWSER=1`` (CI), which
makes a missing browser a failure. The server is ``survey-platform serve`` in a subprocess on SQLite in a temp
dir; pages are opened at phone size (360 × 740) and every request that would leave 127.0.0.1 is aborted and
fails the test, as does any Content Security Policy violation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_helpers import PHONE, Watch, watch_page
from service_helpers import PASSWORD, LiveServer, mark_published

from survey_platform.settings import Settings

CHROMIUM = Path(os.environ.get("SURVEY_TEST_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("SURVEY_TEST_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    # a second fence besides the request guard: no host name resolves except the loopback address
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module (sync Playwright holds an event loop while it runs, so it must be gone before
    tests that call ``asyncio.run``)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(f"{reason}; SURVEY_TEST_REQUIRE_BROWSER=1 requires the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


SEED = (
    # (code, name, questionnaire, steps): one campaign per public status, plus a draft that must stay hidden
    ("city-2025", "2025 年城市消费者满意度测评", "mini_city", ("open", "close", "publish")),
    ("city-2026", "2026 年城市消费者满意度测评", "mini_city", ("open",)),
    (
        "qr-2026",
        '扫码消费体察 <script>window.__xss=1</script> & "纯净码"',
        "mini_inspection",
        ("open", "close"),
    ),
    ("draft-2027", "未公开的草稿活动", "mini_city", ()),
)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server with one public campaign in each status and a draft (created through the API)."""
    settings = Settings.from_env({}, data_dir=tmp_path_factory.mktemp("browser") / "data")
    server = LiveServer(settings)
    server.start()
    try:
        server.cli("user", "create", "admin", "--role", "admin")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            login = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
            admin = {"Authorization": f"Bearer {login.json()['token']}"}
            client.cookies.clear()
            for code, name, questionnaire, steps in SEED:
                versions = client.get(
                    "/api/v1/questionnaires", params={"questionnaire": questionnaire}
                ).json()
                body = {
                    "code": code,
                    "name": name,
                    "questionnaire_version": versions[0]["id"],
                    "starts_on": "2026-05-01",
                    "ends_on": "2026-06-30",
                }
                assert client.post("/api/v1/campaigns", json=body, headers=admin).status_code == 201
                for step in steps:
                    if step == "publish":  # the home page lists it; no results are shown in these tests
                        mark_published(settings, code)
                        continue
                    reply = client.post(f"/api/v1/campaigns/{code}/{step}", headers=admin)
                    assert reply.status_code == 200, reply.text
        yield server
    finally:
        server.stop()


@pytest.fixture
def phone(browser: object) -> Iterator[object]:
    """A fresh phone-sized browser context (no cookies), zh-CN."""
    context = browser.new_context(**PHONE)  # type: ignore[attr-defined]
    yield context
    context.close()


@pytest.fixture
def watched(phone: object, live_server: LiveServer) -> Iterator[Watch]:
    """A page in ``phone`` whose requests to other hosts are aborted and recorded, with its console watched."""
    watch = watch_page(phone, live_server.url, guard_routes=True)
    yield watch
    watch.assert_clean()
