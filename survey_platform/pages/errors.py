"""Error pages: a page route that fails answers with an HTML page in the visitor's language.

The API (``/api/...``), the OpenAPI document (``/schema``) and ``/health`` keep RFC 9457 problem details; the
application's exception handlers ask :func:`is_page_path` which of the two a request gets.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response

from survey_platform.pages.i18n import translate
from survey_platform.pages.messages import localise
from survey_platform.pages.rendering import language_of, page_headers, render_to_string

logger = logging.getLogger("survey_platform.pages")

API_PREFIXES: tuple[str, ...] = ("/api/", "/api", "/schema", "/health")


def is_page_path(path: str) -> bool:
    """Whether ``path`` belongs to the pages (HTML errors) rather than the API (problem details)."""
    return not any(path == prefix.rstrip("/") or path.startswith(prefix) for prefix in API_PREFIXES)


def error_kind(status: int) -> str:
    """The catalogue key group (``error.<kind>.title`` / ``.message``) for an HTTP status."""
    if status == 404:
        return "not_found"
    if status in (401, 403):
        return "forbidden"
    if status == 405:
        return "method"
    if status == 429:
        return "busy"
    if status >= 500:
        return "server"
    return "bad_request"


def error_page(
    request: Request[Any, Any, Any], status: int, detail: str = "", headers: dict[str, str] | None = None
) -> Response[str]:
    """The HTML error page for ``status``; client errors other than 404 also show the service's ``detail``.

    401 (no session, or one that expired or ended) is no page of its own: the visitor goes to the sign-in page,
    which brings them back here afterwards (``pages.signin.sign_in_redirect``).
    """
    if status == 401:
        from survey_platform.pages.signin import sign_in_redirect

        return sign_in_redirect(request)
    kind = error_kind(status)
    language = language_of(request)
    # the service's "中文 / English" message, in the visitor's language
    shown_detail = localise(detail, language) if 400 <= status < 500 and kind != "not_found" else ""
    try:
        body = render_to_string(request, "error.html", status=status, kind=kind, detail=shown_detail)
    except Exception:  # the error page itself must not fail: plain text in the visitor's language instead
        logger.exception("error page for %s at %s could not be rendered", status, request.url.path)
        body = f"{status} {translate(language, f'error.{kind}.title')}"
        return Response(body, status_code=status, media_type="text/plain; charset=utf-8", headers=headers)
    return Response(
        body,
        status_code=status,
        media_type=MediaType.HTML,
        headers={**page_headers(request), "Content-Language": language, **(headers or {})},
    )
