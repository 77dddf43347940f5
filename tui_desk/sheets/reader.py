"""Reading a sheet file (CSV in any usual dialect, a workbook: XLSX, XLS, ODS) into a header and numbered
rows; our JSON export.

CSV: UTF-8 with or without a BOM, delimiter found by ``csv.Sniffer`` among , ; tab |, any line ends,
quoted cells over several lines; blank lines are skipped; a title above the header row is skipped.
Row numbers are the file's line numbers (the sheet's row numbers for XLSX), as a person would look them up.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tui_desk.domain import limits
from tui_desk.domain.errors import DeskError
from tui_desk.sheets.cells import unescape_cell
from tui_desk.sheets.columns import known_count
from tui_desk.store import zips

DELIMITERS = ",;\t|"
HEADER_SEARCH_ROWS = 10
WORKBOOKS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
# The size limits of every kind of file are in domain/limits.py.


@dataclass
class Sheet:
    headers: list[str]
    header_line: int
    rows: list[tuple[int, list[object]]]  # (line number, cells), blank rows left out


def read_sheet(path: Path, *, known: frozenset[str] = frozenset()) -> Sheet:
    """The sheet at ``path`` (a workbook: ``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods`` by calamine;
    anything else as CSV); one-line errors.

    ``known``: column names (as ``columns.normal`` gives them) that ``--map`` names, which count as
    known when the header row is looked for."""
    path = Path(path)
    if not path.is_file():
        raise DeskError(f"no file {str(path)!r}")
    if path.suffix.lower() in WORKBOOKS:
        raw_rows = list(_workbook_rows(path))
    else:
        raw_rows = list(_csv_rows(path))
    return _with_header(raw_rows, path, known)


def _decode(path: Path) -> str:
    data = _read_regular(path, limits.MAX_SHEET_BYTES, "sheet", advice="split it")
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
    line = last = 1
    try:
        for cells in reader:
            yield line, [unescape_cell(c) for c in cells]
            last, line = line, reader.line_num + 1
    except csv.Error as err:
        raise DeskError(f"{path.name} line {line}: {err}") from None
    _refuse_open_quote(text, delimiter, last, line - 1, path)


def _refuse_open_quote(text: str, delimiter: str, start: int, end: int, path: Path) -> None:
    """A quote left open takes every line after it into one cell, to the end of the file (the lenient reader,
    which takes ``5" TV`` and ``"a"b`` as they are, does not mind): refuse the file rather than lose those
    rows. The strict reader tells, read from the last row's first line (``start``; the file ends at ``end``)."""
    if end - start < 1:
        return  # the last row is one line: no quote runs on
    lines = io.StringIO(text, newline="")
    if "\r" in text:  # lines end in CR too: count them as the reader did
        for _ in range(start - 1):
            lines.readline()
    else:  # the last row's first line found from the end (a sheet of 200,000 lines: 80 ms less)
        at = len(text)
        for _ in range(text.count("\n") - start + 2):
            at = text.rfind("\n", 0, at)
        lines.seek(at + 1)
    try:
        for _cells in csv.reader(lines, delimiter=delimiter, strict=True):
            pass
    except csv.Error as err:
        if "unexpected end of data" not in str(err):
            return  # something the lenient reader took as it is
        raise DeskError(
            f"{path.name} line {start}: a quoted cell is never closed: it runs to the end of the file "
            f"(line {end:,}), taking every row after it; add the missing quote. Nothing was imported"
        ) from None


def check_unpacked_size(path: Path) -> None:
    """Refuse a zipped workbook (XLSX, ODS) with too many members, that unpacks to more than the limit, or
    squeezes too much into too little (a small file that unpacks to gigabytes), before anything is
    unpacked: the sizes are in the zip's directory."""
    zf = zips.open_zip(path, max_members=limits.MAX_WORKBOOK_MEMBERS, what="workbook")
    if zf is None:
        return  # not a zip (an .xls); the reader says what is wrong with it
    with zf:
        zips.check_sizes(
            zf, path, max_total=limits.MAX_WORKBOOK_UNPACKED, what="workbook", advice="; split it, or save it as CSV"
        )


def _workbook_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    """The first worksheet's rows, numbered as the sheet numbers them, read by calamine (Rust: fast)."""
    check_unpacked_size(path)
    try:
        from python_calamine import CalamineWorkbook
    except ModuleNotFoundError:
        yield from _openpyxl_rows(path)
        return
    try:
        book = CalamineWorkbook.from_path(str(path))
        try:
            rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        finally:
            book.close()
    except Exception as err:  # calamine raises its own kinds for a damaged or foreign file
        raise DeskError(f"cannot read {path.name} as a workbook: {err}") from None
    for number, values in enumerate(rows, start=1):
        yield number, [_cell(v) for v in values]


def _openpyxl_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    """The fallback when python-calamine is not installed (XLSX only)."""
    try:
        import openpyxl
    except ModuleNotFoundError:
        raise DeskError("reading workbooks needs python-calamine (pip install python-calamine)") from None
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
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value  # text, or a date/datetime kept as the workbook typed it


def _blank(cells: list[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _with_header(raw_rows: list[tuple[int, list[object]]], path: Path, known: frozenset[str]) -> Sheet:
    rows = [(n, cells) for n, cells in raw_rows if not _blank(cells)]
    if not rows:
        raise DeskError(f"{path.name} has no rows")
    # The header is the row that names the most known columns among the first few (a title may sit
    # above it; the earliest wins a tie). Found by its names, never by which row looks like data: a
    # data row whose cells happen to read "Email" and "Resolved" names two, the header all of its own.
    header_at, best = 0, 0
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        count = known_count(cells, known)
        if count > best:
            header_at, best = i, count
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


# -- JSON (our own export) -------------------------------------------------------------------------
# Its size and depth limits (domain/limits.py) stop a file that would exhaust memory or the parser's
# recursion before it is read.


def read_json(path: Path) -> object:
    """The parsed JSON at ``path``: a regular file within the size and depth limits; one-line errors."""
    path = Path(path)
    data = _read_regular(path, limits.MAX_JSON_BYTES, "JSON file", advice="split it (export --since) or import a CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DeskError(f"{path.name} line {line} is not UTF-8 text") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise DeskError(
            f"{path.name} is nested more than {limits.MAX_JSON_DEPTH} levels deep; nothing was imported"
        ) from None
    except json.JSONDecodeError as err:
        raise DeskError(f"{path.name} is not valid JSON: {err}") from None
    if _depth_over(value, limits.MAX_JSON_DEPTH):
        raise DeskError(_too_deep(path))
    return value


def _too_deep(path: Path) -> str:
    return f"{path.name} is nested more than {limits.MAX_JSON_DEPTH} levels deep; nothing was imported"


def _read_regular(path: Path, max_bytes: int, what: str, *, advice: str) -> bytes:
    """The bytes of a regular file no larger than ``max_bytes``: never a folder, device or FIFO."""
    try:
        # O_NONBLOCK: a FIFO opens at once (and fstat refuses it) instead of waiting for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise DeskError(f"no file {str(path)!r}") from None
    except OSError as err:
        raise DeskError(f"cannot read {str(path)!r}: {err.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise DeskError(f"{str(path)!r} is a folder, not a {what}")
        raise DeskError(f"{str(path)!r} is not a regular file (a device, FIFO or socket)")
    with os.fdopen(fd, "rb") as f:
        if info.st_size > max_bytes:
            raise DeskError(
                f"{path.name} is {info.st_size / 1048576:.0f} MB, over the limit of {max_bytes // 1048576} MB "
                f"for a {what}; {advice}"
            )
        try:
            data = f.read(max_bytes + 1)
        except OSError as err:
            raise DeskError(f"cannot read {str(path)!r}: {err.strerror}") from None
    if len(data) > max_bytes:  # it grew after the check
        raise DeskError(f"{path.name} is over the limit of {max_bytes // 1048576} MB for a {what}")
    return data


def _depth_over(value: object, limit: int) -> bool:
    """True when lists and objects nest deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return False
