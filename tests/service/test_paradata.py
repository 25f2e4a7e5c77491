"""Paradata (seconds per section) stored with a response, and the interviewer's sections of a self-completed one."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import field_account, headers_for, in_app, open_campaign, submission

from survey_platform.questionnaire import load_questionnaire
from survey_platform.responses.rules import MAX_SECTION_SECONDS
from survey_platform.responses.schemas import Submission
from survey_platform.responses.service import submission_hash
from survey_platform.storage.tables import SurveyResponse

CITY_SURVEY = Path(__file__).resolve().parents[2] / "questionnaires" / "city_satisfaction.yaml"
URL = "/api/v1/campaigns/mini-2026/responses"


async def _stored(client: AsyncTestClient[Litestar], response_id: str) -> dict[str, Any]:
    query = (
        SurveyResponse.select(
            SurveyResponse.paradata,
            SurveyResponse.duration_seconds,
            SurveyResponse.channel,
            SurveyResponse.answers,
            SurveyResponse.status,
        )
        .where(SurveyResponse.uuid == uuid.UUID(response_id))
        .output(load_json=True)
        .first()
    )
    row = await in_app(client, query.run)
    assert row is not None
    return row


async def test_paradata_is_stored_with_the_response_and_resends_stay_idempotent(
    client: AsyncTestClient[Litestar],
) -> None:
    await open_campaign(client)
    paradata = {"sections": {"screening": 12.5, "main": 301.25}}
    body = submission(paradata=paradata, channel="qr")
    first = await client.post(URL, json=body)
    assert first.status_code == 201, first.text
    again = await client.post(URL, json=body)
    assert again.status_code == 200 and again.json() == first.json()
    other = await client.post(URL, json={**body, "paradata": {"sections": {"screening": 13}}})
    assert other.status_code == 409  # the same UUID with other paradata is other content
    row = await _stored(client, body["id"])
    assert row["paradata"] == paradata and row["channel"] == "qr"
    assert row["duration_seconds"] == 540.0  # speeding is judged on start/end, not on the section times

    plain = submission()
    assert (await client.post(URL, json=plain)).status_code == 201
    assert (await _stored(client, plain["id"]))["paradata"] is None


async def test_bad_paradata_is_refused_naming_the_field(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    cases = [
        ({"sections": {"nowhere": 3}}, "$.paradata.sections.nowhere", "unknown"),
        ({"sections": {"main": -1}}, "$.paradata.sections.main", "range"),
        ({"sections": {"main": MAX_SECTION_SECONDS + 1}}, "$.paradata.sections.main", "range"),
        ({"sections": {"main": "long"}}, "$.paradata.sections", None),
        ({"sections": {"Main!": 3}}, "$.paradata.sections.Main!", "unknown"),
        ({"sections": {}, "clicks": 4}, "$.paradata", None),
    ]
    for paradata, path, code in cases:
        reply = await client.post(URL, json=submission(paradata=paradata))
        assert reply.status_code == 422, (paradata, reply.text)
        problem = reply.json()
        assert problem["errors"], problem
        where = [error["path"] for error in problem["errors"]]
        assert any(p == path or p.startswith(path) for p in where), (paradata, where)
        if code is not None:
            assert [e["code"] for e in problem["errors"] if e["path"] == path] == [code]


def test_a_submission_without_paradata_hashes_as_before_paradata_existed() -> None:
    """Responses queued on a phone before this field existed must still be recognised as re-sends."""
    body = submission()
    decoded = msgspec.json.decode(json.dumps(body).encode(), type=Submission)
    old_canonical = json.dumps(
        {
            "answers": body["answers"],
            "channel": body["channel"],
            "city": body["city"],
            "id": body["id"],
            "questionnaire_version": None,
            "started_at": body["started_at"].replace("+00:00", "Z"),
            "submitted_at": body["submitted_at"].replace("+00:00", "Z"),
            "venue": None,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    expected = hashlib.sha256(b"mini-2026\0" + old_canonical.encode()).hexdigest()
    assert submission_hash("mini-2026", decoded) == expected


async def _city_campaign(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    admin = await headers_for(client, "admin")
    registration = await in_app(client, client.app.state.questionnaires.register_file, CITY_SURVEY)
    assert registration.version_id is not None, registration.problems
    await client.post("/api/v1/cities", json={"code": "wuxi", "name_zh": "无锡"}, headers=admin)
    campaign = {
        "code": "city-2026",
        "name": "城市测评",
        "questionnaire_version": registration.version_id,
        "cities": ["wuxi"],
    }
    assert (await client.post("/api/v1/campaigns", json=campaign, headers=admin)).status_code == 201
    assert (await client.post("/api/v1/campaigns/city-2026/open", headers=admin)).status_code == 200
    return admin


def city_answers() -> dict[str, Any]:
    """A complete, eligible answer set of the city survey, without the interviewer's record."""
    survey = load_questionnaire(CITY_SURVEY).questionnaire
    assert survey is not None

    def row(matrix: str, point: int) -> dict[str, int]:
        return {item.id: point for item in survey.question(matrix).items}

    return {
        "q_resident_6m": True,
        "q_offline_purchase": True,
        "q_purchase_count": 12,
        "supply_matrix": row("supply_matrix", 8),
        "environment_matrix": row("environment_matrix", 7),
        "q_privacy_worry": 4,
        "rights_matrix": row("rights_matrix", 6),
        "q_had_dispute": False,
        "q_overall": 8,
        "q_compared_last_year": "better",
        "q_sex": "female",
        "q_age_band": "35_44",
        "q_district_zone": "core",
        "q_hukou": "local",
        "q_education_level": "college",
        "q_income": "refused",
    }


async def test_a_citizen_is_not_asked_the_interview_record_but_an_interviewer_is(
    client: AsyncTestClient[Litestar],
) -> None:
    await _city_campaign(client)
    url = "/api/v1/campaigns/city-2026/responses"
    citizen = submission(answers=city_answers(), channel="qr")
    reply = await client.post(url, json=citizen)
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "valid"
    stored = await _stored(client, citizen["id"])
    assert "q_interview_mode" not in stored["answers"] and stored["answers"]["q_overall"] == 8

    # what a citizen sends for the record is dropped, not stored
    nosy = submission(answers={**city_answers(), "q_interviewer_note": "hello"}, channel="online")
    assert (await client.post(url, json=nosy)).status_code == 201
    assert "q_interviewer_note" not in (await _stored(client, nosy["id"]))["answers"]

    interviewer, _ = await field_account(client, "city-2026")
    intercept = submission(answers=city_answers(), channel="intercept")
    refused = await client.post(url, json=intercept, headers=interviewer)
    assert refused.status_code == 422
    assert [(e["path"], e["code"]) for e in refused.json()["errors"]] == [
        ("$.answers.q_interview_mode", "required")
    ]
    intercept["answers"]["q_interview_mode"] = "intercept"
    accepted = await client.post(url, json=intercept, headers=interviewer)
    assert accepted.status_code == 201, accepted.text
    assert (await _stored(client, intercept["id"]))["answers"]["q_interview_mode"] == "intercept"
