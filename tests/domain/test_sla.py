"""SLA arithmetic, worked out by hand: around the clock, business hours, holidays, DST, pauses, breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tui_desk.config import load_config
from tui_desk.domain import sla
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.store import Store

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def office() -> sla.BusinessCalendar:
    """Mon-Fri 09:00-17:00 in Berlin; Christmas Day 2026 (a Friday) off."""
    return sla.make_calendar(["mon", "tue", "wed", "thu", "fri"], "09:00-17:00", "Europe/Berlin", ["2026-12-25"])


# -- spans -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8h", sla.Span(time=timedelta(hours=8))),
        ("90m", sla.Span(time=timedelta(minutes=90))),
        ("3d", sla.Span(days=3)),
        ("1d 4h", sla.Span(days=1, time=timedelta(hours=4))),
        ("24h", sla.Span(time=timedelta(hours=24))),  # 24 hours, not a day
        (2, sla.Span(time=timedelta(hours=2))),
        ("1.5h", sla.Span(time=timedelta(minutes=90))),
    ],
)
def test_spans(text, expected):
    assert sla.parse_span(text) == expected
    assert sla.parse_span(str(expected)) == expected  # shown as written, read back the same


@pytest.mark.parametrize("text", ["", "soon", "3 weeks", "0h", "-2h", "8h later", True])
def test_bad_spans_are_refused(text):
    with pytest.raises(DeskError):
        sla.parse_span(text)


# -- around the clock --------------------------------------------------------------------


def test_around_the_clock_due_and_risk_times():
    opened = utc(2026, 11, 15, 14, 30)  # a Sunday: no calendar, so it counts
    clocks = sla.opened(opened, "normal", sla.SlaPolicy())
    assert clocks.response_due_at == utc(2026, 11, 15, 22, 30)  # 8 h
    assert clocks.response_risk_at == utc(2026, 11, 15, 20, 30)  # 75 % of 8 h = 6 h
    assert clocks.resolution_due_at == utc(2026, 11, 18, 14, 30)  # 3 days
    assert clocks.resolution_risk_at == utc(2026, 11, 17, 20, 30)  # 54 h
    urgent = sla.opened(opened, "urgent", sla.SlaPolicy())
    assert (urgent.response_due_at, urgent.resolution_due_at) == (utc(2026, 11, 15, 15, 30), utc(2026, 11, 15, 22, 30))


# -- business hours ----------------------------------------------------------------------


def test_business_hours_across_a_holiday_and_a_weekend(office):
    policy = sla.SlaPolicy(calendar=office)
    opened = berlin(2026, 12, 24, 15, 0)  # Thursday 15:00: 2 working hours left that day
    clocks = sla.opened(opened, "normal", policy)
    # response 8 h: Thu 2 h, Fri 25th holiday, weekend, Mon 28th 09:00 + 6 h = 15:00
    assert clocks.response_due_at == berlin(2026, 12, 28, 15, 0)
    # at risk after 6 h: Thu 2 h + Mon 4 h = Mon 13:00
    assert clocks.response_risk_at == berlin(2026, 12, 28, 13, 0)
    # resolution 3 working days = 24 h: Thu 2, Mon 8, Tue 8, Wed 6 -> Wed 30th 15:00
    assert clocks.resolution_due_at == berlin(2026, 12, 30, 15, 0)
    assert policy.working(sla.Span(days=3)) == timedelta(hours=24)


def test_business_hours_start_outside_hours_and_across_dst(office):
    # Saturday morning: nothing counts until Monday 09:00.
    assert office.add(berlin(2026, 3, 21, 10, 0), timedelta(hours=1)) == berlin(2026, 3, 23, 10, 0)
    # Before opening on a working day: the clock starts at 09:00.
    assert office.add(berlin(2026, 3, 23, 7, 0), timedelta(hours=1)) == berlin(2026, 3, 23, 10, 0)
    # Friday 16:00 CET + 2 h crosses the switch to summer time: Monday 10:00 CEST = 08:00 UTC.
    due = office.add(berlin(2026, 3, 27, 16, 0), timedelta(hours=2))
    assert due == utc(2026, 3, 30, 8, 0)
    assert office.between(berlin(2026, 3, 27, 16, 0), due) == timedelta(hours=2)
    # A whole working week, holiday included: Mon 21st .. Sun 27th Dec 2026 has 4 working days.
    assert office.between(berlin(2026, 12, 21), berlin(2026, 12, 28)) == timedelta(hours=32)
    assert office.between(berlin(2026, 12, 28), berlin(2026, 12, 21)) == timedelta()


def test_calendar_config_is_checked():
    with pytest.raises(DeskError, match="weekday"):
        sla.make_calendar(["mon", "funday"])
    with pytest.raises(DeskError, match="09:00-17:00"):
        sla.make_calendar(hours="nine to five")
    with pytest.raises(DeskError, match="end after"):
        sla.make_calendar(hours="17:00-09:00")
    with pytest.raises(DeskError, match="time zone"):
        sla.make_calendar(tz="Mars/Olympus")
    with pytest.raises(DeskError, match="date"):
        sla.make_calendar(holidays=["Christmas"])
    with pytest.raises(DeskError, match="working day"):
        sla.make_calendar(days=[])
    all_day = sla.make_calendar(sla.WEEKDAYS, "00:00-24:00")
    assert all_day.day_length == timedelta(days=1)
    assert all_day.add(utc(2026, 11, 15, 23, 0), timedelta(hours=2)) == utc(2026, 11, 16, 1, 0)


@pytest.mark.parametrize(
    "target, due",
    [
        # Opened Monday 21 Dec 2026 09:00 in Berlin; 8 working hours a day; the 25th is a holiday.
        ("23h", berlin(2026, 12, 23, 16, 0)),  # Mon 8 + Tue 8 + Wed 7
        ("24h", berlin(2026, 12, 23, 17, 0)),  # 24 working hours, not one day (was Mon 17:00)
        ("25h", berlin(2026, 12, 24, 10, 0)),  # one more hour: Thursday 10:00 (was Tue 10:00)
        ("3d", berlin(2026, 12, 23, 17, 0)),  # three working days
        ("1d 4h", berlin(2026, 12, 22, 13, 0)),
        ("5d", berlin(2026, 12, 28, 17, 0)),  # Mon-Thu, Fri the 25th off, the weekend, Mon 28th
    ],
)
def test_targets_read_exactly_as_written_under_a_calendar(office, target, due):
    span = sla.parse_span(target)
    policy = sla.SlaPolicy(calendar=office, targets={"normal": sla.SlaTarget(span, span)})
    clocks = sla.opened(berlin(2026, 12, 21, 9, 0), "normal", policy)
    assert clocks.resolution_due_at == due
    assert clocks.response_due_at == due


def test_config_targets_in_hours_and_days(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[sla.targets.high]\nresponse = "24h"\nresolution = "3d"\n'
        '[sla.calendar]\nhours = "09:00-17:00"\ntimezone = "Europe/Berlin"\n'
    )
    policy = load_config(path).sla
    assert policy.working(policy.target("high").response) == timedelta(hours=24)
    assert policy.working(policy.target("high").resolution) == timedelta(hours=24)
    assert str(policy.target("high").response) == "24h" and str(policy.target("high").resolution) == "3d"


def test_public_holidays_of_a_country_and_subdivision():
    # Berlin keeps International Women's Day (8 March; Monday 9 March 2026 is a working day, the 8th a
    # Sunday) -- use 2027: Monday 8 March 2027 is off in Berlin, not in Bavaria.
    berlin_cal = sla.make_calendar(tz="Europe/Berlin", holidays={"country": "de", "subdivision": "BE"})
    bavaria = sla.make_calendar(tz="Europe/Berlin", holidays={"country": "DE", "subdivision": "BY"})
    friday = berlin(2027, 3, 5, 17, 0)
    assert berlin_cal.add(friday, timedelta(hours=1)) == berlin(2027, 3, 9, 10, 0)
    assert bavaria.add(friday, timedelta(hours=1)) == berlin(2027, 3, 8, 10, 0)
    # Hand-typed dates beside the country's: 1 Jan is public, 2 Jan 2026 (a Friday) typed by hand.
    both = sla.make_calendar(tz="Europe/Berlin", holidays={"country": "DE", "dates": ["2026-01-02"]})
    assert both.window(datetime(2026, 1, 1).date()) is None and both.window(datetime(2026, 1, 2).date()) is None
    assert both.window(datetime(2026, 1, 5).date()) is not None


@pytest.mark.parametrize(
    "holidays, message",
    [
        ({"country": "XX"}, "does not know the country"),
        ({"country": "DE", "subdivision": "ZZ"}, "DE-ZZ"),
        ({"subdivision": "BE"}, "country code"),
        ({"country": "DE", "region": "BE"}, "holidays.region"),
        ("2026-12-25", "list of dates"),
    ],
)
def test_bad_holidays_are_refused(holidays, message):
    with pytest.raises(DeskError, match=message):
        sla.make_calendar(holidays=holidays)


def test_config_holidays_by_country(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[sla.calendar]\ntimezone = "Europe/Berlin"\nholidays = {country = "DE", subdivision = "BE"}\n')
    calendar = load_config(path).sla.calendar
    assert calendar.window(datetime(2026, 12, 25).date()) is None  # Christmas, not typed
    assert calendar.window(datetime(2026, 12, 28).date()) is not None


# -- pauses, at risk, breaches -------------------------------------------------------------


def move(clocks, old, new, now, *, opened, priority="normal", responded_at=None, policy=None):
    return sla.status_changed(
        clocks,
        old=old,
        new=new,
        now=now,
        opened_at=opened,
        priority=priority,
        responded_at=responded_at,
        policy=policy or sla.SlaPolicy(),
    )


def test_resolution_clock_pauses_while_waiting_on_the_buyer():
    opened = utc(2026, 11, 15, 14, 30)
    clocks = sla.opened(opened, "normal", sla.SlaPolicy())
    clocks = move(clocks, Status.NEW, Status.WAITING_BUYER, utc(2026, 11, 16, 14, 30), opened=opened)
    assert clocks.resolution_due_at is None and clocks.paused_since == utc(2026, 11, 16, 14, 30)
    # While paused the remaining time stands still: 2 days left, whenever we look.
    for now in (utc(2026, 11, 17), utc(2026, 12, 1)):
        left = sla.remaining_resolution(clocks, opened_at=opened, priority="normal", now=now, policy=sla.SlaPolicy())
        assert left == timedelta(days=2)
    # Buyer -> seller keeps it paused; back with us after 48 h in all resumes it, 48 h later than planned.
    clocks = move(clocks, Status.WAITING_BUYER, Status.WAITING_SELLER, utc(2026, 11, 17, 14, 30), opened=opened)
    clocks = move(clocks, Status.WAITING_SELLER, Status.WAITING_US, utc(2026, 11, 18, 14, 30), opened=opened)
    assert clocks.paused_seconds == 48 * 3600 and clocks.paused_since is None
    assert clocks.resolution_due_at == utc(2026, 11, 20, 14, 30)
    assert clocks.resolution_risk_at == utc(2026, 11, 19, 20, 30)  # 54 h + 48 h after opening
    assert sla.breaches(clocks, status=Status.WAITING_US, responded_at=opened, now=utc(2026, 11, 20, 14, 0)) == {}


def test_pause_in_business_hours_counts_working_time_only(office):
    policy = sla.SlaPolicy(calendar=office)
    opened = berlin(2026, 12, 21, 9, 0)  # Monday 09:00
    clocks = sla.opened(opened, "normal", policy)
    assert clocks.resolution_due_at == berlin(2026, 12, 23, 17, 0)  # 24 h: Mon, Tue, Wed
    # Waiting on the seller from Tuesday 13:00 to Monday 28th 11:00: Tue 4 h + Wed 8 + Thu 8 + Mon 2 = 22 h.
    clocks = move(clocks, Status.L1, Status.WAITING_SELLER, berlin(2026, 12, 22, 13, 0), opened=opened, policy=policy)
    clocks = move(
        clocks, Status.WAITING_SELLER, Status.WAITING_US, berlin(2026, 12, 28, 11, 0), opened=opened, policy=policy
    )
    assert clocks.paused_seconds == 22 * 3600
    # 12 h of the 24 were used before the pause: 12 h left from Monday 11:00 -> Mon 6 h, Tue 6 h -> Tue 15:00.
    assert clocks.resolution_due_at == berlin(2026, 12, 29, 15, 0)


def test_breach_times_are_kept_through_resolve_and_close():
    opened = utc(2026, 11, 15, 14, 30)
    clocks = sla.opened(opened, "urgent", sla.SlaPolicy())  # 1 h / 8 h
    clocks = sla.responded(clocks, utc(2026, 11, 15, 16, 0))  # 30 min late
    assert clocks.response_breached_at == utc(2026, 11, 15, 15, 30)
    late = utc(2026, 11, 16, 9, 0)
    clocks = move(
        clocks,
        Status.L1,
        Status.RESOLVED,
        late,
        opened=opened,
        priority="urgent",
        responded_at=utc(2026, 11, 15, 16, 0),
    )
    assert clocks.resolution_breached_at == utc(2026, 11, 15, 22, 30)
    clocks = move(clocks, Status.RESOLVED, Status.CLOSED, late + timedelta(days=7), opened=opened, priority="urgent")
    assert clocks.resolution_breached_at == utc(2026, 11, 15, 22, 30)
    assert clocks.resolution_due_at is None
    found = sla.breaches(clocks, status=Status.CLOSED, responded_at=late, now=late + timedelta(days=30))
    assert found == {"response": utc(2026, 11, 15, 15, 30), "resolution": utc(2026, 11, 15, 22, 30)}


def test_on_time_leaves_no_breach_and_running_clocks_breach_when_past_due():
    opened = utc(2026, 11, 15, 14, 30)
    clocks = sla.opened(opened, "normal", sla.SlaPolicy())
    clocks = sla.responded(clocks, utc(2026, 11, 15, 22, 30))  # exactly on the due time is on time
    assert clocks.response_breached_at is None
    assert sla.breaches(clocks, status=Status.L1, responded_at=opened, now=utc(2026, 11, 18, 14, 30)) == {}
    assert sla.breaches(clocks, status=Status.L1, responded_at=opened, now=utc(2026, 11, 18, 14, 31)) == {
        "resolution": utc(2026, 11, 18, 14, 30)
    }
    # Never answered: the response clock breaches while the ticket is open.
    fresh = sla.opened(opened, "normal", sla.SlaPolicy())
    assert sla.breaches(fresh, status=Status.NEW, responded_at=None, now=utc(2026, 11, 16))["response"] == utc(
        2026, 11, 15, 22, 30
    )


# -- in the store ------------------------------------------------------------------------


def test_store_keeps_the_clocks(store, clock):
    t = store.create_ticket(customer="Ana", subject="Broken lamp", priority="high")  # 4 h / 24 h
    assert t.sla_response_due_at == utc(2026, 11, 15, 18, 30)
    assert t.sla_resolution_due_at == utc(2026, 11, 16, 14, 30)
    clock.advance(timedelta(hours=5))
    store.add_entry(t.case_number, channel="email", direction="out", summary="We are on it")
    t = store.get(t.case_number)
    assert t.sla_response_breached_at == utc(2026, 11, 15, 18, 30)
    store.change_status(t.case_number, Status.WAITING_BUYER)
    clock.advance(timedelta(hours=10))
    store.add_entry(t.case_number, channel="email", direction="in", sender="buyer", summary="Photo attached")
    t = store.get(t.case_number)
    assert t.status == Status.WAITING_US.slug
    assert t.sla_paused_seconds == 10 * 3600
    assert t.sla_resolution_due_at == utc(2026, 11, 17, 0, 30)
    clock.advance(timedelta(days=2))
    store.change_status(t.case_number, Status.RESOLVED, "Refunded")
    t = store.get(t.case_number)
    assert t.sla_resolution_breached_at == utc(2026, 11, 17, 0, 30)


def test_store_uses_the_configured_calendar(tmp_path):
    from tui_desk.domain.clock import FixedClock

    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[sla]\nat_risk = 0.5\n[sla.targets.normal]\nresponse = "2h"\n'
        '[sla.calendar]\ndays = ["mon","tue","wed","thu","fri"]\nhours = "09:00-17:00"\n'
        'timezone = "Europe/Berlin"\nholidays = ["2026-12-25"]\n'
    )
    config = load_config(cfg)
    store = Store(tmp_path / "d.db", config=config, clock=FixedClock(berlin(2026, 12, 24, 16, 0)), agent="ana")
    t = store.create_ticket(customer="Bo", subject="Late parcel")
    assert t.sla_response_due_at == berlin(2026, 12, 28, 10, 0)
    assert t.sla_response_risk_at == berlin(2026, 12, 24, 17, 0)
    store.close()


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[sla]\nat_risk = 1.5", "sla.at_risk"),
        ("[sla]\nno_action_days = 0", "sla.no_action_days"),
        ('[sla.targets.whenever]\nresponse = "1h"', "sla.targets.whenever"),
        ('[sla.targets.low]\nresponse = "soon"', "sla.targets.low.response"),
        ('[sla.calendar]\ndays = "mon"', "sla.calendar.days"),
        ("[sla.calendar]\nweekends = true", "sla.calendar.weekends"),
    ],
)
def test_bad_sla_config_is_refused_by_key(tmp_path, toml, message):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(DeskError, match=message.replace(".", r"\.")):
        load_config(path)
