"""A small reader of the XLSX files the exports write (one worksheet, inline strings or shared strings, numbers)."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref).group(0)  # type: ignore[union-attr]
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1


def read_xlsx(data: bytes) -> tuple[str, list[list[object]]]:
    """(sheet name, rows) of the first worksheet; a missing cell reads as "" and a number as a float."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        name = workbook.find("m:sheets/m:sheet", NS).get("name")  # type: ignore[union-attr]
        shared: list[str] = []
        if "xl/sharedStrings.xml" in book.namelist():
            strings = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in strings]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows: list[list[object]] = []
    for row in sheet.iterfind("m:sheetData/m:row", NS):
        cells: dict[int, object] = {}
        for c in row.iterfind("m:c", NS):
            kind = c.get("t")
            if kind == "inlineStr":
                value: object = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))
            elif kind == "s":
                value = shared[int(c.findtext("m:v", namespaces=NS) or 0)]
            else:
                value = float(c.findtext("m:v", namespaces=NS) or "nan")
            cells[_column(c.get("r", "A1"))] = value
        width = max(cells, default=-1) + 1
        rows.append([cells.get(n, "") for n in range(width)])
    return str(name), rows
