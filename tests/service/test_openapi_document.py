"""The OpenAPI document tells the truth: real error answers are documented problem details, guarded routes
declare authentication (and anonymous calls to them really get 401), every operation says what it does."""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any

import jsonschema
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import PNG, headers_for

from survey_platform.app import create_app
from survey_platform.openapi.operations import (
    OperationShape,
    apply_overrides,
    problem_statuses,
    summary_from,
)
from survey_platform.settings import Settings

Client = AsyncTestClient[Litestar]
CITY = {"code": "wuxi", "name_zh": "无锡", "name_en": "Wuxi", "province": "江苏", "population": 7_490_000}
# values that pass each path parameter's own type and pattern, so only guards and lookups decide the answer
PATH_VALUES = {
    "account_id": "1",
    "venue_id": "1",
    "version_id": "1",
    "audit_id": str(uuid.UUID(int=1)),
    "response_id": str(uuid.UUID(int=1)),
    "sha256": "0" * 64,
}


async def document(client: Client) -> dict[str, Any]:
    reply = await client.get("/schema/openapi.json")
    assert reply.status_code == 200
    return reply.json()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def template_of(doc: dict[str, Any], path: str) -> str:
    """The document's path template that ``path`` (a concrete request path) matches."""
    for template in doc["paths"]:
        if re.fullmatch(re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)), path):
            return template
    raise AssertionError(f"{path} matches no documented path")


def assert_documented(doc: dict[str, Any], method: str, path: str, reply: Any) -> None:
    """The answer's status, media type and body are what the document says for this operation."""
    operation = doc["paths"][template_of(doc, path)][method.lower()]
    status = str(reply.status_code)
    assert status in operation["responses"], f"{method} {path}: {status} is not documented"
    content = operation["responses"][status]["content"]
    media_type = reply.headers["content-type"].split(";")[0]
    assert media_type in content, f"{method} {path} {status}: {media_type} not in {list(content)}"
    schema = {**content[media_type]["schema"], "components": doc["components"]}
    jsonschema.validate(reply.json(), schema)
    if reply.status_code >= 400:
        assert media_type == "application/problem+json"
        assert content[media_type]["schema"] == {"$ref": "#/components/schemas/Problem"}


async def test_every_error_answer_is_a_documented_problem(client: Client) -> None:
    doc = await document(client)
    admin = await headers_for(client, "admin")
    reviewer = await headers_for(client, "reviewer")
    answers = [
        ("POST", "/api/v1/cities", await client.post("/api/v1/cities", json=CITY, headers=admin), 201),
        ("GET", "/api/v1/accounts", await client.get("/api/v1/accounts"), 401),
        ("GET", "/api/v1/accounts", await client.get("/api/v1/accounts", headers=reviewer), 403),
        ("GET", "/api/v1/cities/nowhere", await client.get("/api/v1/cities/nowhere"), 404),
        ("POST", "/api/v1/cities", await client.post("/api/v1/cities", json=CITY, headers=admin), 409),
        (
            "POST",
            "/api/v1/cities",
            await client.post(
                "/api/v1/cities", content=b'{"code": ', headers={**admin, "content-type": "application/json"}
            ),
            400,
        ),
        (
            "POST",
            "/api/v1/cities",
            await client.post(
                "/api/v1/cities", content=b"code=x", headers={**admin, "content-type": "text/plain"}
            ),
            415,
        ),
        ("POST", "/api/v1/cities", await client.post("/api/v1/cities", json={"code": 7}, headers=admin), 422),
        ("GET", "/api/v1/venues", await client.get("/api/v1/venues", params={"limit": "many"}), 400),
        ("POST", "/api/v1/photos", await client.post("/api/v1/photos", content=PNG, headers=admin), 422),
        (
            "GET",
            "/api/v1/audits",
            await client.get("/api/v1/audits", params={"state": "lost"}, headers=admin),
            400,
        ),
    ]
    for method, path, reply, expected in answers:
        assert reply.status_code == expected, (method, path, reply.text)
        assert_documented(doc, method, path, reply)
    assert answers[8][2].json()["errors"][0]["path"] == "query:limit"
    assert answers[10][2].json()["errors"][0]["path"] == "query:state"  # the name sent, not the argument's
    problem = answers[7][2].json()
    assert problem["errors"] and problem["errors"][0]["path"].startswith("$")


