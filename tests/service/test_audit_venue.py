"""An audit's venue answer must name the audit's venue: a contradiction is refused with both paths (submission and
correction), never silently resolved."""

from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import inspection_setup

from survey_platform.audits.consistency import venue_contradictions
from survey_platform.questionnaire.load import load_text

URL = "/api/v1/campaigns/qr-2026/audits"
BOTH = {"$.answers.q_venue", "$.venue"}


def test_the_rule_is_pure_and_names_both_paths() -> None:
    questionnaire = load_text(
        "id: v\nversion: 1\nkind: inspection\ntitle: V\nsections:\n  - id: s\n    questions:\n"
        "      - {id: q_venue, type: venue, label: V}\n",
        "v.yaml",
    ).questionnaire
    assert venue_contradictions(questionnaire, {"q_venue": "42"}, 42) == []
    assert venue_contradictions(questionnaire, {}, 42) == []  # not answered: nothing to contradict
    problems = venue_contradictions(questionnaire, {"q_venue": "venue-7"}, 42)
    assert [(p.path, p.code) for p in problems] == [
        ("$.answers.q_venue", "contradiction"),
        ("$.venue", "contradiction"),
    ]
    assert "$.venue" in problems[0].message and '"42"' in problems[0].message
    assert "$.answers.q_venue" in problems[1].message and "venue-7" in problems[1].message


async def test_a_contradicting_venue_answer_is_refused(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    other = (
        await client.post(
            "/api/v1/venues",
            json={"name": "另一停车场", "category": "car_park", "city": "taiyuan"},
            headers=ctx["admin"],
        )
    ).json()["id"]
    audit = {
        "id": str(uuid.uuid4()),
        "venue": ctx["venue"],
        "answers": {"counter_payment": True, "q_venue": str(other)},
    }
    refused = await client.post(URL, json=audit, headers=ctx["inspector"])
    assert refused.status_code == 422, refused.text
    assert {e["path"] for e in refused.json()["errors"]} == BOTH
    assert all(e["code"] == "contradiction" for e in refused.json()["errors"])
    assert (await client.get(f"/api/v1/audits/{audit['id']}", headers=ctx["reviewer"])).status_code == 404

    agreeing = {**audit, "answers": {"counter_payment": True, "q_venue": str(ctx["venue"])}}
    stored = await client.post(URL, json=agreeing, headers=ctx["inspector"])
    assert stored.status_code == 201, stored.text
    assert stored.json()["answers"]["q_venue"] == str(ctx["venue"])

    review = f"/api/v1/audits/{audit['id']}/review"
    returned = await client.post(
        review, json={"action": "return", "comment": "再核实 / check"}, headers=ctx["reviewer"]
    )
    assert returned.status_code == 200
    correction = {"answers": {"counter_payment": True, "q_venue": str(other)}}
    wrong = await client.put(f"/api/v1/audits/{audit['id']}", json=correction, headers=ctx["inspector"])
    assert wrong.status_code == 422, wrong.text
    assert {e["path"] for e in wrong.json()["errors"]} == BOTH
    still = await client.get(f"/api/v1/audits/{audit['id']}", headers=ctx["reviewer"])
    assert still.json()["review_state"] == "returned" and still.json()["answers"]["q_venue"] == str(
        ctx["venue"]
    )
