"""The console's timer worker, in a running app (Pilot) on a real store, with an injected clock."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import NOW, workers_done
from tui_desk.config import Config
from tui_desk.domain.clock import FixedClock
from tui_desk.domain.statuses import Status
from tui_desk.store import Store
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.queue import QueueScreen

DAY = timedelta(days=1)


def sync(test):
    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


class RunningClock:
    """Real time, shifted so that it reads ``at`` now: it moves on by itself, like the wall clock."""

    def __init__(self, at: datetime) -> None:
        self.set(at)

    def set(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def notifications(app: DeskApp) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications]


def shown_cases(queue: QueueScreen) -> set[str]:
    table = queue.table
    return {table.row_at(i).case_number for i in range(table.total or 0) if table.row_at(i) is not None}


async def wait_until(pilot, condition, limit_s: float) -> float:
    """Let the app run until ``condition()`` holds; how many real seconds that took."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < limit_s, f"the worker did not act in time: {notifications(pilot.app)}"
        await pilot.pause(0.1)
    return time.monotonic() - start


async def settle(pilot) -> None:
    for _ in range(3):
        await workers_done(pilot.app)
        await pilot.pause()


@sync
async def test_the_worker_catches_up_on_open_then_acts_when_a_timer_falls_due(tmp_path):
    clock = FixedClock(NOW - 7 * DAY + timedelta(seconds=20))
    store = Store(tmp_path / "desk.db", config=Config(sweep_interval_s=0.5), clock=clock, agent="ana")
    resolved = store.create_ticket(customer="Aiko Tanaka", subject="Wrong size").case_number
    store.change_status(resolved, Status.RESOLVED, "Exchanged")  # closes at NOW + 20 s
    clock.set(NOW - 4 * DAY)
    waiting = store.create_ticket(customer="Maria Garcia", subject="Parcel lost", email="m@example.com").case_number
    store.change_status(waiting, Status.WAITING_BUYER)  # reminder 1 fell due a day before the console opens
    clock.set(NOW)

    app = DeskApp(store, clock=clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: ("Timers", "1 reminder sent") in notifications(app), 5)
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        assert {waiting, resolved} <= shown_cases(queue)
        assert store.get(resolved).status == Status.RESOLVED.slug

        clock.advance(timedelta(seconds=20))  # the resolved ticket's 7 days are up
        took = await wait_until(pilot, lambda: store.get(resolved).status == Status.CLOSED.slug, 5)
        assert took < 5
        await wait_until(pilot, lambda: ("Timers", "1 ticket closed") in notifications(app), 2)
        await settle(pilot)
        assert resolved not in shown_cases(queue)  # the row left "All open" when it closed
        assert waiting in shown_cases(queue)
    [entry] = [e for e in store.entries(store.get(resolved)) if e.kind == "resolved_close"]
    assert entry.agent == "system" and entry.due_at == NOW + timedelta(seconds=20)
    store.close()


@sync
async def test_the_worker_sleeps_until_the_next_due_time_not_the_whole_interval(tmp_path):
    """With the default 60 s ceiling, a reminder due 2 s after opening is sent within seconds of its due time."""
    clock = RunningClock(NOW - 3 * DAY + timedelta(seconds=2))
    store = Store(tmp_path / "desk.db", clock=clock, agent="ana")
    assert store.config.sweep_interval_s == 60
    number = store.create_ticket(customer="Omar Haddad", subject="Refund missing").case_number
    store.change_status(number, Status.WAITING_SELLER)
    due = store.get(number).timer_due_at
    clock.set(due - timedelta(seconds=2))  # three days later, two seconds before the reminder

    app = DeskApp(store, clock=clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: store.get(number).reminders_done == 1, 10)
        await wait_until(pilot, lambda: ("Timers", "1 reminder sent") in notifications(app), 2)
    [reminder] = [e for e in store.entries(store.get(number)) if e.kind == "reminder"]
    assert reminder.due_at == due
    assert timedelta(0) <= reminder.logged_at - due < timedelta(seconds=5)
    store.close()


@pytest.mark.slow
@sync
async def test_a_locked_store_gives_a_warning_and_the_worker_retries(tmp_path):
    """Another process holds the write lock past the busy timeout: a warning, no crash, and a retry that works."""
    clock = FixedClock(NOW - 4 * DAY)
    path = tmp_path / "desk.db"
    store = Store(path, config=Config(sweep_interval_s=0.5), clock=clock, agent="ana")
    number = store.create_ticket(customer="Jonas Berg", subject="Invoice").case_number
    store.change_status(number, Status.WAITING_BUYER)
    clock.set(NOW)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    app = DeskApp(store, clock=clock)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_until(pilot, lambda: any("timer sweep" in m for _, m in notifications(app)), 30)
            assert app.is_running and store.get(number).reminders_done == 0
            blocker.execute("ROLLBACK")
            await wait_until(pilot, lambda: store.get(number).reminders_done == 1, 10)
    finally:
        blocker.close()
        store.close()
