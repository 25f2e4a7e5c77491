"""The loader: the three real questionnaires, every error class with its exact position, and the limits."""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path

import pytest

from survey_platform.questionnaire.load import load_directory, load_questionnaire, load_text

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = ROOT / "questionnaires"
BROKEN = Path(__file__).parent / "broken"

# One broken file per error class, with the exact problems (positions counted by hand in the files).
EXPECTED = {
    "unknown_key.yaml": ["25:9: error: unknown key 'relevent' in question, did you mean 'relevant'?"],
    "duplicate_id.yaml": ["25:13: error: duplicate id 'q_sex' (first at line 17)"],
    "wrong_type.yaml": ["21:19: error: 'required' in question must be true or false, not a string ('yes')"],
    "dangling_index_reference.yaml": [
        "31:26: error: unknown item 'q_satt' in indicator 'i_main', did you mean 'q_sat'?"
    ],
    "cycle.yaml": ["26:20: error: cycle in relevant/calculation: q_sex → q_sat → q_sex"],
    "missing_choice_list.yaml": ["20:18: error: unknown choice list 'sexes', did you mean 'sex'?"],
    "question_in_no_indicator.yaml": [
        "25:13: error: question 'q_value' is in no indicator of the index (add it to one, or set in_index: false)"
    ],
    "bad_weight.yaml": [
        "33:15: error: weight of dimension 'd_main' must be greater than 0, not 0",
        "36:48: error: weight of item 'q_value' must be greater than 0, not -1",
    ],
    "yaml_syntax.yaml": [
        "10:8: error: YAML syntax error: did not find expected '-' indicator (while parsing a block collection)"
    ],
    "duplicate_yaml_key.yaml": ["25:9: error: duplicate key 'label' in question (first at line 23)"],
}

# Expression errors: the position and our prefix exactly; the message itself belongs to the expression package.
EXPECTED_EXPR = {
    "dangling_expression_reference.yaml": [
        ("25:20: error: relevant of question 'q_sat': ", "unknown question 'q_sexx', did you mean 'q_sex'?")
    ],
    "expression_type_error.yaml": [
        # one-line double-quoted scalar: column of the quote + 1 + offset of '+'
        ("25:29: error: relevant of question 'q_sat': ", "'+' needs numbers"),
        # block scalar: second line of the block, the '=' comparing a choice with a number
        ("31:22: error: relevant of question 'q_comment': ", "cannot compare choice with integer"),
    ],
}


def _lines(path: Path) -> list[str]:
    return [problem.format() for problem in load_questionnaire(path).problems]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_reports_exact_lines(name: str) -> None:
    path = BROKEN / name
    assert _lines(path) == [f"{path}:{line}" for line in EXPECTED[name]]


@pytest.mark.parametrize("name", sorted(EXPECTED_EXPR))
def test_broken_expression_reports_position(name: str) -> None:
    path = BROKEN / name
    lines = _lines(path)
    assert len(lines) == len(EXPECTED_EXPR[name])
    for line, (prefix, message) in zip(lines, EXPECTED_EXPR[name], strict=True):
        assert line.startswith(f"{path}:{prefix}")
        assert message in line


def test_every_broken_file_is_covered() -> None:
    assert {p.name for p in BROKEN.glob("*.yaml")} == set(EXPECTED) | set(EXPECTED_EXPR)


# -- the real questionnaires ----------------------------------------------------------------------------------


def test_all_real_questionnaires_load_fast() -> None:
    start = time.perf_counter()
    results = load_directory(QUESTIONNAIRES)
    elapsed = time.perf_counter() - start
    assert {p.name for p in results} == {
        "city_satisfaction.yaml",
        "qr_code_inspection.yaml",
        "appliance_after_sales.yaml",
    }
    for path, result in results.items():
        assert result.problems == [], (path, [p.format() for p in result.problems])
    assert elapsed < 0.5  # measured ~40 ms for the three files


def test_city_survey_follows_the_national_tree() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "city_satisfaction.yaml").questionnaire
    assert q is not None and q.kind == "survey" and q.languages == ("zh-CN", "en")
    dims = q.index.root.children
    assert [d.label.get("zh-CN") for d in dims] == ["消费供给", "消费环境", "消费维权"]
    indicators = [i.label.get("zh-CN") for d in dims for i in d.children]
    assert sorted(indicators) == sorted(
        [
            "供给丰富性",
            "供给便利性",
            "供给创新性",
            "质量水平",
            "服务水平",
            "消费设施",
            "价格合理",
            "信息真实",
            "售后保障",
            "商家信任度",
            "交易安全",
            "消费知情权",
            "消费自主选择权",
            "消费政策",
            "权益保护",
            "消费宣传",
            "消费执法",
        ]
    )
    specs = q.item_specs()
    assert 30 <= len(specs) <= 45
    assert q.question("q_overall").in_index is False and "q_overall" not in specs
    assert set(q.screening_questions()) == {"q_resident_6m", "q_offline_purchase"}
    assert set(q.weighting_variables()) == {"q_sex", "q_age_band", "q_district_zone"}
    assert specs["q_privacy_worry"] == {"min": 1, "max": 10, "reverse": True}
    assert specs["q_variety"] == {"min": 1, "max": 10, "reverse": False}
    weights = q.effective_weights()
    assert math.isclose(sum(weights.values()), 1.0)
    # by hand: supply 35/100; quality 1.4 of (1+1+0.8+1.4+1+0.8)=6; food safety 1.5 of 2.5
    assert math.isclose(weights["q_food_safety"], 0.35 * 1.4 / 6 * 0.6)
    # scale labels: both ends, bilingual; don't know is a missing code
    scale = q.question("supply_matrix").scale
    assert (scale.min, scale.max) == (1, 10) and "dont_know" in scale.missing_codes()


