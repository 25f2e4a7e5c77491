"""An audit names its venue twice, in its ``venue`` field and in the answer to the questionnaire's venue question;
the two must agree (pure).

The answer to a ``venue`` question (a string, ``questionnaire.answers``) references the venue registry: for an audit
it is the venue's id as decimal text (``"42"``), the same venue as the audit's ``venue`` field. Anything else is a
contradiction, refused with both paths named rather than one of the two silently believed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from survey_platform.questionnaire import Questionnaire
from survey_platform.storage.errors import FieldProblem


def venue_reference(venue_id: int) -> str:
    """The answer that references venue ``venue_id``."""
    return str(venue_id)


def venue_contradictions(
    questionnaire: Questionnaire, values: Mapping[str, Any], venue_id: int
) -> list[FieldProblem]:
    """Problems (two per contradiction: the answer's path and ``$.venue``) when a venue answer names another venue."""
    expected = venue_reference(venue_id)
    problems: list[FieldProblem] = []
    for question in questionnaire.questions:
        answer = values.get(question.id) if question.type == "venue" else None
        if not isinstance(answer, str) or answer.strip() == expected:
            continue
        path = f"$.answers.{question.id}"
        shown = answer[:60]
        problems.append(
            FieldProblem(
                path,
                "contradiction",
                f"场所题答案 '{shown}' 与检查记录的场所 {venue_id}（$.venue）不一致，应为 \"{expected}\" / the venue "
                f"answer '{shown}' contradicts the audit's venue {venue_id} ($.venue): expected \"{expected}\"",
            )
        )
        problems.append(
            FieldProblem(
                "$.venue",
                "contradiction",
                f"场所 {venue_id} 与场所题答案 '{shown}'（{path}）不一致 / venue {venue_id} contradicts the "
                f"answer '{shown}' to the venue question ({path})",
            )
        )
    return problems


__all__ = ["venue_contradictions", "venue_reference"]
