"""Property-based API tests with schemathesis against a real server, on SQLite and on PostgreSQL.

Every operation of the OpenAPI document is called with generated input, valid and invalid, as an admin (so that
requests reach the handlers rather than stopping at authorisation), as a reviewer (403 on admin routes) and
anonymously (401 on guarded routes). Every answer must be documented: no 5xx, its status listed for the
operation, its content type and body (problem details for errors) and its headers as the document says.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from service_helpers import PASSWORD, PNG, REQUIRE_SERVICES, LiveServer, empty_postgres

from survey_platform.audits.photos import MEDIA_TYPES
from survey_platform.settings import Settings

SEEN: Counter[int] = Counter()  # statuses answered in the current test


def record_status(ctx: Any, response: Any, case: Any) -> None:
    SEEN[response.status_code] += 1


CHECKS = [
    record_status,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# (identity, generation mode, examples per operation)
PLAN = (
    ("admin", GenerationMode.POSITIVE, 5),
    ("admin", GenerationMode.NEGATIVE, 4),
    ("reviewer", GenerationMode.POSITIVE, 1),
    ("anonymous", GenerationMode.POSITIVE, 1),
)

# Photo uploads: a real PNG (stored, then re-sent) or bytes that are no image (422).
for _media_type in MEDIA_TYPES:
    schemathesis.openapi.media_type(_media_type, st.sampled_from([PNG, b"not an image"]))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_server(
    request: pytest.FixtureRequest, services: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, dict[str, dict[str, str]]]]:
    overrides: dict[str, Any] = {"data_dir": tmp_path_factory.mktemp("fuzz") / "data"}
    if request.param == "postgres":
        if services.database_url is None or services.redis_url is None:
            if REQUIRE_SERVICES:
                pytest.fail(services.reason)
            pytest.skip(services.reason)
        asyncio.run(empty_postgres(services.database_url))
        overrides |= {
            "database_url": services.database_url,
            "redis_url": services.redis_url,
            "redis_namespace": f"survey-fuzz-{secrets.token_hex(4)}",
        }
    server = LiveServer(Settings.from_env({}, **overrides))
    for role in ("admin", "reviewer"):
        server.cli("user", "create", f"fuzz-{role}", "--role", role)
    server.start()
    try:
        identities: dict[str, dict[str, str]] = {"anonymous": {}}
        for role in ("admin", "reviewer"):
            reply = httpx.post(
                f"{server.url}/api/v1/auth/login", json={"username": f"fuzz-{role}", "password": PASSWORD}
            )
            identities[role] = {"Authorization": f"Bearer {reply.json()['token']}"}
        yield server, identities
    finally:
        server.stop()


def fuzz(operation: Any, mode: GenerationMode, examples: int, base_url: str, headers: dict[str, str]) -> None:
    """Call ``operation`` with ``examples`` generated cases and check every answer against the document."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    try:
        call()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing of this operation can be made invalid


def test_api_answers_only_what_its_document_says(
    fuzz_server: tuple[LiveServer, dict[str, dict[str, str]]],
) -> None:
    server, identities = fuzz_server
    SEEN.clear()
    api = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 30
    failures: list[str] = []
    for operation in operations:
        for identity, mode, examples in PLAN:
            if operation.path == "/api/v1/auth/logout" and identity != "anonymous":
                continue  # would end the session the other cases use
            try:
                fuzz(operation, mode, examples, server.url, identities[identity])
            except (Exception, BaseExceptionGroup) as error:  # schemathesis raises a FailureGroup
                failures.append(
                    f"{operation.method.upper()} {operation.path} ({identity}, {mode}): {error}"[:1500]
                )
    assert not failures, "\n\n".join(failures)
    # the checks above saw error answers, not only successes
    print("statuses answered:", dict(sorted(SEEN.items())))
    assert {200, 400, 401, 403, 404, 422} <= SEEN.keys(), SEEN
