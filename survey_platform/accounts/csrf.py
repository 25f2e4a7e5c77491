"""Cross-site request forgery protection for requests that a browser authenticates by itself (the session cookie).

A state-changing request (POST, PUT, PATCH, DELETE) that carries the session cookie must also carry the session's
CSRF token (``accounts.sessions.csrf_token``) in the ``X-CSRF-Token`` header or, for HTML forms, the ``csrf_token``
form field (synchronizer-token pattern, OWASP CSRF Prevention Cheat Sheet). Requests authenticated by an
``Authorization: Bearer`` header are exempt: a browser never adds that header by itself. Independently, any
state-changing request whose ``Origin`` (or ``Sec-Fetch-Site: cross-site``) shows another site is refused when it
carries the cookie or signs in (login CSRF). Anonymous JSON requests need no token: browsers cannot send JSON
cross-site without a CORS preflight, which this service never grants, and the JSON routes refuse form bodies (415).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from litestar._parsers import parse_cookie_string
from litestar.exceptions import PermissionDeniedException

from survey_platform.accounts.sessions import COOKIE_NAME, csrf_matches

HEADER = b"x-csrf-token"
FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_MEDIA = ("application/x-www-form-urlencoded", "multipart/form-data")
SIGN_IN_PATHS = frozenset({"/api/v1/auth/login", "/login"})


def _cookie(headers: dict[bytes, bytes]) -> str | None:
    """The session cookie exactly as the request's authentication reads it (Litestar's parser: the last one of
    that name wins), so the token is checked against the session the request will act as."""
    raw = headers.get(b"cookie")
    if not raw:
        return None
    return parse_cookie_string(raw.decode("latin-1")).get(COOKIE_NAME) or None


def _cross_site(headers: dict[bytes, bytes]) -> bool:
    """Whether the request comes from another site: ``Sec-Fetch-Site: cross-site``, or an ``Origin`` whose host is
    not this site's (``null`` included: an opaque origin — a sandboxed frame, a data: page — is not this site; this
    site's pages use ``Referrer-Policy: same-origin``, under which their own posts carry their real origin)."""
    if headers.get(b"sec-fetch-site") == b"cross-site":
        return True
    origin = headers.get(b"origin")
    if origin is None:
        return False
    # the host (and port) must be this site's; the scheme is not compared, so a TLS-terminating proxy in front
    # (https outside, http inside) needs no configuration for this check
    own = headers.get(b"host", b"").decode("latin-1").lower()
    return urllib.parse.urlsplit(origin.decode("latin-1")).netloc.lower() != own or not own


class CSRFMiddleware:
    """ASGI middleware enforcing the rules of this module's docstring (403 problem details otherwise)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        if headers.get(b"authorization", b"").lower().startswith(b"bearer "):
            await self.app(scope, receive, send)
            return
        session = _cookie(headers)
        if (session is not None or scope["path"] in SIGN_IN_PATHS) and _cross_site(headers):
            raise PermissionDeniedException("跨站请求被拒绝 / cross-site request refused")
        if session is not None:
            token = headers.get(HEADER, b"").decode("latin-1")
            if not token and headers.get(b"content-type", b"").decode("latin-1").lower().startswith(
                FORM_MEDIA
            ):
                request = scope["litestar_app"].request_class(scope=scope, receive=receive)
                form = await request.form()  # parsed once and cached on the scope for the handler
                token = str(form.get(FORM_FIELD) or "")
            if not token or not csrf_matches(session, token):
                raise PermissionDeniedException(
                    "缺少或无效的 CSRF 令牌 / missing or invalid CSRF token (send X-CSRF-Token with the session "
                    "cookie, or sign in with a bearer token)"
                )
        await self.app(scope, receive, send)


__all__ = ["FORM_FIELD", "CSRFMiddleware"]
