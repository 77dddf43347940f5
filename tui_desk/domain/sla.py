"""SLA clocks: targets per priority, a business calendar, pauses while waiting, at-risk and breach times.

Targets are spans of *working* time, read exactly as written: ``24h`` is 24 working hours and ``3d``
three working days (with 09:00-17:00, 24 working hours), never one turned into the other. Around
the clock (no calendar) a day is 24 hours. The resolution clock stops while the ticket
waits on the buyer or the seller (and while it sits Resolved), and resumes when it is back with us;
the paused working time pushes the due time out. The response clock never pauses.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from tui_desk.domain.clock import to_utc
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|min)\b")
# A calendar with working days always has a window within a year; this bounds the walk regardless.
_MAX_DAYS_WALKED = 3 * 366


@dataclass(frozen=True)
class Span:
    """A target as written: working days and working time kept apart (``24h`` is not ``1d``)."""

    days: float = 0
    time: timedelta = timedelta()

    def __str__(self) -> str:
        parts = [f"{self.days:g}d"] if self.days else []
        if self.time:
            minutes = self.time / timedelta(minutes=1)
            parts.append(f"{minutes / 60:g}h" if minutes % 60 == 0 else f"{minutes:g}m")
        return " ".join(parts) or "0h"


def parse_span(text: str | int | float, where: str = "duration") -> Span:
    """``8h``, ``90m``, ``3d``, ``1d 4h``; a bare number is hours. Days are working days (see module doc)."""
    if isinstance(text, bool):
        raise DeskError(f"{where}: {text!r} is not a duration such as 8h, 90m or 3d")
    if isinstance(text, (int, float)):
        span = Span(time=timedelta(hours=text))
    else:
        raw = text.strip().lower()
        pos, days, time_part = 0, 0.0, timedelta()
        for match in _SPAN_RE.finditer(raw):
            if raw[pos : match.start()].strip():
                break
            amount = float(match[1])
            unit = match[2]
            if unit == "d":
                days += amount
            else:
                time_part += timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount)
            pos = match.end()
        if not raw or raw[pos:].strip() or pos == 0:
            raise DeskError(f"{where}: {text!r} is not a duration such as 8h, 90m or 3d")
        span = Span(days=days, time=time_part)
    if span.days < 0 or span.time < timedelta() or not (span.days or span.time):
        raise DeskError(f"{where}: {text!r} must be longer than zero")
    return span


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and hours in a time zone, minus holidays. ``end`` may be 24:00 (``time.max``).

    Holidays are the dates typed by hand and, with ``country`` (and ``subdivision``), the public
    holidays the ``holidays`` package knows for it, read a year at a time as dates come up.
    """

    days: frozenset[int] = frozenset(range(5))  # Monday = 0
    start: time = time(9, 0)
    end: time = time(17, 0)
    tz: tzinfo = UTC
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None

    def __post_init__(self) -> None:
        if not self.days:
            raise DeskError("sla.calendar: at least one working day is needed")
        if not self.start < self.end:
            raise DeskError("sla.calendar: working hours must end after they start (e.g. 09:00-17:00)")

    @property
    def day_length(self) -> timedelta:
        end = timedelta(days=1) if self.end == time.max else timedelta(hours=self.end.hour, minutes=self.end.minute)
        return end - timedelta(hours=self.start.hour, minutes=self.start.minute)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of a local date as UTC instants, or None on a day off."""
        if day.weekday() not in self.days or day in self.holidays:
            return None
        if self.country and day in public_holidays(self.country, self.subdivision, day.year):
            return None
        opens = datetime.combine(day, self.start, tzinfo=self.tz)
        if self.end == time.max:
            closes = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=self.tz)
        else:
            closes = datetime.combine(day, self.end, tzinfo=self.tz)
        return opens.astimezone(UTC), closes.astimezone(UTC)

    def _local_day(self, instant: datetime) -> date:
        return to_utc(instant).astimezone(self.tz).date()

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The instant at which ``work`` of working time has passed since ``start``."""
        start = to_utc(start)
        remaining = work
        day = self._local_day(start) - timedelta(days=1)  # a window may begin on the previous local day
        for _ in range(_MAX_DAYS_WALKED + int(work / self.day_length) * 7):
            win = self.window(day)
            day += timedelta(days=1)
            if win is None or win[1] <= start:
                continue
            begin = max(start, win[0])
            available = win[1] - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise DeskError("sla.calendar: no working time found (are all days holidays?)")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero if ``end`` is not after ``start``)."""
        start, end = to_utc(start), to_utc(end)
        total = timedelta()
        if end <= start:
            return total
        day = self._local_day(start) - timedelta(days=1)
        last = self._local_day(end)
        while day <= last:
            win = self.window(day)
            day += timedelta(days=1)
            if win is None:
                continue
            overlap = min(end, win[1]) - max(start, win[0])
            if overlap > timedelta():
                total += overlap
        return total


def _holidays_package():
    try:
        import holidays
    except ModuleNotFoundError:
        raise DeskError(
            "sla.calendar.holidays: a country's holidays need the holidays package (pip install 'tui-desk[holidays]')"
        ) from None
    return holidays


def _check_place(country: str, subdivision: str | None) -> None:
    holidays = _holidays_package()
    where = country + (f"-{subdivision}" if subdivision else "")
    if country not in holidays.list_supported_countries():
        raise DeskError(f"sla.calendar.holidays: the holidays package does not know the country {country!r}")
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except (NotImplementedError, ValueError) as err:  # an unknown subdivision
        raise DeskError(f"sla.calendar.holidays: {where} is not known to the holidays package ({err})") from None


@functools.cache
def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of a country (or one of its subdivisions) in a year, from ``holidays``."""
    _check_place(country, subdivision)
    return frozenset(_holidays_package().country_holidays(country, subdiv=subdivision, years=year))


