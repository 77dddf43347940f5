"""Workbooks read by calamine: XLSX and ODS, cells typed as dates, and the limit on what a workbook unpacks to."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tui_desk.domain import limits
from tui_desk.domain.errors import DeskError
from tui_desk.sheets.reader import read_sheet

openpyxl = pytest.importorskip("openpyxl")

HEADER = ["Ticket/Interaction ID", "Customer Identifier", "Contact Timestamp (Start/End)", "Issue Summary"]


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def ods(path: Path, rows: list[list[str]]) -> Path:
    """A minimal OpenDocument spreadsheet, as LibreOffice would save it (text cells only)."""
    cells = "".join(
        "<table:table-row>"
        + "".join(f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>' for c in row)
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Log">{cells}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest)
        zf.writestr("content.xml", content)
    return path


def test_an_xlsx_is_read_with_its_title_row_numbers_and_typed_cells(tmp_path):
    path = xlsx(
        tmp_path / "log.xlsx",
        [
            ["VigorBuy interaction log"],
            [],
            HEADER,
            ["VB-T-1", "anna.k", datetime(2023, 11, 15, 14, 30), "Parcel late"],
            ["VB-T-1", 778812, "2023-11-16 09:00 UTC / 2023-11-16 09:10 UTC", None],
        ],
    )
    sheet = read_sheet(path)
    assert (sheet.header_line, sheet.headers) == (3, HEADER)
    assert sheet.rows == [
        (4, ["VB-T-1", "anna.k", datetime(2023, 11, 15, 14, 30), "Parcel late"]),
        (5, ["VB-T-1", "778812", "2023-11-16 09:00 UTC / 2023-11-16 09:10 UTC", ""]),
    ]


def test_an_ods_is_read(tmp_path):
    path = ods(tmp_path / "log.ods", [HEADER, ["VB-T-2", "jdoe", "2023-11-15 14:30 UTC", "Wrong size"]])
    sheet = read_sheet(path)
    assert sheet.headers == HEADER
    assert sheet.rows == [(2, ["VB-T-2", "jdoe", "2023-11-15 14:30 UTC", "Wrong size"])]


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 << 20))  # 40 MB of nothing packs to ~40 KB
    with pytest.raises(DeskError, match=r"sheet1.xml unpacks to 42 MB from 0.0 MB \(over 100:1\)"):
        read_sheet(bomb)
    monkeypatch.setattr(limits, "MAX_WORKBOOK_UNPACKED", 1000)
    with pytest.raises(DeskError, match=r"log.xlsx unpacks to 0 MB, over the limit of 0 MB"):
        read_sheet(xlsx(tmp_path / "log.xlsx", [HEADER]))


def test_a_damaged_workbook_is_one_line(tmp_path, cli):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    err = cli.fails("import", str(path))
    assert "broken.xlsx" in err


def test_a_workbook_with_too_many_members_is_refused_before_its_directory_is_read(tmp_path, cli):
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(limits.MAX_WORKBOOK_MEMBERS + 1):
            zf.writestr(f"xl/media/{i}.bin", b"")
    err = cli.fails("import", str(many))
    assert "many.xlsx has 10,001 members, over the limit of 10,000 members for one workbook" in err
