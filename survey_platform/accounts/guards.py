"""Authentication (bearer token or session cookie) and role guards for route handlers."""

from __future__ import annotations

import dataclasses
from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from survey_platform.accounts.service import Principal
from survey_platform.accounts.sessions import COOKIE_NAME, SessionRegistry

STATE_KEY = "principal"


def request_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return connection.cookies.get(COOKIE_NAME)


async def identify(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The principal of this request (cached on the connection), or None when anonymous."""
    if STATE_KEY in connection.scope.get("state", {}):
        return connection.scope["state"][STATE_KEY]
    token = request_token(connection)
    registry: SessionRegistry = connection.app.state.sessions
    principal = await registry.resolve(token) if token else None
    connection.scope.setdefault("state", {})[STATE_KEY] = principal
    return principal


@dataclasses.dataclass(frozen=True, slots=True)
class RoleGuard:
    """A guard admitting signed-in accounts whose role is one of ``roles`` (any role when empty).

    The API document reads ``roles`` to declare the route's authentication and its 401/403 answers.
    """

    roles: tuple[str, ...] = ()

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await identify(connection)
        if principal is None:
            raise NotAuthorizedException("需要登录 / sign-in required")
        if self.roles and principal.role not in self.roles:
            raise PermissionDeniedException(f"权限不足 / requires role {' or '.join(self.roles)}")


def require(*roles: str) -> RoleGuard:
    """A guard admitting signed-in accounts whose role is one of ``roles`` (any role when none given)."""
    return RoleGuard(roles)


async def provide_principal(request: Request[Any, Any, Any]) -> Principal | None:
    """Dependency: the (optional) principal of the request."""
    return await identify(request)


async def provide_signed_in(request: Request[Any, Any, Any]) -> Principal:
    """Dependency: the principal of a guarded route (the guard has already rejected anonymous requests)."""
    principal = await identify(request)
    if principal is None:
        raise NotAuthorizedException("需要登录 / sign-in required")
    return principal
