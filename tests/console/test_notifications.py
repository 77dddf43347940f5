"""The console tells the agent: a party answered one of my tickets, or one of mine became overdue — a toast
and the terminal bell, once; written by a second process (the real `tui-desk` command)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.conftest import CLI, NOW
from tests.console.test_tui_flows import desk, settle, sync  # noqa: F401 - desk is a fixture
from tui_desk.config import ConsoleSettings
from tui_desk.domain.overdue import is_overdue
from tui_desk.domain.statuses import NOT_CLOSED_STATUSES
from tui_desk.store import TicketFilter
from tui_desk.tui.app import DeskApp


def bell_counting(store) -> DeskApp:
    """The console, counting the bells it rings (they still go to the driver)."""
    app = DeskApp(store, timers=False, poll_interval=0.1)
    app.bells = 0
    ring = app.bell

    def bell() -> None:
        app.bells += 1
        ring()

    app.bell = bell
    return app


async def until(pilot, check, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.1)):
        await settle(pilot, 1)
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("never happened")


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


@sync
async def test_a_party_answering_and_a_ticket_becoming_overdue_are_told_once(desk):  # noqa: F811
    mine = [
        t
        for t in desk.list_tickets(TicketFilter(statuses=NOT_CLOSED_STATUSES, assignee="ana"), limit=100)
        if not is_overdue(t, NOW)
    ]
    answered, promised = mine[0].case_number, mine[1].case_number
    other = desk.list_tickets(TicketFilter(statuses=NOT_CLOSED_STATUSES, assignee="ben"), limit=1)[0].case_number
    cli = CLI(desk.path)
    app = bell_counting(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app._news is not None)  # the baseline is read after the first paint
        cli.ok(
            "log", other, "--channel", "email", "--from", "buyer", "--summary", "Where is it?", TUI_DESK_AGENT="mailbot"
        )
        cli.ok(
            "log",
            answered,
            "--channel",
            "email",
            "--from",
            "buyer",
            "--name",
            "Ines",
            "--summary",
            "[b]Photos[/b] attached",
            TUI_DESK_AGENT="mailbot",
        )
        await until(pilot, lambda: any("answered" in m for m in messages(app)))
        assert messages(app) == [f"{answered}: buyer Ines answered: [b]Photos[/b] attached"]  # not ben's
        assert app.bells == 1
        at = (NOW + timedelta(hours=1)).isoformat()
        seen = app._news.last_entry_id
        cli.ok(
            "log",
            promised,
            "--channel",
            "phone",
            "--direction",
            "out",
            "--from",
            "agent",
            "--summary",
            "Promised a call back",
            "--follow-up",
            at,
        )
        await until(pilot, lambda: app._news.last_entry_id > seen)  # looked once more: not overdue yet
        desk.clock.advance(timedelta(hours=2))  # time passes; the next change looks again
        cli.ok(
            "log",
            other,
            "--channel",
            "note",
            "--summary",
            "checked",
            TUI_DESK_AGENT="ben",
            TUI_DESK_NOW=(NOW + timedelta(hours=2)).isoformat(),
        )
        await until(pilot, lambda: any("overdue" in m for m in messages(app)))
        assert f"{promised} is overdue" in messages(app) and app.bells == 2


@sync
async def test_notify_off_tells_nothing(desk):  # noqa: F811
    import dataclasses

    desk.config = dataclasses.replace(desk.config, console=ConsoleSettings(notify=False))
    case = desk.list_tickets(TicketFilter(statuses=NOT_CLOSED_STATUSES, assignee="ana"), limit=1)[0].case_number
    app = bell_counting(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        CLI(desk.path).ok(
            "log", case, "--channel", "email", "--from", "buyer", "--summary", "Hi", TUI_DESK_AGENT="mailbot"
        )
        await until(pilot, lambda: app.screen.loads > 1)
        assert not messages(app) and app.bells == 0
