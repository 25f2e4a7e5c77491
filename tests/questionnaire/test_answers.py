"""validate_answers: types per question type, required/relevant, constraints, screening, calculations."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from survey_platform.questionnaire.answers import AnswerCheck, validate_answers
from survey_platform.questionnaire.load import load_questionnaire, load_text
from survey_platform.questionnaire.model import Questionnaire

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
PHOTO = "a" * 64
PHOTO2 = "0123456789abcdef" * 4

ALL_TYPES = """
id: all_types
version: 1
kind: survey
title: Every type
languages: [zh-CN, en]
defaults: {required: true}
scales:
  s5:
    min: 1
    max: 5
    labels: {1: 差, 5: 好}
    missing: [{code: dont_know, label: 不清楚}]
choice_lists:
  colours: [{code: red, label: 红}, {code: green, label: 绿}, {code: blue, label: 蓝}]
sections:
  - id: screen
    questions:
      - {id: q_adult, type: yes_no, label: 成年?, screen: ". = true"}
  - id: main
    questions:
      - {id: q_like, type: likert, label: L, scale: s5}
      - id: m
        type: matrix
        label: M
        scale: s5
        items: [{id: m_a, label: A}, {id: m_b, label: B}]
      - {id: q_colour, type: single_choice, label: C, choices: colours}
      - {id: q_colours, type: multiple_choice, label: CC, choices: colours, max_selected: 2, required: false}
      - {id: q_age, type: integer, label: Age, min: 18, max: 99, constraint: ". != 50",
         constraint_message: {zh-CN: 不能是50, en: not 50}}
      - {id: q_height, type: decimal, label: H, min: 0.5, max: 2.5, required: false}
      - {id: q_text, type: text, label: T, max_length: 5, required: false}
      - {id: q_date, type: date, label: D, required: false}
      - {id: q_time, type: time, label: Ti, required: false}
      - {id: q_when, type: datetime, label: DT, required: false}
      - {id: q_gps, type: geopoint, label: G, required: false, max_accuracy: 50}
      - {id: q_photos, type: photo, label: P, required: false, min_count: 1, max_count: 2}
      - {id: q_venue, type: venue, label: V, required: false}
      - {id: q_why_red, type: text, label: Why red, relevant: "${q_colour} = 'red'"}
      - {id: q_double, type: calculate, calculation: "${q_age} * 2"}
      - {id: q_note, type: note, label: 注意}
index:
  id: overall
  dimensions:
    - id: d
      indicators:
        - {id: i, items: [q_like, m_a, m_b]}
