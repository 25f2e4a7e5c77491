"""The Litestar application factory: routes, stores, lifespan and RFC 9457 problem details."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import urllib.parse
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.constants import RESERVED_KWARGS
from litestar.datastructures import State
from litestar.enums import ParamType
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import BodyKwarg, DependencyKwarg, ParameterKwarg
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from litestar.types import ASGIApp
from redis.asyncio import Redis

from survey_platform.access_log import AccessLog
from survey_platform.accounts.controller import AccountController, AuditLogController, AuthController
from survey_platform.accounts.csrf import CSRFMiddleware
from survey_platform.accounts.sessions import SessionRegistry
from survey_platform.audits.controller import audit_router
from survey_platform.bodies import NUL_MESSAGE, refuse_nul_in_json, split_path
from survey_platform.campaigns.controller import CampaignController, QuestionnaireController
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.recent import RecentReads
from survey_platform.compression import compression_config
from survey_platform.field.controller import FieldController
from survey_platform.gc_tuning import tuned_collector
from survey_platform.limits import SlidingWindowLimiter
from survey_platform.net import AddressHasher, ClientAddressMiddleware
from survey_platform.openapi import OperationDocumentation, openapi_config
from survey_platform.pages.errors import error_page, is_page_path
from survey_platform.pages.setup import page_setup
from survey_platform.places.controller import CityController, VenueController
from survey_platform.problem_details import PROBLEM_JSON, Problem, ProblemField
from survey_platform.publishing.controller import ROUTES as RELEASE_ROUTES
from survey_platform.responses.controller import response_router
from survey_platform.responses.flagged import QualityCache
from survey_platform.responses.service import Ingestor
from survey_platform.settings import Settings
from survey_platform.storage.database import Database
from survey_platform.storage.errors import BadRequest, DomainError, FieldProblem
from survey_platform.storage.writer import (
    GroupCommitWriter,
    PostgresResponseStore,
    ResponseStore,
    SQLiteResponseStore,
)

logger = logging.getLogger("survey_platform")

RATE_LIMITED_PATHS = re.compile(r"^/api/v1/(campaigns/[^/]+/(responses|batch)|batch|auth/login)/?$")


def _problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    errors: list[ProblemField],
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """Problem details for the API; a page route gets an HTML error page in the visitor's language instead."""
    if is_page_path(request.url.path):
        return error_page(request, status, detail, headers)
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    problem = Problem(
        type="about:blank",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    )
    return Response(problem, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _parameter_path(request: Request[Any, Any, Any], source: object, key: str) -> str:
    """``query:state``, ``header:x-content-sha256``, ``path:code``: where a bad parameter was, by the name the
    client sent (an alias such as ``QueryParameter(name="state")``), not the handler's argument name."""
    # ParamType is a (str, Enum): its str() is "ParamType.QUERY"
    where = str(getattr(source, "value", source))
    kwarg = getattr(request.route_handler.parsed_fn_signature.parameters.get(key), "kwarg_definition", None)
    alias = getattr(kwarg, "name", None)  # ParameterKwarg keeps every alias (query=, header=, name=) here
    name = alias if isinstance(alias, str) and alias else key
    return f"{where}:{name.lower() if where == 'header' else name}"


def _validation_fields(request: Request[Any, Any, Any], extra: object) -> list[ProblemField]:
    fields: list[ProblemField] = []
    if isinstance(extra, list):
        for item in extra:
            if not isinstance(item, dict):
                continue
            message = str(item.get("message", "invalid value"))
            key = item.get("key")
            path, message = split_path(message)
            if path is None and key and key != "data":
                source = item.get("source")
                path = f"$.{key}" if source in (None, "body") else _parameter_path(request, source, key)
            fields.append(ProblemField(path=path or "$", code="invalid", message=message[:500]))
    return fields


def _handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    errors = [ProblemField(e.path, e.code, e.message) for e in exc.errors]
    return _problem_response(request, exc.status, exc.detail, errors, exc.headers or None)


def _handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    errors: list[ProblemField] = []
    if isinstance(exc, ValidationException):
        errors = _validation_fields(request, exc.extra)
        # A well-formed body that breaks the schema is 422; undecodable bodies and bad query/path values stay 400.
        if errors and all(e.path.startswith("$") for e in errors):
            status = 422
    if status == 400 and not errors:
        errors = [ProblemField("$", "malformed", exc.detail)]
    if status >= 500:
        logger.error("HTTP %s at %s: %s", status, request.url.path, exc.detail)
    headers = dict(exc.headers or {})
    if status == 429 and "RateLimit-Reset" in headers:
        # Litestar's rate limiter sends only the RateLimit-* headers; clients know Retry-After
        headers.setdefault("Retry-After", headers["RateLimit-Reset"])
    return _problem_response(request, status, exc.detail, errors, headers)


def _handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    detail = "JSON 嵌套过深 / JSON nested too deeply"
    return _problem_response(request, 400, detail, [ProblemField("$", "too_deep", detail)])


_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"content-type"})
JSON_MEDIA = re.compile(r"^application/([a-z0-9.+-]*\+)?json\s*(;.*)?$", re.IGNORECASE)


