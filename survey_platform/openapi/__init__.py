"""The API's OpenAPI document and its pages under ``/schema``.

``create_app`` passes :func:`openapi_config` and an :class:`OperationDocumentation` plugin to Litestar: the
first declares the document, its security schemes and the pages (Swagger UI from the package, the JSON and
YAML document; no Redoc, Stoplight or RapiDoc, which load from CDNs); the second makes every operation say
which errors it answers, who may call it, and what it does (see :mod:`survey_platform.openapi.operations`).
"""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from survey_platform.accounts.sessions import COOKIE_NAME
from survey_platform.openapi.operations import (
    BEARER_SCHEME,
    COOKIE_SCHEME,
    PROBLEMS_OPT,
    OperationDocumentation,
    problem_statuses,
)
from survey_platform.openapi.swagger import LocalSwaggerUI

SCHEMA_PATH = "/schema"

DESCRIPTION = """\
城市消费者满意度调查、场所检查与排名的接口 / The API of city consumer-satisfaction surveys, inspections and
rankings.

**错误 / Errors** are RFC 9457 problem details (`application/problem+json`, the `Problem` schema): `errors` lists
every bad field of the input with its JSON path (`$.answers.q3`), a code and a message (`中文 / English`).

**登录 / Sign-in**: `POST /api/v1/auth/login` returns a bearer token (send `Authorization: Bearer <token>`) and
sets the session cookie `survey_session` for pages. Operations with a lock need one of them.
"""


def openapi_config(title: str = "survey-platform", version: str = "1.0.0") -> OpenAPIConfig:
    """The document's header, security schemes and pages."""
    return OpenAPIConfig(
        title=title,
        version=version,
        description=DESCRIPTION,
        path=SCHEMA_PATH,
        use_handler_docstrings=True,
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="会话令牌 / the token from POST /api/v1/auth/login",
                ),
                COOKIE_SCHEME: SecurityScheme(
                    type="apiKey",
                    name=COOKIE_NAME,
                    security_scheme_in="cookie",
                    description="页面的会话 Cookie / the session cookie set by POST /api/v1/auth/login",
                ),
            }
        ),
        render_plugins=[LocalSwaggerUI(), JsonRenderPlugin(), YamlRenderPlugin()],
    )


__all__ = ["PROBLEMS_OPT", "SCHEMA_PATH", "OperationDocumentation", "openapi_config", "problem_statuses"]
