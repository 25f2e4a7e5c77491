"""Inspections: photo upload (content-addressed, type/size checks), assigned inspectors, review with history."""

from __future__ import annotations

import hashlib
import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import PNG, inspection_setup, upload


async def test_photos_are_content_addressed_and_checked(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    first = await upload(client, ctx["inspector"], PNG)
    assert first.status_code == 201, first.text
    assert first.json() == {
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "media_type": "image/png",
        "size": len(PNG),
    }
    again = await upload(client, ctx["inspector"], PNG)  # resuming an interrupted upload is a no-op
    assert again.status_code == 200
    sha = first.json()["sha256"]
    assert (await client.get(f"/api/v1/photos/{sha}/meta", headers=ctx["reviewer"])).status_code == 200
    stored = await client.get(f"/api/v1/photos/{sha}", headers=ctx["reviewer"])
    assert stored.content == PNG and stored.headers["content-type"].startswith("image/png")
    assert (await upload(client, ctx["inspector"], b"GIF89a....")).status_code == 422
    assert (await upload(client, ctx["inspector"], PNG, "image/jpeg")).status_code == 422
    wrong_hash = await client.post(
        "/api/v1/photos",
        content=PNG,
        headers={**ctx["inspector"], "content-type": "image/png", "x-content-sha256": "0" * 64},
    )
    assert wrong_hash.status_code == 422
    assert (await upload(client, {}, PNG)).status_code == 401
    assert (await upload(client, ctx["reviewer"], PNG)).status_code == 403
    traversal = await client.get("/api/v1/photos/..%2F..%2Fetc%2Fpasswd", headers=ctx["reviewer"])
    assert traversal.status_code in (400, 404)


async def test_audit_flow_with_review_history(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    sha = (await upload(client, ctx["inspector"], PNG)).json()["sha256"]
    audit = {
        "id": str(uuid.uuid4()),
        "venue": ctx["venue"],
        "answers": {"counter_payment": False, "counter_photo": [sha]},
        "location": {"latitude": 37.87, "longitude": 112.55, "accuracy": 12.0},
    }
    url = "/api/v1/campaigns/qr-2026/audits"
    assert (await client.post(url, json=audit, headers=ctx["other"])).status_code == 403  # not assigned
    assert (await client.post(url, json=audit, headers=ctx["reviewer"])).status_code == 403
    created = await client.post(url, json=audit, headers=ctx["inspector"])
    assert created.status_code == 201, created.text
    assert created.json()["review_state"] == "submitted" and created.json()["photos"] == [sha]
    replay = await client.post(url, json=audit, headers=ctx["inspector"])
    assert replay.status_code == 200
    changed = await client.post(
        url, json={**audit, "answers": {"counter_payment": True}}, headers=ctx["inspector"]
    )
    assert changed.status_code == 409

    # inspectors see only their own audits
    assert len((await client.get("/api/v1/audits", headers=ctx["inspector"])).json()) == 1
    assert (await client.get("/api/v1/audits", headers=ctx["other"])).json() == []
    assert (await client.get(f"/api/v1/audits/{audit['id']}", headers=ctx["other"])).status_code == 404

    review = f"/api/v1/audits/{audit['id']}/review"
    assert (
        await client.post(review, json={"action": "approve"}, headers=ctx["inspector"])
    ).status_code == 403
    no_comment = await client.post(review, json={"action": "return"}, headers=ctx["reviewer"])
    assert no_comment.status_code == 409
    returned = await client.post(
        review, json={"action": "return", "comment": "照片不清晰 / blurry photo"}, headers=ctx["reviewer"]
    )
    assert returned.json()["review_state"] == "returned"
    corrected = await client.put(
        f"/api/v1/audits/{audit['id']}", json={"answers": {"counter_payment": True}}, headers=ctx["inspector"]
    )
    assert corrected.status_code == 200 and corrected.json()["review_state"] == "submitted"
    approved = await client.post(review, json={"action": "approve"}, headers=ctx["reviewer"])
    history = [(h["action"], h["to_state"]) for h in approved.json()["history"]]
    assert history == [
        ("submit", "submitted"),
        ("return", "returned"),
        ("resubmit", "submitted"),
        ("approve", "approved"),
    ]
    assert approved.json()["history"][1]["comment"] == "照片不清晰 / blurry photo"
    assert (
        await client.post(review, json={"action": "reject", "comment": "x"}, headers=ctx["reviewer"])
    ).status_code == 409
    venue = (await client.get(f"/api/v1/venues/{ctx['venue']}")).json()
    assert [v["audit"] for v in venue["visit_history"]] == [audit["id"]]


async def test_audit_needs_uploaded_photos_and_scope(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    audit = {
        "id": str(uuid.uuid4()),
        "venue": ctx["venue"],
        "answers": {"counter_payment": False, "counter_photo": ["a" * 64]},
    }
    missing = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
    assert missing.status_code == 422
    assert [e["path"] for e in missing.json()["errors"]] == ["$.answers.counter_photo.0"]
    elsewhere = await client.post(
        "/api/v1/campaigns/qr-2026/audits",
        json={**audit, "venue": 999_999, "answers": {}},
        headers=ctx["inspector"],
    )
    assert {e["path"] for e in elsewhere.json()["errors"]} == {"$.venue", "$.answers.counter_payment"}
