"""Reading the dates people keep in sheets (2023-10-26, 2023/10/26, 26.10.2023, 10/26/2023, 26 Oct 2023,
``10/26/2023 2:30 PM``, ``Thursday, October 26, 2023``, ``26-Oct-23``).

A date is read or refused, never guessed: ``03/04/2023`` could be March or April, so it is read only
with an explicit day-first or month-first order (the refusal names both readings); a date whose parts
are out of range is refused, and so is a weekday that is not the date's. A two-digit year is read only
beside a month's name (``26-Oct-23``: 2023, always 20xx); ``26/10/23`` stays refused (which part is
the year?). A 12-hour time needs its AM or PM (``2:30 PM``; ``14:30 PM`` is refused).
"""

from __future__ import annotations

import enum
import functools
import re
from datetime import UTC, date, datetime, time, tzinfo

from tui_desk.domain.clock import to_utc


class DateOrder(enum.Enum):
    """How to read ``NN/NN/YYYY``: only when unambiguous (AUTO), or day first, or month first."""

    AUTO = "auto"
    DAY_FIRST = "dayfirst"
    MONTH_FIRST = "monthfirst"


class UnreadableDate(ValueError):  # noqa: N818 - reads as the cell's state
    """A cell that should hold a date but cannot be read without guessing; the message says why."""


_TIME = (
    r"(?:(?:[ T]|,\s*|\s+at\s+)(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:\.(?P<us>\d{1,6}))?)?"
    r"(?:\s*(?P<ampm>[AaPp])\.?[Mm]\.?)?)?"
)
_ZONE = r"\s*(?P<zone>Z|UTC|GMT|(?:UTC|GMT)?[+-]\d{2}:?\d{2})?"
_YMD = re.compile(r"^(?P<y>\d{4})[-/.](?P<a>\d{1,2})[-/.](?P<b>\d{1,2})" + _TIME + _ZONE + "$", re.IGNORECASE)
_XXY = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})" + _TIME + _ZONE + "$", re.IGNORECASE
)
_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}
_DMONY = re.compile(
    r"^(?P<d>\d{1,2})[ -](?P<mon>[a-z]+)\.?(?:[ -,]*(?P<y>\d{4})|[ -](?P<yy>\d{2}))" + _TIME + _ZONE + "$",
    re.IGNORECASE,
)
_MONDY = re.compile(r"^(?P<mon>[a-z]+)\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})" + _TIME + _ZONE + "$", re.IGNORECASE)

_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
_WEEKDAY = re.compile(r"^(?P<weekday>[a-z]{3,9})\.?,?\s+(?=\d|[a-z]{3,9}\.?\s+\d)", re.IGNORECASE)

# A date at the start of a communication-log line, in any of the shapes above (used to split cells).
DATE_TOKEN = (
    r"(?:(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)[a-z]*\.?,?\s+)?"
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}"
    r"|\d{1,2}[ -][A-Za-z]{3,9}\.?(?:[ -,]*\d{4}|-\d{2}(?![\d:]))|[A-Za-z]{3,9}\.? \d{1,2},? \d{4})"
    r"(?:(?:[ T]|,\s*)\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?)?(?: ?(?:UTC|GMT|Z))?"
)


def read_date(value: object, *, order: DateOrder = DateOrder.AUTO, tz: tzinfo = UTC) -> datetime | None:
    """An aware UTC datetime from a sheet cell, None for an empty cell; UnreadableDate otherwise.

    Wall times without a zone are read in ``tz``. Spreadsheet cells that already hold a date
    (XLSX) are taken as they are.
    """
    if value is None:
        return None
    if type(value) is str:  # a sheet's cell as it is: the cache knows most of them
        return _read_cell(value, order, tz)
    if isinstance(value, datetime):
        return to_utc(value if value.tzinfo else value.replace(tzinfo=tz))
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=tz).astimezone(UTC)
    return _read_text(" ".join(str(value).split()), order, tz)


@functools.lru_cache(maxsize=4096)
def _read_cell(cell: str, order: DateOrder, tz: tzinfo) -> datetime | None:
    return _read_text(" ".join(cell.split()), order, tz)