@dataclass(frozen=True)
class AroundTheClock:
    """No calendar: every hour counts, a day is 24 hours."""

    day_length: timedelta = timedelta(days=1)

    def add(self, start: datetime, work: timedelta) -> datetime:
        return to_utc(start) + work

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(to_utc(end) - to_utc(start), timedelta())


@dataclass(frozen=True)
class SlaTarget:
    response: Span
    resolution: Span


def _hours(n: float) -> Span:
    return Span(time=timedelta(hours=n))


DEFAULT_TARGETS = {
    "urgent": SlaTarget(_hours(1), _hours(8)),
    "high": SlaTarget(_hours(4), Span(days=1)),
    "normal": SlaTarget(_hours(8), Span(days=3)),
    "low": SlaTarget(Span(days=1), Span(days=5)),
}


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority, the calendar they are measured in, and the overdue panel's thresholds."""

    targets: dict[str, SlaTarget] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    calendar: BusinessCalendar | AroundTheClock = field(default_factory=AroundTheClock)
    at_risk: float = 0.75  # fraction of a target after which a ticket is "at risk"
    no_action_days: int = 5
    closing_soon_days: int = 3  # waiting tickets auto-closing within this many days

    def target(self, priority: str) -> SlaTarget:
        return self.targets.get(priority) or self.targets["normal"]

    def working(self, span: Span | timedelta) -> timedelta:
        """A target as working time: its days are working days of the calendar, its hours working hours.

        A plain ``timedelta`` is working time as it is (``timedelta(hours=24)`` is 24 working hours).
        """
        if isinstance(span, timedelta):
            return span
        return self.calendar.day_length * span.days + span.time


# Statuses during which the resolution clock stands still: the move is the buyer's or seller's
# (or the customer's, for the 7 days a Resolved ticket may be disputed).
PAUSING = frozenset({Status.WAITING_BUYER, Status.WAITING_SELLER, Status.RESOLVED})


def pauses(status: Status) -> bool:
    return status in PAUSING


@dataclass
class SlaClocks:
    """The SLA bookkeeping a ticket carries (the Ticket model has these columns under ``sla_`` names)."""

    response_due_at: datetime | None = None
    response_risk_at: datetime | None = None
    response_breached_at: datetime | None = None
    resolution_due_at: datetime | None = None
    resolution_risk_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    paused_seconds: int = 0  # working seconds spent paused so far
    paused_since: datetime | None = None


FIELDS = tuple(SlaClocks.__dataclass_fields__)


def read_clocks(ticket) -> SlaClocks:
    """The clocks stored on a ticket-like object (attributes ``sla_<field>``)."""
    return SlaClocks(**{name: getattr(ticket, f"sla_{name}") for name in FIELDS})


