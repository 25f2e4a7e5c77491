"""Compliance of inspection audits: one definition for exports, the reviewer's desk and releases.

An inspection questionnaire's checks are its yes/no questions with a ``check`` (``pass_if``, severity, legal basis).
For each audit:

- every check is ``pass``, ``fail`` or ``na`` (not applicable: not asked, or not answered);
- the compliance score (0–100) is the questionnaire's own index over its check items: the weights the association
  wrote in the YAML (severity-proportional in ``qr_code_inspection.yaml``), available-case, with the tree's
  ``min_share`` rules (``scoring.index.compute_index``); so 100 × Σ_applicable w·[pass] / Σ_applicable w for a
  one-level tree (OECD/JRC 2008 Handbook §6.1);
- the problem flag and the violated checks (critical first) follow ``scoring.inspection.score_venue``
  (``rule="any_fail"``: any failed check is a problem, as the associations' reports count problem venues).

Pure functions over a loaded :class:`~survey_platform.questionnaire.model.Questionnaire` and validated answer values.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scoring.index import compute_index, score_items
from scoring.inspection import Check, VenueInspection, score_venue
from survey_platform.questionnaire.model import Question, Questionnaire

SEVERITY_ORDER: tuple[str, ...] = ("critical", "major", "minor")


@dataclasses.dataclass(frozen=True, slots=True)
class AuditCompliance:
    """One audit's verdict: answers per check, compliance score (None when no check applied), violations."""

    answers: dict[str, str]  # check question id -> pass / fail / na
    score: float | None
    problem: bool
    any_critical: bool
    violated: tuple[str, ...]  # check question ids, most severe first
    n_applicable: int


def check_questions(questionnaire: Questionnaire) -> list[Question]:
    """The questionnaire's checks (yes/no questions with pass/fail semantics), in document order."""
    return [q for q in questionnaire.questions if q.type == "yes_no" and q.check is not None]


def scoring_checks(questionnaire: Questionnaire, language: str = "zh-CN") -> list[Check]:
    """The checks as ``scoring.inspection.Check`` (code = question id; legal basis ids joined with ',')."""
    return [
        Check(
            code=q.id,
            label=q.label.get(language) if q.label else q.id,
            severity=q.check.severity,  # type: ignore[union-attr]
            legal_basis=",".join(q.check.legal_basis),  # type: ignore[union-attr]
        )
        for q in check_questions(questionnaire)
    ]


def check_answers(questionnaire: Questionnaire, values: Mapping[str, Any]) -> dict[str, str]:
    """pass / fail / na for every check of one audit's validated answer values."""
    out: dict[str, str] = {}
    for q in check_questions(questionnaire):
        raw = values.get(q.id)
        if not isinstance(raw, bool):
            out[q.id] = "na"
        else:
            out[q.id] = "pass" if raw == q.check.pass_if else "fail"  # type: ignore[union-attr]
    return out


def compliance_scores(
    questionnaire: Questionnaire, answer_sets: Sequence[Mapping[str, Any]]
) -> list[float | None]:
    """The questionnaire index (0–100) of each audit, computed for all audits at once; None where missing."""
    tree = questionnaire.index_tree()
    if tree is None or not answer_sets:
        return [None] * len(answer_sets)
    specs = questionnaire.item_specs()
    columns: dict[str, list[float]] = {item: [] for item in specs}
    for values in answer_sets:
        numeric = questionnaire.item_values(values)
        for item in specs:
            columns[item].append(numeric[item])
    result = compute_index(tree, score_items({k: np.asarray(v) for k, v in columns.items()}, specs))
    top = result.scores[result.tree.id]
    return [None if math.isnan(value) else float(value) for value in top]


def audit_compliance(
    questionnaire: Questionnaire, answer_sets: Sequence[Mapping[str, Any]]
) -> list[AuditCompliance]:
    """Each audit's compliance (see the module docstring), in the order of ``answer_sets``."""
    checks = scoring_checks(questionnaire)
    scores = compliance_scores(questionnaire, answer_sets)
    out: list[AuditCompliance] = []
    for values, score in zip(answer_sets, scores, strict=True):
        answers = check_answers(questionnaire, values)
        verdict = score_venue(VenueInspection("", "", "", "", answers), checks)
        out.append(
            AuditCompliance(
                answers=answers,
                score=score,
                problem=verdict.problem,
                any_critical=verdict.any_critical,
                violated=tuple(check.code for check in verdict.violated),
                n_applicable=verdict.n_applicable,
            )
        )
    return out


__all__ = [
    "SEVERITY_ORDER",
    "AuditCompliance",
    "audit_compliance",
    "check_answers",
    "check_questions",
    "compliance_scores",
    "scoring_checks",
]
