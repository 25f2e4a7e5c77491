"""Inspections: photo upload (content-addressed, type/size checks), assigned inspectors, review with history."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import uuid
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import PNG, in_app, inspection_setup, open_campaign, submission, upload

from survey_platform.app import create_app
from survey_platform.settings import Settings
from survey_platform.storage.tables import Audit, Photo, SurveyResponse


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
    assert (await client.get(f"/api/v1/photos/{sha}/meta", headers=ctx["inspector"])).status_code == 200
    # no audit holds it yet: only its uploader (and admins) may read it
    assert (await client.get(f"/api/v1/photos/{sha}/meta", headers=ctx["reviewer"])).status_code == 404
    stored = await client.get(f"/api/v1/photos/{sha}", headers=ctx["inspector"])
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
    assert no_comment.status_code == 422  # invalid input that names the field, not a conflict of states
    assert [(e["path"], e["code"]) for e in no_comment.json()["errors"]] == [("$.comment", "required")]
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
    venue = (await client.get(f"/api/v1/venues/{ctx['venue']}", headers=ctx["reviewer"])).json()
    assert [v["audit"] for v in venue["visit_history"]] == [audit["id"]]
    public = (await client.get(f"/api/v1/venues/{ctx['venue']}")).json()  # anonymous: no audit ids
    assert [(v["outcome"], v["audit"]) for v in public["visit_history"]] == [("approved", "")]
    listed = (await client.get("/api/v1/venues")).json()
    assert audit["id"] not in json.dumps(listed)


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


# --- multipart submission: the audit and its photos in one request ---------------------------------------

MULTIPART_URL = "/api/v1/campaigns/qr-2026/audits/multipart"
Part = tuple[str, tuple[str | None, bytes, str]]


def unique_png() -> bytes:
    """PNG-signed bytes of their own, so each photo has its own SHA-256."""
    return PNG + secrets.token_bytes(16)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def photo_audit(venue: int, *hashes: str, **changes: Any) -> dict[str, Any]:
    """An audit whose failed check is evidenced by the photos ``hashes``."""
    answers: dict[str, Any] = {"counter_payment": False, "counter_photo": list(hashes)}
    return {"id": str(uuid.uuid4()), "venue": venue, "answers": answers, **changes}


def audit_part(audit: dict[str, Any] | bytes) -> Part:
    """The ``audit`` text part (no file name, so it is a form field)."""
    body = audit if isinstance(audit, bytes) else json.dumps(audit).encode()
    return ("audit", (None, body, "application/json"))


def photo_part(data: bytes, filename: str = "photo.png", content_type: str = "image/png") -> Part:
    return ("photos", (filename, data, content_type))


async def post_parts(client: AsyncTestClient[Litestar], headers: dict[str, str], parts: list[Part]) -> Any:
    return await client.post(MULTIPART_URL, headers=headers, files=parts)


async def audit_count(client: AsyncTestClient[Litestar]) -> int:
    return await in_app(client, Audit.count().run)


async def photo_count(client: AsyncTestClient[Litestar]) -> int:
    return await in_app(client, Photo.count().run)


def photo_files(settings: Settings) -> list[Path]:
    root = settings.photos_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def problem_fields(reply: Any) -> set[tuple[str, str]]:
    assert reply.headers["content-type"].startswith("application/problem+json"), reply.text
    return {(e["path"], e["code"]) for e in reply.json().get("errors", [])}


async def test_multipart_audit_stores_photos_and_is_idempotent(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    ctx = await inspection_setup(client)
    sent, earlier, later = unique_png(), unique_png(), unique_png()
    # one photo was uploaded the two-step way before; the other comes with the audit
    assert (await upload(client, ctx["inspector"], earlier)).status_code == 201
    audit = photo_audit(
        ctx["venue"], sha(sent), sha(earlier), location={"latitude": 37.8, "longitude": 112.5}
    )
    parts = [audit_part(audit), photo_part(sent, "IMG_0001.png")]

    created = await post_parts(client, ctx["inspector"], parts)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == audit["id"] and body["review_state"] == "submitted"
    assert body["photos"] == sorted([sha(sent), sha(earlier)])
    assert body["answers"]["counter_photo"] == [sha(sent), sha(earlier)]
    meta = await client.get(f"/api/v1/photos/{sha(sent)}/meta", headers=ctx["reviewer"])
    assert meta.json() == {"sha256": sha(sent), "media_type": "image/png", "size": len(sent)}
    assert (await client.get(f"/api/v1/photos/{sha(sent)}", headers=ctx["reviewer"])).content == sent
    stored = settings.photos_dir / sha(sent)[:2] / sha(sent)[2:4] / sha(sent)
    assert stored.read_bytes() == sent  # stored under its hash; the client's file name is not used

    # an identical re-send (the reply was lost) is a 200, through either route
    replay = await post_parts(client, ctx["inspector"], parts)
    assert replay.status_code == 200 and replay.json()["id"] == audit["id"]
    as_json = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
    assert as_json.status_code == 200

    # the same UUID with other content is a 409, and its photo is not stored
    changed = {**audit, "answers": {"counter_payment": False, "counter_photo": [sha(later)]}}
    conflict = await post_parts(client, ctx["inspector"], [audit_part(changed), photo_part(later)])
    assert conflict.status_code == 409, conflict.text
    assert conflict.headers["content-type"].startswith("application/problem+json")

    # only the assigned inspector may submit
    fresh = [audit_part(photo_audit(ctx["venue"], sha(later))), photo_part(later)]
    assert (await post_parts(client, {}, fresh)).status_code == 401
    assert (await post_parts(client, ctx["reviewer"], fresh)).status_code == 403
    refused = await post_parts(client, ctx["other"], fresh)
    assert refused.status_code == 403 and "assigned" in refused.json()["detail"]
    assert (await client.get(f"/api/v1/photos/{sha(later)}/meta", headers=ctx["reviewer"])).status_code == 404
    assert await audit_count(client) == 1 and await photo_count(client) == 2


async def test_multipart_bad_input_is_refused_and_stores_nothing(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    ctx = await inspection_setup(client)
    png = unique_png()
    good = photo_audit(ctx["venue"], sha(png))
    cases: list[tuple[str, list[Part], int, set[tuple[str, str]]]] = [
        ("no audit part", [photo_part(png)], 422, {("form:audit", "required")}),
        (
            "two audit parts",
            [audit_part(good), audit_part(good), photo_part(png)],
            422,
            {("form:audit", "duplicate")},
        ),
        ("malformed JSON", [audit_part(b'{"id": '), photo_part(png)], 400, {("form:audit", "malformed")}),
        ("unknown audit field", [audit_part({**good, "extra": 1}), photo_part(png)], 422, {("$", "invalid")}),
        ("wrong UUID", [audit_part({**good, "id": "x"}), photo_part(png)], 422, {("$.id", "invalid")}),
        (
            "GIF photo",
            [audit_part(good), photo_part(b"GIF89a....", "a.gif", "image/gif")],
            422,
            {("form:photos[0]", "type")},
        ),
        (
            "declared type differs",
            [audit_part(good), photo_part(png, "a.jpg", "image/jpeg")],
            422,
            {("form:photos[0].content-type", "type")},
        ),
        ("empty photo", [audit_part(good), photo_part(b"")], 422, {("form:photos[0]", "empty")}),
        (
            "path traversal in file names",
            [audit_part(good), photo_part(png, "../../etc/passwd.png"), photo_part(png, "..\\..\\boot.png")],
            422,
            {("form:photos[0].filename", "filename"), ("form:photos[1].filename", "filename")},
        ),
        (
            "unknown part",
            [audit_part(good), photo_part(png), ("note", (None, b"hi", "text/plain"))],
            422,
            {("form:note", "unknown")},
        ),
        (
            "audit sent as a file",
            [("audit", ("audit.json", json.dumps(good).encode(), "application/json")), photo_part(png)],
            422,
            {("form:audit", "type")},
        ),
        (
            "photo sent as text",
            [audit_part(good), ("photos", (None, b"abc", "text/plain"))],
            422,
            {("form:photos[0]", "type")},
        ),
        (
            "photo not referenced by any answer",
            [audit_part({**good, "answers": {"counter_payment": True}}), photo_part(png)],
            422,
            {("form:photos[0]", "unreferenced")},
        ),
        (
            "unknown venue",
            [audit_part({**good, "venue": 999_999}), photo_part(png)],
            422,
            {("$.venue", "unknown")},
        ),
        (
            "photo neither sent nor uploaded",
            [audit_part(photo_audit(ctx["venue"], "c" * 64))],
            422,
            {("$.answers.counter_photo.0", "missing_photo")},
        ),
        ("audit not UTF-8", [audit_part(b'{"id": "\xff\xfe"}'), photo_part(png)], 400, {("$", "encoding")}),
    ]
    for name, parts, status, expected in cases:
        reply = await post_parts(client, ctx["inspector"], parts)
        assert reply.status_code == status, (name, reply.status_code, reply.text[:300])
        assert expected <= problem_fields(reply), (name, reply.text[:500])
    many_parts: list[Part] = [("note", (None, b"x", "text/plain"))] * 1_001  # beyond Litestar's part limit
    reply = await post_parts(client, ctx["inspector"], [audit_part(good), photo_part(png), *many_parts])
    assert reply.status_code == 413 and ("$", "max_items") in problem_fields(reply)

    raw_cases = [
        ("JSON instead of multipart", {"json": good}, 415),
        ("no boundary", {"content": b"--x--", "headers": {"content-type": "multipart/form-data"}}, 400),
        (
            "truncated multipart",
            {
                "content": b'--b\r\nContent-Disposition: form-data; name="audit"\r\n\r\n{"id"',
                "headers": {"content-type": "multipart/form-data; boundary=b"},
            },
            400,
        ),
    ]
    for name, kwargs, status in raw_cases:
        headers = {**ctx["inspector"], **kwargs.pop("headers", {})}
        reply = await client.post(MULTIPART_URL, headers=headers, **kwargs)
        assert reply.status_code == status, (name, reply.status_code, reply.text[:300])
        assert problem_fields(reply), name

    assert await audit_count(client) == 0
    assert await photo_count(client) == 0 and photo_files(settings) == []
    assert (await client.get("/api/v1/audits", headers=ctx["reviewer"])).json() == []


async def test_multipart_limits_come_from_settings(settings: Settings) -> None:
    small = dataclasses.replace(settings, max_photo_bytes=2_000, max_audit_photos=2, max_body_bytes=20_000)
    assert small.max_audit_upload_bytes == 2 * 2_000 + 20_000
    async with AsyncTestClient(app=create_app(small)) as client:
        ctx = await inspection_setup(client)
        photos = [unique_png() for _ in range(3)]
        big = PNG + b"\0" * 2_500
        too_many = [audit_part(photo_audit(ctx["venue"], *map(sha, photos)))] + [
            photo_part(p) for p in photos
        ]
        reply = await post_parts(client, ctx["inspector"], too_many)
        assert reply.status_code == 422 and ("form:photos", "max_items") in problem_fields(reply)
        reply = await post_parts(
            client, ctx["inspector"], [audit_part(photo_audit(ctx["venue"], sha(big))), photo_part(big)]
        )
        assert reply.status_code == 422 and ("form:photos[0]", "size") in problem_fields(reply)
        huge = PNG + b"\0" * 30_000  # beyond the route's body limit
        reply = await post_parts(
            client, ctx["inspector"], [audit_part(photo_audit(ctx["venue"], sha(huge))), photo_part(huge)]
        )
        assert reply.status_code == 413 and problem_fields(reply)
        padded = photo_audit(ctx["venue"], sha(photos[0]))
        padded["answers"]["note"] = "x" * 21_000
        reply = await post_parts(client, ctx["inspector"], [audit_part(padded), photo_part(photos[0])])
        assert reply.status_code == 413 and ("form:audit", "size") in problem_fields(reply)
        assert await audit_count(client) == 0 and await photo_count(client) == 0 and photo_files(small) == []

        within = [audit_part(photo_audit(ctx["venue"], *map(sha, photos[:2])))] + [
            photo_part(p) for p in photos[:2]
        ]
        reply = await post_parts(client, ctx["inspector"], within)
        assert reply.status_code == 201, reply.text
        assert await audit_count(client) == 1 and len(photo_files(small)) == 2


# --- audits in the offline-sync batch ---------------------------------------------------------------------


def batch_audit(audit: dict[str, Any], campaign: str = "qr-2026") -> dict[str, Any]:
    return {**audit, "campaign": campaign}


async def response_count(client: AsyncTestClient[Litestar]) -> int:
    return await in_app(client, SurveyResponse.count().run)


async def test_batch_with_responses_and_audits_partial_success(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    ctx = await inspection_setup(client)
    photo = unique_png()
    assert (await upload(client, ctx["inspector"], photo)).status_code == 201
    sent_alone = photo_audit(ctx["venue"], sha(photo))
    single = await client.post("/api/v1/campaigns/qr-2026/audits", json=sent_alone, headers=ctx["inspector"])
    assert single.status_code == 201
    audits = [
        batch_audit(photo_audit(ctx["venue"], sha(photo))),  # new
        batch_audit(sent_alone),  # first sent alone, now again in a batch
        batch_audit({**sent_alone, "answers": {"counter_payment": True}}),  # same UUID, other content
        batch_audit(photo_audit(ctx["venue"], "d" * 64)),  # photo never uploaded
        batch_audit(photo_audit(ctx["venue"], sha(photo)), "no-such-campaign"),
        batch_audit(photo_audit(ctx["venue"], sha(photo)), "mini-2026"),  # a survey, not an inspection
    ]
    responses = [
        {**submission(), "campaign": "mini-2026"},  # an inspector does not make survey interviews
        {**submission(answers={"resident": True}), "campaign": "mini-2026"},
    ]
    payload = {"responses": responses, "audits": audits}

    reply = await client.post("/api/v1/batch", json=payload, headers=ctx["inspector"])
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert [r["status"] for r in body["results"]] == [403, 403]
    assert (body["created"], body["replayed"], body["failed"]) == (0, 0, 2)
    assert [r["status"] for r in body["audits"]] == [201, 200, 409, 422, 404, 409]
    assert (body["audits_created"], body["audits_replayed"], body["audits_failed"]) == (1, 1, 4)
    assert [r["index"] for r in body["audits"]] == list(range(6))
    assert [r["id"] for r in body["audits"]] == [a["id"] for a in audits]
    assert [e["path"] for e in body["audits"][3]["errors"]] == ["$.answers.counter_photo.0"]
    assert all(r["detail"] for r in body["audits"][2:])
    listed = (await client.get("/api/v1/audits", headers=ctx["inspector"])).json()
    assert sorted(a["id"] for a in listed) == sorted([sent_alone["id"], audits[0]["id"]])
    assert await response_count(client) == 0

    # the same batch again (the reply was lost): every stored item is a 200, the refused ones fail again
    again = (await client.post("/api/v1/batch", json=payload, headers=ctx["inspector"])).json()
    assert [r["status"] for r in again["results"]] == [403, 403]
    assert [r["status"] for r in again["audits"]] == [200, 200, 409, 422, 404, 409]
    assert (again["audits_created"], again["audits_replayed"], again["audits_failed"]) == (0, 2, 4)
    assert await audit_count(client) == 2 and await response_count(client) == 0


async def test_batch_audits_need_an_assigned_inspector(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    ctx = await inspection_setup(client)
    photo = unique_png()
    assert (await upload(client, ctx["inspector"], photo)).status_code == 201
    for headers in ({}, {"Authorization": "Bearer not-a-session"}):  # anonymous: the whole batch is refused
        payload = {"audits": [batch_audit(photo_audit(ctx["venue"], sha(photo)))]}
        assert (await client.post("/api/v1/batch", json=payload, headers=headers)).status_code == 401
    principals = [
        (ctx["reviewer"], 403),
        (ctx["other"], 403),  # an inspector, but not assigned to qr-2026
        (ctx["admin"], 201),  # admins may submit to any campaign
    ]
    for headers, status in principals:
        payload = {"audits": [batch_audit(photo_audit(ctx["venue"], sha(photo))) for _ in range(2)]}
        reply = await client.post("/api/v1/batch", json=payload, headers=headers)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert [r["status"] for r in body["audits"]] == [status, status], (headers, body["audits"])
        assert all(r["detail"] for r in body["audits"] if r["status"] != 201)
    assert await audit_count(client) == 2


async def test_batch_item_limit_counts_responses_and_audits(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(dataclasses.replace(settings, max_batch_items=2))) as client:
        await open_campaign(client)
        ctx = await inspection_setup(client)
        photo = unique_png()
        assert (await upload(client, ctx["inspector"], photo)).status_code == 201
        audits = [batch_audit(photo_audit(ctx["venue"], sha(photo))) for _ in range(2)]
        payload = {"responses": [{**submission(), "campaign": "mini-2026"}], "audits": audits}
        admin = ctx["admin"]  # admins submit to surveys and inspections alike
        reply = await client.post("/api/v1/batch", json=payload, headers=admin)
        assert reply.status_code == 422 and ("$", "max_items") in problem_fields(reply)
        assert await audit_count(client) == 0 and await response_count(client) == 0
        payload["audits"] = audits[:1]
        reply = await client.post("/api/v1/batch", json=payload, headers=admin)
        assert reply.status_code == 200
        assert (reply.json()["created"], reply.json()["audits_created"]) == (1, 1)
