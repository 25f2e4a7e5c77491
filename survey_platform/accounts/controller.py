"""HTTP routes: sign-in/out, the current account, account administration and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from survey_platform.accounts import service
from survey_platform.accounts.guards import provide_signed_in, request_token, require
from survey_platform.accounts.service import Account, Principal
from survey_platform.accounts.sessions import COOKIE_NAME, SessionRegistry
from survey_platform.openapi.operations import PROBLEMS_OPT
from survey_platform.settings import Settings
from survey_platform.storage import audit_log
from survey_platform.storage.errors import Unauthorized


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=100)]
    password: Annotated[str, msgspec.Meta(max_length=128)]


class LoginResult(msgspec.Struct):
    token: str
    token_type: str
    expires_in: int
    account: Principal


class NewAccount(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=100)]
    password: Annotated[str, msgspec.Meta(max_length=128)]
    role: Annotated[str, msgspec.Meta(max_length=20)]
    display_name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class AccountChange(msgspec.Struct, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(max_length=20)] | None = None
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
        """Sign in: returns a bearer token for API clients and sets an HttpOnly session cookie for pages."""
        settings: Settings = request.app.state.settings
        principal = await service.authenticate(data.username, data.password, settings.password_iterations)
        if principal is None:
            raise Unauthorized("用户名或密码错误 / wrong username or password")
        registry: SessionRegistry = request.app.state.sessions
        token = await registry.issue(principal)
        result = LoginResult(token, "bearer", settings.session_ttl_seconds, principal)
        cookie = Cookie(
            key=COOKIE_NAME,
            value=token,
            max_age=settings.session_ttl_seconds,
            httponly=True,
            secure=settings.cookie_secure,
            samesite="strict",
            path="/",
        )
        return Response(result, cookies=[cookie])

    @post("/logout", status_code=204, guards=[require()], opt={PROBLEMS_OPT: {409: None}})
    async def logout(self, request: Request[Any, Any, Any]) -> Response[None]:
        """Sign out: the session ends and the cookie is cleared."""
        token = request_token(request)
        if token:
            await request.app.state.sessions.revoke(token)
        return Response(
            None, status_code=204, cookies=[Cookie(key=COOKIE_NAME, value="", max_age=0, path="/")]
        )

    @get("/me", guards=[require()], dependencies={"principal": Provide(provide_signed_in)})
    async def me(self, principal: NamedDependency[Principal]) -> Principal:
        """The signed-in account."""
        return principal


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
        settings: Settings = request.app.state.settings
        account = await service.update_account(
            account_id,
            role=data.role,
            active=data.active,
            password=data.password,
            display_name=data.display_name,
            iterations=settings.password_iterations,
            actor=principal,
        )
        if data.role is not None or data.active is not None or data.password is not None:
            await request.app.state.sessions.revoke_all(account_id)
        return account


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
