"""The quality rules of a survey campaign's interviews, applied to the campaign as a whole (pure).

One definition each, in :mod:`scoring.quality`: speeding (shorter than ``SPEEDING_FRACTION`` × the campaign's
median duration), straight-lining (identical answers across a matrix question of at least six answered items), too
many missing answers (more than 30% "don't know"/"not applicable" among the index items the respondent was asked)
and duplicated answer sets (identical answers on every index item). Only eligible interviews are judged. A flag is
a question for a reviewer (keep or exclude, ``responses.reviews``), never an exclusion by itself.
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
        columns = item_columns(questionnaire, answers)
        x = np.column_stack([columns[col.item] for col in plan])
        grids: dict[str, list[int]] = {}
        for j, col in enumerate(plan):
            if col.sub is not None:
                grids.setdefault(col.question, []).append(j)
        raised["straightlining"] = flag_straightlining(x, grids=list(grids.values()))
        raised["too_many_missing"], _ = flag_missing(x, applicable=_asked(plan, answers))
        raised["duplicate"] = flag_duplicates(x)
    flags: dict[str, tuple[str, ...]] = {}
    for i, response_id in enumerate(ids):
        found = tuple(name for name in FLAGS if name in raised and raised[name][i])
        if found:
            flags[response_id] = found
    counts = {name: int(raised[name].sum()) if name in raised else 0 for name in FLAGS}
    return CampaignQuality(flags, median, counts)


def _asked(plan: Sequence[Any], answers: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """n × k: whether each index item was asked (answered, or answered "don't know"/"not applicable")."""
    asked = np.zeros((len(answers), len(plan)), dtype=bool)
    for j, col in enumerate(plan):
        values = list(map(dict.get, answers, repeat(col.question)))  # type: ignore[arg-type]
        if col.sub is None:
            asked[:, j] = [value is not None for value in values]
        else:
            asked[:, j] = [isinstance(value, dict) and value.get(col.sub) is not None for value in values]
    return asked


__all__ = ["FLAGS", "FLAG_NAMES", "CampaignQuality", "campaign_quality"]