def write_clocks(ticket, clocks: SlaClocks) -> None:
    for name in FIELDS:
        setattr(ticket, f"sla_{name}", getattr(clocks, name))


def _resolution_due(opened_at: datetime, priority: str, paused_seconds: int, policy: SlaPolicy, fraction: float):
    work = policy.working(policy.target(priority).resolution) * fraction + timedelta(seconds=paused_seconds)
    return policy.calendar.add(opened_at, work)


def opened(opened_at: datetime, priority: str, policy: SlaPolicy) -> SlaClocks:
    """The clocks of a ticket just opened: both start at once."""
    target = policy.target(priority)
    cal = policy.calendar
    return SlaClocks(
        response_due_at=cal.add(opened_at, policy.working(target.response)),
        response_risk_at=cal.add(opened_at, policy.working(target.response) * policy.at_risk),
        resolution_due_at=_resolution_due(opened_at, priority, 0, policy, 1.0),
        resolution_risk_at=_resolution_due(opened_at, priority, 0, policy, policy.at_risk),
    )


def responded(clocks: SlaClocks, at: datetime) -> SlaClocks:
    """The first response went out at ``at``: keep the breach time if it came late."""
    due = clocks.response_due_at
    if clocks.response_breached_at is None and due is not None and to_utc(at) > due:
        clocks.response_breached_at = due
    return clocks


def priority_changed(
    clocks: SlaClocks, *, opened_at: datetime, priority: str, responded_at: datetime | None, policy: SlaPolicy
) -> SlaClocks:
    """The new priority's targets, measured from the opening as always; breaches already recorded stay.

    A paused resolution clock keeps standing still: it resumes with the new priority's target
    (``status_changed`` is given the ticket's priority then).
    """
    target = policy.target(priority)
    if responded_at is None and clocks.response_breached_at is None:
        clocks.response_due_at = policy.calendar.add(opened_at, policy.working(target.response))
        clocks.response_risk_at = policy.calendar.add(opened_at, policy.working(target.response) * policy.at_risk)
    if clocks.paused_since is None and clocks.resolution_due_at is not None:
        clocks.resolution_due_at = _resolution_due(opened_at, priority, clocks.paused_seconds, policy, 1.0)
        clocks.resolution_risk_at = _resolution_due(opened_at, priority, clocks.paused_seconds, policy, policy.at_risk)
    return clocks


def status_changed(
    clocks: SlaClocks,
    *,
    old: Status,
    new: Status,
    now: datetime,
    opened_at: datetime,
    priority: str,
    responded_at: datetime | None,
    policy: SlaPolicy,
) -> SlaClocks:
    """Pause, resume or stop the clocks as a ticket moves from ``old`` to ``new`` at ``now``."""
    now = to_utc(now)
    stops = pauses(new) or new is Status.CLOSED
    running = clocks.paused_since is None and clocks.resolution_due_at is not None
    if stops and running:
        if clocks.resolution_breached_at is None and now > clocks.resolution_due_at:
            clocks.resolution_breached_at = clocks.resolution_due_at
    if not new.is_open and responded_at is None:
        # Resolved or closed without a first response: the response clock stops here.
        responded(clocks, now)
    if clocks.paused_since is not None and not pauses(new):
        clocks.paused_seconds += int(policy.calendar.between(clocks.paused_since, now).total_seconds())
        clocks.paused_since = None
        if new is not Status.CLOSED:
            clocks.resolution_due_at = _resolution_due(opened_at, priority, clocks.paused_seconds, policy, 1.0)
            clocks.resolution_risk_at = _resolution_due(
                opened_at, priority, clocks.paused_seconds, policy, policy.at_risk
            )
    elif pauses(new) and clocks.paused_since is None:
        clocks.paused_since = now
        clocks.resolution_due_at = None
        clocks.resolution_risk_at = None
    if new is Status.CLOSED:
        clocks.resolution_due_at = None
        clocks.resolution_risk_at = None
    return clocks


