"""Splitting a communication-log cell into dated lines: ``2023-10-28: Customer provided video proof.``

A new line starts wherever a date followed by ``:`` or `` -`` begins the cell, a line of the cell, or
follows a sentence end (the seed's example keeps two dated lines in one cell line). Text before the
first date has no date of its own: it is not given one (it stays, verbatim, in the ticket's import
entry). Each line keeps its original text exactly.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import NamedTuple

from tui_desk.sheets.dates import DATE_TOKEN, DateOrder, read_date

_LINE_START = re.compile(
    r"(?:^|(?<=\n)|(?<=[.!?;)\]\"'])[ \t]+|(?<=\n)[ \t]+|^[ \t]+)"
    r"(?P<date>" + DATE_TOKEN + r")[ \t]*(?::|[-–—]\s|\|)[ \t]*",
    re.MULTILINE,
)


class LogLine(NamedTuple):  # a tuple: a sheet of 100,000 rows makes 200,000 of them
    at: datetime
    text: str  # the line after its date, whitespace kept
    original: str  # the line exactly as in the cell, date included


def split_log_cell(cell: str, *, order: DateOrder = DateOrder.AUTO, tz: tzinfo = UTC) -> tuple[str, list[LogLine]]:
    """(undated text before the first dated line, the dated lines in cell order); UnreadableDate if a
    line's date looks like a date but cannot be read."""
    if not cell or not cell.strip():
        return "", []
    starts = list(_LINE_START.finditer(cell))
    if not starts:
        return cell.strip(), []
    lead = cell[: starts[0].start()].strip()
    lines = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(cell)
        original = cell[match.start("date") : end].rstrip()
        text = cell[match.end() : end].strip()
        lines.append(LogLine(read_date(match["date"], order=order, tz=tz), text, original))
    return lead, lines
