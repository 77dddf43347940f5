"""Snapshots of the refund form, a ticket's refund timeline and the queue's stuck-refunds view (fixed clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Input, TextArea

from tests.conftest import NOW, workers_done
from tui_desk.domain.clock import FixedClock
from tui_desk.store import Store
from tui_desk.store.demo import build_demo
from tui_desk.tui.app import DeskApp

DAY = timedelta(days=1)


@pytest.fixture
def desk(tmp_path) -> tuple[Store, str]:
    """A small demo store and one refund case: refund 1 partial and done, refund 2 approved 3 days ago."""
    path = tmp_path / "desk.db"
    build_demo(path, tickets=60, seed=5, clock=FixedClock(NOW - 12 * DAY), progress=False)
    clock = FixedClock(NOW - 12 * DAY)
    store = Store(path, clock=clock, agent="ana")
    case = store.create_ticket(
        customer="Maria Garcia [vip]", subject="Two [bold]blenders[/bold] broken", order_id="ORD-884213"
    ).case_number
    store.set_refund(case, amount="100", currency="EUR", approved_at=clock.now())
    clock.advance(2 * DAY)
    store.set_refund(case, amount="60", initiated_at=clock.now())
    clock.advance(5 * DAY)
    store.set_refund(case, refunded_at=clock.now())
    clock.advance(2 * DAY)
    store.set_refund(case, new=True, amount="40", approved_at=clock.now())
    store.close()
    return Store(path, clock=FixedClock(NOW), agent="ana"), case


async def settle(pilot) -> None:
    for _ in range(4):
        await workers_done(pilot.app)
        await pilot.pause()
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False
    await pilot.pause()


def console(store: Store) -> DeskApp:
    return DeskApp(store, timers=False, live=False)


def test_refund_timeline_on_the_ticket_80x24(snap_compare, desk):
    store, case = desk

    async def open_detail(pilot) -> None:
        await settle(pilot)
        pilot.app.open_ticket(case)
        await settle(pilot)

    assert snap_compare(console(store), terminal_size=(80, 24), run_before=open_detail)


def test_refund_form_refuses_an_out_of_order_milestone_80x24(snap_compare, desk):
    store, case = desk

    async def open_form(pilot) -> None:
        await settle(pilot)
        pilot.app.open_ticket(case)
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        pilot.app.screen.query_one("#refunded", Input).focus()
        await pilot.press(*"now", "ctrl+s")  # refund 2 is not initiated yet
        await settle(pilot)

    assert snap_compare(console(store), terminal_size=(80, 24), run_before=open_form)


def test_queue_of_stuck_refunds_120x30(snap_compare, desk):
    store, _case = desk

    async def stuck_view(pilot) -> None:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)

    assert snap_compare(console(store), terminal_size=(120, 30), run_before=stuck_view)
