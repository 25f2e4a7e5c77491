"""Export of an inspection campaign: one row per audit with venue, inspector, review state, check answers,
compliance (audits.compliance), GPS, times and photo hashes; CSV and XLSX, through the API and the command line.
XLSX files are written off the event loop, page by page, for surveys and inspections alike."""

from __future__ import annotations

import csv
import io
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import PNG, T0, inspection_setup, upload
from xlsx import read_xlsx

from survey_platform.audits.export import META_COLUMNS
from survey_platform.cli import main
from survey_platform.settings import Settings
from survey_platform.spreadsheet import write_xlsx

AUDITS = "/api/v1/campaigns/qr-2026/audits"
EXPORT = "/api/v1/campaigns/qr-2026/export"
FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")'


async def _three_audits(client: AsyncTestClient[Litestar]) -> dict[str, object]:
    """Audits: `passed` (approved, with GPS), `failed` (both checks fail, photo), `mixed` (returned)."""
    ctx = await inspection_setup(client)
    venue = {"name": FORMULA_NAME, "category": "car_park", "city": "taiyuan"}
    assert (
        await client.put(f"/api/v1/venues/{ctx['venue']}", json=venue, headers=ctx["admin"])
    ).status_code == 200
    photo = (await upload(client, ctx["inspector"], PNG)).json()["sha256"]
    bodies = {
        "passed": {
            "answers": {"q_venue": str(ctx["venue"]), "counter_payment": True, "phone_demanded": False},
            "location": {"latitude": 37.87, "longitude": 112.55, "accuracy": 12.5},
            "started_at": T0.isoformat(),
            "submitted_at": T0.replace(minute=20).isoformat(),
        },
        "failed": {"answers": {"counter_payment": False, "counter_photo": [photo], "phone_demanded": True}},
        "mixed": {"answers": {"counter_payment": True, "phone_demanded": True}},
    }
    ids = {}
    for name, body in bodies.items():
        ids[name] = str(uuid.uuid4())
        sent = await client.post(
            AUDITS, json={"id": ids[name], "venue": ctx["venue"], **body}, headers=ctx["inspector"]
        )
        assert sent.status_code == 201, sent.text
    review = "/api/v1/audits/{}/review"
    assert (
        await client.post(review.format(ids["passed"]), json={"action": "approve"}, headers=ctx["reviewer"])
    ).is_success
    returned = await client.post(
        review.format(ids["mixed"]),
        json={"action": "return", "comment": "核实 / check"},
        headers=ctx["reviewer"],
    )
    assert returned.is_success
    inspector = (await client.get(f"/api/v1/audits/{ids['passed']}", headers=ctx["reviewer"])).json()[
        "inspector"
    ]
    return {**ctx, "ids": ids, "photo": photo, "inspector_name": inspector}


def _by_id(rows: list[list[object]]) -> tuple[list[object], dict[str, dict[str, object]]]:
    header, data = rows[0], rows[1:]
    return header, {str(row[0]): dict(zip(header, row, strict=True)) for row in data}


async def test_inspection_export_has_one_row_per_audit(client: AsyncTestClient[Litestar]) -> None:
    ctx = await _three_audits(client)
    ids = ctx["ids"]
    reply = await client.get(EXPORT, headers=ctx["admin"])
    assert reply.status_code == 200, reply.text
    assert 'filename="qr-2026-audits.csv"' in reply.headers["content-disposition"]
    header, rows = _by_id(list(csv.reader(io.StringIO(reply.text.lstrip("\ufeff")))))
    assert header == [*META_COLUMNS, "q_venue", "counter_payment", "counter_photo", "phone_demanded"]
    assert set(rows) == set(ids.values())
    passed, failed, mixed = rows[ids["passed"]], rows[ids["failed"]], rows[ids["mixed"]]
    assert passed["campaign"] == "qr-2026" and passed["venue_id"] == str(ctx["venue"])
    assert passed["venue_name"] == "'" + FORMULA_NAME  # neutralised: a spreadsheet shows it as text
    assert (passed["city"], passed["venue_category"], passed["inspector"]) == (
        "taiyuan",
        "car_park",
        ctx["inspector_name"],
    )
    assert [r["review_state"] for r in (passed, failed, mixed)] == ["approved", "submitted", "returned"]
    # checks as pass/fail; compliance from the checklist's weights (counter 2, phone 3): 100, 0 and 2/5
    assert (passed["counter_payment"], passed["phone_demanded"]) == ("pass", "pass")
    assert (failed["counter_payment"], failed["phone_demanded"]) == ("fail", "fail")
    assert (mixed["counter_payment"], mixed["phone_demanded"]) == ("pass", "fail")
    assert [float(r["compliance"]) for r in (passed, failed, mixed)] == [100.0, 0.0, 40.0]
    assert [r["problem"] for r in (passed, failed, mixed)] == ["0", "1", "1"]
    assert [r["critical_problem"] for r in (passed, failed, mixed)] == ["0", "1", "1"]
    assert failed["violated_checks"] == "phone_demanded;counter_payment"  # critical first
    assert (passed["latitude"], passed["longitude"], passed["accuracy_m"]) == ("37.87", "112.55", "12.5")
    assert failed["latitude"] == failed["accuracy_m"] == ""
    assert passed["started_at"].startswith("2026-05-01T09:00:00") and passed["submitted_at"].startswith(
        "2026-05-01T09:20:00"
    )
    assert all(r["received_at"] for r in rows.values())
    assert failed["photos"] == failed["counter_photo"] == ctx["photo"] and passed["photos"] == ""
    assert passed["q_venue"] == str(ctx["venue"])

    xlsx = await client.get(EXPORT, params={"format": "xlsx"}, headers=ctx["admin"])
    assert xlsx.status_code == 200
    assert 'filename="qr-2026-audits.xlsx"' in xlsx.headers["content-disposition"]
    sheet, table = read_xlsx(xlsx.content)
    header_x, rows_x = _by_id(table)
    assert sheet == "audits" and header_x == header and set(rows_x) == set(rows)
    assert rows_x[ids["mixed"]]["compliance"] == 40.0 and rows_x[ids["passed"]]["latitude"] == 37.87
    assert rows_x[ids["passed"]]["venue_name"] == "'" + FORMULA_NAME
    assert rows_x[ids["failed"]]["violated_checks"] == "phone_demanded;counter_payment"

    reviewer = await client.get(EXPORT, headers=ctx["reviewer"])
    assert reviewer.status_code == 403


