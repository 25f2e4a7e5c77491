"""The extraction plan gives exactly Questionnaire.item_values, column by column."""

from __future__ import annotations

import math

import numpy as np
import pytest

from survey_platform.publishing.synthetic import NationalCampaign
from survey_platform.questionnaire.columns import AnswerValueError, item_columns, scale_points
from survey_platform.questionnaire.model import Questionnaire


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_item_columns_equal_item_values_on_a_campaign(
    small_campaign: NationalCampaign, survey_q: Questionnaire
) -> None:
    answers = [r.answers for r in small_campaign.current.responses if r.quality != "screened_out"]
    answers += [  # partial and odd rows: a matrix with a missing item, no matrix, codes everywhere
        {"supply_matrix": {"q_variety": 3}},
        {},
        {"q_privacy_worry": "dont_know", "rights_matrix": {"q_education": "dont_know"}},
    ]
    columns = item_columns(survey_q, answers)
    assert list(columns) == list(survey_q.item_specs())
    for i, a in enumerate(answers):
        expected = survey_q.item_values(a)
        for item, value in expected.items():
            assert _same(float(columns[item][i]), value), (i, item)
    assert np.isnan(columns["q_complaint_result"]).mean() > 0.5  # asked only after a complaint


def test_inspection_checks_become_pass_1_fail_0(
    small_campaign: NationalCampaign, inspection_q: Questionnaire
) -> None:
    assert small_campaign.inspection is not None
    answers = [a.answers for a in small_campaign.inspection.audits]
    columns = item_columns(inspection_q, answers)
    for i, a in enumerate(answers):
        for item, value in inspection_q.item_values(a).items():
            assert _same(float(columns[item][i]), value)
    assert set(np.unique(columns["chk_forced_follow"][~np.isnan(columns["chk_forced_follow"])])) <= {0.0, 1.0}


def test_a_value_that_is_no_valid_answer_is_refused(survey_q: Questionnaire) -> None:
    with pytest.raises(AnswerValueError, match="q_variety"):
        item_columns(survey_q, [{"supply_matrix": {"q_variety": 11}}])
    with pytest.raises(AnswerValueError, match="q_overall"):
        scale_points(survey_q, [{"q_overall": "seven"}], "q_overall")
    assert (
        scale_points(survey_q, [{"q_overall": 7}, {"q_overall": "dont_know"}, {}], "q_overall").tolist()[0]
        == 7.0
    )
