"""The browser's form rules (``js/survey/logic.js``) give the same verdict as the server's ``validate_answers``.

Random answer sets, valid and malformed, for the real questionnaires and for one that uses every question type,
screening, section skip logic, calculations and an interviewer's section, are judged by both: the same errors (path
and code, in the same order), the same eligibility, the same accepted values and the same dropped answers. The
expected verdicts are the server's, computed here; the browser's come from Node running the ES module itself.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from survey_platform.questionnaire import Questionnaire, load_questionnaire, load_text, validate_answers
from survey_platform.questionnaire.model import Question

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).resolve().parent / "run_logic.mjs"
CASES_PER_QUESTIONNAIRE = 300

EVERYTHING = """
id: everything
version: 1
kind: survey
title: {zh-CN: 全部题型, en: Every type}
languages: [zh-CN, en]
defaults: {required: true}
scales:
  s5:
    min: 1
    max: 5
    labels: {1: 差, 5: 好}
    missing: [{code: dont_know, label: 不清楚}, {code: not_applicable, label: 不适用}]
choice_lists:
  colours: [{code: red, label: 红}, {code: green, label: 绿}, {code: blue, label: 蓝}, {code: "7", label: 七}]
sections:
  - id: screen
    questions:
      - {id: q_adult, type: yes_no, label: 成年?, screen: ". = true"}
      - {id: q_local, type: yes_no, label: 本地?, screen: ". = true", relevant: "${q_adult} = true"}
      - {id: q_visits, type: integer, label: 次数, min: 0, max: 50, screen: ". > 0"}
  - id: main
    questions:
      - {id: q_like, type: likert, label: L, scale: s5, constraint: ". >= 2 or ${q_colour} = 'red'"}
      - id: m
        type: matrix
        label: M
        scale: s5
        items: [{id: m_a, label: A}, {id: m_b, label: B}, {id: m_c, label: C}]
      - id: m_optional
        type: matrix
        label: MO
        scale: s5
        required: false
        constraint: "${m_x} != 3"
        items: [{id: m_x, label: X, in_index: false}, {id: m_y, label: Y, in_index: false}]
      - {id: q_colour, type: single_choice, label: C, choices: colours}
      - {id: q_colours, type: multiple_choice, label: CC, choices: colours, min_selected: 2, max_selected: 3,
         required: false, relevant: "${q_colour} != 'blue' or ${q_like} > 1"}
      - {id: q_age, type: integer, label: Age, min: 18, max: 99, constraint: ". != 50"}
      - {id: q_height, type: decimal, label: H, min: 0.5, max: 2.5, required: false}
      - {id: q_text, type: text, label: T, max_length: 5, required: false, constraint: "regex(., '^[a-c ]*$')"}
      - {id: q_date, type: date, label: D, required: false}
      - {id: q_time, type: time, label: Ti, required: false}
      - {id: q_when, type: datetime, label: DT, required: false}
      - {id: q_gps, type: geopoint, label: G, required: false, max_accuracy: 50}
      - {id: q_photos, type: photo, label: P, required: false, min_count: 1, max_count: 2}
      - {id: q_venue, type: venue, label: V, required: false}
      - {id: q_why_red, type: text, label: Why red, relevant: "${q_colour} = 'red'"}
      - {id: q_double, type: calculate, calculation: "${q_age} * 2"}
      - {id: q_ratio, type: calculate, calculation: "${q_double} / ${m_a}"}
      - {id: q_note, type: note, label: 注意}
  - id: extra
    relevant: "${q_ratio} > 20"
    questions:
      - {id: q_extra, type: likert, label: E, scale: s5}
  - id: record
    filled_by: interviewer
    questions:
      - {id: q_mode, type: single_choice, label: 方式, choices: [{code: street, label: 街头}, {code: home, label: 入户}]}
      - {id: q_where, type: geopoint, label: 地点, relevant: "${q_mode} = 'street'", required: false}
