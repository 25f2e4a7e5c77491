"""The plain-data contract with the scoring package: index_tree(), item_specs(), item_values()."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scoring.index import compute_index, effective_weights, score_items
from survey_platform.questionnaire.answers import validate_answers
from survey_platform.questionnaire.load import load_questionnaire, load_text

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


@pytest.mark.parametrize("name", sorted(p.name for p in QUESTIONNAIRES.glob("*.yaml")))
def test_effective_weights_agree_with_the_scoring_package(name: str) -> None:
    q = load_questionnaire(QUESTIONNAIRES / name).questionnaire
    theirs = effective_weights(q.index_tree())
    ours = q.effective_weights()
    assert set(ours) == set(q.item_specs())
    for item_id, weight in ours.items():
        assert math.isclose(weight, theirs[item_id], rel_tol=1e-12), item_id


def test_an_answer_set_scores_through_the_contract() -> None:
    text = """
id: tiny
version: 1
kind: survey
title: Tiny
scales:
  s5: {min: 1, max: 5, labels: {1: 差, 5: 好}, missing: [{code: dont_know, label: 不清楚}]}
sections:
  - id: s
    questions:
      - id: m
        type: matrix
        label: M
        scale: s5
        items: [{id: a, label: A}, {id: b, label: B, reverse: true}, {id: c, label: C}]
      - {id: d, type: likert, label: D, scale: s5}
index:
  id: overall
  dimensions:
    - {id: d1, weight: 3, indicators: [{id: i1, items: [a, {id: b, weight: 3}]}]}
    - {id: d2, weight: 1, indicators: [{id: i2, min_share: 0.6, items: [c, d]}]}
"""
    q = load_text(text).questionnaire
    check = validate_answers(q, {"m": {"a": 5, "b": 2, "c": "dont_know"}, "d": 4})
    assert check.errors == ()
    values = q.item_values(check.values)
    assert values["a"] == 5.0 and values["b"] == 2.0 and math.isnan(values["c"]) and values["d"] == 4.0
    scores = score_items({k: [v] for k, v in values.items()}, q.item_specs())
    result = compute_index(q.index_tree(), scores)
    # by hand: a = 100, b reversed = 100 - 25 = 75 → i1 = (100 + 3·75)/4 = 81.25;
    # i2: c missing, d answered with half the weight < min_share 0.6 → missing; d2 missing;
    # overall = d1 alone (available case) = 81.25
    assert result.scores["i1"][0] == pytest.approx(81.25)
    assert math.isnan(result.scores["i2"][0])
    assert result.scores["overall"][0] == pytest.approx(81.25)
