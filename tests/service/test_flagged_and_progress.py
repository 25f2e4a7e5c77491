"""The reviewers' queue of flagged interviews and their decisions (GET /campaigns/{code}/flagged, POST
/responses/{id}/review), and the field progress (GET /campaigns/{code}/progress), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import T0, field_account, headers_for, in_app, open_campaign, submission


def _interview(minutes: float, **changes: Any) -> dict[str, Any]:
    return {
        **submission(submitted_at=(T0 + datetime.timedelta(minutes=minutes)).isoformat(), **changes),
        "campaign": "mini-2026",
    }


async def _campaign_with_a_fabricator(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    """mini-2026 in wuxi: an honest interviewer (20 interviews of 9 min, one of them 1 min), a fabricating one (10
    interviews, 6 of them 1 min), 5 citizens by QR code, 2 screened out; an assigned reviewer."""
    await open_campaign(client)
    honest, honest_id = await field_account(client, "mini-2026")
    fabricator, fabricator_id = await field_account(client, "mini-2026")
    reviewer, reviewer_id = await field_account(client, "mini-2026", "reviewer")
    honest_items = [_interview(9) for _ in range(19)] + [_interview(1)]
    fabricated = [_interview(1) for _ in range(6)] + [_interview(8) for _ in range(4)]
    for items, headers in ((honest_items, honest), (fabricated, fabricator)):
        reply = await client.post("/api/v1/batch", json={"responses": items}, headers=headers)
        assert reply.json()["created"] == len(items), reply.text
    for _ in range(5):
        citizen = submission(channel="qr")
        assert (await client.post("/api/v1/campaigns/mini-2026/responses", json=citizen)).status_code == 201
    screened = {**submission(), "answers": {"resident": False}}
    for _ in range(2):
        screened = {**submission(), "answers": {"resident": False}}
        assert (await client.post("/api/v1/campaigns/mini-2026/responses", json=screened)).status_code == 201
    return {
        "reviewer": reviewer,
        "reviewer_id": reviewer_id,
        "honest_id": honest_id,
        "fabricator_id": fabricator_id,
        "speeders": {item["id"] for item in honest_items[-1:] + fabricated[:6]},
        "fabricated": {item["id"] for item in fabricated},
    }


async def test_the_queue_lists_the_flagged_interviews_and_the_fabricator_stands_out(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await _campaign_with_a_fabricator(client)
    reply = await client.get("/api/v1/campaigns/mini-2026/flagged", headers=ctx["reviewer"])
    assert reply.status_code == 200, reply.text
    queue = reply.json()
    # 35 eligible interviews (2 screened out are not judged); median 9 min, cut 0.3 × 9 = 2.7 min
    assert (queue["interviews"], queue["median_duration"]) == (35, 540.0)
    assert {item["id"] for item in queue["items"]} == ctx["speeders"]
    assert queue["flagged"] == queue["pending"] == queue["total"] == 7 and queue["counts"]["speeding"] == 7
    assert all(item["flags"] == ["speeding"] and item["decision"] is None for item in queue["items"])
    rows = {row["account_id"]: row for row in queue["interviewers"]}
    fabricator, honest = rows[ctx["fabricator_id"]], rows[ctx["honest_id"]]
    assert (fabricator["interviews"], fabricator["flagged"], fabricator["flag_rate"]) == (10, 6, 0.6)
    assert fabricator["others_rate"] == 1 / 20 and fabricator["stands_out"] and fabricator["p_holm"] < 1e-4
    assert (honest["flagged"], honest["stands_out"]) == (1, False)
    assert queue["interviewers"][0]["account_id"] == ctx["fabricator_id"]  # who stands out comes first
    citizens = queue["interviewers"][-1]
    assert citizens["account_id"] is None and citizens["interviews"] == 5 and citizens["p_value"] is None
    only = await client.get(
        "/api/v1/campaigns/mini-2026/flagged",
        params={"interviewer": ctx["fabricator_id"], "limit": 2},
        headers=ctx["reviewer"],
    )
    assert only.json()["total"] == 6 and len(only.json()["items"]) == 2
    assert {i["id"] for i in only.json()["items"]} <= ctx["fabricated"]


async def test_decisions_need_a_reason_to_exclude_and_move_the_interview_out_of_the_pending_queue(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await _campaign_with_a_fabricator(client)
    target = sorted(ctx["speeders"] & ctx["fabricated"])[0]
    url = f"/api/v1/responses/{target}/review"
    no_reason = await client.post(url, json={"decision": "exclude"}, headers=ctx["reviewer"])
    assert no_reason.status_code == 422
    assert [(e["path"], e["code"]) for e in no_reason.json()["errors"]] == [("$.reason", "required")]
    bogus = await client.post(url, json={"decision": "maybe"}, headers=ctx["reviewer"])
    assert bogus.status_code == 422 and bogus.json()["errors"][0]["path"] == "$.decision"
    done = await client.post(
        url, json={"decision": "exclude", "reason": "1 分钟完成 / one minute"}, headers=ctx["reviewer"]
    )
    assert done.status_code == 200 and done.json()["decision"] == "exclude", done.text
    pending = (
        await client.get(
            "/api/v1/campaigns/mini-2026/flagged", params={"state": "pending"}, headers=ctx["reviewer"]
        )
    ).json()
    assert (
        target not in {i["id"] for i in pending["items"]}
        and pending["pending"] == 6
        and pending["excluded"] == 1
    )
    decided = (
        await client.get(
            "/api/v1/campaigns/mini-2026/flagged", params={"state": "decided"}, headers=ctx["reviewer"]
        )
    ).json()
    assert [(i["id"], i["decision"]["decision"], i["decision"]["reason"]) for i in decided["items"]] == [
        (target, "exclude", "1 分钟完成 / one minute")
    ]
    fabricator = next(r for r in decided["interviewers"] if r["account_id"] == ctx["fabricator_id"])
    assert fabricator["excluded"] == 1
    # an interview the rules do not flag cannot be excluded: a reviewer cannot hand-pick a city's sample
    genuine = sorted(ctx["fabricated"] - ctx["speeders"])[0]
    picked = await client.post(
        f"/api/v1/responses/{genuine}/review",
        json={"decision": "exclude", "reason": "不喜欢这个答案 / do not like it"},
        headers=ctx["reviewer"],
    )
    assert picked.status_code == 409 and "not flagged" in picked.json()["detail"], picked.text
    # a later decision replaces the earlier one
    kept = await client.post(url, json={"decision": "keep"}, headers=ctx["reviewer"])
    assert kept.status_code == 200
    again = (await client.get("/api/v1/campaigns/mini-2026/flagged", headers=ctx["reviewer"])).json()
    assert again["excluded"] == 0 and again["pending"] == 6


async def test_only_the_campaigns_reviewers_and_admins_see_the_queue_and_decide(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await _campaign_with_a_fabricator(client)
    target = sorted(ctx["speeders"])[0]
    stranger = await headers_for(client, "reviewer")  # a reviewer of other campaigns
    interviewer = await headers_for(client, "interviewer")
    admin = await headers_for(client, "admin")
    assert (await client.get("/api/v1/campaigns/mini-2026/flagged")).status_code == 401
    assert (await client.get("/api/v1/campaigns/mini-2026/flagged", headers=interviewer)).status_code == 403
    assert (await client.get("/api/v1/campaigns/mini-2026/flagged", headers=stranger)).status_code == 404
    assert (await client.get("/api/v1/campaigns/mini-2026/flagged", headers=admin)).status_code == 200
    assert (await client.get("/api/v1/campaigns/nope/flagged", headers=admin)).status_code == 404
    decision = {"decision": "keep"}
    assert (
        await client.post(f"/api/v1/responses/{target}/review", json=decision, headers=stranger)
    ).status_code == 404
    assert (
        await client.post(f"/api/v1/responses/{target}/review", json=decision, headers=interviewer)
    ).status_code == 403
    assert (
        await client.post(f"/api/v1/responses/{target}/review", json=decision, headers=admin)
    ).status_code == 200
    # after close a reviewer still decides; once published, nothing changes
    assert (await client.post("/api/v1/campaigns/mini-2026/close", headers=admin)).status_code == 200
    reply = await client.post(f"/api/v1/responses/{target}/review", json=decision, headers=ctx["reviewer"])
    assert reply.status_code == 200
    from survey_platform.storage.tables import Campaign

    await in_app(
        client, Campaign.update({Campaign.status: "published"}).where(Campaign.code == "mini-2026").run
    )
    frozen = await client.post(f"/api/v1/responses/{target}/review", json=decision, headers=ctx["reviewer"])
    assert frozen.status_code == 409 and "published" in frozen.json()["detail"]


async def _settled_progress(client: AsyncTestClient[Litestar], admin: dict[str, str]) -> dict[str, Any]:
    """The progress once the quality flags have been computed in the background (they never hold the reply up)."""
    for _ in range(400):
        body = (await client.get("/api/v1/campaigns/mini-2026/progress", headers=admin)).json()
        if body["quality"]["flagged"] is not None and body["quality"]["judged"] == 35:
            return body
        await asyncio.sleep(0.025)
    raise AssertionError(f"the flags were never computed: {body['quality']}")


async def test_progress_counts_cities_channels_interviewers_and_quality(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await _campaign_with_a_fabricator(client)
    admin = await headers_for(client, "admin")
    first = await client.get("/api/v1/campaigns/mini-2026/progress", headers=admin)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["collected"], body["screened_out"], body["valid"]) == (37, 2, 35)
    assert body["channels"] == {"intercept": 30, "qr": 5, "online": 2}
    (wuxi,) = body["cities"]
    assert (wuxi["city"], wuxi["name_zh"], wuxi["target"], wuxi["valid"]) == ("wuxi", "无锡", 538, 35)
    assert wuxi["share"] == 35 / 538 and body["cities_done"] == 0
    assert [(p["account_id"], p["count"]) for p in body["interviewers"]] == [
        (ctx["honest_id"], 20),
        (ctx["fabricator_id"], 10),
    ]
    assert body["last_submission"] is not None and body["audits"] == {} and body["inspectors"] == []
    settled = await _settled_progress(client, admin)
    assert settled["quality"]["flagged"] == 7 and settled["quality"]["excluded_by_review"] == 0
    target = sorted(ctx["speeders"])[0]
    reason = {"decision": "exclude", "reason": "编造 / made up"}
    assert (
        await client.post(f"/api/v1/responses/{target}/review", json=reason, headers=ctx["reviewer"])
    ).status_code == 200
    after = (await client.get("/api/v1/campaigns/mini-2026/progress", headers=admin)).json()
    assert after["valid"] == 34 and after["cities"][0]["excluded_by_review"] == 1
    assert after["quality"]["excluded_by_review"] == 1
    assert (
        await client.get("/api/v1/campaigns/mini-2026/progress", headers=ctx["reviewer"])
    ).status_code == 403
    assert (await client.get("/api/v1/campaigns/nope/progress", headers=admin)).status_code == 404


async def test_progress_of_an_inspection_counts_audits_per_state_and_inspector(
    client: AsyncTestClient[Litestar],
) -> None:
    import uuid

    from service_helpers import inspection_setup

    ctx = await inspection_setup(client)
    ids = []
    for _ in range(3):
        audit = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": {"counter_payment": True}}
        reply = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
        assert reply.status_code == 201
        ids.append(audit["id"])
    review = {"action": "approve"}
    assert (
        await client.post(f"/api/v1/audits/{ids[0]}/review", json=review, headers=ctx["reviewer"])
    ).status_code == 200
    body = (await client.get("/api/v1/campaigns/qr-2026/progress", headers=ctx["admin"])).json()
    assert body["audits"] == {"submitted": 2, "returned": 0, "approved": 1, "rejected": 0}
    (inspector,) = body["inspectors"]
    assert inspector["account_id"] == ctx["inspector_id"] and inspector["count"] == 3
    assert inspector["by_state"] == {"submitted": 2, "returned": 0, "approved": 1, "rejected": 0}
    assert body["quality"] is None and body["collected"] == 0 and body["last_submission"] is not None