"""


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    result = load_text(ALL_TYPES, "all_types.yaml")
    assert result.problems == []
    return result.questionnaire


def good() -> dict[str, object]:
    return {
        "q_adult": True,
        "q_like": 4,
        "m": {"m_a": 5, "m_b": "dont_know"},
        "q_colour": "green",
        "q_age": 30,
    }


def errors(check: AnswerCheck) -> list[tuple[str, str]]:
    return [(e.path, e.code) for e in check.errors]


def test_a_good_answer_set_passes_and_calculations_are_filled_in(q: Questionnaire) -> None:
    check = validate_answers(q, {**good(), "q_double": 1})  # a sent calculation is replaced
    assert check.errors == () and check.eligible
    assert check.values == {**good(), "q_double": 60}
    assert check.dropped == ()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"q_like": 6}, [("answers.q_like", "range")]),
        ({"q_like": True}, [("answers.q_like", "type")]),
        ({"q_like": 3.0}, [("answers.q_like", "type")]),
        ({"q_like": "no_idea"}, [("answers.q_like", "choice")]),
        ({"m": {"m_a": 0, "m_b": 1, "m_c": 2}}, [("answers.m.m_a", "range"), ("answers.m.m_c", "unknown")]),
        ({"m": [1, 2]}, [("answers.m", "type")]),
        ({"q_colour": "purple"}, [("answers.q_colour", "choice")]),
        ({"q_colours": ["red", "red"]}, [("answers.q_colours.1", "duplicate")]),
        ({"q_colours": ["red", "pink"]}, [("answers.q_colours.1", "choice")]),
        ({"q_colours": ["red", "green", "blue"]}, [("answers.q_colours", "count")]),
        ({"q_colours": "red"}, [("answers.q_colours", "type")]),
        ({"q_age": 17}, [("answers.q_age", "range")]),
        ({"q_age": 30.5}, [("answers.q_age", "type")]),
        ({"q_age": "30"}, [("answers.q_age", "type")]),
        ({"q_height": 3}, [("answers.q_height", "range")]),
        ({"q_height": float("nan")}, [("answers.q_height", "type")]),
        ({"q_text": "123456"}, [("answers.q_text", "length")]),
        ({"q_date": "2025-02-30"}, [("answers.q_date", "format")]),
        ({"q_time": "25:00"}, [("answers.q_time", "format")]),
        ({"q_when": "2025-11-23 8:00"}, [("answers.q_when", "format")]),
        ({"q_gps": {"lat": 91, "lon": 0, "accuracy": 5}}, [("answers.q_gps.lat", "range")]),
        ({"q_gps": {"lat": 30, "lon": 120}}, [("answers.q_gps.accuracy", "required")]),
        ({"q_gps": {"lat": 30, "lon": 120, "accuracy": 80}}, [("answers.q_gps.accuracy", "range")]),
        ({"q_gps": {"lat": 30, "lon": 120, "accuracy": 5, "alt": 3}}, [("answers.q_gps.alt", "unknown")]),
        (
            {"q_gps": {"lat": 30, "lon": 120, "accuracy": 5, "time": "9:05"}},
            [("answers.q_gps.time", "format")],
        ),
        ({"q_gps": {"lat": 30, "lon": 120, "accuracy": 5, "time": 1.5e9}}, [("answers.q_gps.time", "type")]),
        ({"q_photos": [PHOTO, PHOTO]}, [("answers.q_photos.1", "duplicate")]),
        ({"q_photos": ["ABC"]}, [("answers.q_photos.0", "format")]),
        ({"q_photos": [PHOTO, PHOTO2, "b" * 64]}, [("answers.q_photos", "count")]),
        ({"q_venue": 12}, [("answers.q_venue", "type")]),
        ({"q_age": 50}, [("answers.q_age", "constraint")]),
        ({"q_note": "x"}, [("answers.q_note", "unknown")]),
        ({"q_agee": 30}, [("answers.q_agee", "unknown")]),
    ],
)
def test_bad_answers_are_reported_with_their_path(
    q: Questionnaire, answer: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    assert errors(validate_answers(q, {**good(), **answer})) == expected


def test_valid_values_of_every_type(q: Questionnaire) -> None:
    extra = {
        "q_colours": ["red", "blue"],
        "q_height": 1.72,
        "q_text": "好的",
        "q_date": "2025-11-23",
        "q_time": "14:05",
        "q_when": "2025-11-23T14:05:00+08:00",
        "q_gps": {"lat": 37.87, "lon": 112.55, "accuracy": 12.5},
        "q_photos": [PHOTO, PHOTO2],
        "q_venue": "venue-000123",
        "q_colour": "red",
        "q_why_red": "喜欢",
    }
    check = validate_answers(q, {**good(), **extra})
    assert check.errors == ()
    assert check.values["q_gps"] == {"lat": 37.87, "lon": 112.55, "accuracy": 12.5}
    assert check.values["q_why_red"] == "喜欢"


def test_a_geopoint_keeps_the_time_its_position_was_taken(q: Questionnaire) -> None:
    point = {"lat": 37.87, "lon": 112.55, "accuracy": 12.5, "time": "2026-05-01T09:30:05.120+08:00"}
    check = validate_answers(q, {**good(), "q_gps": point})
    assert check.errors == ()
    assert check.values["q_gps"] == point


def test_messages_are_bilingual_and_use_the_constraint_message(q: Questionnaire) -> None:
    check = validate_answers(q, {**good(), "q_age": 50})
    assert check.errors[0].message == "不能是50 / not 50"
    check = validate_answers(q, {**good(), "q_like": 9})
    assert check.errors[0].message == (
        "应为 1–5 的整数或 dont_know 之一，而不是 9 / expected an integer 1–5 or one of dont_know, not 9"
    )


SCALE_10 = """
id: scale_10
version: 1
kind: survey
title: Scale
languages: [zh-CN, en]
scales:
  s10:
    min: 1
    max: 10
    labels: {1: 差, 10: 好}
    missing: [{code: dont_know, label: 不清楚}, {code: not_applicable, label: 不适用}]
sections:
  - id: main
    questions:
      - {id: q_sat, type: likert, label: S, scale: s10}
