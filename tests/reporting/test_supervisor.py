"""The overdue panel and workload on a hand-made store, and the supervisor screens driven with Pilot."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import workers_done
from tui_desk.domain.statuses import Status
from tui_desk.reporting.overdue import overdue
from tui_desk.reporting.workload import workload
from tui_desk.store import Store
from tui_desk.tui.app import DeskApp

NOW = datetime(2026, 11, 15, 14, 30, tzinfo=UTC)  # a Sunday; the week began Monday 9 Nov


def at(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def build_desk(store: Store, clock) -> dict[str, str]:
    """Seven tickets, one per situation; defaults: around the clock, at risk at 75 %, idle after 5 days."""

    def opened(name, when, priority, assignee=None, **kw):
        clock.set(when)
        case = store.create_ticket(
            customer=f"Customer {name}", subject=f"Case {name}", kind="support", priority=priority, **kw
        ).case_number
        if assignee:
            store.assign(case, assignee)
        cases[name] = case
        return case

    def reply(case, when, **kw):
        clock.set(when)
        store.add_entry(case, channel="email", direction="out", summary="Reply", **kw)

    def status(case, when, target, note=None):
        clock.set(when)
        store.change_status(case, target, note)

    cases: dict[str, str] = {}
    # T4: low, waiting on the buyer since 18 Oct 14:30: auto-closes 17 Nov 14:30 (in 2 days); idle since then.
    t4 = opened("T4", at(10, 15, 10), "low", "ben")
    reply(t4, at(10, 15, 11))
    status(t4, at(10, 18, 14, 30), Status.WAITING_BUYER)
    # T5: normal, waiting on the seller since 1 Nov 12:00 (paused: no breach); idle 14 days.
    t5 = opened("T5", at(11, 1, 10), "normal")
    reply(t5, at(11, 1, 11))
    status(t5, at(11, 1, 12), Status.WAITING_SELLER)
    # T7: ben resolved it Sunday 8 Nov 23:00, last week.
    t7 = opened("T7", at(11, 6, 10), "normal", "ben")
    reply(t7, at(11, 6, 11))
    status(t7, at(11, 8, 23), Status.RESOLVED, "Fixed")
    # T6: ana resolved it Tuesday 10 Nov, this week.
    t6 = opened("T6", at(11, 9, 10), "normal", "ana")
    reply(t6, at(11, 9, 10, 30))
    status(t6, at(11, 10, 10), Status.RESOLVED, "Fixed")
    # T3: high, answered 13:30 with a follow-up promised for 14:00: missed by 30 min.
    t3 = opened("T3", at(11, 15, 13), "high", "ana")
    reply(t3, at(11, 15, 13, 30), follow_up=at(11, 15, 14))
    # T2: normal, opened 08:00 without an answer: response due 16:00, at risk since 14:00.
    opened("T2", at(11, 15, 8), "normal", "ana")
    # T1: urgent, opened 12:00 without an answer: response due 13:00, breached 1 h 30 ago.
    opened("T1", at(11, 15, 12), "urgent", "ben")
    clock.set(NOW)
    return cases


@pytest.fixture
def desk(store, clock):
    return build_desk(store, clock)


def rows(section):
    return [(r.case_number, r.what, r.late) for r in section.rows]


def test_overdue_sections(store, desk):
    sections = {s.key: s for s in overdue(store, NOW)}
    assert list(sections) == ["breached", "at_risk", "follow_up", "closing", "idle", "stuck"]
    assert rows(sections["breached"]) == [(desk["T1"], "response", timedelta(minutes=90))]
    assert rows(sections["at_risk"]) == [(desk["T2"], "response", -timedelta(minutes=90))]
    assert rows(sections["follow_up"]) == [(desk["T3"], "follow-up", timedelta(minutes=30))]
    assert rows(sections["closing"]) == [(desk["T4"], "auto-close", -timedelta(days=2))]
    assert rows(sections["idle"]) == [
        (desk["T4"], "any action", timedelta(days=23)),  # last action 18 Oct 14:30, + 5 days
        (desk["T5"], "any action", timedelta(days=9, hours=2, minutes=30)),  # 1 Nov 12:00 + 5 days
    ]
    assert [s.count for s in sections.values()] == [1, 1, 1, 1, 2, 0]
    assert sections["breached"].rows[0].as_dict()["how_late"] == "1 h 30 min late"


def test_overdue_follows_the_clock(store, desk):
    later = {s.key: s for s in overdue(store, NOW + timedelta(hours=2))}  # 16:30: T2's response is late now
    assert [r.case_number for r in later["breached"].rows] == [desk["T1"], desk["T2"]]
    assert later["at_risk"].rows == []


def test_workload(store, desk):
    loads = {w.agent: w.as_dict() for w in workload(store, NOW)}
    assert loads == {
        "ana": {"agent": "ana", "open": 2, "overdue": 1, "waiting": 0, "resolved_this_week": 1},
        "ben": {"agent": "ben", "open": 2, "overdue": 1, "waiting": 1, "resolved_this_week": 0},
        None: {"agent": None, "open": 1, "overdue": 0, "waiting": 1, "resolved_this_week": 0},
    }
    assert [w.agent for w in workload(store, NOW)] == ["ana", "ben", None]


def test_overdue_and_workload_commands(desk, cli):
    sections = cli.json("overdue")
    assert [(s["key"], s["count"]) for s in sections][:3] == [("breached", 1), ("at_risk", 1), ("follow_up", 1)]
    assert sections[0]["rows"][0]["case_number"] == desk["T1"]
    text = cli.ok("overdue").stdout
    assert "SLA breached: 1" in text and desk["T1"] in text
    assert "ana" in cli.ok("workload").stdout
    assert cli.json("workload")[0] == {"agent": "ana", "open": 2, "overdue": 1, "waiting": 0, "resolved_this_week": 1}


# -- the console -------------------------------------------------------------------------------


def sync(test):
    """Run an async Pilot test on a fresh event loop (no async pytest plugin needed)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        asyncio.run(test(*args, **kwargs))

    return run


