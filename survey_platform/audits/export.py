"""Raw audit export of an inspection campaign: one row per audit, with its venue, verdict and evidence.

Columns: the audit and its venue (id, name, city, registry category), inspector, review state and quality flags;
the compliance verdict of :mod:`survey_platform.audits.compliance` (score 0–100, problem flag, critical problem,
violated checks most severe first); GPS position and accuracy; start, capture (submitted) and received times;
the evidence photos' SHA-256; then one column per answer as in the response export, where each check question
holds ``pass``, ``fail`` or ``na``. Rows are read a page at a time in id order (constant memory).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from survey_platform.audits.compliance import AuditCompliance, audit_compliance
from survey_platform.questionnaire import Questionnaire
from survey_platform.responses.export import answer_columns, flatten
from survey_platform.spreadsheet import cell
from survey_platform.storage.tables import Audit

PAGE_ROWS = 1_000
META_COLUMNS: tuple[str, ...] = (
    "id",
    "campaign",
    "venue_id",
    "venue_name",
    "city",
    "venue_category",
    "inspector",
    "review_state",
    "status",
    "quality_flags",
    "compliance",
    "problem",
    "critical_problem",
    "violated_checks",
    "latitude",
    "longitude",
    "accuracy_m",
    "started_at",
    "submitted_at",
    "received_at",
    "photos",
)

_COLUMNS = (
    Audit.id,
    Audit.uuid,
    Audit.answers,
    Audit.review_state,
    Audit.status,
    Audit.quality_flags,
    Audit.latitude,
    Audit.longitude,
    Audit.accuracy_m,
    Audit.started_at,
    Audit.submitted_at,
    Audit.received_at,
    Audit.photos,
    Audit.venue.as_alias("venue_id"),
    Audit.venue.name.as_alias("venue_name"),
    Audit.venue.category.as_alias("venue_category"),
    Audit.venue.city.code.as_alias("city"),
    Audit.inspector.username.as_alias("inspector_name"),
)


def _loads(value: object) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _time(value: Any) -> object:
    return cell(value.isoformat() if value is not None else None)


def audit_row(
    row: Mapping[str, Any],
    campaign_code: str,
    values: Mapping[str, Any],
    verdict: AuditCompliance,
    columns: list[str],
) -> list[object]:
    """One audit as a flat row in :data:`META_COLUMNS` + ``columns`` order (pure)."""
    return [
        str(row["uuid"]),
        campaign_code,
        row["venue_id"],
        cell(row["venue_name"]),
        cell(row["city"]),
        cell(row["venue_category"]),
        cell(row["inspector_name"]),
        row["review_state"],
        row["status"],
        cell(_loads(row["quality_flags"]) or []),
        cell(None if verdict.score is None else round(verdict.score, 6)),
        int(verdict.problem),
        int(verdict.any_critical),
        cell(list(verdict.violated)),
        cell(row["latitude"]),
        cell(row["longitude"]),
        cell(row["accuracy_m"]),
        _time(row["started_at"]),
        _time(row["submitted_at"]),
        _time(row["received_at"]),
        cell(_loads(row["photos"]) or []),
        *flatten({**values, **verdict.answers}, columns),
    ]


async def audit_rows(
    campaign_id: int, campaign_code: str, questionnaire: Questionnaire
) -> AsyncIterator[list[object]]:
    """Every audit of an inspection campaign as a flat row (header first); check answers are pass/fail/na."""
    columns = answer_columns(questionnaire)
    yield [*META_COLUMNS, *columns]
    last_id = 0
    while True:
        page = (
            await Audit.select(*_COLUMNS)
            .where((Audit.campaign == campaign_id) & (Audit.id > last_id))
            .order_by(Audit.id)
            .limit(PAGE_ROWS)
            .run()
        )
        if not page:
            return
        answer_sets = [_loads(row["answers"]) or {} for row in page]
        verdicts = audit_compliance(questionnaire, answer_sets)
        for row, values, verdict in zip(page, answer_sets, verdicts, strict=True):
            yield audit_row(row, campaign_code, values, verdict, columns)
        last_id = page[-1]["id"]


__all__ = ["META_COLUMNS", "audit_row", "audit_rows"]
