"""Raw response export (CSV streaming, XLSX) and the command line (import, accounts, campaigns, export)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import headers_for, open_campaign, submission

from survey_platform.cli import main
from survey_platform.responses.export import META_COLUMNS, flatten
from survey_platform.settings import Settings


def test_flatten_cells_are_spreadsheet_safe() -> None:
    answers = {"q": "=HYPERLINK(1)", "m": {"a": 3}, "c": ["x", "y"], "b": True}
    assert flatten(answers, ["q", "m.a", "m.b", "c", "b", "missing"]) == [
        "'=HYPERLINK(1)",
        3,
        "",
        "x;y",
        1,
        "",
    ]


async def test_csv_and_xlsx_export(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    bodies = [submission(), submission(answers={"resident": False})]
    for body in bodies:
        assert (await client.post("/api/v1/campaigns/mini-2026/responses", json=body)).status_code == 201
    admin = await headers_for(client, "admin")
    reply = await client.get("/api/v1/campaigns/mini-2026/export", headers=admin)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(reply.text.lstrip("\ufeff"))))
    header, data = rows[0], rows[1:]
    assert header[: len(META_COLUMNS)] == list(META_COLUMNS)
    assert header[len(META_COLUMNS) :] == [
        "resident",
        "sex",
        "age",
        "supply",
        "complaint",
        "complaint_result",
    ]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in data}
    assert set(by_id) == {b["id"] for b in bodies}
    first = by_id[bodies[0]["id"]]
    assert (first["status"], first["sex"], first["age"], first["city"]) == ("valid", "f", "41", "wuxi")
    assert by_id[bodies[1]["id"]]["status"] == "excluded" and by_id[bodies[1]["id"]]["eligible"] == "0"

    xlsx = await client.get("/api/v1/campaigns/mini-2026/export", params={"format": "xlsx"}, headers=admin)
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as workbook:
        text = "".join(workbook.read(name).decode() for name in workbook.namelist() if name.endswith(".xml"))
    assert bodies[0]["id"] in text and bodies[1]["id"] in text
    assert (
        await client.get("/api/v1/campaigns/mini-2026/export", params={"format": "pdf"}, headers=admin)
    ).status_code == 400


def test_command_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("QUESTIONNAIRES_DIR", str(settings.questionnaires_dir))
    monkeypatch.setenv("SURVEY_PASSWORD_ITERATIONS", "1000")
    monkeypatch.setenv("SURVEY_PASSWORD", "cli-password-1")
    if settings.database_url:
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    cities = tmp_path / "cities.csv"
    cities.write_text(
        "code,name_zh,name_en,province,population,margins\n"
        'suzhou,苏州,Suzhou,江苏,12910000,"{""sex"": {""m"": 0.5, ""f"": 0.5}}"\n'
        "wuxi,无锡,Wuxi,江苏,7490000,\n",
        encoding="utf-8",
    )
    assert main(["db", "migrate"]) == 0
    assert main(["import", "cities", str(cities)]) == 0
    assert main(["import", "cities", str(cities)]) == 0  # re-import updates, creates nothing
    assert main(["user", "create", "cli-admin", "--role", "admin"]) == 0
    assert main(["user", "create", "cli-admin", "--role", "admin"]) == 1  # taken
    assert (
        main(
            [
                "campaign",
                "create",
                "cli-2026",
                "--name",
                "命令行",
                "--questionnaire",
                "mini_city",
                "--cities",
                "suzhou,wuxi",
            ]
        )
        == 0
    )
    assert main(["campaign", "close", "cli-2026"]) == 1  # a draft cannot be closed
    assert main(["campaign", "open", "cli-2026"]) == 0
    assert main(["user", "create", "cli-int-1", "--role", "interviewer"]) == 0
    assert main(["user", "create", "cli-int-2", "--role", "interviewer"]) == 0
    capsys.readouterr()
    # the order the README shows: the code, the role, then the accounts
    assert main(["campaign", "assign", "cli-2026", "--role", "interviewer", "cli-int-1", "cli-int-2"]) == 0
    printed = capsys.readouterr().err
    assert printed.count(",") == 1, printed
    assert (
        main(["campaign", "assign", "cli-2026", "--role", "interviewer", "cli-admin"]) == 1
    )  # not an interviewer
    assert main(["campaign", "assign", "--role", "interviewer", "cli-2026"]) == 0  # none: all removed
    assert "none" in capsys.readouterr().err
    out = tmp_path / "out.csv"
    assert main(["export", "cli-2026", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").lstrip("\ufeff").startswith("id,campaign,city")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"code": "Bad Code", "name_zh": "x"}]), encoding="utf-8")
    assert main(["import", "cities", str(bad)]) == 1
