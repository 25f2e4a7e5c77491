"""Reading city and venue files (places.imports): CSV and XLSX, every problem named by line and column (pure)."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from survey_platform.places.imports import city_rows, header_problems, read_sheet, venue_rows

KNOWN = {"sex": [("m", "f")]}  # the weighting variables of the registered survey questionnaires


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_csv_cities_with_every_kind_of_problem_named_by_line_and_column() -> None:
    data = (
        "\ufeffcode,name_zh,population,retail_sales,margins\n"
        'wuxi,无锡,7490000,,"{""sex"": {""m"": 0.5, ""f"": 0.5}}"\n'
        "Bad Code,坏,1,,\n"
        "suzhou,苏州,lots,,\n"
        'hz,杭州,1,,"{""sex"": {""m"": 0.7, ""f"": 0.7}}"\n'
        "\n"
        "wuxi,无锡,1,,\n"
        "nj,南京,1,12.5,{oops\n"
    ).encode()
    sheet = read_sheet(data)
    assert (
        sheet.columns == ("code", "name_zh", "population", "retail_sales", "margins") and not sheet.problems
    )
    rows = city_rows(sheet, KNOWN)
    assert [row.line for row in rows] == [2, 3, 4, 5, 7, 8]  # the empty line 6 is skipped
    good = rows[0]
    assert good.item is not None and good.item.margins == {"sex": {"m": 0.5, "f": 0.5}} and not good.problems
    by_line = {row.line: [(p.column, p.message) for p in row.problems] for row in rows[1:]}
    assert (
        by_line[3][0][0] == "code"
        and "lower-case letters" in by_line[3][0][1]
        and "'Bad Code'" in by_line[3][0][1]
    )
    assert by_line[4] == [("population", "population: 应为整数 / expected a whole number, not 'lots'")]
    assert by_line[5][0][0] == "margins" and "sum to 1" in by_line[5][0][1] and "'hz'" in by_line[5][0][1]
    assert by_line[7] == [(None, "与第 2 行重复 / the same as line 2")]
    assert by_line[8][0][0] == "margins" and "invalid JSON" in by_line[8][0][1]
    assert all(row.item is None for row in rows[1:])
    assert all(p.line == row.line for row in rows for p in row.problems)


def test_xlsx_cities_numbers_and_text_as_spreadsheets_store_them() -> None:
    data = _xlsx(
        [
            ["code", "name_zh", "name_en", "province", "population", "margins"],
            ["wuxi", "无锡", "Wuxi", "江苏", 7490000.0, '{"sex": {"m": 3700000, "f": 3790000}}'],
            [None, None, None, None, None, None],
            ["suzhou", "苏州", None, "江苏", "12,910,000", None],
            ["x", None, None, None, 1.5, None],
        ]
    )
    sheet = read_sheet(data)
    rows = city_rows(sheet, KNOWN)
    assert [row.line for row in rows] == [2, 4, 5]
    assert (
        rows[0].item is not None
        and rows[0].item.population == 7_490_000
        and rows[0].cells["population"] == "7490000"
    )
    assert rows[1].item is not None and rows[1].item.population == 12_910_000 and rows[1].item.name_en == ""
    assert [p.column for p in rows[2].problems] == ["population"]  # 1.5 people
    assert "whole number" in rows[2].problems[0].message


def test_header_problems_and_unreadable_files() -> None:
    assert [p.message for p in header_problems("cities", ("code", "nom", "code"))] == [
        "缺少必填列 name_zh / the required column 'name_zh' is missing",
        "未知的列 'nom' / unknown column 'nom' (expected code, name_zh, name_en, province, population, "
        "retail_sales, margins)",
        "列 code 重复 / the column 'code' appears twice",
    ]
    assert header_problems("venues", ("name", "category", "city", "latitude")) == []
    assert "not UTF-8" in read_sheet(b"code\n\xff\xfe\n").problems[0].message
    assert "empty" in read_sheet(b"").problems[0].message
    broken = read_sheet(b"PK\x03\x04 not really a workbook")
    assert broken.rows == () and "unreadable XLSX" in broken.problems[0].message
    extra = read_sheet("code,name_zh\nwuxi,无锡,surplus\n".encode())
    assert [(p.line, p.message) for p in extra.problems] == [
        (2, "单元格多于表头的列 / more cells than the header has columns")
    ]


def test_venue_rows_need_a_known_city_numbers_for_coordinates_and_no_repeats() -> None:
    data = (
        "name,category,city,address,latitude,longitude\n"
        "某停车场,car_park,taiyuan,迎泽大街 1 号,37.87,112.55\n"
        "某餐厅,Restaurant,taiyuan,,,\n"
        "某茶饮,tea_shop,atlantis,,,\n"
        "某停车场,car_park,taiyuan,迎泽大街 1 号,north,\n"
        "某停车场,car_park,taiyuan,迎泽大街 1 号,37.87,112.55\n"
    ).encode()
    rows = venue_rows(read_sheet(data), {"taiyuan"})
    assert rows[0].item is not None and rows[0].item.latitude == pytest.approx(37.87)
    assert [p.column for p in rows[1].problems] == ["category"]
    assert [(p.column, p.message) for p in rows[2].problems] == [
        ("city", "城市不存在 / unknown city 'atlantis' (import the city first)")
    ]
    assert [p.column for p in rows[3].problems] == ["latitude"]
    assert [p.message for p in rows[4].problems] == ["与第 2 行重复 / the same as line 2"]


def test_the_command_line_imports_an_xlsx_city_file_by_the_same_rules(
    settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from survey_platform.cli import main

    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("QUESTIONNAIRES_DIR", str(settings.questionnaires_dir))
    if settings.database_url:
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    path = tmp_path / "cities.xlsx"
    path.write_bytes(_xlsx([["code", "name_zh", "population"], ["wuxi", "无锡", "lots"]]))
    assert main(["import", "cities", str(path)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"{path}:2: population: 应为整数 / expected a whole number, not 'lots'"), line
    path.write_bytes(_xlsx([["code", "name_zh", "population"], ["wuxi", "无锡", 7490000.0]]))
    assert main(["import", "cities", str(path)]) == 0
    assert "新增 / created 1, 更新 / updated 0" in capsys.readouterr().err
