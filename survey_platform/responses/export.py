"""Raw response export for analysts: one row per response, one column per answer, with quality flags.

Rows are read in id order, a page at a time, so exports of any size stream in constant memory; the files are
written by :mod:`survey_platform.spreadsheet`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from survey_platform.questionnaire import Questionnaire
from survey_platform.spreadsheet import cell
from survey_platform.storage.tables import Campaign, SurveyResponse

PAGE_ROWS = 2_000
META_COLUMNS: tuple[str, ...] = (
    "id",
    "campaign",
    "city",
    "venue",
    "questionnaire_version",
    "channel",
    "started_at",
    "submitted_at",
    "received_at",
    "duration_seconds",
    "eligible",
    "status",
    "status_reason",
    "quality_flags",
)


def answer_columns(questionnaire: Questionnaire) -> list[str]:
    """One column per answer: question ids, and ``question.item`` for matrix items (notes have none)."""
    columns: list[str] = []
    for question in questionnaire.questions:
        if question.type == "note":
            continue
        if question.type == "matrix":
            columns.extend(f"{question.id}.{item.id}" for item in question.items)
        else:
            columns.append(question.id)
    return columns


def flatten(answers: Mapping[str, Any], columns: Iterable[str]) -> list[object]:
    """The answer cells of one response in ``columns`` order (multiple choices joined with ';')."""
    cells: list[object] = []
    for column in columns:
        question, _, item = column.partition(".")
        value = answers.get(question)
        if item:
            value = value.get(item) if isinstance(value, Mapping) else None
        cells.append(cell(value))
    return cells


def _meta(row: Mapping[str, Any], code: str) -> list[object]:
    flags = row["quality_flags"]
    flags = json.loads(flags) if isinstance(flags, str) else flags
    return [
        str(row["uuid"]),
        code,
        cell(row["city_code"]),
        cell(row["venue_id"]),
        row["questionnaire"],
        row["channel"],
        cell(row["started_at"] and row["started_at"].isoformat()),
        cell(row["submitted_at"] and row["submitted_at"].isoformat()),
        row["received_at"].isoformat(),
        cell(row["duration_seconds"]),
        int(bool(row["eligible"])),
        row["status"],
        row["status_reason"],
        ";".join(flags or []),
    ]


async def campaign_rows(campaign_code: str, columns: list[str]) -> AsyncIterator[list[object]]:
    """Every response of a campaign as a flat row (header first)."""
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == campaign_code).first().run()
    yield [*META_COLUMNS, *columns]
    if campaign is None:
        return
    last_id = 0
    while True:
        page = (
            await SurveyResponse.select()
            .where((SurveyResponse.campaign == campaign["id"]) & (SurveyResponse.id > last_id))
            .order_by(SurveyResponse.id)
            .limit(PAGE_ROWS)
            .run()
        )
        if not page:
            return
        for row in page:
            answers = json.loads(row["answers"]) if isinstance(row["answers"], str) else row["answers"]
            yield _meta(row, campaign_code) + flatten(answers or {}, columns)
        last_id = page[-1]["id"]
