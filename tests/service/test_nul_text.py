"""Text never contains U+0000: PostgreSQL's text and jsonb cannot store it (it was a 500 there, found by
schemathesis), so every way in refuses it with a problem naming the field, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import PNG, headers_for, inspection_setup

from survey_platform.bodies import refuse_nul_in_json
from survey_platform.storage.errors import InvalidInput

Client = AsyncTestClient[Litestar]
CITY = {"code": "wuxi", "name_zh": "无锡", "name_en": "Wuxi", "province": "江苏", "population": 7_490_000}


def nul_fields(reply: object) -> list[tuple[str, str]]:
    body = reply.json()  # type: ignore[attr-defined]
    return [(error["path"], error["code"]) for error in body["errors"]]


async def test_json_bodies_with_nul_are_refused_naming_the_field(client: Client) -> None:
    admin = await headers_for(client, "admin")
    city = await client.post("/api/v1/cities", json={**CITY, "name_zh": "无\x00锡"}, headers=admin)
    assert city.status_code == 422, city.text
    assert nul_fields(city) == [("$.name_zh", "nul")]
    assert (await client.get("/api/v1/cities/wuxi")).status_code == 404
    login = await client.post("/api/v1/auth/login", json={"username": "\x00", "password": "x"})
    assert login.status_code == 422 and nul_fields(login) == [("$.username", "nul")]
    batch = await client.post(
        "/api/v1/batch",
        json={"responses": [{"id": str(uuid.uuid4()), "campaign": "c", "answers": {"q": ["ok", "no\x00"]}}]},
        headers=admin,
    )
    assert batch.status_code == 422 and nul_fields(batch) == [("$.responses[0].answers.q[1]", "nul")]
    # the six characters \u0000 are ordinary text
    escaped = await client.post("/api/v1/cities", json={**CITY, "name_en": "a\\u0000b"}, headers=admin)
    assert escaped.status_code == 201, escaped.text
    assert (await client.get("/api/v1/cities/wuxi")).json()["name_en"] == "a\\u0000b"


async def test_query_values_with_nul_are_refused_when_the_route_reads_them(client: Client) -> None:
    admin = await headers_for(client, "admin")
    query = await client.get("/api/v1/questionnaires", params={"questionnaire": "a\x00b"})
    assert query.status_code == 400 and nul_fields(query) == [("query:questionnaire", "nul")]
    alias = await client.get("/api/v1/audits", params={"state": "\x00"}, headers=admin)
    assert alias.status_code == 400 and nul_fields(alias) == [("query:state", "nul")]
    unread = await client.get("/health", params={"anything": "\x00"})
    assert unread.status_code == 200, "a parameter no route reads does not matter"


async def test_a_multipart_audit_with_nul_is_refused(client: Client) -> None:
    ctx = await inspection_setup(client)
    audit = {
        "id": str(uuid.uuid4()),
        "venue": ctx["venue"],
        "answers": {"counter_payment": True, "x": "\x00"},
    }
    reply = await client.post(
        "/api/v1/campaigns/qr-2026/audits/multipart",
        headers=ctx["inspector"],
        files=[
            ("audit", (None, json.dumps(audit).encode(), "application/json")),
            ("photos", ("p.png", PNG, "image/png")),
        ],
    )
    assert reply.status_code == 422, reply.text
    assert ("$.answers.x", "nul") in nul_fields(reply)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (r'{"a": "x\u0000"}', "$.a"),
        (r'{"a": ["ok", {"b": "\\\u0000"}]}', "$.a[1].b"),
        (r'{"k\u0000": 1}', "$"),
        (r'{"a": "\\u0000"}', None),
        (r'{"a": "\\\\u0000"}', None),
        (r'{"broken": "\u0000', None),
    ],
)
def test_nul_escapes_are_told_from_escaped_backslashes(text: str, path: str | None) -> None:
    if path is None:
        refuse_nul_in_json(text.encode())
        return
    with pytest.raises(InvalidInput) as raised:
        refuse_nul_in_json(text.encode())
    assert [problem.path for problem in raised.value.errors] == [path]