"""


def test_a_scale_answer_sent_as_text_says_what_was_expected() -> None:
    """The issue's example: "7" (a string) for a 1–10 scale with two missing-answer codes."""
    questionnaire = load_text(SCALE_10, "scale_10.yaml").questionnaire
    (error,) = validate_answers(questionnaire, {"q_sat": "7"}).errors
    assert error.path == "answers.q_sat"
    assert error.message == (
        "应为 1–10 的整数或 dont_know、not_applicable 之一，而不是文本 '7' / "
        "expected an integer 1–10 or one of dont_know, not_applicable, not the text '7'"
    )


@pytest.mark.parametrize(
    ("answer", "path", "expected"),
    [
        ({"q_like": 3.0}, "answers.q_like", "expected an integer 1–5 or one of dont_know, not 3.0"),
        (
            {"q_like": "no_idea"},
            "answers.q_like",
            "expected an integer 1–5 or one of dont_know, not the text",
        ),
        ({"m": [1, 2]}, "answers.m", "expected an object {item: answer} with items m_a, m_b, each answer an"),
        ({"m": {"m_a": 5, "m_x": 1}}, "answers.m.m_x", "(expected one of m_a, m_b)"),
        ({"m": {"m_a": 0, "m_b": 1}}, "answers.m.m_a", "expected an integer 1–5 or one of dont_know, not 0"),
        (
            {"q_colour": "purple"},
            "answers.q_colour",
            "expected one of red, green, blue, not the text 'purple'",
        ),
        (
            {"q_colours": "red"},
            "answers.q_colours",
            "expected a list of codes from red, green, blue, not the",
        ),
        ({"q_colours": ["red", "pink"]}, "answers.q_colours.1", "expected one of red, green, blue, not the"),
        ({"q_colours": ["red", "red"]}, "answers.q_colours.1", "expected each code at most once"),
        ({"q_colours": ["red", "green", "blue"]}, "answers.q_colours", "expected at most 2 choices, got 3"),
        ({"q_adult": "yes"}, "answers.q_adult", "expected true or false, not the text 'yes'"),
        ({"q_age": "30"}, "answers.q_age", "expected an integer 18–99, not the text '30'"),
        ({"q_age": 17}, "answers.q_age", "expected an integer 18–99, not 17"),
        ({"q_height": 3}, "answers.q_height", "expected a number 0.5–2.5, not 3"),
        ({"q_height": [1]}, "answers.q_height", "expected a number 0.5–2.5, not a list"),
        ({"q_text": 12}, "answers.q_text", "expected text of at most 5 characters, not 12"),
        ({"q_text": "123456"}, "answers.q_text", "expected at most 5 characters, got 6"),
        ({"q_venue": 12}, "answers.q_venue", "expected text of at most 200 characters, not 12"),
        ({"q_date": "2025-02-30"}, "answers.q_date", "expected a valid date YYYY-MM-DD, not the text"),
        ({"q_time": 1400}, "answers.q_time", "expected a time as text HH:MM[:SS], not 1400"),
        ({"q_gps": [30, 120]}, "answers.q_gps", "expected an object {lat, lon, accuracy}, not a list"),
        (
            {"q_gps": {"lat": 91, "lon": 0, "accuracy": 5}},
            "answers.q_gps.lat",
            "expected lat as a number -90–90",
        ),
        ({"q_gps": {"lat": 30, "lon": 120}}, "answers.q_gps.accuracy", "expected a number ≥ 0 metres"),
        ({"q_gps": {"lat": 3, "lon": 1, "accuracy": 80}}, "answers.q_gps.accuracy", "at most 50 m, got 80 m"),
        (
            {"q_gps": {"lat": 3, "lon": 1, "accuracy": 5, "alt": 3}},
            "answers.q_gps.alt",
            "expected only lat, lon",
        ),
        ({"q_photos": "a"}, "answers.q_photos", "expected a list of photo ids (SHA-256 in 64 lowercase hex"),
        ({"q_photos": ["ABC"]}, "answers.q_photos.0", "expected a photo id: a SHA-256 in 64 lowercase hex"),
        ({"q_photos": [PHOTO, PHOTO]}, "answers.q_photos.1", "expected each photo once"),
        ({"q_photos": [PHOTO, PHOTO2, "b" * 64]}, "answers.q_photos", "expected at most 2 photos, got 3"),
    ],
)
def test_every_message_says_what_was_expected(
    q: Questionnaire, answer: dict[str, object], path: str, expected: str
) -> None:
    errors = [e for e in validate_answers(q, {**good(), **answer}).errors if e.path == path]
    assert len(errors) == 1, validate_answers(q, {**good(), **answer}).errors
    zh, _, en = errors[0].message.partition(" / ")
    assert expected in en, en
    assert zh and not zh.isascii(), zh  # Chinese first