@functools.lru_cache(maxsize=4096)
def _read_text(text: str, order: DateOrder, tz: tzinfo) -> datetime | None:
    # A sheet repeats the same few hundred dates thousands of times: each is read once.
    if not text:
        return None
    weekday = _WEEKDAY.match(text)
    rest = text
    if weekday and weekday["weekday"].lower() in _WEEKDAYS:
        rest = text[weekday.end() :]
    for pattern, reader in ((_YMD, _ymd), (_XXY, _xxy), (_DMONY, _named), (_MONDY, _named)):
        match = pattern.match(rest)
        if match:
            day = reader(match, text, order)
            if rest is not text and day.weekday() != _WEEKDAYS[weekday["weekday"].lower()]:
                raise UnreadableDate(f"{text!r}: {day:%d %B %Y} was a {day:%A}")
            return _combine(day, match, text, tz)
    raise UnreadableDate(f"cannot read the date {text!r} (use e.g. 2023-10-26, 2023/10/26 or 26.10.2023)")


def _make(y: int, m: int, d: int, text: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise UnreadableDate(f"{text!r} is not a real date") from None


def _ymd(match: re.Match, text: str, order: DateOrder) -> date:
    return _make(int(match["y"]), int(match["a"]), int(match["b"]), text)


def _xxy(match: re.Match, text: str, order: DateOrder) -> date:
    a, b, y = int(match["a"]), int(match["b"]), int(match["y"])
    if match["sep"] == ".":
        return _make(y, b, a, text)  # dotted dates are day first everywhere they are used
    if order is DateOrder.DAY_FIRST:
        return _make(y, b, a, text)
    if order is DateOrder.MONTH_FIRST:
        return _make(y, a, b, text)
    if a > 12 >= b:
        return _make(y, b, a, text)
    if b > 12 >= a:
        return _make(y, a, b, text)
    if a == b:
        return _make(y, a, b, text)
    day_first, month_first = _make(y, b, a, text), _make(y, a, b, text)
    raise UnreadableDate(
        f"{text!r} could be {day_first:%-d %B %Y} (day/month) or {month_first:%-d %B %Y} (month/day): "
        "use --dayfirst or --monthfirst"
    )


def _named(match: re.Match, text: str, order: DateOrder) -> date:
    month = _MONTHS.get(match["mon"].lower())
    if month is None:
        raise UnreadableDate(f"cannot read the month in {text!r}")
    year = int(match["y"]) if match["y"] else 2000 + int(match["yy"])  # 26-Oct-23 is 2023
    return _make(year, month, int(match["d"]), text)


def _combine(day: date, match: re.Match, text: str, tz: tzinfo) -> datetime:
    hour = int(match["hh"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise UnreadableDate(f"{text!r} has no such time of day (a 12-hour time runs from 1 to 12)")
        hour = hour % 12 + (12 if match["ampm"].lower() == "p" else 0)
    minute = int(match["mi"] or 0)
    second = int(match["ss"] or 0)
    micro = int((match["us"] or "0").ljust(6, "0"))
    if hour > 23 or minute > 59 or second > 59:
        raise UnreadableDate(f"{text!r} has no such time of day")
    zone = (match["zone"] or "").upper().removeprefix("UTC").removeprefix("GMT")
    if zone in ("Z", "") and match["zone"]:
        tz = UTC
    elif zone:
        return (
            datetime.fromisoformat(f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}{_offset(zone)}")
            .replace(microsecond=micro)
            .astimezone(UTC)
        )
    return datetime.combine(day, time(hour, minute, second, micro), tzinfo=tz).astimezone(UTC)


def _offset(zone: str) -> str:
    digits = zone.replace(":", "")
    return f"{digits[:3]}:{digits[3:]}"


def write_date(dt: datetime | None) -> str:
    """A UTC instant for a sheet cell: ``2023-10-26 14:30:00`` (microseconds only when there are any)."""
    if dt is None:
        return ""
    value = to_utc(dt)
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text
