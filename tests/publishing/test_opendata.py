"""Open data: a Frictionless data package that validates, suppression that is marked, no free text."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import msgspec
import pytest
from frictionless import Package, validate
from publishing_helpers import SMALL_METHOD

from survey_platform.publishing.compute import compute_release
from survey_platform.publishing.model import ReleaseResults
from survey_platform.publishing.opendata import OpenDataMeta, open_data_files
from survey_platform.publishing.synthetic import (
    NationalCampaign,
    inspection_release_inputs,
    survey_release_inputs,
)
from survey_platform.questionnaire.model import Questionnaire

replace = msgspec.structs.replace
SECRET = "<script>SECRET-NOTE-7f3a</script>"
META = OpenDataMeta(release_id="R-2025-001", created="2025-07-01T12:00:00+08:00", software_version="0.1.0")


@pytest.fixture(scope="module")
def survey_results(small_campaign: NationalCampaign, survey_q: Questionnaire) -> ReleaseResults:
    inputs = survey_release_inputs(small_campaign, small_campaign.current, survey_q, SMALL_METHOD)
    assert inputs.survey is not None
    answers = [{**a, "q_interviewer_note": SECRET} for a in inputs.survey.answers]
    return compute_release(replace(inputs, survey=replace(inputs.survey, answers=answers)), survey_q)


@pytest.fixture(scope="module")
def inspection_results(small_campaign: NationalCampaign, inspection_q: Questionnaire) -> ReleaseResults:
    inputs = inspection_release_inputs(small_campaign, inspection_q, SMALL_METHOD)
    audits = [replace(a, answers={**a.answers, "q_inspector_notes": SECRET}) for a in inputs.audits or []]
    return compute_release(replace(inputs, audits=audits), inspection_q)


def _write(files: dict[str, bytes], folder: Path) -> Path:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder / "datapackage.json"


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so spreadsheet programs read Chinese
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("kind", ["survey", "inspection"])
def test_the_package_validates(
    kind: str, survey_results: ReleaseResults, inspection_results: ReleaseResults, tmp_path: Path
) -> None:
    results = survey_results if kind == "survey" else inspection_results
    files = open_data_files(META, results)
    expected = (
        {"national", "cities", "city_indicators", "provinces"}
        if kind == "survey"
        else {"inspection_rates", "inspection_checks", "named_venues"}
    )
    assert set(files) == {f"{t}.csv" for t in expected} | {"release.xlsx", "release.json", "datapackage.json"}
    descriptor = _write(files, tmp_path)
    report = validate(descriptor)
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "message"])
    package = json.loads(files["datapackage.json"])
    assert package["licenses"][0]["name"] == "CC-BY-4.0" and package["x_release"]["seed"] == SMALL_METHOD.seed
    for resource in package["resources"]:
        assert " / " in resource["description"]
        for field in resource.get("schema", {}).get("fields", []):
            assert field["type"] in {"string", "integer", "number", "boolean", "date"}
            assert " / " in field["description"], field
    # every row of every CSV is read back with its declared types
    loaded = Package(descriptor)
    for name in expected:
        rows = loaded.get_resource(name).read_rows()
        assert len(rows) == len(_rows(files[f"{name}.csv"])) > 0


def test_a_bad_cell_is_caught_by_the_validation(survey_results: ReleaseResults, tmp_path: Path) -> None:
    files = open_data_files(META, survey_results)
    files["cities.csv"] = (
        files["cities.csv"].replace(b",raked,", b",raked-ish,", 1).replace(b",true,", b",maybe,", 1)
    )
    report = validate(_write(files, tmp_path))
    assert not report.valid
    assert {e.type for task in report.tasks for e in task.errors} >= {"type-error"}


def test_small_groups_are_suppressed_and_marked(inspection_results: ReleaseResults, tmp_path: Path) -> None:
    files = open_data_files(META, inspection_results)
    rows = _rows(files["inspection_rates.csv"])
    small = [r for r in rows if int(r["n"]) < SMALL_METHOD.suppression_min_n]
    large = [r for r in rows if int(r["n"]) >= SMALL_METHOD.suppression_min_n]
    assert small and large
    for r in small:
        assert r["suppressed"] == "true"
        assert r["rate"] == r["ci_low"] == r["ci_high"] == r["problems"] == ""  # empty, not 0
        assert r["n"] != "" and r["label_zh"] != ""
    for r in large:
        assert r["suppressed"] == "false" and float(r["rate"]) == pytest.approx(
            int(r["problems"]) / int(r["n"])
        )
    package = Package(_write(files, tmp_path))
    typed = package.get_resource("inspection_rates").read_rows()
    assert any(row["suppressed"] is True and row["rate"] is None for row in typed)
    assert json.loads(files["release.json"])["tables"]["inspection_rates"][len(rows) - 1]["suppressed"] in (
        True,
        False,
    )


def test_a_threshold_above_the_city_samples_suppresses_their_figures(
    small_campaign: NationalCampaign, survey_q: Questionnaire
) -> None:
    inputs = survey_release_inputs(
        small_campaign, small_campaign.current, survey_q, replace(SMALL_METHOD, suppression_min_n=1000)
    )
    files = open_data_files(META, compute_release(inputs, survey_q))
    for row in _rows(files["cities.csv"]):
        assert row["suppressed"] == "true" and row["score"] == row["rank"] == "" and int(row["n"]) > 0
    national = _rows(files["national.csv"])
    assert all(r["suppressed"] == "false" and r["score"] != "" for r in national)  # 1,300 interviews


def test_no_free_text_in_any_file(survey_results: ReleaseResults, inspection_results: ReleaseResults) -> None:
    for results in (survey_results, inspection_results):
        for name, data in open_data_files(META, results).items():
            if name.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(data)) as book:
                    blobs = [book.read(member) for member in book.namelist()]
            else:
                blobs = [data]
            for blob in blobs:
                assert b"SECRET-NOTE" not in blob, name


def test_the_workbook_has_a_sheet_per_table(survey_results: ReleaseResults) -> None:
    files = open_data_files(META, survey_results)
    with zipfile.ZipFile(io.BytesIO(files["release.xlsx"])) as book:
        workbook = book.read("xl/workbook.xml").decode()
        shared = book.read("xl/sharedStrings.xml").decode()
    for sheet in ("about", "national", "cities", "city_indicators", "provinces"):
        assert f'name="{sheet}"' in workbook
    assert "供给便利性" in shared and "R-2025-001" in shared
    data = json.loads(files["release.json"])
    assert data["release"]["inputs_fingerprint"] == survey_results.fingerprint
    assert len(data["tables"]["city_indicators"]) == len(survey_results.cities) * 21


def test_formula_looking_venue_names_are_neutralised(
    small_campaign: NationalCampaign, inspection_q: Questionnaire
) -> None:
    inputs = inspection_release_inputs(small_campaign, inspection_q, SMALL_METHOD)
    evil = '=HYPERLINK("http://example.invalid","点我")'
    audits = [replace(a, venue_name=evil) if a.follow_up == "pending" else a for a in inputs.audits or []]
    files = open_data_files(META, compute_release(replace(inputs, audits=audits), inspection_q))
    names = {r["venue_name"] for r in _rows(files["named_venues.csv"])}
    assert names == {"'" + evil}
    with zipfile.ZipFile(io.BytesIO(files["release.xlsx"])) as book:
        sheets = [book.read(m).decode() for m in book.namelist() if m.startswith("xl/worksheets/")]
    assert not any("<f>" in sheet for sheet in sheets)  # written as text, never as a formula