def _query_names(handler: HTTPRouteHandler) -> set[str]:
    """The query parameters ``handler`` reads, by the names clients send (its path parameters too)."""
    skip = RESERVED_KWARGS | set(handler.resolve_dependencies())
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if name in skip or isinstance(kwarg, (BodyKwarg, DependencyKwarg)):
            continue
        if not isinstance(kwarg, ParameterKwarg):
            names.add(name)
        elif kwarg.param_type is ParamType.QUERY:
            names.add(kwarg.name or name)
    return names


def _refuse_nul_in_parameters(request: Request[Any, Any, Any]) -> None:
    """400 for a path value or a query parameter the route reads with U+0000 (see ``bodies.NUL_MESSAGE``); other
    query parameters are never read, so they do not matter."""
    if "\x00" in request.scope["path"]:
        raise BadRequest(NUL_MESSAGE, (FieldProblem("path", "nul", NUL_MESSAGE),))
    query: bytes = request.scope["query_string"]
    if b"%00" in query:
        read = _query_names(request.route_handler)
        pairs = urllib.parse.parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        name = next((key for key, value in pairs if "\x00" in value and key in read), None)
        if name is not None:
            raise BadRequest(NUL_MESSAGE, (FieldProblem(f"query:{name}", "nul", NUL_MESSAGE),))


async def _check_request(request: Request[Any, Any, Any]) -> None:
    """Refuse what no route accepts before the handler reads it: U+0000 in the path, query or a JSON body (which
    PostgreSQL cannot store), and request bodies that are not JSON (415), except on routes marked ``multipart``,
    ``raw_body`` or ``form`` (the pages' HTML forms)."""
    _refuse_nul_in_parameters(request)
    opt = request.route_handler.opt
    if request.scope["method"] not in _WITH_BODY or opt.get("multipart") or opt.get("raw_body"):
        return
    if opt.get("form"):  # a page's HTML form: the handler reads it (pages.forms), refusing U+0000 itself
        return
    # the raw ASGI header list (lower-case names), read once: cheaper than building a Headers mapping per request
    headers = {name: value for name, value in request.scope["headers"] if name in _BODY_HEADERS}
    has_body = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
    if has_body and not JSON_MEDIA.match(headers.get(b"content-type", b"").decode("latin-1")):
        raise HTTPException(
            status_code=415, detail="请求体须为 JSON / the request body must be application/json"
        )
    if has_body and request.route_handler.parsed_data_field is not None:
        refuse_nul_in_json(await request.body())


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unexpected error at %s", request.url.path, exc_info=exc)
    return _problem_response(request, 500, "内部错误 / internal error", [])


def _stores(settings: Settings) -> tuple[StoreRegistry, Redis | None]:
    """Shared state: Redis when configured (namespaced per deployment), otherwise this process's memory."""
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        root = RedisStore(redis, namespace=settings.redis_namespace)

        def redis_factory(name: str) -> Store:
            return root.with_namespace(name)

        return StoreRegistry(default_factory=redis_factory), redis
    return StoreRegistry(default_factory=lambda _name: MemoryStore()), None


def is_rate_limited(method: str, path: str) -> bool:
    """Whether the per-address rate limit applies to ``method path`` (a request path or a route's template)."""
    return method == "POST" and bool(RATE_LIMITED_PATHS.match(path))


async def _is_rate_limited_route(request: Request[Any, Any, Any]) -> bool:
    return is_rate_limited(request.method, request.url.path)