def test_required_applies_only_when_relevant(q: Questionnaire) -> None:
    answers = {**good(), "q_colour": "red"}  # q_why_red becomes relevant and is required
    assert errors(validate_answers(q, answers)) == [("answers.q_why_red", "required")]
    answers = {**good(), "q_why_red": "stale answer"}  # not relevant (green): dropped, not an error
    check = validate_answers(q, answers)
    assert check.errors == () and check.dropped == ("q_why_red",) and "q_why_red" not in check.values


def test_missing_required_answers_and_matrix_items(q: Questionnaire) -> None:
    check = validate_answers(q, {"q_adult": True, "m": {"m_a": 3}})
    assert errors(check) == [
        ("answers.q_like", "required"),
        ("answers.m.m_b", "required"),
        ("answers.q_colour", "required"),
        ("answers.q_age", "required"),
    ]
    assert "q_double" not in check.values  # ${q_age} is null, so is the calculation


def test_null_and_empty_answers_count_as_missing(q: Questionnaire) -> None:
    check = validate_answers(q, {**good(), "q_colour": None, "q_colours": [], "q_text": "  "})
    assert errors(check) == [("answers.q_colour", "required")]


def test_failed_screening_ends_the_questionnaire(q: Questionnaire) -> None:
    check = validate_answers(q, {"q_adult": False, "q_like": 4})
    assert check.eligible is False
    assert check.errors == ()  # nothing after the failing screen is required
    assert check.dropped == ("q_like",)
    assert check.values == {"q_adult": False}
    # a malformed answer is still an error: every answer sent is type-checked, relevant or not
    assert errors(validate_answers(q, {"q_adult": False, "q_like": 99})) == [("answers.q_like", "range")]


def test_not_a_mapping(q: Questionnaire) -> None:
    assert errors(validate_answers(q, ["q_adult"])) == [("answers", "type")]  # type: ignore[arg-type]


def test_constraint_evaluating_to_null_is_satisfied() -> None:
    text = """
id: c
version: 1
kind: survey
title: C
sections:
  - id: s
    questions:
      - {id: q_a, type: integer, label: A}
      - {id: q_b, type: integer, label: B, constraint: ". > ${q_a}"}
"""
    q = load_text(text).questionnaire
    assert validate_answers(q, {"q_b": 3}).errors == ()  # ${q_a} is null, so is the constraint
    assert errors(validate_answers(q, {"q_a": 5, "q_b": 3})) == [("answers.q_b", "constraint")]


def test_inspection_evidence_is_required_when_a_critical_check_fails() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "qr_code_inspection.yaml").questionnaire
    compliant = {
        "q_venue": "venue-42",
        "q_venue_category": "restaurant",
        "q_location": {"lat": 37.87, "lon": 112.55, "accuracy": 8},
        "q_visit_time": "2025-10-20T12:30:00+08:00",
        "q_undercover": True,
        "q_payment_ways": ["qr_code", "counter"],
        "chk_menu_available": True,
        "chk_counter_available": True,
        "chk_forced_follow": False,
        "chk_forced_miniprogram": False,
        "chk_forced_membership": False,
        "chk_elderly_friendly": True,
        "q_steps_to_pay": 3,
        "chk_phone_demanded": False,
        "chk_location_demanded": False,
        "chk_identity_demanded": False,
        "chk_privacy_notice": True,
        "chk_default_consent": False,
        "chk_popup_ads": False,
        "chk_amount_shown": True,
        "chk_pure_code": True,
        "chk_complaint_channel": True,
    }
    assert validate_answers(q, compliant).errors == ()
    failing = {**compliant, "chk_forced_follow": True}
    assert errors(validate_answers(q, failing)) == [("answers.ev_forced_follow", "required")]
    check = validate_answers(q, {**failing, "ev_forced_follow": [PHOTO]})
    assert check.errors == ()
    # the plate check applies to car parks only; elsewhere it is missing in the scores (NaN)
    values = q.item_values(check.values)
    assert values["chk_forced_follow"] == 0.0 and values["chk_counter_available"] == 1.0
    assert math.isnan(values["chk_plate_binding"])
    car_park = {**compliant, "q_venue_category": "car_park"}
    assert errors(validate_answers(q, car_park)) == [("answers.chk_plate_binding", "required")]


