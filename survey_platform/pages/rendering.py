"""The template engine: Jinja through Litestar, autoescaped, with the globals and filters every page uses.

Templates live in ``templates/`` and extend ``base.html``. In a template:

- ``{{ t("home.title") }}`` / ``{{ t("home.count", n=3) }}``: an interface string in the page's language;
  ``{{ t_in("en", "home.title") }}`` in a given language (bilingual prints);
- ``{{ static_url("css/site.css") }}``: the cache-busting URL of a static file (unknown files fail loudly);
- ``{{ csrf_field() }}``: the hidden CSRF input of a form (empty without a session cookie); ``{{ csrf_meta() }}``
  (in the base layout) gives scripts the same token for their ``X-CSRF-Token`` header;
- filters ``number(digits)``, ``signed(digits)`` (a difference with its sign), ``percent(digits)`` (of a fraction) and ``date`` in the page's language.

Handlers return :func:`render` (a Litestar ``Template`` response with the page language in its context).
"""

from __future__ import annotations

import datetime
import math
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from litestar import MediaType, Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig
from markupsafe import Markup

from survey_platform.accounts.csrf import FORM_FIELD
from survey_platform.accounts.sessions import COOKIE_NAME, csrf_token
from survey_platform.pages.assets import AssetBundle
from survey_platform.pages.i18n import (
    DEFAULT_LANGUAGE,
    LANG_COOKIE,
    LANGUAGES,
    normalise_language,
    other_language,
    translate,
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PAGE_HEADERS: Mapping[str, str] = {
    # pages follow the lang cookie and list live data: caches must revalidate and keep languages apart
    "Cache-Control": "no-cache",
    "Vary": "Cookie",
}
# a page rendered for a signed-in person (their CSRF token, the desk's data) is stored nowhere
PRIVATE_PAGE_HEADERS: Mapping[str, str] = {"Cache-Control": "private, no-store", "Vary": "Cookie"}


def page_headers(request: Request[Any, Any, Any]) -> Mapping[str, str]:
    """The caching headers of a page for this request: private and never stored when it carries a session."""
    return PRIVATE_PAGE_HEADERS if request.cookies.get(COOKIE_NAME) else PAGE_HEADERS


def language_of(request: Request[Any, Any, Any]) -> str:
    """The visitor's language: the ``lang`` cookie when it names a supported language, else zh-CN."""
    return normalise_language(request.cookies.get(LANG_COOKIE))


def _context_language(context: Mapping[str, Any]) -> str:
    language = context.get("lang")
    if language in LANGUAGES:
        return language  # type: ignore[return-value]
    request = context.get("request")
    return language_of(request) if request is not None else DEFAULT_LANGUAGE


@pass_context
def _t(context: Mapping[str, Any], key: str, /, **params: Any) -> str:
    return translate(_context_language(context), key, **params)


def _t_in(language: str, key: str, /, **params: Any) -> str:
    """A string in a given language whatever the page's (a bilingual poster's second language)."""
    return translate(language, key, **params)


def _request_csrf_token(context: Mapping[str, Any]) -> str:
    """The CSRF token of the request's session cookie (``accounts.csrf``), or "" without a session."""
    request = context.get("request")
    session = request.cookies.get(COOKIE_NAME) if request is not None else None
    return csrf_token(session) if session else ""


@pass_context
def _csrf_field(context: Mapping[str, Any]) -> Markup:
    """The hidden input every state-changing form carries (empty without a session: nothing to protect)."""
    token = _request_csrf_token(context)
    if not token:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(FORM_FIELD, token)


@pass_context
def _csrf_meta(context: Mapping[str, Any]) -> Markup:
    """``<meta name="csrf-token">`` for scripts, which send it as ``X-CSRF-Token`` (empty without a session)."""
    token = _request_csrf_token(context)
    if not token:
        return Markup("")
    return Markup('<meta name="csrf-token" content="{}">').format(token)


@pass_context
def _switch_url(context: Mapping[str, Any]) -> str:
    """The language switch's link: back to this page (path and query) in the other language."""
    request = context.get("request")
    here = context.get("here") or "/"  # a page may give its canonical address (stored pages: one per address)
    if request is not None and not context.get("here"):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = urllib.parse.urlencode({"to": other_language(_context_language(context)), "next": here})
    return f"/lang?{query}"


def format_number(value: float | int | None, digits: int = 1) -> str:
    """``79.92`` → ``"79.9"``; missing or non-finite values → ``"—"``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def format_signed(value: float | None, digits: int = 1) -> str:
    """A difference with its sign: ``1.83`` → ``"+1.8"``, ``-0.04`` → ``"−0.0"``; missing → ``"—"``."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{abs(value):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return f"±{text}"
    return f"+{text}" if value > 0 else f"−{text}"


def format_percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.317`` → ``"31.7%"``."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


@pass_context
def _format_date(context: Mapping[str, Any], value: datetime.date | None) -> str:
    if value is None:
        return "—"
    if _context_language(context) == "zh-CN":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value:%b} {value.year}"


def make_environment(assets: AssetBundle, templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """A Jinja environment over ``templates_dir``: autoescaping on, undefined names an error, the page globals."""
    environment = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    environment.globals.update(
        t=_t,
        t_in=_t_in,
        static_url=assets.url,
        csrf_field=_csrf_field,
        csrf_meta=_csrf_meta,
        switch_url=_switch_url,
        other_language=other_language,
        LANGUAGES=LANGUAGES,
    )
    environment.filters.update(
        number=format_number, signed=format_signed, percent=format_percent, date=_format_date
    )
    return environment


def template_config(assets: AssetBundle) -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(make_environment(assets)))


def render(
    request: Request[Any, Any, Any], template: str, /, *, status_code: int = 200, **context: Any
) -> Template:
    """A page response: ``template`` rendered in the visitor's language with ``context``."""
    language = language_of(request)
    return Template(
        template_name=template,
        context={"lang": language, **context},
        status_code=status_code,
        headers={**page_headers(request), "Content-Language": language},
        media_type=MediaType.HTML,
    )


def render_to_string(request: Request[Any, Any, Any], template: str, /, **context: Any) -> str:
    """``template`` rendered now (for error pages, which cannot fail later in the response)."""
    engine = request.app.template_engine
    assert engine is not None, "the application has no template engine"
    return engine.get_template(template).render(request=request, lang=language_of(request), **context)
