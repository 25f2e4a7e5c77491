"""Static assets (the stylesheet, ES modules, icons) served from the package with cache-busting URLs.

Every file under ``static/`` is read once when the application is built. Its URL carries the bundle's version,
a content hash over all files: ``/static/<version>/css/site.css``. Versioned URLs are cached for a year
(``immutable``); because all files share one version, relative references between them (an ES module's
``import "./expr.js"``, a ``url()`` in the stylesheet) stay on versioned URLs too. The unversioned path
``/static/css/site.css`` (and an outdated version, e.g. a page rendered before a deploy) gets the current file
with ``Cache-Control: no-cache`` and an ``ETag``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static"
VERSION_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

MEDIA_TYPES: Mapping[str, str] = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
}


class AssetError(LookupError):
    """A template asked for a file that is not among the static assets."""


@dataclasses.dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@dataclasses.dataclass(frozen=True, slots=True)
class AssetLookup:
    """What a request path under ``/static/`` resolves to: the asset and whether its URL is the current version."""

    asset: Asset
    current: bool


@dataclasses.dataclass(frozen=True, slots=True)
class AssetBundle:
    """All static files with their common version (a content hash)."""

    version: str
    assets: Mapping[str, Asset]

    def url(self, path: str) -> str:
        """The cache-busting URL of ``path`` (relative to ``static/``, e.g. ``"css/site.css"``)."""
        if path not in self.assets:
            raise AssetError(f"no static asset {path!r} in {STATIC_DIR}")
        return f"{STATIC_PREFIX}/{self.version}/{path}"

    def lookup(self, request_path: str) -> AssetLookup | None:
        """Resolve the part of a URL after ``/static/``: ``<version>/<path>`` or ``<path>``; None when unknown."""
        path = request_path.lstrip("/")
        head, _, rest = path.partition("/")
        if rest and _looks_like_version(head) and rest in self.assets:
            return AssetLookup(self.assets[rest], current=head == self.version)
        if path in self.assets:
            return AssetLookup(self.assets[path], current=False)
        return None


def _looks_like_version(text: str) -> bool:
    return len(text) == VERSION_LENGTH and all(c in "0123456789abcdef" for c in text)


def media_type(path: str) -> str:
    return MEDIA_TYPES.get(PurePosixPath(path).suffix.lower(), "application/octet-stream")


def load_assets(directory: Path = STATIC_DIR) -> AssetBundle:
    """Read every file under ``directory`` (hidden files and ``__pycache__`` left out) into a bundle."""
    assets: dict[str, Asset] = {}
    combined = hashlib.sha256()
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = file.relative_to(directory).as_posix()
        if any(part.startswith(".") or part == "__pycache__" for part in relative.split("/")):
            continue
        body = file.read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        combined.update(f"{relative}\0{digest}\n".encode())
        assets[relative] = Asset(body=body, media_type=media_type(relative), etag=f'"{digest[:32]}"')
    return AssetBundle(version=combined.hexdigest()[:VERSION_LENGTH], assets=assets)
