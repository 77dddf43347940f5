"""Reading typed dates and showing them with their zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tui_desk.domain.case_numbers import format_case_number, parse_case_number
from tui_desk.domain.dates import format_span, format_when, parse_when
from tui_desk.domain.errors import DeskError

NOW = datetime(2026, 11, 15, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2026-11-15 14:30", datetime(2026, 11, 15, 14, 30, tzinfo=UTC)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-15T09:05:00Z", datetime(2026, 11, 15, 9, 5, tzinfo=UTC)),
        ("2026-11-15 16:30+02:00", datetime(2026, 11, 15, 14, 30, tzinfo=UTC)),
        ("2026-11-15 14:30 UTC", datetime(2026, 11, 15, 14, 30, tzinfo=UTC)),
        ("15.11.2026 8:00", datetime(2026, 11, 15, 8, 0, tzinfo=UTC)),
        ("14:30", datetime(2026, 11, 15, 14, 30, tzinfo=UTC)),
        ("9:00", datetime(2026, 11, 15, 9, 0, tzinfo=UTC)),
        ("tomorrow 9:00", datetime(2026, 11, 16, 9, 0, tzinfo=UTC)),
        ("Tomorrow", datetime(2026, 11, 16, 0, 0, tzinfo=UTC)),
        ("yesterday 17:45", datetime(2026, 11, 14, 17, 45, tzinfo=UTC)),
        ("today", NOW),
        ("now", NOW),
        ("+3d", NOW + timedelta(days=3)),
        ("-2h", NOW - timedelta(hours=2)),
        ("+90min", NOW + timedelta(minutes=90)),
        ("+1w", NOW + timedelta(weeks=1)),
    ],
)
def test_parse_when(text, expected):
    assert parse_when(text, NOW) == expected


def test_wall_times_are_read_in_the_configured_zone():
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_when("tomorrow 9:00", NOW, berlin) == datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    assert parse_when("2026-07-01 12:00", NOW, berlin) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "  ", "soon", "25:00", "2026-13-01", "tomorrow 99:99", "+3x", "3d", "31.02.2026"])
def test_unreadable_dates_are_refused(text):
    with pytest.raises(DeskError, match="date|time"):
        parse_when(text, NOW)


def test_format_when_shows_the_zone():
    assert format_when(datetime(2026, 11, 15, 14, 30, tzinfo=UTC)) == "2026-11-15 14:30 UTC"
    assert format_when(datetime(2026, 11, 15, 14, 30, tzinfo=UTC), ZoneInfo("Europe/Berlin")) == "2026-11-15 15:30 CET"
    assert format_when(None) == ""


def test_format_span():
    assert format_span(timedelta(days=1, hours=4)) == "1 d 4 h"
    assert format_span(timedelta(days=3)) == "3 d"
    assert format_span(timedelta(hours=5, minutes=10)) == "5 h 10 min"
    assert format_span(timedelta(minutes=12)) == "12 min"
    assert format_span(-timedelta(hours=2)) == "2 h"


def test_case_number_format_and_parse():
    assert format_case_number("GTB", "REF", 2026, 42) == "GTB-REF-2026-00042"
    assert format_case_number("TD", "SUP", 2027, 123456) == "TD-SUP-2027-123456"
    assert parse_case_number("gtb-ref-2026-00042") == ("GTB", "REF", 2026, 42)
    for bad in ("GTB-REF-1101", "GTB_REF_2026_1", "", "GTB-REF-26-00001"):
        with pytest.raises(DeskError):
            parse_case_number(bad)
    with pytest.raises(ValueError):
        format_case_number("TD", "REF", 2026, 0)


# NOW is Sunday 15 November 2026, 14:30 UTC.
@pytest.mark.parametrize(
    "text,expected",
    [
        ("fri", datetime(2026, 11, 20, tzinfo=UTC)),
        ("Friday 16:00", datetime(2026, 11, 20, 16, 0, tzinfo=UTC)),
        ("sun 9:00", datetime(2026, 11, 15, 9, 0, tzinfo=UTC)),  # today is Sunday: this one
        ("next sunday", datetime(2026, 11, 22, tzinfo=UTC)),  # the first after today
        ("next monday 9:00", datetime(2026, 11, 16, 9, 0, tzinfo=UTC)),
        ("this wed 12:30", datetime(2026, 11, 18, 12, 30, tzinfo=UTC)),
        ("last fri 10:00", datetime(2026, 11, 13, 10, 0, tzinfo=UTC)),
        ("last sun", datetime(2026, 11, 8, tzinfo=UTC)),
        ("+1d 2h", NOW + timedelta(days=1, hours=2)),
        ("+1d2h", NOW + timedelta(days=1, hours=2)),
        ("-1h 30m", NOW - timedelta(hours=1, minutes=30)),
        ("+1w 2d 3h 4min", NOW + timedelta(weeks=1, days=2, hours=3, minutes=4)),
    ],
)
def test_weekdays_and_compound_offsets(text, expected):
    assert parse_when(text, NOW) == expected


def test_weekday_in_the_configured_zone():
    tokyo = ZoneInfo("Asia/Tokyo")  # already Sunday 23:30 there; "mon 9:00" is tomorrow morning, Tokyo time
    assert parse_when("mon 9:00", NOW, tokyo) == datetime(2026, 11, 16, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["next", "next week", "last 9:00", "fri 25:00", "+1d 2x", "+1d -2h", "+ d"])
def test_unreadable_weekdays_and_offsets_are_refused(text):
    with pytest.raises(DeskError, match="date|time"):
        parse_when(text, NOW)


def test_a_wall_time_the_clocks_skip_is_refused_with_both_readings():
    berlin = ZoneInfo("Europe/Berlin")
    with pytest.raises(DeskError) as err:
        parse_when("2026-03-29 02:30", NOW, berlin)
    message = str(err.value)
    assert "does not exist in Europe/Berlin" in message
    assert "2026-03-29 02:30+01:00 (01:30 UTC)" in message and "2026-03-29 02:30+02:00 (00:30 UTC)" in message
    # Each reading, typed as named, is taken.
    assert parse_when("2026-03-29 02:30+01:00", NOW, berlin) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # Either side of the gap is fine.
    assert parse_when("2026-03-29 01:59", NOW, berlin) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert parse_when("2026-03-29 03:00", NOW, berlin) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_wall_time_that_happens_twice_is_refused_with_both_readings():
    berlin = ZoneInfo("Europe/Berlin")
    with pytest.raises(DeskError) as err:
        parse_when("2026-10-25 02:30", NOW, berlin)
    message = str(err.value)
    assert "happens twice in Europe/Berlin" in message
    assert "2026-10-25 02:30+01:00 (01:30 UTC)" in message and "2026-10-25 02:30+02:00 (00:30 UTC)" in message
    assert parse_when("2026-10-25 02:30+02:00", NOW, berlin) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # Relative day words and weekdays are checked the same way: Sunday 25 Oct from Saturday 24th.
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    for text in ("tomorrow 2:30", "sun 2:30", "next sunday 02:30"):
        with pytest.raises(DeskError, match="happens twice"):
            parse_when(text, saturday, berlin)
