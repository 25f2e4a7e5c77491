"""Server-side answer validation: `validate_answers` on the city questionnaire, per call.

50 random valid answer sets (the ones the service load generator sends), best of 15 rounds of 500 calls, next to
a reference measured in the same run (building the same answer dict with `dict(...)` copies, so a slow or busy
machine moves both). To compare with an older commit, point PYTHONPATH at a checkout of it:

    .venv/bin/python benchmarks/validation.py
    PYTHONPATH=/tmp/before .venv/bin/python benchmarks/validation.py
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_load import QUESTIONNAIRE, valid_answers

from survey_platform.questionnaire import load_questionnaire, validate_answers


def best_per_call(
    function: Callable[[Any], object], items: list[Any], rounds: int = 15, calls: int = 500
) -> float:
    """The fastest of ``rounds`` timings of ``calls`` calls, per call (the least disturbed by other jobs)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for index in range(calls):
            function(items[index % len(items)])
        best = min(best, (time.perf_counter() - started) / calls)
    return best


def main() -> int:
    import survey_platform

    questionnaire = load_questionnaire(QUESTIONNAIRE).questionnaire
    assert questionnaire is not None
    rng = random.Random(7)
    answer_sets = [valid_answers(QUESTIONNAIRE, rng) for _ in range(50)]
    assert all(validate_answers(questionnaire, answers).ok for answers in answer_sets)
    validate = best_per_call(lambda answers: validate_answers(questionnaire, answers), answer_sets)
    reference = best_per_call(
        lambda answers: {k: dict(v) if isinstance(v, dict) else v for k, v in answers.items()}, answer_sets
    )
    print(f"package: {Path(survey_platform.__file__).parent}")
    print(f"validate_answers: {validate * 1e6:.1f} µs per call")
    print(f"reference (copy the answer set): {reference * 1e6:.2f} µs; ratio {validate / reference:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
