"""Evidence photos are read only by admins, the reviewers of the audit's campaign and the audit's inspector."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import PNG, headers_for, inspection_setup, upload

pytestmark = pytest.mark.usefixtures("client")


async def test_only_the_people_of_the_audit_see_its_photos(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    sha = (await upload(client, ctx["inspector"], PNG)).json()["sha256"]
    audit = {
        "id": str(uuid.uuid4()),
        "venue": ctx["venue"],
        "answers": {"counter_payment": False, "counter_photo": [sha]},
    }
    created = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
    assert created.status_code == 201, created.text
    readers = {
        "admin": (ctx["admin"], 200),
        "assigned reviewer": (ctx["reviewer"], 200),
        "the audit's inspector": (ctx["inspector"], 200),
        "another inspector": (ctx["other"], 404),
        "a reviewer of other campaigns": (await headers_for(client, "reviewer"), 404),
        "an interviewer": (await headers_for(client, "interviewer"), 404),
        "anonymous": ({}, 401),
    }
    for who, (headers, status) in readers.items():
        for path in (f"/api/v1/photos/{sha}", f"/api/v1/photos/{sha}/meta"):
            reply = await client.get(path, headers=headers)
            assert reply.status_code == status, (who, path, reply.text[:100])
            if status == 200 and not path.endswith("meta"):
                assert reply.content == PNG


async def test_an_inspector_cannot_attach_another_inspectors_photo(client: AsyncTestClient[Litestar]) -> None:
    from service_helpers import field_account

    ctx = await inspection_setup(client)
    sha = (await upload(client, ctx["inspector"], PNG)).json()["sha256"]
    colleague, _ = await field_account(client, "qr-2026", "inspector")  # assigned too, but did not take it
    audit = {
        "id": str(uuid.uuid4()),
        "venue": ctx["venue"],
        "answers": {"counter_payment": False, "counter_photo": [sha]},
    }
    refused = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=colleague)
    assert refused.status_code == 422, refused.text
    assert [(e["path"], e["code"]) for e in refused.json()["errors"]] == [
        ("$.answers.counter_photo.0", "photo_owner")
    ]
    assert (await client.get(f"/api/v1/photos/{sha}", headers=colleague)).status_code == 404
    own = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
    assert own.status_code == 201
