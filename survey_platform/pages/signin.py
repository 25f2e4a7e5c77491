"""Signing in and out of the staff pages, and the way back to where a person was when their session ended.

``GET /login`` shows the form; ``POST /login`` checks the credentials under the same throttle as the API's
``POST /api/v1/auth/login`` (``accounts.controller.sign_in``), sets the session cookie and goes to ``next`` (a path
on this site only, ``pages.public.safe_next``). A sign-in form posted from another site is refused by the CSRF
middleware (``accounts.csrf``). ``POST /logout`` (a form carrying the CSRF token) ends the session. A staff page
reached without a valid session (none, expired, or ended) answers 401, which the page error handler turns into
:func:`sign_in_redirect`: to ``/login?next=<that page>``.
"""

from __future__ import annotations

import urllib.parse
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from survey_platform.accounts.controller import session_cookie, sign_in
from survey_platform.accounts.guards import identify
from survey_platform.accounts.service import Principal
from survey_platform.accounts.sessions import COOKIE_NAME
from survey_platform.pages.forms import FORM, FormErrors, read_form, text
from survey_platform.pages.i18n import translate
from survey_platform.pages.messages import localise
from survey_platform.pages.public import safe_next
from survey_platform.pages.rendering import language_of, page_headers, render
from survey_platform.settings import Settings
from survey_platform.storage.errors import TooManyRequests, Unauthorized

#: where a person goes after signing in when no page asked for it
HOME_BY_ROLE: dict[str, str] = {"admin": "/admin", "reviewer": "/desk"}


def home_of(principal: Principal) -> str:
    return HOME_BY_ROLE.get(principal.role, "/")


def _here(request: Request[Any, Any, Any]) -> str:
    """The page to come back to: this one for a GET, the page a form was sent from (same site) for a POST."""
    if request.method in ("GET", "HEAD"):
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urllib.parse.urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc == request.headers.get("host", ""):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def sign_in_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    """303 to the sign-in page with ``next`` = this page; a stale session cookie is cleared and the page says the
    session ended."""
    query = {"next": safe_next(_here(request))}
    cookies = []
    if request.cookies.get(COOKIE_NAME):
        query["ended"] = "1"
        cookies.append(session_cookie(request, "", 0))
    return Redirect(
        f"/login?{urllib.parse.urlencode(query)}",
        status_code=303,
        headers={**page_headers(request), "Content-Language": language_of(request)},
        cookies=cookies,
    )


def _login_form(
    request: Request[Any, Any, Any],
    *,
    next_page: str,
    username: str = "",
    errors: FormErrors | None = None,
    notice: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    page = render(
        request,
        "desk/signin.html",
        status_code=status_code,
        next_page=next_page,
        username=username,
        errors=errors or FormErrors(),
        notice=notice,
    )
    page.headers.update(headers or {})
    return page


@get("/login", name="login", include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any],
    next_: Annotated[str, QueryParameter(name="next", max_length=2000)] = "",
    ended: Annotated[str, QueryParameter(max_length=5)] = "",
    signed_out: Annotated[str, QueryParameter(max_length=5)] = "",
) -> Response[Any]:
    """The sign-in form; someone already signed in goes on to ``next`` (or their home page)."""
    principal = await identify(request)
    if principal is not None:
        return Redirect(safe_next(next_) if next_ else home_of(principal), status_code=303)
    notice = "ended" if ended else "signed_out" if signed_out else ""
    return _login_form(request, next_page=safe_next(next_) if next_ else "", notice=notice)


@post("/login", name="login_submit", include_in_schema=False, opt=FORM, status_code=303)
async def login_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    """Check the credentials; on success set the session cookie and go to ``next``."""
    form = await read_form(request)
    language = language_of(request)
    username, password = text(form, "username", 100), form.get("password")
    password = password if isinstance(password, str) else ""
    next_page = safe_next(text(form, "next")) if text(form, "next") else ""
    errors = FormErrors()
    if not username:
        errors.add("username", translate(language, "signin.username.required"))
    if not password:
        errors.add("password", translate(language, "signin.password.required"))
    if errors:
        return _login_form(request, next_page=next_page, username=username, errors=errors, status_code=422)
    try:
        principal, token = await sign_in(request, username, password[:128])
    except TooManyRequests as refused:
        errors.add(None, localise(refused.detail, language))
        return _login_form(
            request,
            next_page=next_page,
            username=username,
            errors=errors,
            status_code=429,
            headers=refused.headers,
        )
    except Unauthorized as refused:
        errors.add(None, localise(refused.detail, language))
        return _login_form(request, next_page=next_page, username=username, errors=errors, status_code=401)
    previous = request.cookies.get(COOKIE_NAME)
    if previous:  # an older session of this browser ends: one browser, one session
        await request.app.state.sessions.revoke(previous)
    settings: Settings = request.app.state.settings
    return Redirect(
        next_page or home_of(principal),
        status_code=303,
        cookies=[session_cookie(request, token, settings.session_ttl_seconds)],
    )


@post("/logout", name="logout", include_in_schema=False, opt=FORM, status_code=303)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    """End the session (the form carries the CSRF token) and show the sign-in page."""
    token = request.cookies.get(COOKIE_NAME)
    if token:
        await request.app.state.sessions.revoke(token)
    return Redirect("/login?signed_out=1", status_code=303, cookies=[session_cookie(request, "", 0)])


ROUTES = (login_page, login_submit, logout)