def test_inspection_weights_follow_severity() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "qr_code_inspection.yaml").questionnaire
    assert q is not None and q.kind == "inspection"
    checks = [question for question in q.questions if question.check is not None]
    assert len(checks) == 16
    weights = q.effective_weights()
    severity_weight = {"critical": 3, "major": 2, "minor": 1}
    for question in checks:  # every check's effective weight is its severity weight / 32
        assert math.isclose(weights[question.id], severity_weight[question.check.severity] / 32), question.id
        assert question.check.legal_basis, question.id
        assert all(basis in q.legal_basis for basis in question.check.legal_basis)
    # a failed critical check needs its own evidence photo, relevant on failure and required
    for question in checks:
        if question.check.severity == "critical":
            evidence = q.question(question.check.evidence)
            assert evidence.type == "photo" and evidence.required
            assert question.id in evidence.relevant.references
    assert q.item_specs()["chk_forced_follow"] == {"min": 0, "max": 1, "reverse": False}
    articles = {q.legal_basis[key].article.get("en") for key in q.legal_basis}
    assert {
        "Art. 8",
        "Art. 9",
        "Art. 10",
        "Art. 16 ¶2",
        "Art. 26",
        "Art. 29",
        "Art. 23",
        "Art. 6",
        "Art. 16",
    } <= articles


def test_appliance_survey_scores_choices() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "appliance_after_sales.yaml").questionnaire
    assert q is not None
    assert q.item_specs()["q_response_time"] == {"min": 0.0, "max": 4.0, "reverse": False}
    assert q.item_specs()["q_exaggerated_fault"]["reverse"] is True
    assert q.question("q_exaggerated_fault").scale.max == 5


def test_index_tree_is_plain_data_for_scoring() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "city_satisfaction.yaml").questionnaire
    tree = q.index_tree()
    assert tree["id"] == "overall_satisfaction" and tree["aggregation"] == "arithmetic"
    assert tree["min_share"] == 0.6
    supply = tree["children"][0]
    assert supply == {**supply, "id": "supply", "weight": 35.0, "min_share": 0.5}
    protection = next(i for d in tree["children"] for i in d["children"] if i["id"] == "rights_protection")
    assert protection["min_share"] == 0.3
    assert protection["children"][0] == {"id": "q_complaint_channels", "weight": 1.0}
    leaves = [leaf["id"] for d in tree["children"] for i in d["children"] for leaf in i["children"]]
    assert sorted(leaves) == sorted(q.item_specs())


def test_identity_is_id_version_and_file_hash() -> None:
    path = QUESTIONNAIRES / "qr_code_inspection.yaml"
    q = load_questionnaire(path).questionnaire
    assert q.identity == ("qr_code_inspection", "2025.1", hashlib.sha256(path.read_bytes()).hexdigest())
    edited = load_text(path.read_text(encoding="utf-8") + "# a comment\n").questionnaire
    assert edited.content_hash != q.content_hash and edited.version == q.version


def test_questionnaire_is_immutable() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "appliance_after_sales.yaml").questionnaire
    with pytest.raises(AttributeError):
        q.version = "2"  # type: ignore[misc]
    with pytest.raises(TypeError):
        q.scales["x"] = None  # type: ignore[index]


# -- more error classes, in memory ------------------------------------------------------------------------------

HEAD = """id: t
version: 1
kind: survey
title: {zh-CN: 标题, en: Title}
languages: [zh-CN, en]
sections:
  - id: s
    questions:
"""


def problems(body: str) -> list[str]:
    return [p.format() for p in load_text(HEAD + body, "t.yaml").problems]


