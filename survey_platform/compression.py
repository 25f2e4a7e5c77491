"""Response compression: gzip for text (pages, JSON, CSV, scripts, SVG) above a minimum size.

Litestar's compression middleware compresses every response; this one first looks at the response's headers
and passes through what is already compressed or not text (photos, XLSX and other zip files) or marked
``no-transform``. Streamed responses (exports) stay streamed: each chunk is compressed and flushed as it comes.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.config.compression import CompressionConfig
from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import Message, Scope, Send

MINIMUM_SIZE = 1024  # below about one TCP segment compression saves nothing worth the CPU
GZIP_LEVEL = 6  # zlib's default: most of level 9's gain at a fraction of its CPU (exports are large)
COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/problem+json",
        "application/javascript",
        "application/manifest+json",
        "application/xml",
        "application/schema+json",
        "application/vnd.oai.openapi",
        "application/vnd.oai.openapi+json",
        "application/x-yaml",
        "application/yaml",
        "image/svg+xml",
    }
)


def is_compressible(headers: Iterable[tuple[bytes, bytes]], minimum_size: int = MINIMUM_SIZE) -> bool:
    """Whether a response with these ASGI headers is worth compressing: text, not already encoded, not marked
    ``no-transform``, and not known (by its Content-Length) to be smaller than ``minimum_size``."""
    content_type = b""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-encoding":
            return False
        if lowered == b"cache-control" and b"no-transform" in value.lower():
            return False
        if lowered == b"content-length" and value.isdigit() and int(value) < minimum_size:
            return False
        if lowered == b"content-type":
            content_type = value
    media = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
    return media.startswith("text/") or media in COMPRESSIBLE_TYPES


class SelectiveCompressionMiddleware(CompressionMiddleware):
    """Litestar's compression middleware, applied only to responses :func:`is_compressible` accepts; the
    compressor is made only for those (most API answers are small JSON and pass straight through)."""

    def create_compression_send_wrapper(
        self, send: Send, compression_encoding: CompressionEncoding | str, scope: Scope
    ) -> Send:
        make_compressing = super().create_compression_send_wrapper
        target: Send = send

        async def choose(message: Message) -> None:
            nonlocal target
            if message["type"] == "http.response.start":
                headers = message.get("headers") or ()
                if is_compressible(headers, self.config.minimum_size):
                    target = make_compressing(send, compression_encoding, scope)  # type: ignore[arg-type]
                else:
                    target = send
            await target(message)

        return choose


def compression_config() -> CompressionConfig:
    return CompressionConfig(
        backend="gzip",
        minimum_size=MINIMUM_SIZE,
        gzip_compress_level=GZIP_LEVEL,
        middleware_class=SelectiveCompressionMiddleware,
    )
