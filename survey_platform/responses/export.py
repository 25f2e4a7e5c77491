"""Raw response export for analysts: one row per response, one column per answer, with quality flags.

Rows are read in id order, a page at a time, so exports of any size stream in constant memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

import xlsxwriter

from survey_platform.questionnaire import Questionnaire
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


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A spreadsheet-safe cell: text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def flatten(answers: Mapping[str, Any], columns: Iterable[str]) -> list[object]:
    """The answer cells of one response in ``columns`` order (multiple choices joined with ';')."""
    cells: list[object] = []
    for column in columns:
        question, _, item = column.partition(".")
        value = answers.get(question)
        if item:
            value = value.get(item) if isinstance(value, Mapping) else None
        cells.append(_cell(value))
    return cells


def _meta(row: Mapping[str, Any], code: str) -> list[object]:
    flags = row["quality_flags"]
    flags = json.loads(flags) if isinstance(flags, str) else flags
    return [
        str(row["uuid"]),
        code,
        _cell(row["city_code"]),
        _cell(row["venue_id"]),
        row["questionnaire"],
        row["channel"],
        _cell(row["started_at"] and row["started_at"].isoformat()),
        _cell(row["submitted_at"] and row["submitted_at"].isoformat()),
        row["received_at"].isoformat(),
        _cell(row["duration_seconds"]),
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


async def csv_chunks(rows: AsyncIterator[list[object]], rows_per_chunk: int = 500) -> AsyncIterator[str]:
    """CSV text in chunks (UTF-8 with BOM first, so spreadsheet programs read Chinese correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    count = 0
    async for row in rows:
        writer.writerow(row)
        count += 1
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


async def write_xlsx(rows: AsyncIterator[list[object]], path: Path) -> int:
    """Write the rows to an XLSX file in constant memory; returns the number of data rows."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("responses")
    count = -1
    try:
        async for row in rows:
            count += 1
            for column, value in enumerate(row):
                if isinstance(value, int | float):
                    sheet.write_number(count, column, value)
                else:
                    sheet.write_string(count, column, str(value))
    finally:
        workbook.close()
    return max(count, 0)
