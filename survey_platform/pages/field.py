"""The field app for interviewers and inspectors: its page, web app manifest and service worker (``/field/...``).

- ``/field/``: the app shell, the same for everyone (no account data, no CSRF token: the app signs in with the
  API and keeps a bearer token in IndexedDB); the screens are drawn by ``js/field/app.js``.
- ``/field/manifest.webmanifest``: name, start URL and scope ``/field/``, standalone display, icons (SVG and PNG).
- ``/field/sw.js``: the service worker (``js/field/sw.js``) with its configuration in front: the cache name and the
  URLs to precache, i.e. the shell and the hashed URLs of every script, stylesheet and icon the app uses. A new
  deployment (another asset version) is a new worker, which replaces the cached shell.

The Permissions-Policy lets ``/field/`` pages use the position and the camera (``pages.security``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.response import Redirect, Template
from markupsafe import Markup

from survey_platform.pages.assets import STATIC_DIR, AssetBundle
from survey_platform.pages.i18n import catalog, translate
from survey_platform.pages.rendering import language_of, render

SHELL = "/field/"
MANIFEST = "/field/manifest.webmanifest"
WORKER = "/field/sw.js"
STRING_PREFIXES = ("field.", "survey.ui.")
#: static files the app uses besides its own scripts (js/field/*), all precached by the worker
SHELL_ASSETS: tuple[str, ...] = (
    "css/site.css",
    "css/survey.css",
    "css/field.css",
    "js/expr.js",
    "js/survey/logic.js",
    "js/survey/render.js",
    "js/survey/drafts.js",
    "img/field-icon.svg",
    "img/field-icon-192.png",
    "img/field-icon-512.png",
    "img/field-icon-maskable-512.png",
)
WORKER_SOURCE = "js/field/sw.js"
THEME_COLOUR = "#0b4f8a"
NO_STORE = {"Cache-Control": "no-cache"}


@functools.cache
def ui_strings(language: str) -> dict[str, str]:
    """The strings the app's scripts use (``field.*`` and the survey renderer's ``survey.ui.*``) in ``language``."""
    return {key: text for key, text in catalog(language).items() if key.startswith(STRING_PREFIXES)}


def shell_assets(assets: AssetBundle) -> list[str]:
    """The static paths of the app shell: the listed files and every module under ``js/field/`` but the worker."""
    scripts = sorted(path for path in assets.assets if path.startswith("js/field/") and path != WORKER_SOURCE)
    return [*SHELL_ASSETS, *scripts]


def precache_urls(assets: AssetBundle) -> list[str]:
    """Everything the worker caches at install: the shell page, the manifest, the hashed static URLs."""
    return [SHELL, MANIFEST, *(assets.url(path) for path in shell_assets(assets))]


def page_data(language: str) -> Markup:
    """The data block of the shell: the language, the interface strings, the worker's URL."""
    text = msgspec.json.encode({"lang": language, "strings": ui_strings(language), "worker": WORKER}).decode()
    return Markup(text.replace("<", "\\u003c"))


@get(SHELL, name="field_app", include_in_schema=False)
async def field_app(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The field app's shell (the same for everyone; the app signs in itself). ``/field`` (the same route for
    Litestar) is sent to ``/field/``: the worker's scope and the manifest's start URL end with the slash."""
    raw_path: bytes = request.scope.get("raw_path") or SHELL.encode()  # scope["path"] lost the slash
    if not raw_path.split(b"?", 1)[0].endswith(b"/"):
        return Redirect(SHELL, status_code=308)
    assets: AssetBundle = request.app.state.assets
    language = language_of(request)
    return render(
        request,
        "field/app.html",
        data=page_data(language),
        scripts=[assets.url(path) for path in shell_assets(assets) if path.startswith("js/")],
    )


def manifest(language: str, assets: AssetBundle) -> dict[str, Any]:
    """The web app manifest in ``language`` (icons by their hashed URLs)."""
    return {
        "name": translate(language, "field.app.name"),
        "short_name": translate(language, "field.app.short_name"),
        "description": translate(language, "field.app.description"),
        "lang": language,
        "dir": "ltr",
        "id": SHELL,
        "start_url": SHELL,
        "scope": SHELL,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "categories": ["productivity", "utilities"],
        "icons": [
            {
                "src": assets.url("img/field-icon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any",
            },
            {
                "src": assets.url("img/field-icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": assets.url("img/field-icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": assets.url("img/field-icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


@get(MANIFEST, name="field_manifest", include_in_schema=False)
async def field_manifest(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The web app manifest (installable from the browser, no app store)."""
    body = json.dumps(manifest(language_of(request), request.app.state.assets), ensure_ascii=False).encode()
    return Response(
        body,
        media_type="application/manifest+json",
        headers={**NO_STORE, "Vary": "Cookie"},
    )


@functools.cache
def _worker_source(directory: Path = STATIC_DIR) -> str:
    return (directory / WORKER_SOURCE).read_text(encoding="utf-8")


def worker_script(assets: AssetBundle) -> str:
    """The service worker: its configuration, then ``js/field/sw.js``."""
    config: Mapping[str, Any] = {
        "version": assets.version,
        "cache": f"field-shell-{assets.version}",
        "precache": precache_urls(assets),
        "core": assets.url("js/field/core.js"),
    }
    return f"self.FIELD_SW = {json.dumps(config)};\n{_worker_source()}"


@get(WORKER, name="field_worker", include_in_schema=False)
async def field_worker(request: Request[Any, Any, Any]) -> Response[str]:
    """The service worker (scope ``/field/``); revalidated on every check so a deployment reaches phones."""
    return Response(
        worker_script(request.app.state.assets),
        media_type="text/javascript",
        headers={**NO_STORE, "Service-Worker-Allowed": SHELL},
    )


ROUTES = (field_app, field_manifest, field_worker)
