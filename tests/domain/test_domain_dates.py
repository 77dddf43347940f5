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
