"""What each operation of the API document says about errors, authentication and itself, derived from its route.

Litestar documents a route's success response and its parameters, but not what the app's exception handlers,
guards, body checks and rate limits really send. :class:`OperationDocumentation` (a plugin that receives every
route as it is registered, including routes added later) derives that from the route itself:

- the error statuses it can answer, each documented as an RFC 9457 problem (``Problem``, media type
  ``application/problem+json``), replacing Litestar's generic ``ValidationException`` schema; the pure rule is
  :func:`problem_statuses`, over the route's :class:`OperationShape`;
- ``security`` from its guards: a :class:`~survey_platform.accounts.guards.RoleGuard` means sign-in (bearer token
  or session cookie), so 401, and 403 when it names roles;
- a summary (the docstring's first sentence, else the handler's name as words) and a description (the docstring,
  plus who may call it).

Every state-changing method documents 409 (the services answer it for duplicates, campaigns that are not open,
published campaigns, reused UUIDs...). A route corrects what is derived through its ``opt``:
``opt={"problems": {409: None, 401: "..."}}`` removes a status (``None``) or adds one with its description.
``opt["multipart"]`` and ``opt["raw_body"]`` (which the app's request check already reads) mark routes that read
a non-JSON body themselves; :func:`described_operation` documents such a body, or an answer Litestar cannot type.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Literal

from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Example,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.utils.helpers import unwrap_partial

from survey_platform.accounts.guards import RoleGuard
from survey_platform.problem_details import PROBLEM_JSON, Problem

BEARER_SCHEME = "bearerAuth"
COOKIE_SCHEME = "sessionCookie"
SIGNED_IN_SECURITY: tuple[dict[str, list[str]], ...] = ({BEARER_SCHEME: []}, {COOKIE_SCHEME: []})
PROBLEMS_OPT = "problems"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON_CHECKED_METHODS = frozenset({"POST", "PUT", "PATCH"})  # app._check_request

BodyKind = Literal["none", "json", "raw", "multipart"]
RateLimited = Callable[[str, str], bool]


@dataclasses.dataclass(frozen=True, slots=True)
class OperationShape:
    """The facts about one route handler that decide which errors it can answer."""

    methods: frozenset[str]
    body: BodyKind
    has_parameters: bool
    has_path_parameters: bool
    signed_in: bool
    roles: frozenset[str] | None  # None: any signed-in account (or no sign-in at all)
    rate_limited: bool
    max_body_bytes: int | None


def problem_statuses(shape: OperationShape) -> dict[int, str]:
    """The error statuses an operation of this shape can answer, each with its description (``中文 / English``).

    400 the request cannot be read (body, path, query or header value); 401/403 its guards; 403 also for any
    state-changing request that carries the session cookie without its CSRF token or comes from another site
    (``accounts.csrf``); 404 a path lookup; 409 a state-changing method meeting the current state; 413/422 a body
    too large or invalid; 415 a body in the wrong media type (the app's JSON check, or the multipart route's own);
    429 a rate-limited route; 500 always.
    """
    statuses: dict[int, str] = {}
    has_body = shape.body != "none"
    unsafe = bool(shape.methods & UNSAFE_METHODS)
    if has_body or shape.has_parameters:
        statuses[400] = (
            "请求无法读取 / the request cannot be read: malformed body, or a bad path, query or header value"
        )
    if shape.signed_in:
        statuses[401] = "需要登录 / sign-in required: a bearer token or the session cookie"
    if shape.roles is not None:
        statuses[403] = (
            f"权限不足 / not allowed: requires role {' or '.join(sorted(shape.roles)) or '(none)'}"
        )
    if unsafe:
        csrf = "跨站请求或缺少 CSRF 令牌 / cross-site, or the session cookie without its X-CSRF-Token"
        statuses[403] = f"{statuses[403]}; {csrf}" if 403 in statuses else csrf
    if shape.has_path_parameters:
        statuses[404] = "不存在 / not found: nothing matches the path"
    if unsafe:
        statuses[409] = (
            "与当前状态冲突 / conflicts with the current state (exists already, not open, published)"
        )
    if has_body:
        limit = f" (at most {shape.max_body_bytes} bytes)" if shape.max_body_bytes else ""
        statuses[413] = f"请求体过大 / the request body is too large{limit}"
    if shape.body == "multipart":
        statuses[415] = "媒体类型不受支持 / the request body must be multipart/form-data"
    elif shape.body != "raw" and shape.methods & _JSON_CHECKED_METHODS:
        statuses[415] = "媒体类型不受支持 / a request body must be application/json"
    if has_body:
        statuses[422] = "输入无效 / invalid input: `errors` names every bad field"
    if shape.rate_limited:
        statuses[429] = "请求过多 / too many requests: try again after `Retry-After` seconds"
    statuses[500] = "内部错误 / internal error"
    return statuses


def apply_overrides(statuses: Mapping[int, str], overrides: Mapping[int, str | None]) -> dict[int, str]:
    """``statuses`` changed by a route's ``opt["problems"]``: None removes a status, a text adds or rewords one."""
    changed = dict(statuses)
    for status, description in overrides.items():
        if description is None:
            changed.pop(status, None)
        else:
            changed[status] = description
    return dict(sorted(changed.items()))


