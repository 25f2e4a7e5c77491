"""The security headers of every response (pages, API, static files, errors): defined here and nowhere else.

A strict Content Security Policy: everything from this origin only, no inline scripts or styles, no plug-ins,
no framing. Permissions-Policy switches off the powerful browser features; only the field app's own pages
(``/field/``) may ask for the position and the camera. A response that sets one of these headers itself keeps
its own value (e.g. a download that wants ``sandbox``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)

#: Browser features no page uses are denied to every page; a prefix listed here allows some for its pages.
DENIED_FEATURES: tuple[str, ...] = (
    "accelerometer",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "usb",
)
ALLOWED_FEATURES_BY_PREFIX: Mapping[str, frozenset[str]] = {
    # the field app: GPS position of an audit or interview, photos as evidence
    "/field/": frozenset({"geolocation", "camera"}),
}


def permissions_policy(allowed: frozenset[str] = frozenset()) -> str:
    return ", ".join(f"{name}=(self)" if name in allowed else f"{name}=()" for name in DENIED_FEATURES)


def under(path: str, prefix: str) -> bool:
    """Whether ``path`` is in the area ``prefix`` (``/field/``), including the area's own page: Litestar routes
    ``/field/`` with the trailing slash taken off (``/field``)."""
    return path.startswith(prefix) or path == prefix.rstrip("/")


def security_headers(path: str, *, https: bool = False) -> dict[str, str]:
    """The headers every response to ``path`` carries (HSTS only when the site is served over HTTPS)."""
    allowed = next(
        (features for prefix, features in ALLOWED_FEATURES_BY_PREFIX.items() if under(path, prefix)),
        frozenset(),
    )
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "permissions-policy": permissions_policy(allowed),
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "x-frame-options": "DENY",
    }
    if https:
        headers["strict-transport-security"] = "max-age=31536000"
    return headers


def _encoded(headers: Mapping[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items())


def security_headers_hook(*, https: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A Litestar ``before_send`` hook adding :func:`security_headers` to every HTTP response start."""
    default = _encoded(security_headers("/", https=https))
    by_prefix = {
        prefix: _encoded(security_headers(prefix, https=https)) for prefix in ALLOWED_FEATURES_BY_PREFIX
    }

    hsts = (b"strict-transport-security", b"max-age=31536000")

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path = scope.get("path", "/")
        extra = next((h for prefix, h in by_prefix.items() if under(path, prefix)), default)
        if not https and scope.get("scheme") == "https":
            extra = [*extra, hsts]
        headers = list(message.get("headers") or ())
        present = {name.lower() for name, _ in headers}
        headers.extend(header for header in extra if header[0] not in present)
        message["headers"] = headers  # type: ignore[typeddict-unknown-key]

    return add_security_headers
