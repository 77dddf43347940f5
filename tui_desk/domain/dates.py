"""Reading dates people type (``14:30``, ``tomorrow 9:00``, ``+3d``) and showing them with their zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from tui_desk.domain.clock import to_utc
from tui_desk.domain.errors import DeskError

_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_OFFSET_PART = r"\d+\s*(?:min|m|h|d|w)"
# ``+3d``, ``-2h``, and compound offsets ``+1d 2h``, ``-1h30m``: one sign for every part.
_RELATIVE_RE = re.compile(rf"^([+-])\s*((?:{_OFFSET_PART}\s*)+)$")
_PART_RE = re.compile(r"(\d+)\s*(min|m|h|d|w)")
_TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_DAY_WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_WEEKDAY_NAMES = (
    ("mon", "monday"),
    ("tue", "tues", "tuesday"),
    ("wed", "weds", "wednesday"),
    ("thu", "thur", "thurs", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
)
_WEEKDAYS = {name: number for number, names in enumerate(_WEEKDAY_NAMES) for name in names}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y")
HELP = "use e.g. 2026-11-15 14:30, 14:30, tomorrow 9:00, fri, next monday 9:00, +3d, +1d 2h or -2h"


def _time_of_day(text: str) -> time | None:
    match = _TIME_RE.match(text)
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


# Dates outside these are typos (0026 for 2026) or cannot be stored as fixed-width UTC text.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def check_in_range(when: datetime, what: str) -> None:
    """Refuse a date outside ``EARLIEST``..``LATEST`` (an imported ``0001-01-01``, a ``9999`` typo)."""
    if not EARLIEST <= to_utc(when) < LATEST:
        raise DeskError(
            f"{what} {when.date().isoformat()} is out of range (years {EARLIEST.year} to {LATEST.year - 1})"
        )


def parse_when(text: str, now: datetime, tz: tzinfo = UTC) -> datetime:
    """An aware UTC datetime from what a person typed, relative to ``now``; wall times are in ``tz``."""
    try:
        when = _parse_when(text, now, tz)
    except (OverflowError, ValueError):  # e.g. 9999-12-31 23:59 in a zone behind UTC, or +99999999d
        when = None
    if when is None or not EARLIEST <= when < LATEST:
        raise DeskError(f"the date {text.strip()!r} is out of range (years {EARLIEST.year} to {LATEST.year - 1})")
    return when


def _parse_when(text: str, now: datetime, tz: tzinfo) -> datetime:
    raw = text.strip()
    lowered = raw.lower()
    if not raw:
        raise DeskError(f"empty date: {HELP}")
    if lowered == "now":
        return to_utc(now)
    match = _RELATIVE_RE.match(lowered)
    if match:
        sign = 1 if match[1] == "+" else -1
        span = sum(
            (timedelta(**{_UNITS[unit]: int(amount)}) for amount, unit in _PART_RE.findall(match[2])), timedelta()
        )
        return to_utc(now) + sign * span
    local_now = to_utc(now).astimezone(tz)
    words = lowered.split()
    day: date | None = None
    clock_part: str | None = None
    if words and words[0] in _DAY_WORDS:
        day = local_now.date() + timedelta(days=_DAY_WORDS[words[0]])
        clock_part = " ".join(words[1:]) or None
    elif words and (named := _weekday(words)) is not None:
        which, weekday, used = named
        day = _weekday_date(local_now.date(), which, weekday)
        clock_part = " ".join(words[used:]) or None
    elif len(words) == 1 and _time_of_day(words[0]):
        day, clock_part = local_now.date(), words[0]
    else:
        return _absolute(raw, tz)
    at = time(0, 0) if clock_part is None else _time_of_day(clock_part)
    if at is None:
        raise DeskError(f"cannot read the time {clock_part!r} in {raw!r}: {HELP}")
    if clock_part is None and words[0] == "today":
        return to_utc(now)
    return wall_time(datetime.combine(day, at), tz, raw)


def _weekday(words: list[str]) -> tuple[str, int, int] | None:
    """``fri``, ``this fri``, ``next monday``, ``last tue``: (which, weekday number, words used), else None."""
    if words[0] in ("next", "last", "this"):
        which, names = words[0], words[1:2]
    else:
        which, names = "this", words[:1]
    number = _WEEKDAYS.get(names[0]) if names else None
    return None if number is None else (which, number, 1 + (which != "this" or words[0] == "this"))


def _weekday_date(today: date, which: str, weekday: int) -> date:
    """``this``: the next such day, today included; ``next``: the first after today; ``last``: the last before."""
    ahead = (weekday - today.weekday()) % 7
    if which == "this":
        return today + timedelta(days=ahead)
    if which == "next":
        return today + timedelta(days=ahead or 7)
    return today - timedelta(days=(today.weekday() - weekday) % 7 or 7)


def wall_time(local: datetime, tz: tzinfo, typed: str = "") -> datetime:
    """A naive wall-clock time read in ``tz``, as UTC; refused when the zone skips it or has it twice.

    Around a daylight-saving change a wall time may not exist (the clocks jump over it) or exist twice
    (they go back over it). Either way what was meant cannot be known, so both readings are named and
    the person picks one by typing its offset -- nothing is moved silently.
    """
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    shown = typed.strip() or f"{local:%Y-%m-%d %H:%M}"
    zone = getattr(tz, "key", None) or str(tz)
    readings = " or ".join(f"{_reading(local, when)}" for when in sorted((first, second), key=lambda d: d.utcoffset()))
    exists = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local
    if exists:
        raise DeskError(f"{shown!r} happens twice in {zone} (the clocks go back): type {readings}")
    raise DeskError(f"{shown!r} does not exist in {zone} (the clocks jump over it): type {readings}")


def _reading(local: datetime, aware: datetime) -> str:
    """One reading of an ambiguous wall time, as text the parser takes back: ``2026-10-25 02:30+02:00 (00:30 UTC)``."""
    offset = aware.utcoffset() or timedelta()
    sign = "-" if offset < timedelta() else "+"
    minutes = abs(int(offset.total_seconds() // 60))
    return f"{local:%Y-%m-%d %H:%M}{sign}{minutes // 60:02d}:{minutes % 60:02d} ({aware.astimezone(UTC):%H:%M} UTC)"


def _absolute(raw: str, tz: tzinfo) -> datetime:
    text = re.sub(r"(\d)[Tt](\d)", r"\1 \2", raw).strip()
    if text.upper().endswith(" UTC"):
        text, tz = text[:-4].strip(), UTC
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        date_part, _, time_part = text.partition(" ")
        for fmt in _DATE_FORMATS:
            try:
                day = datetime.strptime(date_part, fmt).date()
            except ValueError:
                continue
            at = _time_of_day(time_part) if time_part else time(0, 0)
            if at is not None:
                parsed = datetime.combine(day, at)
            break
        if parsed is None:
            raise DeskError(f"cannot read the date {raw!r}: {HELP}") from None
    if parsed.tzinfo is None:
        return wall_time(parsed, tz, raw)
    return parsed.astimezone(UTC)


def format_when(dt: datetime | None, tz: tzinfo = UTC) -> str:
    """``2026-11-15 14:30 UTC``: minutes, with the zone's name; an empty string for no date."""
    if dt is None:
        return ""
    local = to_utc(dt).astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` for machine output."""
    if dt is None:
        return None
    return to_utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_span(delta: timedelta) -> str:
    """A short human span: ``3 d 4 h``, ``5 h 10 min``, ``12 min``; negative spans read the same."""
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def short_span(late: timedelta) -> str:
    """At most 9 characters: ``117d``, ``3d 4h``, ``1h 30m``, ``12m``; ``in …`` while still ahead."""
    seconds = int(abs(late.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days >= 10 or (days and not hours):
        text = f"{days}d"
    elif days:
        text = f"{days}d {hours}h"
    elif hours:
        text = f"{hours}h {minutes}m" if minutes else f"{hours}h"
    else:
        text = f"{minutes}m"
    return text if late.total_seconds() > 0 else "in " + text
