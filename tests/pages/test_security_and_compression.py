"""The header policy and the compression rule as pure functions (the HTTP tests check them on real responses)."""

from __future__ import annotations

import asyncio

from survey_platform.compression import is_compressible
from survey_platform.pages.security import security_headers, security_headers_hook


def test_only_the_field_app_may_ask_for_position_and_camera() -> None:
    public = security_headers("/")["permissions-policy"]
    field = security_headers("/field/app")["permissions-policy"]
    assert "geolocation=()" in public and "camera=()" in public and "microphone=()" in public
    assert "geolocation=(self)" in field and "camera=(self)" in field and "microphone=()" in field
    # Litestar routes the app's own page /field/ as /field: it is in the area too, /fieldwork is not
    assert "geolocation=(self)" in security_headers("/field")["permissions-policy"]
    assert "geolocation=()" in security_headers("/fieldwork")["permissions-policy"]
    assert "strict-transport-security" not in security_headers("/")
    assert security_headers("/", https=True)["strict-transport-security"].startswith("max-age=")


def test_the_hook_adds_missing_headers_and_keeps_a_responses_own() -> None:
    hook = security_headers_hook(https=False)
    message = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-security-policy", b"sandbox"), (b"content-type", b"text/csv")],
    }
    asyncio.run(hook(message, {"type": "http", "path": "/field/x"}))  # type: ignore[arg-type]
    headers = dict(message["headers"])
    assert headers[b"content-security-policy"] == b"sandbox"
    assert [name for name, _ in message["headers"]].count(b"content-security-policy") == 1
    assert headers[b"x-frame-options"] == b"DENY" and b"camera=(self)" in headers[b"permissions-policy"]
    body = {"type": "http.response.body", "body": b"x"}
    asyncio.run(hook(body, {"type": "http", "path": "/"}))  # type: ignore[arg-type]
    assert body == {"type": "http.response.body", "body": b"x"}


def test_what_is_worth_compressing() -> None:
    def check(*headers: tuple[bytes, bytes]) -> bool:
        return is_compressible(list(headers), 1024)

    assert check((b"content-type", b"text/html; charset=utf-8"))
    assert check((b"content-type", b"application/problem+json"), (b"content-length", b"5000"))
    assert check((b"content-type", b"image/svg+xml"))
    assert not check((b"content-type", b"application/json"), (b"content-length", b"40"))
    assert not check((b"content-type", b"image/jpeg"))
    assert not check((b"content-type", b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    assert not check((b"content-type", b"text/csv"), (b"content-encoding", b"gzip"))
    assert not check((b"content-type", b"text/plain"), (b"cache-control", b"no-transform"))
