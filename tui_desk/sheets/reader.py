"""Reading a sheet file (CSV in any usual dialect, XLSX) into a header and numbered rows.

CSV: UTF-8 with or without a BOM, delimiter found by ``csv.Sniffer`` among , ; tab |, any line ends,
quoted cells over several lines; blank lines are skipped; a title above the header row is skipped.
Row numbers are the file's line numbers (the sheet's row numbers for XLSX), as a person would look them up.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tui_desk.domain.errors import DeskError
from tui_desk.sheets.cells import unescape_cell
from tui_desk.sheets.columns import known_count

DELIMITERS = ",;\t|"
HEADER_SEARCH_ROWS = 10


@dataclass
class Sheet:
    headers: list[str]
    header_line: int
    rows: list[tuple[int, list[object]]]  # (line number, cells), blank rows left out


def read_sheet(path: Path) -> Sheet:
    """The sheet at ``path`` (``.xlsx``/``.xlsm`` by openpyxl, anything else as CSV); one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise DeskError(f"no file {str(path)!r}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raw_rows = list(_xlsx_rows(path))
    else:
        raw_rows = list(_csv_rows(path))
    return _with_header(raw_rows, path)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise DeskError(f"{path.name} looks like an XLSX workbook; name it .xlsx")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DeskError(f'{path.name} line {line} is not UTF-8 text; save the sheet as "CSV UTF-8"') from None


def _sniff(text: str) -> str:
    sample = text[:65536]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer gives up on some sheets (long quoted cells); the header line tells then.
    first = next((line for line in sample.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    text = _decode(path)
    if "\x00" in text:
        raise DeskError(f"{path.name} contains NUL characters; it is not a text sheet")
    delimiter = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    line = 1
    try:
        for cells in reader:
            yield line, [unescape_cell(c) for c in cells]
            line = reader.line_num + 1
    except csv.Error as err:
        raise DeskError(f"{path.name} line {line}: {err}") from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    try:
        import openpyxl
    except ModuleNotFoundError:
        raise DeskError("reading .xlsx needs openpyxl (pip install 'tui-desk[xlsx]')") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a damaged file
        raise DeskError(f"cannot read {path.name} as a workbook: {err}") from None
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell(v) for v in values]
    finally:
        book.close()


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value  # text, or a date/datetime kept as the workbook typed it


def _blank(cells: list[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _with_header(raw_rows: list[tuple[int, list[object]]], path: Path) -> Sheet:
    rows = [(n, cells) for n, cells in raw_rows if not _blank(cells)]
    if not rows:
        raise DeskError(f"{path.name} has no rows")
    # The header is the first row naming at least two known columns (a title may sit above it).
    header_at = 0
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if known_count([c for c in cells if isinstance(c, str)]) >= 2:
            header_at = i
            break
    line, headers = rows[header_at]
    headers = [str(h).strip() if h is not None else "" for h in headers]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    body = []
    for n, cells in rows[header_at + 1 :]:
        cells = list(cells[:width]) + [""] * (width - len(cells))
        if not _blank(cells):
            body.append((n, cells))
    return Sheet(headers, line, body)
