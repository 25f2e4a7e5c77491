"""One access-log line per request (method, path, status, duration) and nothing that identifies or
authenticates anyone: no address, no cookie, no token, no query string, no body."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from service_helpers import PASSWORD, LiveServer, make_account

from survey_platform.access_log import LOGGER_NAME, AccessLog, logged_path
from survey_platform.app import create_app
from survey_platform.settings import Settings

SECRETS = ("cookie-secret-1", "query-secret-2", "body-secret-3")
LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>/\S*) (?P<status>\d{3}|-) (?P<ms>\d+\.\d)ms$")


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER_NAME]


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """pytest's caplog, also attached to the access logger itself: building a Litestar app replaces the root
    logger's handlers (Litestar's default logging configuration), where caplog listens."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(caplog.handler)
    logger.propagate = False  # each record once, whether or not caplog's root handler survived
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.propagate = True


async def test_one_line_per_request_without_address_cookie_token_or_query(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    async with AsyncTestClient(app=AccessLog(create_app(settings))) as client:
        username, _ = await make_account(client, "admin")
        login = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        token = login.json()["token"]
        client.cookies.clear()
        caplog.clear()
        client.cookies.set("survey_session", SECRETS[0])
        ok = await client.get("/health", params={"token": SECRETS[1]})
        missing = await client.get("/api/v1/cities/nowhere")
        unknown = await client.get("/no/such/route")
        invalid = await client.post(
            "/api/v1/cities",
            json={"code": 7, "name_zh": SECRETS[2]},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert [ok.status_code, missing.status_code, unknown.status_code, invalid.status_code] == [
        200,
        404,
        404,
        422,
    ]
    records = access_lines(caplog)
    assert [(r.method, r.path, r.status) for r in records] == [  # type: ignore[attr-defined]
        ("GET", "/health", 200),
        ("GET", "/api/v1/cities/nowhere", 404),
        ("GET", "/no/such/route", 404),
        ("POST", "/api/v1/cities", 422),
    ]
    for record in records:
        assert record.levelno == logging.INFO
        message = record.getMessage()
        assert LINE.match(message), message
        assert record.duration_ms >= 0  # type: ignore[attr-defined]
        everything = message + repr(vars(record))
        for secret in (*SECRETS, token, "testclient", "127.0.0.1", "Bearer", "survey_session", "?"):
            assert secret not in everything, (secret, message)


async def test_nothing_is_logged_while_the_level_is_off(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    async with AsyncTestClient(app=AccessLog(create_app(settings))) as client:
        assert (await client.get("/health")).status_code == 200
    assert access_lines(caplog) == []


async def test_a_failing_application_is_logged_as_500(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/x",
        "raw_path": b"/x",
        "query_string": b"",
        "headers": [],
    }
    with pytest.raises(RuntimeError):
        await AccessLog(broken)(scope, None, None)  # type: ignore[arg-type]
    (record,) = access_lines(caplog)
    assert record.getMessage().startswith("GET /x 500 ")


def test_the_path_is_logged_as_received_and_cannot_forge_a_line() -> None:
    assert logged_path({"raw_path": b"/a%0Ab/%00?token=x", "path": "/a\nb/\x00"}) == "/a%0Ab/%00"
    assert logged_path({"path": "/a\nb c/\u65e0"}) == "/a%0Ab%20c/%E6%97%A0"
    assert logged_path({"raw_path": b"/" + b"x" * 1000}).endswith("...")
    assert "\n" not in logged_path({"raw_path": b"/\n\r\x1b[31m"})


def test_serve_writes_the_lines_and_not_uvicorn_s_access_log(tmp_path: Path) -> None:
    output = tmp_path / "serve.log"
    server = LiveServer(Settings.from_env({}, data_dir=tmp_path / "data"), log_level="info", output=output)
    server.start()
    try:
        httpx.get(
            f"{server.url}/api/v1/cities",
            params={"token": SECRETS[1]},
            cookies={"survey_session": SECRETS[0]},
        )
    finally:
        server.stop()
    log = output.read_text()
    assert re.search(r"survey_platform\.access: GET /api/v1/cities 200 \d+\.\dms$", log, re.MULTILINE), log
    assert SECRETS[0] not in log and SECRETS[1] not in log
    assert "127.0.0.1:" not in log.replace(server.url, ""), "uvicorn's access log (with addresses) is on"
