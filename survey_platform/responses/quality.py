"""The quality rules of a survey campaign's interviews, applied to the campaign as a whole (pure).

One definition each, in :mod:`scoring.quality`: speeding (shorter than ``SPEEDING_FRACTION`` × the campaign's
median duration), straight-lining (identical answers across a matrix question of at least six answered items), too
many missing answers (more than 30% "don't know"/"not applicable" among the index items the respondent was asked)
and duplicated answer sets (identical answers on every index item and every other closed question: choices,
yes/no, numbers — so that two satisfied respondents who both answered "10" throughout are told apart by who they
are). Only eligible interviews are judged. A flag is a question for a reviewer (keep or exclude,
``responses.reviews``), never an exclusion by itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np

from scoring.quality import flag_duplicates, flag_missing, flag_speeding, flag_straightlining
from survey_platform.questionnaire.columns import extraction_plan, item_columns
from survey_platform.questionnaire.model import Questionnaire

FLAGS: tuple[str, ...] = ("speeding", "straightlining", "too_many_missing", "duplicate")
FLAG_NAMES: dict[str, str] = {
    "speeding": "答题过快 / speeding",
    "straightlining": "直线作答 / straight-lining",
    "too_many_missing": "缺失过多 / too many missing answers",
    "duplicate": "答案重复 / duplicated answer set",
}


@dataclasses.dataclass(frozen=True, slots=True)
class CampaignQuality:
    """The flags of every flagged interview (by response id), the median duration, and counts per flag."""

    flags: dict[str, tuple[str, ...]]
    median_duration: float | None
    counts: dict[str, int]


def campaign_quality(
    questionnaire: Questionnaire,
    ids: Sequence[str],
    answers: Sequence[Mapping[str, Any]],
    durations: Sequence[float | None],
) -> CampaignQuality:
    """Apply every quality rule to the eligible interviews of one campaign (``ids``/``answers``/``durations``
    are parallel; a missing duration is never speeding)."""
    n = len(ids)
    if n == 0:
        return CampaignQuality({}, None, dict.fromkeys(FLAGS, 0))
    speeding, median = flag_speeding(np.array([np.nan if d is None else d for d in durations], dtype=float))
    raised: dict[str, np.ndarray] = {"speeding": speeding}
    plan = extraction_plan(questionnaire)
    if plan:
        # missing-answer codes read as -1 first, to tell "asked, answered don't know" (-1) from "not asked" (NaN)
        columns = item_columns(questionnaire, answers, missing_code=-1.0)
        raw = np.column_stack([columns[col.item] for col in plan])
        asked = ~np.isnan(raw)
        x = np.where(raw == -1.0, np.nan, raw)
        grids: dict[str, list[int]] = {}
        for j, col in enumerate(plan):
            if col.sub is not None:
                grids.setdefault(col.question, []).append(j)
        raised["straightlining"] = flag_straightlining(x, grids=list(grids.values()))
        raised["too_many_missing"], _ = flag_missing(x, applicable=asked)
        raised["duplicate"] = flag_duplicates(
            np.column_stack([x, _closed_answers(questionnaire, plan, answers)])
        )
    flags: dict[str, tuple[str, ...]] = {}
    for i, response_id in enumerate(ids):
        found = tuple(name for name in FLAGS if name in raised and raised[name][i])
        if found:
            flags[response_id] = found
    counts = {name: int(raised[name].sum()) if name in raised else 0 for name in FLAGS}
    return CampaignQuality(flags, median, counts)


CLOSED_TYPES = ("single_choice", "multiple_choice", "yes_no", "integer", "decimal", "likert")


def _closed_answers(
    questionnaire: Questionnaire, plan: Sequence[Any], answers: Sequence[Mapping[str, Any]]
) -> np.ndarray:
    """n × m numeric codes of the closed questions that are not index items (NaN when unanswered)."""
    in_index = {col.question for col in plan if col.sub is None}
    questions = [q for q in questionnaire.questions if q.type in CLOSED_TYPES and q.id not in in_index]
    out = np.full((len(answers), len(questions)), np.nan)
    for j, question in enumerate(questions):
        values = list(map(dict.get, answers, repeat(question.id)))  # type: ignore[arg-type]
        if question.type == "multiple_choice":
            values = [tuple(sorted(v)) if isinstance(v, list) else v for v in values]
        codes: dict[Any, float] = {
            None: np.nan
        }  # every distinct answer gets a number (booleans apart from 0/1)
        coded = [
            codes.setdefault((v.__class__, v), float(len(codes))) if v is not None else np.nan for v in values
        ]
        out[:, j] = coded
    return out


__all__ = ["FLAGS", "FLAG_NAMES", "CampaignQuality", "campaign_quality"]