_SENTENCE_END = re.compile(r"\.(\s|$)")


def summary_from(docstring: str | None, name: str) -> str:
    """The docstring's first sentence (without its full stop), else the handler's name as words."""
    if docstring and (first := inspect.cleandoc(docstring).split("\n", 1)[0].strip()):
        return _SENTENCE_END.split(first, 1)[0]
    words = re.sub(r"[_\s]+", " ", name).strip()
    return words[:1].upper() + words[1:]


def access_note(shape: OperationShape) -> str | None:
    if not shape.signed_in:
        return None
    if shape.roles is None:
        return "需要登录 / Sign-in required (any role)."
    return f"需要登录 / Sign-in required; roles: {', '.join(sorted(shape.roles)) or '(none)'}."


def example_problem(status: int, description: str, path: str) -> dict[str, Any]:
    """An example problem document for the API document (the shape `app._problem_response` sends)."""
    detail = description.split(":", 1)[0]
    example: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": path,
    }
    if status == 400:
        example["errors"] = [{"path": "$", "code": "malformed", "message": detail}]
    elif status == 422:
        example["errors"] = [{"path": "$.field", "code": "invalid", "message": "Expected `int`, got `str`"}]
    return example


def _role_guards(handler: HTTPRouteHandler) -> list[RoleGuard]:
    return [guard for guard in handler.resolve_guards() if isinstance(guard, RoleGuard)]


def _allowed_roles(guards: list[RoleGuard]) -> frozenset[str] | None:
    """The roles every guard admits (each guard must pass), or None when no guard names roles."""
    allowed: frozenset[str] | None = None
    for guard in guards:
        if guard.roles:
            allowed = frozenset(guard.roles) if allowed is None else allowed & frozenset(guard.roles)
    return allowed


def shape_of(route: HTTPRoute, handler: HTTPRouteHandler, rate_limited: RateLimited) -> OperationShape:
    """The shape of ``handler`` on ``route``: what it reads (from Litestar's own request model), its guards,
    whether it is rate limited and its body limit."""
    methods = frozenset(handler.http_methods)
    models = [model for other, model in route.route_handler_map.values() if other is handler]
    opt = handler.opt
    body: BodyKind = "none"
    if opt.get("multipart"):
        body = "multipart"
    elif opt.get("raw_body"):
        body = "raw"
    elif any(
        model.expected_data_dto
        or model.expected_form_data
        or model.expected_msgpack_data
        or "data" in model.expected_reserved_kwargs
        or "body" in model.expected_reserved_kwargs
        for model in models
    ):
        body = "json"
    has_parameters = bool(route.path_parameters) or any(
        model.expected_query_params or model.expected_header_params or model.expected_cookie_params
        for model in models
    )
    guards = _role_guards(handler)
    return OperationShape(
        methods=methods,
        body=body,
        has_parameters=has_parameters,
        has_path_parameters=bool(route.path_parameters),
        signed_in=bool(guards),
        roles=_allowed_roles(guards),
        rate_limited=any(rate_limited(method, route.path_format) for method in methods),
        max_body_bytes=handler.resolve_request_max_body_size() if body != "none" else None,
    )


