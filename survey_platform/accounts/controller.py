"""HTTP routes: sign-in/out, the current account, account administration and the audit log."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from survey_platform.accounts import service
from survey_platform.accounts.guards import provide_signed_in, request_token, require
from survey_platform.accounts.roles import Role
from survey_platform.accounts.service import Account, Principal
from survey_platform.accounts.sessions import COOKIE_NAME, SessionRegistry, csrf_token
from survey_platform.limits import Limited, SlidingWindowLimiter
from survey_platform.openapi.operations import PROBLEMS_OPT
from survey_platform.settings import Settings
from survey_platform.storage import audit_log
from survey_platform.storage.errors import TooManyRequests, Unauthorized


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=100)]
    password: Annotated[str, msgspec.Meta(max_length=128)]


class LoginResult(msgspec.Struct):
    """A session: the bearer token for API clients (also set as the HttpOnly cookie for pages) and the CSRF token
    that cookie-authenticated requests must send in ``X-CSRF-Token``."""

    token: str
    token_type: str
    expires_in: int
    account: Principal
    csrf_token: str


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    old_password: Annotated[str, msgspec.Meta(max_length=128)]
    new_password: Annotated[str, msgspec.Meta(max_length=128)]


class NewAccount(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=100)]
    password: Annotated[str, msgspec.Meta(max_length=128)]
    role: Role
    display_name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class AccountChange(msgspec.Struct, forbid_unknown_fields=True):
    role: Role | None = None
    active: bool | None = None
    password: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    display_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class AuditLogRow(msgspec.Struct):
    id: int
    at: str
    actor_id: int | None
    actor: str
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any]


def session_cookie(request: Request[Any, Any, Any], token: str, max_age: int) -> Cookie:
    """The session cookie: HttpOnly, SameSite=strict, Secure unless plain HTTP on a loopback address (settings)."""
    settings: Settings = request.app.state.settings
    if settings.cookie_secure == "auto":
        secure = request.url.scheme == "https" or not settings.serves_loopback
    else:
        secure = settings.cookie_secure == "true"
    return Cookie(
        key=COOKIE_NAME,
        value=token,
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite="strict",
        path="/",
    )


def _login_keys(request: Request[Any, Any, Any], username: str) -> tuple[str, str]:
    account = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"account:{account}", f"address:{request.app.state.addresses.key(request.scope)}"


async def sign_in(request: Request[Any, Any, Any], username: str, password: str) -> tuple[Principal, str]:
    """Check credentials under the sign-in throttle; returns (principal, new session token).

    At most ``SURVEY_LOGIN_FAILURES`` failures per account and per client address within
    ``SURVEY_LOGIN_WINDOW_SECONDS``; beyond that every attempt is refused with 429 and ``Retry-After`` without
    looking at the password. Every attempt first takes a slot of both limits (atomically, so concurrent attempts
    cannot slip past the count); a failure keeps them, a success gives them back and clears the account's failures.
    """
    settings: Settings = request.app.state.settings
    limiter: SlidingWindowLimiter = request.app.state.login_failures
    keys = _login_keys(request, username)
    taken: list[tuple[str, str]] = []
    try:
        for key in keys:
            member, _ = await limiter.reserve(key)
            taken.append((key, member))
    except Limited as limited:
        for key, member in taken:
            await limiter.release(key, member)
        raise TooManyRequests(
            f"登录失败次数过多，请 {limited.retry_after} 秒后再试 / too many failed sign-ins; try again in "
            f"{limited.retry_after} s",
            limited.retry_after,
        ) from None
    principal = await service.authenticate(username, password, settings.password_iterations)
    if principal is None:
        raise Unauthorized("用户名或密码错误 / wrong username or password")  # the slots stay: failures
    for key, member in taken:
        await limiter.release(key, member)
    await limiter.clear(keys[0])
    registry: SessionRegistry = request.app.state.sessions
    return principal, await registry.issue(principal)


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ("accounts",)

    @post(
        "/login",
        status_code=200,
        opt={PROBLEMS_OPT: {401: "用户名或密码错误 / wrong username or password", 409: None}},
    )
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest]
    ) -> Response[LoginResult]:
        """Sign in: returns a bearer token for API clients and sets an HttpOnly session cookie for pages.

        Failed attempts are limited per account and per address (429 with Retry-After when exceeded).
        """
        settings: Settings = request.app.state.settings
        principal, token = await sign_in(request, data.username, data.password)
        result = LoginResult(token, "bearer", settings.session_ttl_seconds, principal, csrf_token(token))
        return Response(result, cookies=[session_cookie(request, token, settings.session_ttl_seconds)])

    @post("/logout", status_code=204, guards=[require()], opt={PROBLEMS_OPT: {409: None}})
    async def logout(self, request: Request[Any, Any, Any]) -> Response[None]:
        """Sign out: the session (token and cookie) ends."""
        token = request_token(request)
        if token:
            await request.app.state.sessions.revoke(token)
        return Response(None, status_code=204, cookies=[session_cookie(request, "", 0)])

    @get("/me", guards=[require()], dependencies={"principal": Provide(provide_signed_in)})
    async def me(self, principal: NamedDependency[Principal]) -> Principal:
        """The signed-in account."""
        return principal

    @post(
        "/password",
        status_code=200,
        guards=[require()],
        dependencies={"principal": Provide(provide_signed_in)},
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordChange],
        principal: NamedDependency[Principal],
    ) -> Response[LoginResult]:
        """Change your own password (the current one is required). Every session of the account ends; the reply
        carries a new session (and cookie) for this client."""
        settings: Settings = request.app.state.settings
        await service.change_own_password(
            principal, data.old_password, data.new_password, settings.password_iterations
        )
        token = await request.app.state.sessions.issue(principal)
        result = LoginResult(token, "bearer", settings.session_ttl_seconds, principal, csrf_token(token))
        return Response(result, cookies=[session_cookie(request, token, settings.session_ttl_seconds)])


class AccountController(Controller):
    path = "/api/v1/accounts"
    tags = ("accounts",)
    guards = (require("admin"),)
    dependencies = {"principal": Provide(provide_signed_in)}  # noqa: RUF012

    @get("/")
    async def list_accounts(self) -> list[Account]:
        return await service.list_accounts()

    @post("/")
    async def create_account(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[NewAccount],
        principal: NamedDependency[Principal],
    ) -> Account:
        settings: Settings = request.app.state.settings
        return await service.create_account(
            data.username,
            data.password,
            data.role,
            display_name=data.display_name,
            iterations=settings.password_iterations,
            actor=principal,
        )

    @get("/{account_id:int}")
    async def get_account(self, account_id: Annotated[int, Parameter(ge=1, le=2**31 - 1)]) -> Account:
        return await service.get_account(account_id)

    @patch("/{account_id:int}", opt={PROBLEMS_OPT: {409: None}})
    async def update_account(
        self,
        request: Request[Any, Any, Any],
        account_id: Annotated[int, Parameter(ge=1, le=2**31 - 1)],
        data: JSONBody[AccountChange],
        principal: NamedDependency[Principal],
    ) -> Account:
        """Change an account's role, activity, password or name; a new role, deactivation or a new password ends
        the account's sessions at once."""
        settings: Settings = request.app.state.settings
        return await service.update_account(
            account_id,
            role=data.role,
            active=data.active,
            password=data.password,
            display_name=data.display_name,
            iterations=settings.password_iterations,
            actor=principal,
        )


class AuditLogController(Controller):
    path = "/api/v1/audit-log"
    tags = ("accounts",)
    guards = (require("admin"),)

    @get("/")
    async def list_entries(
        self,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        offset: Annotated[int, Parameter(ge=0, le=10**9)] = 0,
        entity: Annotated[str | None, Parameter(max_length=40)] = None,
    ) -> list[AuditLogRow]:
        """Audit log entries, newest first."""
        rows = await audit_log.entries(limit=limit, offset=offset, entity=entity)
        return [
            AuditLogRow(
                id=row["id"],
                at=row["at"].isoformat(),
                actor_id=row["actor_id"],
                actor=row["actor"],
                action=row["action"],
                entity=row["entity"],
                entity_id=row["entity_id"],
                detail=row["detail"] if isinstance(row["detail"], dict) else {},
            )
            for row in rows
        ]
