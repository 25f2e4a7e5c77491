"""Swagger UI under ``/schema``, served from an installed package: nothing comes from another host.

The assets are Swagger UI 5 as shipped in the PyPI package ``swagger-ui-py`` (module ``swagger_ui``; located
without importing it). Swagger UI 4 (the ``swagger-ui-bundle`` package) cannot show the OpenAPI 3.1 documents
Litestar writes. The page has no inline script or style (it works under ``script-src 'self'; style-src 'self'``):
it loads the bundle's script and stylesheets and ``static/swagger-init.js``, which reads its settings from data
attributes. Assets live at ``/schema/assets/<version>/<name>``, where the version is a hash of their content, so
they are cached for a year; any other version or name is 404.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html
import importlib.util
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.router import Router

ASSET_HANDLER = "openapi-asset"
INIT_SCRIPT = Path(__file__).resolve().parent / "static" / "swagger-init.js"


def _bundle_dir() -> Path:
    """The static files of the ``swagger_ui`` package (its ``__init__`` imports web frameworks' glue: not run)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Swagger UI is missing: pip install swagger-ui-py")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


BUNDLE_DIR = _bundle_dir()
BUNDLE_FILES = (
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "index.css",
    "favicon-32x32.png",
    "favicon-16x16.png",
)
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclasses.dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str


@dataclasses.dataclass(frozen=True, slots=True)
class AssetSet:
    version: str
    assets: dict[str, Asset]


@functools.cache
def asset_set() -> AssetSet:
    """The served files (read once per process) and their version: the first 12 hex digits of a SHA-256 over all."""
    paths = {name: BUNDLE_DIR / name for name in BUNDLE_FILES} | {INIT_SCRIPT.name: INIT_SCRIPT}
    assets = {name: Asset(path.read_bytes(), MEDIA_TYPES[path.suffix]) for name, path in paths.items()}
    digest = hashlib.sha256()
    for name in sorted(assets):
        digest.update(name.encode() + b"\0" + assets[name].body)
    return AssetSet(digest.hexdigest()[:12], assets)


@get(
    "/assets/{version:str}/{file:str}",
    name=ASSET_HANDLER,
    include_in_schema=False,
    sync_to_thread=False,
)
def serve_asset(version: FromPath[str], file: FromPath[str]) -> Response[bytes]:
    """One Swagger UI asset of the current version."""
    served = asset_set()
    asset = served.assets.get(file)
    if version != served.version or asset is None:
        raise NotFoundException("文件不存在 / no such file")
    return Response(asset.body, media_type=asset.media_type, headers={"cache-control": IMMUTABLE})


class LocalSwaggerUI(OpenAPIRenderPlugin):
    """The Swagger UI page (at ``/schema`` and ``/schema/swagger``) with its assets from the package."""

    def __init__(self, path: str | tuple[str, ...] = ("/", "/swagger")) -> None:
        super().__init__(path=list(path) if isinstance(path, tuple) else path, media_type=MediaType.HTML)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        version = asset_set().version

        def url(name: str) -> str:
            return html.escape(request.app.route_reverse(ASSET_HANDLER, version=version, file=name))

        data = {"openapi-url": self.get_openapi_json_route(request)}
        csrf = request.app.csrf_config
        if csrf is not None and not csrf.cookie_httponly:
            data |= {"csrf-cookie": csrf.cookie_name, "csrf-header": csrf.header_name}
        attributes = "".join(f' data-{key}="{html.escape(value)}"' for key, value in data.items())
        title = html.escape(f"{openapi_schema['info']['title']} — API 文档 / API documentation")
        openapi_url = html.escape(data["openapi-url"])
        page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" sizes="32x32" href="{url("favicon-32x32.png")}">
<link rel="icon" type="image/png" sizes="16x16" href="{url("favicon-16x16.png")}">
<link rel="stylesheet" href="{url("swagger-ui.css")}">
<link rel="stylesheet" href="{url("index.css")}">
<script src="{url("swagger-ui-bundle.js")}" defer></script>
<script type="module" src="{url(INIT_SCRIPT.name)}"></script>
</head>
<body>
<main id="swagger-ui"{attributes}>
<noscript><p>Swagger UI 需要 JavaScript / Swagger UI needs JavaScript.
API 文档 / The API document: <a href="{openapi_url}">{openapi_url}</a></p></noscript>
</main>
</body>
</html>
"""
        return page.encode()

    def receive_router(self, router: Router) -> None:
        router.register(serve_asset)


__all__ = ["LocalSwaggerUI", "asset_set"]