RATE_LIMIT_HEADERS = {
    "Retry-After": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
        description="再试前等待的秒数 / seconds to wait before trying again",
    ),
    "RateLimit-Limit": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER), description="requests allowed in the window"
    ),
    "RateLimit-Remaining": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER), description="requests left in the window"
    ),
    "RateLimit-Reset": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER), description="seconds until the window resets"
    ),
    "RateLimit-Policy": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING), description="the limit's policy"
    ),
}


@functools.cache
def documented_operation(base: type[Operation]) -> type[Operation]:
    """``base`` (a route's ``operation_class``) adding the headers of its 429 answer."""
    if getattr(base, "documents_problem_headers", False):
        return base

    @dataclasses.dataclass
    class DocumentedOperation(base):  # type: ignore[valid-type,misc]
        documents_problem_headers = True

        def __post_init__(self) -> None:
            parent = getattr(super(), "__post_init__", None)
            if parent is not None:
                parent()
            too_many = (self.responses or {}).get("429")
            if too_many is not None and not isinstance(too_many, Reference):
                too_many.headers = {**RATE_LIMIT_HEADERS, **(too_many.headers or {})}  # type: ignore[union-attr]

    DocumentedOperation.__name__ = DocumentedOperation.__qualname__ = f"Documented{base.__name__}"
    return DocumentedOperation


def described_operation(
    *,
    request_body: RequestBody | None = None,
    content: Mapping[int, Mapping[str, OpenAPIMediaType]] | None = None,
) -> type[Operation]:
    """An ``operation_class`` for a route that reads its body or writes its answer itself, where Litestar sees no
    types: ``request_body`` is the body it reads, ``content[status]`` the media types it answers ``status`` with.
    """

    @dataclasses.dataclass
    class DescribedOperation(Operation):
        def __post_init__(self) -> None:
            if request_body is not None:
                self.request_body = request_body
            for status, media_types in (content or {}).items():
                response = (self.responses or {}).get(str(status))
                if response is not None and not isinstance(response, Reference):
                    response.content = dict(media_types)

    return DescribedOperation


class OperationDocumentation(ReceiveRoutePlugin):
    """Sets each registered route handler's error responses, security, summary and description (see module).

    ``rate_limited(method, path)`` says whether the rate limiter applies to a route (the path is the route's
    template, e.g. ``/api/v1/campaigns/{campaign}/responses``).
    """

    __slots__ = ("rate_limited",)

    def __init__(self, rate_limited: RateLimited) -> None:
        self.rate_limited = rate_limited

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in {id(h): h for h, _ in route.route_handler_map.values()}.values():
            if handler.resolve_include_in_schema():
                self.document(route, handler)

    def document(self, route: HTTPRoute, handler: HTTPRouteHandler) -> None:
        shape = shape_of(route, handler, self.rate_limited)
        statuses = apply_overrides(problem_statuses(shape), handler.opt.get(PROBLEMS_OPT) or {})
        problems = {
            status: ResponseSpec(
                data_container=Problem,
                generate_examples=False,
                description=description,
                media_type=PROBLEM_JSON,
                examples=[Example(value=example_problem(status, description, route.path_format))],
            )
            for status, description in statuses.items()
        }
        handler.responses = {**problems, **(handler.responses or {})}
        if shape.signed_in and handler.security is None:
            handler.security = [dict(requirement) for requirement in SIGNED_IN_SECURITY]
        docstring = unwrap_partial(handler.fn).__doc__
        if handler.summary is None:
            handler.summary = summary_from(docstring, handler.handler_name)
        if handler.description is None:
            parts = [inspect.cleandoc(docstring) if docstring else None, access_note(shape)]
            handler.description = "\n\n".join(part for part in parts if part) or None
        handler.operation_class = documented_operation(handler.operation_class)


__all__ = [
    "BEARER_SCHEME",
    "COOKIE_SCHEME",
    "PROBLEMS_OPT",
    "OperationDocumentation",
    "OperationShape",
    "apply_overrides",
    "described_operation",
    "problem_statuses",
    "summary_from",
]
