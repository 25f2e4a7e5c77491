"""Everything ``create_app`` needs for the pages: routes, the template engine, static files, security headers.

To add a page area, write its handlers in a module of this package (see ``public.py``) and list them in
:data:`PAGE_ROUTES`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.template import TemplateConfig
from litestar.types import BeforeMessageSendHookHandler

from survey_platform.pages import (
    admin,
    admin_people,
    admin_places,
    desk,
    field,
    public,
    releases,
    signin,
    survey,
)
from survey_platform.pages.assets import IMMUTABLE, REVALIDATE, AssetBundle, load_assets
from survey_platform.pages.rendering import template_config
from survey_platform.pages.security import security_headers_hook
from survey_platform.settings import Settings


@get("/static/{path:path}", name="static", include_in_schema=False)
async def static_file(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[bytes]:
    """A static file: immutable under the current version, revalidated (ETag) otherwise."""
    bundle: AssetBundle = request.app.state.assets
    found = bundle.lookup(path)
    if found is None:
        raise NotFoundException(f"静态文件不存在 / no static file {path!r}")
    headers = {"ETag": found.asset.etag, "Cache-Control": IMMUTABLE if found.current else REVALIDATE}
    if found.asset.etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=headers)
    return Response(found.asset.body, media_type=found.asset.media_type, headers=headers)


PAGE_ROUTES = (
    static_file,
    *public.ROUTES,
    *releases.ROUTES,
    *survey.ROUTES,
    *signin.ROUTES,
    *desk.ROUTES,
    *admin.ROUTES,
    *admin_people.ROUTES,
    *admin_places.ROUTES,
    *field.ROUTES,
)


@dataclasses.dataclass(frozen=True, slots=True)
class PageSetup:
    route_handlers: tuple[Any, ...]
    template_config: TemplateConfig[Any]
    before_send: tuple[BeforeMessageSendHookHandler, ...]
    assets: AssetBundle


def page_setup(settings: Settings) -> PageSetup:
    """The pages of one application (the static files are read here, once)."""
    assets = load_assets()
    return PageSetup(
        route_handlers=PAGE_ROUTES,
        template_config=template_config(assets),
        before_send=(security_headers_hook(https=settings.cookie_secure == "true"),),
        assets=assets,
    )