async def test_body_limits_and_rate_limits_are_documented_answers(settings: Settings) -> None:
    limited = dataclasses.replace(settings, max_body_bytes=200, rate_limit_per_minute=1)
    async with AsyncTestClient(app=create_app(limited)) as client:
        doc = await document(client)
        path = "/api/v1/campaigns/none/responses"
        too_large = await client.post(path, json={"id": str(uuid.uuid4()), "answers": {"q": "x" * 300}})
        assert too_large.status_code == 413
        assert_documented(doc, "POST", path, too_large)
        too_many = await client.post(path, json={"id": str(uuid.uuid4()), "answers": {}})
        assert too_many.status_code == 429
        assert_documented(doc, "POST", path, too_many)
        assert int(too_many.headers["retry-after"]) >= 0
        assert "Retry-After" in doc["paths"][template_of(doc, path)]["post"]["responses"]["429"]["headers"]


async def test_guarded_operations_declare_sign_in_and_anonymous_calls_get_401(client: Client) -> None:
    doc = await document(client)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert (
        schemes["sessionCookie"]["type"],
        schemes["sessionCookie"]["in"],
        schemes["sessionCookie"]["name"],
    ) == (
        "apiKey",
        "cookie",
        "survey_session",
    )
    guarded = public = 0
    for method, path, operation in operations(doc):
        concrete = re.sub(r"\{([^}]+)\}", lambda m: PATH_VALUES.get(m.group(1), "x"), path)
        if "security" not in operation:
            reply = await client.request(method, concrete)
            assert reply.status_code != 401, f"{method} {path} is undocumented as signed-in only"
            public += 1
        if "security" in operation:
            assert operation["security"] == [{"bearerAuth": []}, {"sessionCookie": []}]
            reply = await client.request(method, concrete)
            assert reply.status_code == 401, f"{method} {path}: {reply.status_code}"
            assert_documented(doc, method, concrete, reply)
            guarded += 1
    assert guarded > 20 and public > 8
    assert "security" in doc["paths"]["/api/v1/accounts"]["get"]
    assert "security" not in doc["paths"]["/api/v1/campaigns/{campaign}/responses"]["post"]
    assert "403" in doc["paths"]["/api/v1/accounts"]["get"]["responses"]
    assert "403" not in doc["paths"]["/api/v1/auth/me"]["get"]["responses"]  # any role


async def test_operations_have_summaries_and_descriptions(app: Litestar, client: Client) -> None:
    doc = await document(client)
    documented = 0
    for route in app.routes:
        for method, (handler, _) in getattr(route, "route_handler_map", {}).items():
            if not handler.resolve_include_in_schema():
                continue
            operation = doc["paths"][route.path_format][method.lower()]
            assert operation["summary"].strip(), (method, route.path)
            if handler.fn.__doc__:
                assert operation.get("description", "").strip(), (method, route.path)
                documented += 1
    assert documented >= 15
    assert doc["paths"]["/api/v1/accounts"]["get"]["summary"] == "List accounts"
    assert doc["paths"]["/api/v1/campaigns/{campaign}/responses"]["post"]["summary"] == (
        "Submit one response (citizens need no account)"
    )


async def test_litestar_validation_schema_is_gone_and_errors_reference_problem(client: Client) -> None:
    doc = await document(client)
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/ProblemField"}
    for method, path, operation in operations(doc):
        assert "500" in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (method, path, status)
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
    assert '"status_code"' not in str(doc).replace("'", '"')