index:
  id: overall
  dimensions:
    - id: d
      indicators:
        - {id: i, items: [q_like, m_a, m_b, m_c, q_extra]}
"""


def _questionnaires() -> list[Questionnaire]:
    found = []
    for path in [
        *sorted((ROOT / "questionnaires").glob("*.yaml")),
        ROOT / "tests" / "service" / "data" / "mini_city.yaml",
    ]:
        result = load_questionnaire(path)
        assert result.questionnaire is not None, result.problems
        found.append(result.questionnaire)
    everything = load_text(EVERYTHING, "everything.yaml")
    assert not everything.problems, everything.problems
    found.append(everything.questionnaire)
    return found


def _text(rng: random.Random, length: int) -> str:
    alphabet = "abc xyz中文😀"  # an emoji is one character to Python and two UTF-16 units to JavaScript
    return "".join(rng.choice(alphabet) for _ in range(length))


def _invalid(rng: random.Random, question: Question) -> Any:
    return rng.choice(["nope", 3.5, True, [1], {"x": 1}, -7, "7"])


def _valid(rng: random.Random, q: Question) -> Any:
    if q.type == "likert" or q.type == "matrix":
        assert q.scale is not None
        points = [*range(q.scale.min - 1, q.scale.max + 2), *q.scale.missing_codes()]
        if q.type == "likert":
            return rng.choice(points)
        row: dict[str, Any] = {}
        for item in q.items:
            if rng.random() < 0.85:
                row[item.id] = rng.choice([*points, None]) if rng.random() < 0.2 else rng.choice(points[1:-1])
        if rng.random() < 0.05:
            row["zz_unknown"] = 3
        return row
    if q.type == "single_choice":
        assert q.choices is not None
        return rng.choice(q.choices.codes()) if rng.random() < 0.95 else "unknown_code"
    if q.type == "multiple_choice":
        assert q.choices is not None
        codes = list(q.choices.codes())
        picked = rng.sample(codes, rng.randint(0, len(codes)))
        if rng.random() < 0.1 and picked:
            picked.append(picked[0])
        return picked
    if q.type == "yes_no":
        return rng.random() < (0.85 if q.screen is not None else 0.5)
    if q.type == "integer":
        low = int(q.min) if q.min is not None else -10
        high = int(q.max) if q.max is not None else 200
        if rng.random() < 0.5:
            return rng.choice([low, high, low - 1, high + 1, 50, 100, 101])
        return rng.randint(low - 3, high + 3)
    if q.type == "decimal":
        low = q.min if q.min is not None else -10.0
        high = q.max if q.max is not None else 10.0
        value = round(rng.uniform(low - 1, high + 1), 2)
        return value + 0.25 if value == int(value) else value  # the browser never sends 3.0 for an integer
    if q.type in ("text", "venue"):
        limit = q.max_length if q.type == "text" else 200
        return rng.choice(["   ", _text(rng, rng.randint(0, min(limit + 2, 40))), "a" * (limit + 1), "abc"])
    if q.type == "date":
        return rng.choice(["2026-05-01", "2026-02-30", "2026-5-1", "1999-12-31"])
    if q.type == "time":
        return rng.choice(["14:05", "14:05:30.5", "25:00", "9:00"])
    if q.type == "datetime":
        return rng.choice(["2026-11-23T14:05:00+08:00", "2026-11-23 14:05", "2026-11-23T14:05Z", "soon"])
    if q.type == "geopoint":
        return rng.choice(
            [
                {"lat": 31.23, "lon": 121.47, "accuracy": 12.5},
                {"lat": 31.23, "lon": 121.47, "accuracy": 300},
                {"lat": 31.23, "lon": 121.47},
                {"lat": 91, "lon": 0, "accuracy": 1},
                {"lat": "31", "lon": 0, "accuracy": 1, "alt": 3},
                {"lat": 31.23, "lon": 121.47, "accuracy": 8, "time": "2026-11-23T14:05:09.250+08:00"},
                {"lat": 31.23, "lon": 121.47, "accuracy": 8, "time": "2026-11-23 14:05"},
                {"lat": 31.23, "lon": 121.47, "accuracy": 300, "time": 5},
            ]
        )
    if q.type == "photo":
        ids = ["a" * 64, "0123456789abcdef" * 4, "b" * 64]
        return rng.choice([[], ids[:1], ids[:2], ids, [ids[0], ids[0]], ["not-a-hash"]])
    if q.type == "calculate":
        return 123
    return "a note"


def _answers(rng: random.Random, questionnaire: Questionnaire) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in questionnaire.questions:
        roll = rng.random()
        if q.type in ("note", "calculate") and roll < 0.95:
            continue
        if roll < 0.15:
            continue
        if roll < 0.2:
            answers[q.id] = None
        elif roll < 0.27:
            answers[q.id] = _invalid(rng, q)
        else:
            answers[q.id] = _valid(rng, q)
    if rng.random() < 0.05:
        answers["q_no_such_question"] = 1
    keys = list(answers)
    rng.shuffle(keys)  # the order of the keys is the order of the coercion errors on both sides
    return {key: answers[key] for key in keys}


def _verdict(questionnaire: Questionnaire, answers: dict[str, Any], self_completed: bool) -> dict[str, Any]:
    check = validate_answers(questionnaire, answers, self_completed=self_completed)
    return {
        "errors": [[e.path, e.code] for e in check.errors],
        "eligible": check.eligible,
        "values": json.loads(json.dumps(check.values)),
        "dropped": list(check.dropped),
    }


def test_the_browser_and_the_server_judge_answer_sets_alike(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        message = "Node.js (node, version 20+) is not installed: the browser's form rules cannot be tested"
        if os.environ.get("SURVEY_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    rng = random.Random(20261127)
    payload: dict[str, Any] = {"questionnaires": []}
    expected: list[list[dict[str, Any]]] = []
    for questionnaire in _questionnaires():
        cases = []
        verdicts = []
        for n in range(CASES_PER_QUESTIONNAIRE):
            answers = _answers(rng, questionnaire)
            self_completed = n % 2 == 0
            cases.append({"answers": answers, "self_completed": self_completed})
            verdicts.append(_verdict(questionnaire, answers, self_completed))
        payload["questionnaires"].append({"questionnaire": questionnaire.to_client_json(), "cases": cases})
        expected.append(verdicts)
    data = tmp_path / "cases.json"
    data.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    completed = subprocess.run(
        [node, str(RUNNER), str(data)], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    actual = json.loads(completed.stdout)

    differences = []
    for entry, wanted, got in zip(payload["questionnaires"], expected, actual, strict=True):
        for case, server, browser in zip(entry["cases"], wanted, got, strict=True):
            if server != browser:
                differences.append(
                    f"{entry['questionnaire']['id']} (self_completed={case['self_completed']}):\n"
                    f"  answers: {json.dumps(case['answers'], ensure_ascii=False)}\n"
                    f"  server:  {json.dumps(server, ensure_ascii=False)}\n"
                    f"  browser: {json.dumps(browser, ensure_ascii=False)}"
                )
    assert not differences, f"{len(differences)} verdicts differ; the first ones:\n" + "\n".join(
        differences[:3]
    )

    # the cases exercise what they should: errors of many kinds, screened-out and eligible respondents
    server_verdicts = [v for verdicts in expected for v in verdicts]
    codes = {code for v in server_verdicts for _, code in v["errors"]}
    assert codes >= {
        "unknown",
        "type",
        "range",
        "choice",
        "duplicate",
        "count",
        "length",
        "format",
        "required",
    }
    assert codes >= {"constraint"}
    assert any(not v["eligible"] for v in server_verdicts) and any(v["eligible"] for v in server_verdicts)
    assert any(v["dropped"] for v in server_verdicts)
    assert any("q_double" in v["values"] for v in server_verdicts)
