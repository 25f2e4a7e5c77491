"""Property-based API tests with schemathesis against a real server: no 5xx, responses match the schema.

Every operation of the OpenAPI document is called with generated (valid and invalid) input, as an admin so
that requests reach the handlers rather than stopping at authorisation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from service_helpers import PASSWORD, LiveServer

from survey_platform.settings import Settings


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    server = LiveServer(Settings.from_env({}, data_dir=tmp_path_factory.mktemp("fuzz") / "data"))
    server.cli("user", "create", "fuzz-admin", "--role", "admin")
    server.start()
    try:
        reply = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"username": "fuzz-admin", "password": PASSWORD}
        )
        yield server, {"Authorization": f"Bearer {reply.json()['token']}"}
    finally:
        server.stop()


def test_api_never_fails_and_matches_its_schema(fuzz_server: tuple[LiveServer, dict[str, str]]) -> None:
    server, admin = fuzz_server
    api = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 30
    failures: list[str] = []
    for operation in operations:
        if operation.path == "/api/v1/auth/logout":
            continue  # would end the session the other cases use

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: Any) -> None:
            case.call_and_validate(
                base_url=server.url, headers=admin, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            call()
        except Exception as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:600]}")
    assert not failures, "\n\n".join(failures)