async def test_route_shapes_decide_the_error_statuses(client: Client) -> None:
    doc = await document(client)

    def statuses(method: str, path: str) -> set[str]:
        return set(doc["paths"][path][method]["responses"])

    assert statuses("get", "/health") == {"200", "500"}
    assert statuses("post", "/api/v1/campaigns/{campaign}/responses") == {
        "201", "400", "403", "404", "409", "413", "415", "422", "429", "500"
    }  # fmt: skip
    assert statuses("post", "/api/v1/auth/login") == {
        "200", "400", "401", "403", "413", "415", "422", "429", "500"
    }  # fmt: skip
    assert statuses("post", "/api/v1/photos") == {"201", "400", "401", "403", "413", "422", "500"}
    assert "415" in statuses("post", "/api/v1/campaigns/{campaign}/audits/multipart")
    assert "404" in statuses("get", "/api/v1/cities/{code}") and "404" not in statuses(
        "get", "/api/v1/cities"
    )


async def test_the_photo_upload_declares_its_raw_body_and_hash_header(client: Client) -> None:
    operation = (await document(client))["paths"]["/api/v1/photos"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {"image/jpeg", "image/png", "image/webp"}
    assert all(media["schema"]["format"] == "binary" for media in body["content"].values())
    headers = {header["name"]: (header["in"], header["required"]) for header in operation["parameters"]}
    assert headers == {"X-Content-SHA256": ("header", False), "X-Captured-At": ("header", False)}
    admin = await headers_for(client, "admin")
    bad = await client.post(
        "/api/v1/photos",
        content=PNG,
        headers={**admin, "content-type": "image/png", "x-content-sha256": "zz"},
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "header:x-content-sha256"


async def test_without_rate_limit_no_429_is_documented(settings: Settings) -> None:
    async with AsyncTestClient(
        app=create_app(dataclasses.replace(settings, rate_limit_per_minute=0))
    ) as client:
        doc = await document(client)
    assert all("429" not in operation["responses"] for _, _, operation in operations(doc))


def shape(**changes: Any) -> OperationShape:
    base = OperationShape(
        methods=frozenset({"GET"}),
        body="none",
        has_parameters=False,
        has_path_parameters=False,
        signed_in=False,
        roles=None,
        rate_limited=False,
        max_body_bytes=None,
    )
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, {500}),
        ({"has_parameters": True}, {400, 500}),
        ({"has_parameters": True, "has_path_parameters": True}, {400, 404, 500}),
        ({"signed_in": True}, {401, 500}),
        ({"signed_in": True, "roles": frozenset({"admin"})}, {401, 403, 500}),
        # state-changing methods: 403 for a session cookie without its CSRF token (accounts.csrf)
        ({"methods": frozenset({"POST"})}, {403, 409, 415, 500}),
        ({"methods": frozenset({"POST"}), "body": "json"}, {400, 403, 409, 413, 415, 422, 500}),
        ({"methods": frozenset({"POST"}), "body": "raw"}, {400, 403, 409, 413, 422, 500}),
        ({"methods": frozenset({"POST"}), "body": "multipart"}, {400, 403, 409, 413, 415, 422, 500}),
        ({"rate_limited": True}, {429, 500}),
    ],
)
def test_problem_statuses(changes: dict[str, Any], expected: set[int]) -> None:
    assert set(problem_statuses(shape(**changes))) == expected


def test_overrides_and_summaries() -> None:
    statuses = problem_statuses(shape(methods=frozenset({"POST"})))
    changed = apply_overrides(statuses, {409: None, 401: "wrong password"})
    assert list(changed) == [401, 403, 415, 500] and changed[401] == "wrong password"
    assert summary_from("Sign in: a token. More.\n\nDetails.", "login") == "Sign in: a token"
    assert summary_from("Version 1.2 of it", "x") == "Version 1.2 of it"
    assert summary_from(None, "list_audit_entries") == "List audit entries"