def test_all_problems_of_a_file_are_reported_in_order() -> None:
    body = """      - id: q_a
        type: likret
        label: A
      - id: q_b
        type: text
        label: {en: B, fr: b}
        scale: x
      - id: q_c
        type: integer
        label: C
        min: 5
        max: 1
        screen: ". > 1"
      - id: q_d
        type: yes_no
        label: D
        relevant: "${q_d} = true"
        check: {pass_if: true, severity: fatal, legal_basis: [nope], evidence: q_c}
      - id: q_e
        type: calculate
        calculation: "${q_f} + 1"
      - id: q_f
        type: calculate
        calculation: "${q_e} * 2"
      - id: q_g
        type: likert
        label: G
        scale: {min: 1, max: 5, labels: {1: a}}
"""
    assert problems(body) == [
        "t.yaml:10:15: error: unknown question type 'likret' in question, did you mean 'likert'?",
        "t.yaml:14:16: error: text in the default language 'zh-CN' is missing",
        "t.yaml:14:24: error: language 'fr' is not in languages (zh-CN, en)",
        "t.yaml:15:9: error: key 'scale' does not apply to a text question",
        "t.yaml:20:14: error: 'max' (1) of question 'q_c' is less than 'min' (5)",
        "t.yaml:21:17: error: screening question 'q_c' must be required",
        "t.yaml:25:20: error: cycle in relevant/calculation: q_d → q_d",
        "t.yaml:26:42: error: unknown severity 'fatal' in check (expected one of critical, major, minor)",
        "t.yaml:26:63: error: unknown legal basis 'nope'",
        "t.yaml:26:80: error: evidence 'q_c' of the check of 'q_d' must be a photo question, not integer",
        "t.yaml:32:23: error: cycle in relevant/calculation: q_e → q_f → q_e",
        "t.yaml:36:41: error: scale 'q_g' must label both ends (1 and 5)",
    ]


def test_unsafe_tags_and_aliases_are_refused() -> None:
    body = """      - !!python/object/apply:os.system {id: q_x}
      - &shared {id: q_a, type: text, label: A}
      - *shared
"""
    assert problems(body) == [
        "t.yaml:9:9: error: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' for 'questions'"
        " in section",
        "t.yaml:10:9: error: this value is reused through a YAML alias: anchors and aliases (&name, *name) are not"
        " supported, write the value out",
    ]


def test_index_items_must_be_scorable_and_unique() -> None:
    body = """      - id: q_text
        type: text
        label: T
      - id: m
        type: matrix
        label: M
        scale: {min: 1, max: 5, labels: {1: a, 5: b}}
        items: [{id: q_a, label: A}]
index:
  id: overall
  dimensions:
    - id: d
      indicators:
        - id: i
          items: [q_text, m, q_a, q_a]
        - id: q_a
          weight: .nan
          items: [q_a]
"""
    assert problems(body) == [
        "t.yaml:23:19: error: 'q_text' (a text question) cannot be an index item: use a likert question, a matrix"
        " item, a single choice with scores or a yes_no check",
        "t.yaml:23:27: error: 'm' is a matrix: list its items in indicator 'i'",
        "t.yaml:23:35: error: item 'q_a' is already in the index (line 23)",
        "t.yaml:24:15: error: index id 'q_a' is also a question id",
        "t.yaml:25:19: error: weight of indicator 'q_a' must be a finite number",
        "t.yaml:26:19: error: item 'q_a' is already in the index (line 23)",
    ]


def test_expression_in_folded_block_and_escapes_map_to_the_file() -> None:
    body = """      - id: q_a
        type: integer
        label: A
      - id: q_b
        type: integer
        label: B
        relevant: >
          ${q_a} > 1 and
          ${q_c} > 2
      - id: q_d
        type: text
        label: D
        relevant: '''x'' = ${q_zz}'
"""
    lines = problems(body)
    assert len(lines) == 2
    assert lines[0].startswith(
        "t.yaml:17:11: error: relevant of question 'q_b': "
    )  # ${q_c} on the block's 2nd line
    assert "unknown question 'q_c'" in lines[0]
    # single-quoted with '' escapes: quote at column 19, ${q_zz} is the 10th raw character
    assert lines[1].startswith("t.yaml:21:28: error: relevant of question 'q_d': ")
    assert "unknown question 'q_zz'" in lines[1]


def test_file_level_problems(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"id: caf\xe9\n")
    assert [p.format() for p in load_questionnaire(tmp_path / "latin1.yaml").problems] == [
        f"{tmp_path / 'latin1.yaml'}:1:8: error: the file is not valid UTF-8"
    ]
    (tmp_path / "empty.yaml").write_text("")
    assert load_questionnaire(tmp_path / "empty.yaml").problems[0].message.startswith("the file is empty")
    assert [p.format() for p in load_questionnaire(tmp_path / "missing.yaml").problems] == [
        f"{tmp_path / 'missing.yaml'}: error: no such file"
    ]
    assert "is a directory" in load_questionnaire(tmp_path).problems[0].message


def test_same_id_and_version_twice_in_a_directory(tmp_path: Path) -> None:
    text = (QUESTIONNAIRES / "appliance_after_sales.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text + "\n# copy\n", encoding="utf-8")
    results = load_directory(tmp_path)
    assert results[tmp_path / "a.yaml"].ok
    assert [p.message for p in results[tmp_path / "b.yaml"].problems] == [
        f"questionnaire 'appliance_after_sales' version '1' is also defined in {tmp_path / 'a.yaml'}: "
        "change the version"
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in QUESTIONNAIRES.glob("*.yaml")))
def test_real_files_read_the_same_with_the_c_and_the_python_yaml_parser(name: str) -> None:
    import yaml

    text = (QUESTIONNAIRES / name).read_text(encoding="utf-8")
    assert yaml.load(text, Loader=yaml.SafeLoader) == yaml.load(
        text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )
