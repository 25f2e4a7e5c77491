"""Reading city and venue tables from CSV or XLSX files, row by row, with every problem named by line and column.

Pure functions over the file's bytes: :func:`read_sheet` gives the header and the rows (CSV: UTF-8, with or without
a BOM; XLSX: the first worksheet, read with openpyxl), :func:`city_rows` and :func:`venue_rows` turn the rows into
``CityIn`` / ``VenueIn`` records with their problems. Nothing is written here: the admin's room shows the rows and
their problems as a preview, and imports only a file without any (``places.service.import_cities`` /
``import_venues``); the command line uses the same rules (:func:`city_cells`).

Columns. Cities: ``code`` and ``name_zh`` (required), ``name_en``, ``province``, ``population`` (a whole number),
``retail_sales`` (a number), ``margins`` (JSON, checked by ``places.margins``). Venues: ``name``, ``category`` and
``city`` (required; the city must exist or come in the same import), ``address``, ``latitude``, ``longitude``.
An empty cell takes the default.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import zipfile
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Generic, TypeVar

import msgspec

from survey_platform.bodies import split_path
from survey_platform.places.margins import WeightingCategories, margin_problems
from survey_platform.places.schemas import CityIn, VenueIn

Cell = str | int | float | None
T = TypeVar("T")

CITY_COLUMNS: tuple[str, ...] = (
    "code",
    "name_zh",
    "name_en",
    "province",
    "population",
    "retail_sales",
    "margins",
)
VENUE_COLUMNS: tuple[str, ...] = ("name", "category", "city", "address", "latitude", "longitude")
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "cities": ("code", "name_zh"),
    "venues": ("name", "category", "city"),
}
MAX_ROWS = 20_000
XLSX_MAGIC = b"PK\x03\x04"

#: what each column expects, for messages: (中文, English)
COLUMN_RULES: Mapping[str, tuple[str, str]] = {
    "code": (
        "小写字母、数字、_ 或 -，以字母或数字开头，至多 20 个字符",
        "lower-case letters, digits, _ or -, starting with a letter or digit, at most 20 characters",
    ),
    "name_zh": ("1–100 个字符的名称", "a name of 1–100 characters"),
    "name_en": ("至多 100 个字符", "at most 100 characters"),
    "province": ("至多 100 个字符", "at most 100 characters"),
    "population": ("0 至 10,000,000,000 的整数", "a whole number from 0 to 10,000,000,000"),
    "retail_sales": ("不小于 0 的数字", "a number of at least 0"),
    "margins": ("JSON 对象 {变量: {类别: 值}}", "a JSON object {variable: {category: value}}"),
    "name": ("1–200 个字符的名称", "a name of 1–200 characters"),
    "category": (
        "小写字母、数字、_ 或 -，至多 60 个字符（如 car_park）",
        "lower-case letters, digits, _ or -, at most 60 characters (e.g. car_park)",
    ),
    "city": ("已有城市的代码", "the code of a known city"),
    "address": ("至多 300 个字符", "at most 300 characters"),
    "latitude": ("-90 至 90 的数字", "a number from -90 to 90"),
    "longitude": ("-180 至 180 的数字", "a number from -180 to 180"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One problem of an import: where (line, column; None when it is about the whole file or row) and what."""

    line: int | None
    column: str | None
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class SheetRow:
    line: int  # the row's line (CSV) or row number (XLSX), the header being 1
    cells: dict[str, Cell]


