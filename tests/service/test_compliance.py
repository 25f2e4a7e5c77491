"""Compliance of audits: one definition (the checklist's own index weights, scoring.inspection's problem rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_platform.audits.compliance import audit_compliance, check_answers, check_questions
from survey_platform.questionnaire.load import load_questionnaire

QR = load_questionnaire(Path(__file__).resolve().parents[2] / "questionnaires" / "qr_code_inspection.yaml")


def _all_pass() -> dict[str, object]:
    questionnaire = QR.questionnaire
    assert questionnaire is not None
    return {q.id: q.check.pass_if for q in check_questions(questionnaire)}  # type: ignore[union-attr]


def test_a_fully_compliant_venue_scores_100_and_has_no_problem() -> None:
    (verdict,) = audit_compliance(QR.questionnaire, [_all_pass()])  # type: ignore[arg-type]
    assert verdict.score == pytest.approx(100.0)
    assert not verdict.problem and verdict.violated == ()


def test_failed_checks_cost_their_severity_weight_and_critical_ones_come_first() -> None:
    questionnaire = QR.questionnaire
    assert questionnaire is not None
    values = _all_pass()
    values["chk_menu_available"] = False  # major
    values["chk_forced_follow"] = True  # critical
    values.pop("chk_plate_binding")  # not a car park: not applicable
    (verdict,) = audit_compliance(questionnaire, [values])
    answers = check_answers(questionnaire, values)
    assert answers["chk_plate_binding"] == "na" and answers["chk_forced_follow"] == "fail"
    assert verdict.violated == ("chk_forced_follow", "chk_menu_available")
    assert verdict.problem and verdict.any_critical
    # By hand from the YAML's tree (available-case within each node): forced_binding = (0·3 + 100·2 + 100·3)/8
    # = 62.5 (plate binding n/a); payment_freedom = (4·100 + 9·62.5)/13; price_information = (0·2 + 100·2)/4 = 50;
    # transparency = (4·50 + 3·100)/7; personal_data = 100; overall = (13·pf + 12·100 + 7·tr)/32.
    payment_freedom = (4 * 100 + 9 * 62.5) / 13
    transparency = (4 * 50 + 3 * 100) / 7
    assert verdict.score == pytest.approx((13 * payment_freedom + 12 * 100 + 7 * transparency) / 32)
    assert verdict.n_applicable == len(answers) - 1


def test_an_audit_with_no_check_answered_has_no_score() -> None:
    (verdict,) = audit_compliance(QR.questionnaire, [{}])  # type: ignore[arg-type]
    assert verdict.score is None and not verdict.problem and verdict.n_applicable == 0