def test_city_survey_item_values_treat_dont_know_as_missing() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "city_satisfaction.yaml").questionnaire
    items = [item.id for item in q.question("supply_matrix").items]
    answers = {
        "q_resident_6m": True,
        "q_offline_purchase": True,
        "supply_matrix": {item: 8 for item in items} | {"q_logistics": "dont_know"},
        "environment_matrix": {item.id: 7 for item in q.question("environment_matrix").items},
        "q_privacy_worry": 3,
        "rights_matrix": {item.id: "not_applicable" for item in q.question("rights_matrix").items},
        "q_had_dispute": False,
        "q_overall": 8,
        "q_compared_last_year": "better",
        "q_sex": "female",
        "q_age_band": "35_44",
        "q_district_zone": "core",
        "q_hukou": "local",
        "q_education_level": "bachelor_plus",
        "q_income": "refused",
        "q_interview_mode": "scan",
    }
    check = validate_answers(q, answers)
    assert check.errors == () and check.eligible
    values = q.item_values(check.values)
    assert values["q_variety"] == 8.0 and math.isnan(values["q_logistics"])
    assert math.isnan(values["q_complaint_result"])  # not relevant (no dispute)
    assert values["q_privacy_worry"] == 3.0  # reversal is the scoring package's job (item_specs says reverse)
    ineligible = validate_answers(q, {"q_resident_6m": True, "q_offline_purchase": False})
    assert ineligible.eligible is False and ineligible.errors == ()


def test_client_json_carries_compiled_expressions() -> None:
    import json

    q = load_questionnaire(QUESTIONNAIRES / "qr_code_inspection.yaml").questionnaire
    data = json.loads(json.dumps(q.to_client_json()))
    questions = {question["id"]: question for s in data["sections"] for question in s["questions"]}
    relevant = questions["ev_forced_follow"]["relevant"]
    assert relevant["source"] == "${chk_forced_follow} = true"
    assert relevant["ast"] == ["=", ["ref", "chk_forced_follow"], True]
    assert questions["chk_forced_follow"]["check"]["severity"] == "critical"
    assert data["content_hash"] == q.content_hash and data["index"] == q.index_tree()


INTERVIEW_RECORD = """
id: with_record
version: 1
kind: survey
title: 带访问记录
defaults: {required: true}
sections:
  - id: main
    questions:
      - {id: q_age, type: integer, label: 年龄, min: 18}
      - {id: q_old, type: calculate, calculation: "${q_age} >= 60"}
  - id: record
    filled_by: interviewer
    questions:
      - {id: q_mode, type: single_choice, label: 方式, choices: [{code: street, label: 街头}, {code: home, label: 入户}]}
      - {id: q_note, type: text, label: 备注, relevant: "${q_mode} = 'street'"}
"""


def test_a_self_completed_response_is_not_asked_the_interviewers_sections() -> None:
    result = load_text(INTERVIEW_RECORD, "record.yaml")
    assert not result.problems, result.problems
    q = result.questionnaire
    assert [s.filled_by for s in q.sections] == ["respondent", "interviewer"]
    assert [s["filled_by"] for s in q.to_client_json()["sections"]] == ["respondent", "interviewer"]
    # an interviewer must fill in the record (required as ever) ...
    assert errors(validate_answers(q, {"q_age": 61})) == [("answers.q_mode", "required")]
    # ... a respondent answering alone never sees it: not required, and anything sent for it is dropped
    alone = validate_answers(q, {"q_age": 61}, self_completed=True)
    assert alone.errors == () and alone.values == {"q_age": 61, "q_old": True}
    sent = validate_answers(q, {"q_age": 61, "q_mode": "street", "q_note": "x"}, self_completed=True)
    assert sent.errors == () and sent.dropped == ("q_mode", "q_note") and "q_mode" not in sent.values
    # what is sent is still type-checked
    assert errors(validate_answers(q, {"q_age": 61, "q_mode": "car"}, self_completed=True)) == [
        ("answers.q_mode", "choice")
    ]


def test_filled_by_takes_only_its_two_values() -> None:
    broken = INTERVIEW_RECORD.replace("filled_by: interviewer", "filled_by: supervisor")
    result = load_text(broken, "record.yaml")
    assert result.questionnaire is None or result.problems
    assert any("supervisor" in p.message and (p.line, p.column) == (13, 16) for p in result.problems), (
        result.problems
    )