@dataclasses.dataclass(frozen=True, slots=True)
class Sheet:
    columns: tuple[str, ...]
    rows: tuple[SheetRow, ...]
    problems: tuple[Problem, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ImportRow(Generic[T]):
    """One row of an import: its cells as text (for the preview), its record when valid, and its problems."""

    line: int
    cells: dict[str, str]
    item: T | None
    problems: tuple[Problem, ...]


def _text(value: Cell) -> str:
    """A cell as text: whole floats (as spreadsheets store integers) without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv(data: bytes) -> Sheet:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return Sheet((), (), (Problem(None, None, f"不是 UTF-8 文本 / not UTF-8 text (byte {error.start})"),))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        return Sheet((), (), (Problem(1, None, f"无法读取 CSV / unreadable CSV: {error}"),))
    if header is None:
        return Sheet((), (), (Problem(None, None, "文件为空 / the file is empty (expected a header row)"),))
    columns = tuple(name.strip() for name in header)
    rows: list[SheetRow] = []
    problems: list[Problem] = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            if len(values) > len(columns):
                problems.append(
                    Problem(line, None, "单元格多于表头的列 / more cells than the header has columns")
                )
                continue
            rows.append(SheetRow(line, dict(zip(columns, values, strict=False))))
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as error:
        problems.append(Problem(reader.line_num, None, f"无法读取 CSV / unreadable CSV: {error}"))
    return Sheet(columns, tuple(rows), tuple(problems))


def _xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook  # only when a workbook comes in

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        return Sheet((), (), (Problem(None, None, f"无法读取 XLSX / unreadable XLSX workbook: {error}"),))
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return Sheet((), (), (Problem(None, None, "工作簿没有工作表 / the workbook has no worksheet"),))
        values = sheet.iter_rows(values_only=True)
        header = next(values, None)
        if header is None:
            return Sheet((), (), (Problem(None, None, "工作表为空 / the worksheet is empty"),))
        columns = tuple(_text(name) for name in header)
        while columns and not columns[-1]:
            columns = columns[:-1]
        rows: list[SheetRow] = []
        problems: list[Problem] = []
        for line, cells in enumerate(values, start=2):
            if all(cell is None or _text(cell) == "" for cell in cells):
                continue
            if any(_text(cell) for cell in cells[len(columns) :]):
                problems.append(
                    Problem(line, None, "单元格多于表头的列 / more cells than the header has columns")
                )
                continue
            rows.append(SheetRow(line, dict(zip(columns, cells, strict=False))))
            if len(rows) > MAX_ROWS:
                break
        return Sheet(columns, tuple(rows), tuple(problems))
    finally:
        workbook.close()


def read_sheet(data: bytes) -> Sheet:
    """The header and rows of a CSV or XLSX file (told apart by content: an XLSX file is a ZIP archive)."""
    sheet = _xlsx(data) if data.startswith(XLSX_MAGIC) else _csv(data)
    if len(sheet.rows) > MAX_ROWS:
        return Sheet(
            sheet.columns,
            sheet.rows[:MAX_ROWS],
            (
                *sheet.problems,
                Problem(None, None, f"行数过多 / too many rows: at most {MAX_ROWS:,} per file"),
            ),
        )
    return sheet


def header_problems(kind: str, columns: Sequence[str]) -> list[Problem]:
    """Missing required columns, unknown and repeated columns of a ``cities`` or ``venues`` table."""
    known = CITY_COLUMNS if kind == "cities" else VENUE_COLUMNS
    problems = [
        Problem(1, name, f"缺少必填列 {name} / the required column {name!r} is missing")
        for name in REQUIRED[kind]
        if name not in columns
    ]
    problems += [
        Problem(1, name or None, f"未知的列 {name!r} / unknown column {name!r} (expected {', '.join(known)})")
        for name in columns
        if name not in known
    ]
    problems += [
        Problem(1, name, f"列 {name} 重复 / the column {name!r} appears twice")
        for name in sorted({name for name in columns if columns.count(name) > 1 and name in known})
    ]
    return problems


def _number(column: str, value: Cell, whole: bool) -> tuple[Any, Problem | None]:
    text = _text(value)
    try:
        number: float | int = float(text.replace(",", "")) if not isinstance(value, int | float) else value
    except ValueError:
        number = math.nan
    if isinstance(number, bool) or not math.isfinite(number) or (whole and not float(number).is_integer()):
        if whole:
            message = f"{column}: 应为整数 / expected a whole number, not {text!r}"
        else:
            message = f"{column}: 应为数字 / expected a number, not {text!r}"
        return None, Problem(None, column, message)
    return (int(number) if whole else float(number)), None


def city_cells(cells: Mapping[str, Cell]) -> tuple[dict[str, Any], list[Problem]]:
    """The fields of a ``CityIn`` from one row's cells (empty cells left out), and the cells that cannot be read:
    ``population`` a whole number, ``retail_sales`` a number, ``margins`` JSON."""
    item: dict[str, Any] = {}
    problems: list[Problem] = []
    for column, value in cells.items():
        text = _text(value)
        if not column or text == "":
            continue
        if column == "population":
            number, problem = _number(column, value, whole=True)
        elif column == "retail_sales":
            number, problem = _number(column, value, whole=False)
        elif column == "margins":
            try:
                number, problem = json.loads(text), None
            except json.JSONDecodeError as error:
                number, problem = (
                    None,
                    Problem(
                        None,
                        column,
                        f"margins: 无效的 JSON / invalid JSON: {error.msg} (column {error.colno})",
                    ),
                )
        else:
            number, problem = text, None
        if problem is not None:
            problems.append(problem)
        else:
            item[column] = number
    return item, problems


def venue_cells(cells: Mapping[str, Cell]) -> tuple[dict[str, Any], list[Problem]]:
    """The fields of a ``VenueIn`` from one row's cells: ``latitude`` and ``longitude`` numbers, the rest text."""
    item: dict[str, Any] = {}
    problems: list[Problem] = []
    for column, value in cells.items():
        text = _text(value)
        if not column or text == "":
            continue
        if column in ("latitude", "longitude"):
            number, problem = _number(column, value, whole=False)
            if problem is not None:
                problems.append(problem)
                continue
            item[column] = number
        else:
            item[column] = text
    return item, problems


def convert_problem(error: msgspec.ValidationError, cells: Mapping[str, Cell]) -> Problem:
    """A record's schema error as a problem of its column, saying what the column expects."""
    path, reason = split_path(str(error))
    column = path[2:].split(".", 1)[0].split("[", 1)[0] if path and path.startswith("$.") else None
    if column and column in COLUMN_RULES:
        zh, en = COLUMN_RULES[column]
        shown = _text(cells.get(column))[:60]
        if shown:
            return Problem(
                None, column, f"{column}：应为{zh}（{shown!r}）/ {column}: expected {en}, not {shown!r}"
            )
        return Problem(None, column, f"{column}：必填，应为{zh} / {column}: required, expected {en}")
    return Problem(None, column, f"记录无效 / invalid record: {reason}")


def _rows(
    sheet: Sheet,
    kind: str,
    cells_of: Callable[[Mapping[str, Cell]], tuple[dict[str, Any], list[Problem]]],
    record: type[T],
    extra: Callable[[T], list[Problem]],
    key: Callable[[T], object],
) -> list[ImportRow[T]]:
    seen: dict[object, int] = {}
    out: list[ImportRow[T]] = []
    known = set(CITY_COLUMNS if kind == "cities" else VENUE_COLUMNS)
    for row in sheet.rows:
        values, problems = cells_of({k: v for k, v in row.cells.items() if k in known})
        item: T | None = None
        if not problems:
            try:
                item = msgspec.convert(values, record)
            except msgspec.ValidationError as error:
                problems.append(convert_problem(error, row.cells))
        if item is not None:
            problems.extend(extra(item))
            first = seen.setdefault(key(item), row.line)
            if first != row.line:
                problems.append(Problem(None, None, f"与第 {first} 行重复 / the same as line {first}"))
        located = tuple(dataclasses.replace(p, line=row.line) for p in problems)
        out.append(
            ImportRow(
                line=row.line,
                cells={k: _text(v) for k, v in row.cells.items() if k},
                item=None if located else item,
                problems=located,
            )
        )
    return out


def city_rows(sheet: Sheet, known: WeightingCategories) -> list[ImportRow[CityIn]]:
    """Each row of a city table as a ``CityIn`` or its problems (margins checked against ``known``, codes unique)."""

    def margins(city: CityIn) -> list[Problem]:
        return [
            Problem(None, "margins", f"{problem.path}: {problem.message}")
            for problem in margin_problems(city.code, city.margins, known)
        ]

    return _rows(sheet, "cities", city_cells, CityIn, margins, lambda city: city.code)


def venue_rows(sheet: Sheet, cities: Collection[str]) -> list[ImportRow[VenueIn]]:
    """Each row of a venue table as a ``VenueIn`` or its problems (the city must be one of ``cities``; a venue
    is one per city, name and address)."""

    def city_known(venue: VenueIn) -> list[Problem]:
        if venue.city in cities:
            return []
        return [Problem(None, "city", f"城市不存在 / unknown city {venue.city!r} (import the city first)")]

    return _rows(
        sheet,
        "venues",
        venue_cells,
        VenueIn,
        city_known,
        lambda venue: (venue.city, venue.name, venue.address),
    )


__all__ = [
    "CITY_COLUMNS",
    "COLUMN_RULES",
    "VENUE_COLUMNS",
    "ImportRow",
    "Problem",
    "Sheet",
    "SheetRow",
    "city_cells",
    "city_rows",
    "header_problems",
    "read_sheet",
    "venue_cells",
    "venue_rows",
]
