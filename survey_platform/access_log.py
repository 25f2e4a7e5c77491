"""One access-log line per HTTP request: method, path, status and duration, and nothing else.

No client address, no query string, no headers (so no cookies and no tokens), no bodies. The query string is
always left out: no route reads a secret from it today, but nothing stops a client from sending one there, and
the path alone says which route was used. The path is logged as received (percent-encoded), so a crafted path
cannot forge a log line.

:class:`AccessLog` wraps the whole ASGI application (unknown paths and rate-limited requests are logged too) and
writes to the logger ``survey_platform.access`` at INFO; it costs nothing while that level is off. ``serve`` turns
it on through :func:`uvicorn_log_config` (uvicorn's own access log, which records client addresses, stays off).
"""

from __future__ import annotations

import copy
import logging
import time
import urllib.parse
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

LOGGER_NAME = "survey_platform.access"
logger = logging.getLogger(LOGGER_NAME)
MAX_PATH = 300
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def logged_path(scope: Scope) -> str:
    """The request path as received (percent-encoded, printable ASCII only), without the query string."""
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        raw = scope.get("path", "").encode("utf-8", "surrogateescape")
    raw = raw.split(b"?", 1)[0]
    path = urllib.parse.quote(raw, safe=_PATH_SAFE)
    return path if len(path) <= MAX_PATH else path[:MAX_PATH] + "..."


def logged_method(scope: Scope) -> str:
    method = str(scope.get("method", "-"))[:16]
    return method if method.isascii() and method.isalnum() else "-"


class AccessLog:
    """ASGI middleware: one line per HTTP request to ``survey_platform.access`` once the response has ended.

    The duration runs from the request's arrival to the last byte of the response; a request whose application
    fails before it answers is logged with status 500 (the server's answer), one that ends without an answer with
    ``-``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        finished: float | None = None

        async def send_and_watch(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except BaseException:
            status = status or 500
            raise
        finally:
            duration_ms = ((finished or time.perf_counter()) - started) * 1000
            method, path = logged_method(scope), logged_path(scope)
            logger.info(
                "%s %s %s %.1fms",
                method,
                path,
                status if status is not None else "-",
                duration_ms,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(duration_ms, 3),
                },
            )


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration plus a handler for the service's own loggers (``survey_platform``, whose
    ``survey_platform.access`` carries the access lines) at ``level``, on standard error."""
    config = copy.deepcopy(_uvicorn_default())
    config["formatters"]["survey_platform"] = {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    }
    config["handlers"]["survey_platform"] = {
        "class": "logging.StreamHandler",
        "formatter": "survey_platform",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["survey_platform"] = {
        "handlers": ["survey_platform"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def _uvicorn_default() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG


__all__ = ["LOGGER_NAME", "AccessLog", "logged_path", "uvicorn_log_config"]
