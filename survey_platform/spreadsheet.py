"""Export files: spreadsheet-safe cells, CSV streamed in chunks, XLSX written by a worker thread page by page.

Rows come from an async iterator (the header first), read from the database a page at a time, so an export of any
size takes constant memory. xlsxwriter is synchronous (and compresses the file when it closes): every call into it
runs in a worker thread, one page of rows at a time, so the event loop keeps serving requests meanwhile.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_PAGE_ROWS = 1_000


def cell(value: object) -> object:
    """A spreadsheet-safe cell: text that a spreadsheet would run as a formula gets a leading apostrophe.

    None is an empty cell, booleans are 1/0, lists are joined with ';' and mappings written as JSON.
    """
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return cell(";".join(str(v) for v in value))
    if isinstance(value, dict):
        return cell(json.dumps(value, ensure_ascii=False))
    return value


async def csv_chunks(rows: AsyncIterator[Sequence[object]], rows_per_chunk: int = 500) -> AsyncIterator[str]:
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


class _XlsxSheet:
    """One constant-memory worksheet; every method is called from a worker thread, one call at a time."""

    def __init__(self, path: Path, sheet_name: str) -> None:
        self.workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
        self.sheet = self.workbook.add_worksheet(sheet_name)
        self.rows = 0

    def write(self, rows: Sequence[Sequence[object]]) -> None:
        sheet = self.sheet
        for row in rows:
            for column, value in enumerate(row):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(self.rows, column, value)
                else:
                    sheet.write_string(self.rows, column, str(value))
            self.rows += 1

    def close(self) -> None:
        try:
            self.workbook.close()
        except FileCreateError as error:  # xlsxwriter wraps the OSError of creating the file
            cause = error.args[0] if error.args else None
            raise (cause if isinstance(cause, OSError) else OSError(str(error))) from None


async def write_xlsx(
    rows: AsyncIterator[Sequence[object]],
    path: Path,
    sheet_name: str = "data",
    page_rows: int = XLSX_PAGE_ROWS,
) -> int:
    """Write the rows (header first) to an XLSX file off the event loop; returns the number of data rows.

    A worker thread writes one page while the next is read; at most two pages are held at once.
    """
    sheet = await asyncio.to_thread(_XlsxSheet, path, sheet_name)
    pending: asyncio.Future[None] | None = None
    try:
        page: list[Sequence[object]] = []
        async for row in rows:
            page.append(row)
            if len(page) >= page_rows:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(asyncio.to_thread(sheet.write, page))
                page = []
        if pending is not None:
            await pending
            pending = None
        if page:
            await asyncio.to_thread(sheet.write, page)
    finally:
        if pending is not None:  # an error while reading: let the thread finish before closing the workbook
            await asyncio.gather(pending, return_exceptions=True)
        await asyncio.to_thread(sheet.close)
    return max(sheet.rows - 1, 0)
