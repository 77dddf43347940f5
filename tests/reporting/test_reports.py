"""Report figures on a hand-made store, every expected number worked out by hand (see the comments)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tui_desk.domain.statuses import Status
from tui_desk.reporting.reports import build_report, percentile

SINCE = datetime(2026, 11, 2, tzinfo=UTC)  # Monday: week 1 = 2 .. 8 Nov, week 2 = 9 .. 15 Nov
UNTIL = datetime(2026, 11, 16, tzinfo=UTC)


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) if day > 0 else datetime(2026, 10, 30, hour, tzinfo=UTC)


@pytest.fixture
def desk(store, clock):
    """Five tickets (A..E). Targets: urgent 1 h / 8 h, high 4 h / 24 h, normal 8 h / 3 d, low 24 h / 5 d."""

    def opened(when, **fields):
        clock.set(when)
        return store.create_ticket(customer="C", subject="S", **fields).case_number

    def reply(case, when, **kw):
        clock.set(when)
        store.add_entry(case, channel="email", direction="out", summary="Reply", **kw)

    def status(case, when, target, note="done"):
        clock.set(when)
        store.change_status(case, target, note)

    # E: opened before the window; replied after 72 h (a response in week 1, its breach before the window),
    # then waiting on the buyer from exactly its resolution due time: paused, never breached.
    e = opened(at(0, 10), kind="refund", priority="normal")
    store.assign(e, "ben")
    reply(e, at(2, 10), status=Status.WAITING_BUYER)
    # A: refund, normal, ana. Reply after 2 h, resolved after 24 h; refund 24 h + 48 h.
    a = opened(at(2, 10), kind="refund", priority="normal", reason="defective item")
    store.assign(a, "ana")
    reply(a, at(2, 12))
    status(a, at(3, 10), Status.RESOLVED)
    clock.set(at(6, 10))  # milestones are recorded once they happened (never dated ahead of the clock)
    store.set_refund(
        a, amount="20", currency="EUR", approved_at=at(3, 10), initiated_at=at(4, 10), refunded_at=at(6, 10)
    )
    # B: refund, urgent, ben. Reply after 4 h (response breach Nov 3 10:00), resolved after 144 h
    # (resolution breach Nov 3 17:00, resolved in week 2); refund 12 h + 12 h.
    b = opened(at(3, 9), kind="refund", priority="urgent", reason="not delivered")
    store.assign(b, "ben")
    reply(b, at(3, 13))
    status(b, at(9, 9), Status.RESOLVED)
    clock.set(at(10, 9))
    store.set_refund(b, approved_at=at(9, 9), initiated_at=at(9, 21), refunded_at=at(10, 9))
    # C: support, high, ana. Reply after 6 h (breach Nov 10 12:00); still open (running breach Nov 11 08:00).
    c = opened(at(10, 8), kind="support", priority="high")
    store.assign(c, "ana")
    reply(c, at(10, 14))
    status(c, at(10, 15), Status.L1)
    # D: refund, low, unassigned, never answered (response breach Nov 13 10:00; resolution due Nov 17).
    opened(at(12, 10), kind="refund", priority="low", reason="defective item")
    clock.set(at(15, 14, 30))
    return store


def stats(count, mean, median, p90):
    return {"count": count, "mean_hours": mean, "median_hours": median, "p90_hours": p90}


def test_percentile_is_nearest_rank():
    assert percentile([2, 4, 6, 72], 0.9) == 72  # rank ceil(3.6) = 4
    assert percentile(list(range(1, 11)), 0.9) == 9  # rank 9 of 10
    assert percentile([5], 0.9) == 5


def test_response_and_resolution_times(desk):
    r = build_report(desk, SINCE, UNTIL)
    first = r["first_response"]
    assert first["all"] == stats(4, 21.0, 5.0, 72.0)  # 2, 4, 6, 72 h
    assert first["by_kind"] == {"refund": stats(3, 26.0, 4.0, 72.0), "support": stats(1, 6.0, 6.0, 6.0)}
    assert first["by_priority"] == {
        "high": stats(1, 6.0, 6.0, 6.0),
        "normal": stats(2, 37.0, 37.0, 72.0),
        "urgent": stats(1, 4.0, 4.0, 4.0),
    }
    assert first["by_agent"] == {"ana": stats(2, 4.0, 4.0, 6.0), "ben": stats(2, 38.0, 38.0, 72.0)}
    resolution = r["resolution"]
    assert resolution["all"] == stats(2, 84.0, 84.0, 144.0)  # 24 and 144 h
    assert resolution["by_agent"] == {"ana": stats(1, 24.0, 24.0, 24.0), "ben": stats(1, 144.0, 144.0, 144.0)}


def test_weekly_counts_and_breaches(desk):
    r = build_report(desk, SINCE, UNTIL)
    assert r["weeks"] == [
        {"week": "2026-11-02", "opened": 2, "resolved": 1, "response_breaches": 1, "resolution_breaches": 1},
        {"week": "2026-11-09", "opened": 2, "resolved": 1, "response_breaches": 2, "resolution_breaches": 1},
    ]


def test_refund_reasons_and_delays(desk):
    r = build_report(desk, SINCE, UNTIL)
    assert r["refund_reasons"] == {
        "weeks": ["2026-11-02", "2026-11-09"],
        "reasons": {"defective item": [1, 1], "not delivered": [1, 0]},
    }
    assert r["refund_delays"] == {
        "approved_to_initiated": stats(2, 18.0, 18.0, 24.0),
        "initiated_to_refunded": stats(2, 30.0, 30.0, 48.0),
        "approved_to_refunded": stats(2, 48.0, 48.0, 72.0),
    }


def test_breaches_are_still_counted_after_closing(desk, clock):
    clock.set(at(15, 9))  # within the 7 days after B was resolved on the 9th (later, the timer closes it first)
    desk.change_status("TD-REF-2026-00003", Status.CLOSED, "Refund received, case closed")  # B
    r = build_report(desk, SINCE, UNTIL)
    assert [w["resolution_breaches"] for w in r["weeks"]] == [1, 1]
    assert [w["response_breaches"] for w in r["weeks"]] == [1, 2]


def test_narrow_window_counts_only_what_happened_in_it(desk):
    r = build_report(desk, datetime(2026, 11, 9, tzinfo=UTC), UNTIL)
    assert r["first_response"]["all"]["count"] == 1  # C only
    assert r["resolution"]["all"] == stats(1, 144.0, 144.0, 144.0)  # B
    assert [w["week"] for w in r["weeks"]] == ["2026-11-09"]


def test_report_command_json_csv_and_text(desk, cli):
    data = cli.json("report", "--since", "2026-11-02", "--until", "2026-11-16")
    assert data["first_response"]["all"] == stats(4, 21.0, 5.0, 72.0)
    assert data["since"] == "2026-11-02T00:00:00Z" and data["until"] == "2026-11-16T00:00:00Z"
    out = cli.ok("report", "--since", "2026-11-02", "--until", "2026-11-16", "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {"section": "resolution", "group": "all", "key": "all", "metric": "p90_hours", "value": "144.0"} in rows
    assert {
        "section": "weeks",
        "group": "week",
        "key": "2026-11-09",
        "metric": "response_breaches",
        "value": "2",
    } in rows
    text = cli.ok("report", "--since", "2026-11-02", "--until", "2026-11-16").stdout
    assert "First response time" in text and "defective item" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_default_window_is_twelve_weeks(desk, cli):
    data = cli.json("report")
    assert len(data["weeks"]) == 12 and data["weeks"][-1]["week"] == "2026-11-09"
    assert data["until"] == "2026-11-15T14:30:00Z"


def test_report_refuses_bad_input(desk, cli, tmp_path):
    assert "empty" in cli.fails("report", "--since", "2026-11-16", "--until", "2026-11-02")
    assert "cannot read the date" in cli.fails("report", "--since", "some day soon")  # "last tuesday" reads now
    assert "no store" in cli.fails("report", db=tmp_path / "missing.db")
    assert "not allowed with" in cli.run("report", "--json", "--csv").stderr