def make_app(store, clock, screen="overdue", **kw) -> DeskApp:
    return DeskApp(store, clock=clock, start_screen=screen, timers=False, live=kw.pop("live", False), **kw)


async def settle(pilot):
    await pilot.pause()
    await workers_done(pilot.app)
    await pilot.pause()


@sync
async def test_overdue_screen_lists_sections_and_opens_a_ticket(store, clock, desk):
    app = make_app(store, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert type(screen).__name__ == "OverdueScreen"
        table = screen.table
        keys = [k.value for k in table.rows]
        assert keys[:3] == ["section:breached", f"breached:{desk['T1']}", "section:at_risk"]
        assert screen.current_case() == desk["T1"]  # the cursor starts on the first ticket
        await pilot.press("3")  # jump to follow-ups
        assert screen.current_case() == desk["T3"]
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "DetailScreen"
        assert len(app.screen_stack) == 3  # opened once


@sync
async def test_take_and_assign_from_the_panel(store, clock, desk):
    app = make_app(store, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.current_case() == desk["T1"]
        await pilot.press("a")  # take: ana
        await settle(pilot)
        assert store.get(desk["T1"]).assignee == "ana"
        await pilot.press("A")
        await settle(pilot)
        await pilot.press(*"chloe", "enter")
        await settle(pilot)
        assert store.get(desk["T1"]).assignee == "ana"  # chloe has no tickets yet: asked to confirm
        await pilot.press("enter")
        await settle(pilot)
        assert store.get(desk["T1"]).assignee == "chloe"


@sync
async def test_panel_refreshes_when_another_process_writes(store, clock, desk, cli):
    app = make_app(store, clock, live=True, poll_interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert f"breached:{desk['T1']}" in [k.value for k in app.screen.table.rows]
        cli.ok("log", desk["T1"], "--channel", "email", "--direction", "out", "--summary", "On it")
        for _ in range(50):
            await pilot.pause(0.1)
            if f"breached:{desk['T1']}" not in [k.value for k in app.screen.table.rows]:
                break
        assert f"breached:{desk['T1']}" not in [k.value for k in app.screen.table.rows]


@sync
async def test_moving_between_supervisor_screens(store, clock, desk):
    app = make_app(store, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert type(app.screen).__name__ == "WorkloadScreen"
        await pilot.press("r")
        await settle(pilot)
        assert type(app.screen).__name__ == "ReportsScreen"
        await pilot.press("o")
        await settle(pilot)
        assert type(app.screen).__name__ == "OverdueScreen"
        assert len(app.screen_stack) == 2  # switched, not piled up


def test_exactly_due_is_at_risk_not_breached(store, clock):
    clock.set(NOW - timedelta(hours=8))
    case = store.create_ticket(customer="Edge", subject="On the dot").case_number  # response due exactly now
    sections = {s.key: s for s in overdue(store, NOW)}
    assert [r.case_number for r in sections["at_risk"].rows] == [case]
    assert sections["breached"].rows == []
    later = {s.key: s for s in overdue(store, NOW + timedelta(seconds=1))}
    assert [r.case_number for r in later["breached"].rows] == [case]


def test_tickets_with_due_times_but_no_risk_times_still_show(store, clock):
    """As an import may leave them: the panel falls back to the due times."""
    from tui_desk.store.models import Ticket

    case = store.create_ticket(customer="Old", subject="Imported").case_number
    with store.writing():
        Ticket.update(
            sla_response_risk_at=None,
            sla_resolution_risk_at=None,
            sla_response_due_at=NOW - timedelta(hours=1),
        ).where(Ticket.case_number == case).execute()
    sections = {s.key: s for s in overdue(store, NOW)}
    assert [(r.case_number, r.what) for r in sections["breached"].rows] == [(case, "response")]


def test_charts_read_on_a_linux_console(monkeypatch):
    from tui_desk.tui.screens.supervisor.charts import bar, plain_glyphs, sparkline

    assert (
        sparkline([0, 1, 2, 4, 8], plain=False) == "▁▂▃▅█"
    )  # 8 levels: 1, 2, 4 of 8 -> levels 1, 2, 4 (3.5 rounds to 4)
    assert sparkline([0, 1, 2, 4, 8], plain=True) == " .-+@"
    assert sparkline([0, 0], plain=False) == "▁▁"
    assert bar(5, 10, 10, plain=False) == "█████"
    assert bar(1, 40, 10, plain=False) == "▌"  # any non-zero value shows
    assert bar(10, 10, 4, plain=True) == "####"
    assert bar(0, 10, 4, plain=False) == ""
    monkeypatch.setenv("TERM", "linux")
    assert plain_glyphs()
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    assert not plain_glyphs()
    monkeypatch.setenv("LANG", "C")
    assert plain_glyphs()