async def test_an_inspection_campaign_without_audits_exports_its_header(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await inspection_setup(client)
    reply = await client.get(EXPORT, headers=ctx["admin"])
    rows = list(csv.reader(io.StringIO(reply.text.lstrip("\ufeff"))))
    assert rows == [[*META_COLUMNS, "q_venue", "counter_payment", "counter_photo", "phone_demanded"]]


async def test_the_command_line_exports_the_same_rows(
    client: AsyncTestClient[Litestar], settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ctx = await _three_audits(client)
    api_rows = list(
        csv.reader(io.StringIO((await client.get(EXPORT, headers=ctx["admin"])).text.lstrip("\ufeff")))
    )
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("QUESTIONNAIRES_DIR", str(settings.questionnaires_dir))
    if settings.database_url:
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    out = tmp_path / "out"
    out.mkdir()
    out_csv, out_xlsx = out / "audits.csv", out / "audits.xlsx"
    # The command runs its own event loop and opens the database itself (re-binding the tables to its engine),
    # so it runs in a thread and the app is not used afterwards.
    assert await _in_thread(main, ["export", "qr-2026", "-o", str(out_csv)]) == 0
    assert await _in_thread(main, ["export", "qr-2026", "-o", str(out_xlsx)]) == 0
    cli_rows = list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8").lstrip("\ufeff"))))
    assert sorted(cli_rows[1:]) == sorted(api_rows[1:]) and cli_rows[0] == api_rows[0]
    sheet, table = read_xlsx(out_xlsx.read_bytes())
    assert sheet == "audits" and len(table) == 4 and table[0] == api_rows[0]
    assert sorted(p.name for p in out.iterdir()) == [
        "audits.csv",
        "audits.xlsx",
    ]  # no partial files left


async def _in_thread(function: object, *args: object) -> object:
    import asyncio

    return await asyncio.to_thread(function, *args)  # type: ignore[arg-type]


async def test_xlsx_is_written_by_a_worker_thread_page_by_page(tmp_path: Path) -> None:
    """Every cell is converted and written outside the event loop's thread, and rows are pulled a page at a time
    (at most two pages read ahead of the writer), for any export (the writer is shared)."""
    loop_thread = threading.get_ident()
    writers: set[int] = set()
    produced = 0
    produced_at_first_write: list[int] = []

    class Probe:
        def __str__(self) -> str:
            writers.add(threading.get_ident())
            if not produced_at_first_write:
                produced_at_first_write.append(produced)
            return "probe"

    async def rows() -> AsyncIterator[list[object]]:
        nonlocal produced
        yield ["header", "n"]
        for n in range(2_500):
            produced += 1
            yield [Probe(), n]

    path = tmp_path / "probe.xlsx"
    assert await write_xlsx(rows(), path, "responses", page_rows=100) == 2_500
    assert writers and loop_thread not in writers
    assert produced_at_first_write[0] <= 2 * 100
    sheet, table = read_xlsx(path.read_bytes())
    assert sheet == "responses" and len(table) == 2_501 and table[-1] == ["probe", 2_499.0]