@get("/health", tags=["service"], media_type=MediaType.JSON)
async def health(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Liveness: the process is up (no database round trip, so it is a baseline for benchmarks)."""
    return {
        "status": "ok",
        "database": "postgresql" if request.app.state.settings.uses_postgres else "sqlite",
    }


def create_served_app() -> ASGIApp:
    """The application `survey-platform serve` runs in each worker process: settings from the environment, the
    garbage collector tuned for serving once start-up is done (unless ``SURVEY_GC_TUNING=0``), and one access-log
    line per request (:mod:`survey_platform.access_log`)."""
    settings = Settings.from_env()
    return AccessLog(create_app(settings, tune_gc=settings.gc_tuning))


def create_app(settings: Settings | None = None, *, tune_gc: bool = False) -> Litestar:
    """A new application for ``settings`` (default: from the environment).

    ``tune_gc`` changes process-wide garbage-collector settings while the application runs (see
    :mod:`survey_platform.gc_tuning`): for the one application of a serving process, not for tests that build many.
    """
    settings = settings or Settings.from_env()
    database = Database(settings)
    stores, redis = _stores(settings)
    # One salt per deployment: from the settings, else shared through Redis, else random for this process.
    addresses = AddressHasher(settings.address_salt or secrets.token_hex(16))
    login_failures = SlidingWindowLimiter(
        "login-failures",
        settings.login_failures,
        settings.login_window_seconds,
        redis,
        settings.redis_namespace,
    )
    anonymous_responses = SlidingWindowLimiter(
        "anonymous-responses", settings.anon_responses_per_hour, 3600, redis, settings.redis_namespace
    )

    catalog = QuestionnaireCatalog()
    quality = QualityCache(catalog)
    store: ResponseStore = (
        PostgresResponseStore(database.engine)
        if database.is_postgres
        else SQLiteResponseStore(settings.sqlite_path, synchronous=settings.sqlite_synchronous)
    )
    writer = GroupCommitWriter(
        store, max_rows=settings.write_batch_rows, linger_seconds=settings.write_batch_ms / 1000
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await database.open()
        try:
            if redis is not None and not settings.address_salt:
                key = f"{settings.redis_namespace}:address-salt"
                await redis.set(key, addresses.salt, nx=True)
                addresses.salt = (await redis.get(key)).decode()
            await catalog.register_directory(settings.questionnaires_dir)
            await writer.start()
            try:
                with tuned_collector() if tune_gc else contextlib.nullcontext():
                    yield
            finally:
                await quality.close()
                await writer.stop()
        finally:
            await database.close()
            if redis is not None:
                await redis.aclose()

    middleware: list[Any] = [
        DefineMiddleware(
            ClientAddressMiddleware, trusted=settings.trusted_networks, header=settings.proxy_header
        ),
        CSRFMiddleware,
    ]
    if settings.rate_limit_per_minute > 0:
        middleware.append(
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_per_minute),
                store="rate_limit",
                identifier_for_request=lambda request: addresses.key(request.scope),
                check_throttle_handler=_is_rate_limited_route,
            ).middleware
        )
    pages = page_setup(settings)
    state = State(
        {
            "settings": settings,
            "assets": pages.assets,
            "database": database,
            "sessions": SessionRegistry(stores.get("sessions"), settings.session_ttl_seconds),
            "questionnaires": catalog,
            "writer": writer,
            "ingestor": Ingestor(writer, catalog, settings, anonymous_responses),
            "recent": RecentReads(),  # campaigns and cities as the survey pages read them (kept a second)
            "quality": quality,
            "addresses": addresses,
            "login_failures": login_failures,
        }
    )
    return Litestar(
        route_handlers=[
            health,
            AuthController,
            AccountController,
            AuditLogController,
            CityController,
            VenueController,
            CampaignController,
            QuestionnaireController,
            response_router(settings),
            audit_router(settings),
            FieldController,
            *RELEASE_ROUTES,
            *pages.route_handlers,
        ],
        template_config=pages.template_config,
        compression_config=compression_config(),
        before_send=list(pages.before_send),
        lifespan=[lifespan],
        stores=stores,
        state=state,
        middleware=middleware,
        request_max_body_size=settings.max_body_bytes,
        exception_handlers={
            DomainError: _handle_domain_error,
            HTTPException: _handle_http_exception,
            RecursionError: _handle_recursion,
            Exception: _handle_unexpected,
        },
        openapi_config=openapi_config(),
        plugins=[
            OperationDocumentation(
                is_rate_limited if settings.rate_limit_per_minute > 0 else lambda _method, _path: False
            )
        ],
        before_request=_check_request,
        debug=False,
    )


__all__ = ["FieldProblem", "Problem", "ProblemField", "create_app"]
