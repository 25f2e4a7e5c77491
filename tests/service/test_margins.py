"""Weighting margins: checked against the registered survey questionnaires' weighting variables, through the
pure rule (places.margins), the API (POST/PUT /cities) and the command line (import cities, CSV and JSON)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import headers_for

from survey_platform.cli import main
from survey_platform.places.margins import margin_problems, weighting_categories
from survey_platform.questionnaire.load import load_text
from survey_platform.settings import Settings

WEIGHTING = """
id: weighting
version: 1
kind: survey
title: Weighting
languages: [zh-CN, en]
sections:
  - id: main
    questions:
      - {id: q_sex, type: single_choice, label: S, weighting_variable: true,
         choices: [{code: male, label: 男}, {code: female, label: 女}]}
      - {id: q_local, type: yes_no, label: L, weighting_variable: true}
      - {id: q_kids, type: integer, label: K, min: 0, max: 3, weighting_variable: true}
      - {id: q_age, type: integer, label: A, min: 16, weighting_variable: true}
      - {id: q_shoe, type: single_choice, label: Shoe, choices: [{code: x, label: X}]}
"""
OLDER = WEIGHTING.replace(
    "{code: male, label: 男}, {code: female, label: 女}", "{code: m, label: 男}, {code: f, label: 女}"
)


@pytest.fixture(scope="module")
def known() -> dict[str, list[tuple[str, ...]]]:
    newer = load_text(WEIGHTING, "weighting.yaml").questionnaire
    older = load_text(OLDER, "weighting.yaml").questionnaire
    return weighting_categories([newer, older])


def test_categories_of_each_kind_of_weighting_question(known: dict[str, list[tuple[str, ...]]]) -> None:
    assert known == {
        "q_sex": [("male", "female"), ("m", "f")],  # two registered versions, newest first
        "q_local": [("true", "false")],
        "q_kids": [("0", "1", "2", "3")],
        "q_age": [],  # unbounded: no listable categories
    }


def test_good_margins_pass(known: dict[str, list[tuple[str, ...]]]) -> None:
    good = {
        "q_sex": {"male": 0.51, "female": 0.49},  # shares
        "q_local": {"true": 6_000_000, "false": 1_490_000},  # counts
        "q_kids": {"0": 0.4, "1": 0.3, "2": 0.2, "3": 0.1},
    }
    assert margin_problems("wuxi", good, known) == []
    assert margin_problems("wuxi", {"q_sex": {"m": 0.5, "f": 0.5}}, known) == []  # the older version's codes
    assert margin_problems("wuxi", {"q_sex": {"male": 1 / 3, "female": 2 / 3 + 5e-7}}, known) == []  # ±1e-6


def test_the_issue_example_is_refused_naming_city_variable_and_category(
    known: dict[str, list[tuple[str, ...]]],
) -> None:
    problems = margin_problems("wuxi", {"q_sex": {"male": 0.7, "female": 0.7}, "q_shoe": {"x": 1}}, known)
    assert [(p.path, p.code) for p in problems] == [
        ("$.margins.q_sex", "sum"),
        ("$.margins.q_shoe", "unknown"),
    ]
    assert "'wuxi'" in problems[0].message and "'q_sex'" in problems[0].message
    assert "must sum to 1 ± 1e-06, got 1.4" in problems[0].message
    assert "'q_shoe' is not a weighting variable" in problems[1].message and "q_sex" in problems[1].message


@pytest.mark.parametrize(
    ("margins", "expected"),
    [
        (
            {"q_sex": {"male": 0.5, "other": 0.5}},
            [("$.margins.q_sex.other", "unknown"), ("$.margins.q_sex.female", "required")],
        ),
        ({"q_sex": {"male": 1.0}}, [("$.margins.q_sex.female", "required")]),
        ({"q_sex": {}}, [("$.margins.q_sex.male", "required"), ("$.margins.q_sex.female", "required")]),
        ({"q_local": {"true": 5_000, "false": 0}}, [("$.margins.q_local.false", "range")]),
        ({"q_local": {"true": 5_000, "false": float("inf")}}, [("$.margins.q_local.false", "range")]),
        (
            {"q_kids": {"0": 0.5, "1": 0.5, "2": 0.0, "3": 0.0}},
            [("$.margins.q_kids.2", "range"), ("$.margins.q_kids.3", "range")],
        ),
        (
            {"q_kids": {"0": 0.5, "1": 0.5, "2": 0.5, "4": 0.5}},
            [
                ("$.margins.q_kids.4", "unknown"),
                ("$.margins.q_kids.3", "required"),
                ("$.margins.q_kids", "sum"),
            ],
        ),
        ({"q_age": {"16": 10, "17": 12}}, [("$.margins.q_age", "categories")]),
        ({"q_shoe": {"x": 1}}, [("$.margins.q_shoe", "unknown")]),
    ],
)
def test_bad_margins(
    known: dict[str, list[tuple[str, ...]]],
    margins: dict[str, dict[str, float]],
    expected: list[tuple[str, str]],
) -> None:
    problems = margin_problems("hangzhou", margins, known)
    assert [(p.path, p.code) for p in problems] == expected
    for problem in problems:
        assert "'hangzhou'" in problem.message and " / " in problem.message
        category = problem.path.split(".")[3] if problem.path.count(".") == 3 else None
        if category is not None:
            assert f"'{category}'" in problem.message


def test_counts_and_shares_are_told_apart_by_size(known: dict[str, list[tuple[str, ...]]]) -> None:
    """All values ≤ 1: shares that must sum to 1; any value above 1: counts, whatever their sum."""
    (problem,) = margin_problems("x", {"q_sex": {"male": 1, "female": 1}}, known)
    assert problem.code == "sum" and "counts need at least one value above 1" in problem.message
    assert margin_problems("x", {"q_sex": {"male": 2, "female": 1}}, known) == []


async def test_the_api_refuses_bad_margins_on_create_and_update(client: AsyncTestClient[Litestar]) -> None:
    admin = await headers_for(client, "admin")
    city = {"code": "wuxi", "name_zh": "无锡"}
    bad = {**city, "margins": {"sex": {"m": 0.7, "f": 0.7}, "q_shoe": {"x": 1}}}
    refused = await client.post("/api/v1/cities", json=bad, headers=admin)
    assert refused.status_code == 422, refused.text
    errors = refused.json()["errors"]
    assert [(e["path"], e["code"]) for e in errors] == [
        ("$.margins.sex", "sum"),
        ("$.margins.q_shoe", "unknown"),
    ]
    assert (await client.get("/api/v1/cities/wuxi")).status_code == 404
    good = {**city, "margins": {"sex": {"m": 3_700_000, "f": 3_790_000}}}
    assert (await client.post("/api/v1/cities", json=good, headers=admin)).status_code == 201
    update = await client.put(
        "/api/v1/cities/wuxi", json={**city, "margins": {"sex": {"m": 0.5, "x": 0.5}}}, headers=admin
    )
    assert update.status_code == 422
    assert [(e["path"], e["code"]) for e in update.json()["errors"]] == [
        ("$.margins.sex.x", "unknown"),
        ("$.margins.sex.f", "required"),
    ]
    assert "'wuxi'" in update.json()["errors"][0]["message"]
    assert (await client.get("/api/v1/cities/wuxi")).json()["margins"] == good["margins"]


def _environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("QUESTIONNAIRES_DIR", str(settings.questionnaires_dir))
    if settings.database_url:
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)


def test_import_checks_margins_in_csv_and_json(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _environment(settings, monkeypatch)
    csv_file = tmp_path / "cities.csv"
    csv_file.write_text(
        "code,name_zh,population,margins\n"
        'suzhou,苏州,12910000,"{""sex"": {""m"": 0.5, ""f"": 0.5}}"\n'
        'wuxi,无锡,7490000,"{""sex"": {""m"": 0.7, ""f"": 0.7}, ""q_shoe"": {""x"": 1}}"\n',
        encoding="utf-8",
    )
    assert main(["import", "cities", str(csv_file)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{csv_file}:3: $.margins.sex: ") and "'wuxi'" in lines[0]
    assert lines[1].startswith(f"{csv_file}:3: $.margins.q_shoe: ") and "'q_shoe'" in lines[1]
    json_file = tmp_path / "cities.json"
    json_file.write_text(
        json.dumps([{"code": "wuxi", "name_zh": "无锡", "margins": {"sex": {"m": 3, "x": 4}}}]),
        encoding="utf-8",
    )
    assert main(["import", "cities", str(json_file)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(": ")[2] for line in lines] == ["$.margins.sex.x", "$.margins.sex.f"]
    assert all(line.startswith(f"{json_file}: record 1: ") for line in lines)
    assert "unknown category 'x'" in lines[0] and "'wuxi'" in lines[0]
    # nothing was written: suzhou (valid in the refused CSV file) is new when imported now
    json_file.write_text(
        json.dumps(
            [
                {"code": "suzhou", "name_zh": "苏州", "margins": {"sex": {"m": 0.5, "f": 0.5}}},
                {"code": "wuxi", "name_zh": "无锡", "margins": {"sex": {"m": 3_700_000, "f": 3_790_000}}},
            ]
        ),
        encoding="utf-8",
    )
    assert main(["import", "cities", str(json_file)]) == 0
    assert "新增 / created 2, 更新 / updated 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "suffix", "expected"),
    [
        (
            "code,name_zh,population\nwuxi,无锡,lots\n",
            ".csv",
            ":2: population: 应为整数 / expected a whole number, not 'lots'",
        ),
        ("code,name_zh,margins\nwuxi,无锡,{sex\n", ".csv", ":2: margins: 无效的 JSON / invalid JSON"),
        ('{"code": "wuxi"}', ".json", ": 应为城市对象的列表 / expected a JSON list of city objects"),
        ('[{"code": "wuxi",}]', ".json", ":1:18: 无效的 JSON / invalid JSON"),
        ('[{"code": "Wu Xi", "name_zh": "无锡"}]', ".json", ": record 1: Expected `str` matching regex"),
    ],
)
def test_unreadable_city_files_name_the_place(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    suffix: str,
    expected: str,
) -> None:
    _environment(settings, monkeypatch)
    path = tmp_path / f"cities{suffix}"
    path.write_text(text, encoding="utf-8")
    assert main(["import", "cities", str(path)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"{path}{expected}"), line


def test_import_help_prints_both_formats() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "survey_platform.cli", "import", "cities", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "code,name_zh,name_en,province,population,margins" in out  # the CSV header of the example
    assert 'hangzhou,杭州,Hangzhou,浙江,12376000,"{""q_sex"": {""male"": 0.51, ""female"": 0.49}}"' in out
    assert '[{"code": "hangzhou", "name_zh": "杭州", "population": 12376000,' in out
    assert "must sum to 1 ± 1e-6" in out