def breaches(clocks: SlaClocks, *, status: Status, responded_at: datetime | None, now: datetime) -> dict[str, datetime]:
    """The SLA breaches of a ticket as of ``now``: kept ones, and running clocks already past due."""
    now = to_utc(now)
    found: dict[str, datetime] = {}
    if clocks.response_breached_at is not None:
        found["response"] = clocks.response_breached_at
    elif responded_at is None and status.is_open and clocks.response_due_at and clocks.response_due_at < now:
        found["response"] = clocks.response_due_at
    if clocks.resolution_breached_at is not None:
        found["resolution"] = clocks.resolution_breached_at
    elif clocks.resolution_due_at is not None and clocks.paused_since is None and clocks.resolution_due_at < now:
        found["resolution"] = clocks.resolution_due_at
    return found


def remaining_resolution(clocks: SlaClocks, *, opened_at: datetime, priority: str, now: datetime, policy: SlaPolicy):
    """Working time left on the resolution clock (negative when late); it stands still while paused."""
    target = policy.working(policy.target(priority).resolution)
    until = clocks.paused_since or to_utc(now)
    used = policy.calendar.between(opened_at, until) - timedelta(seconds=clocks.paused_seconds)
    return target - used


def make_calendar(
    days: list[str] | None = None,
    hours: str = "09:00-17:00",
    tz: str | tzinfo = "UTC",
    holidays: list[str] | dict | None = None,
) -> BusinessCalendar:
    """A calendar from config words: ``["mon", ...]``, ``"09:00-17:00"``, a zone name, and holidays:
    ISO dates, or ``{country = "DE", subdivision = "BE", dates = [...]}`` (the ``holidays`` package's
    public holidays of that place, and any dates typed by hand)."""
    chosen = days if days is not None else list(WEEKDAYS[:5])
    if not isinstance(chosen, (list, tuple)):
        raise DeskError(f'sla.calendar.days: give a list such as ["mon", "tue"], not {days!r}')
    numbers = set()
    for word in chosen:
        key = str(word).strip().lower()[:3]
        if key not in WEEKDAYS:
            raise DeskError(f"sla.calendar.days: {word!r} is not a weekday (mon … sun)")
        numbers.add(WEEKDAYS.index(key))
    start_text, sep, end_text = str(hours).partition("-")
    start, end = _clock_time(start_text, hours), _clock_time(end_text, hours) if sep else None
    if end is None:
        raise DeskError(f"sla.calendar.hours: {hours!r} should look like 09:00-17:00")
    zone = tz
    if isinstance(tz, str):
        try:
            zone = ZoneInfo(tz)
        except (KeyError, ValueError):
            raise DeskError(f"sla.calendar.timezone: {tz!r} is not a known time zone") from None
    country = subdivision = None
    typed = holidays or []
    if isinstance(holidays, dict):
        unknown = set(holidays) - {"country", "subdivision", "dates"}
        if unknown:
            raise DeskError(f"sla.calendar.holidays.{sorted(unknown)[0]} is not country, subdivision or dates")
        country, subdivision = holidays.get("country"), holidays.get("subdivision")
        if not isinstance(country, str) or not country.strip():
            raise DeskError('sla.calendar.holidays: give a country code, e.g. {country = "DE", subdivision = "BE"}')
        if subdivision is not None and not isinstance(subdivision, str):
            raise DeskError(f"sla.calendar.holidays.subdivision: {subdivision!r} is not a code such as BE")
        country, subdivision = country.strip().upper(), (subdivision or "").strip().upper() or None
        typed = holidays.get("dates", [])
    if not isinstance(typed, (list, tuple)):
        raise DeskError(f'sla.calendar.holidays: give a list of dates such as ["2026-12-25"], not {typed!r}')
    off = set()
    for text in typed:
        try:
            off.add(date.fromisoformat(str(text).strip()))
        except ValueError:
            raise DeskError(f"sla.calendar.holidays: {text!r} is not a date like 2026-12-25") from None
    if country:
        _check_place(country, subdivision)  # refused when the config is read, not at the first due time
    return BusinessCalendar(frozenset(numbers), start, end, zone, frozenset(off), country, subdivision)


def _clock_time(text: str, whole: str) -> time:
    text = text.strip()
    if text == "24:00":
        return time.max
    try:
        hour, minute = (int(p) for p in text.split(":"))
        return time(hour, minute)
    except ValueError:
        raise DeskError(f"sla.calendar.hours: {whole!r} should look like 09:00-17:00") from None
