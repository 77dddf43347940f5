"""The ticket screen's writes are based on what the agent saw: a change made meanwhile stops them, and undo."""

from __future__ import annotations

import subprocess

from tests.conftest import NOW, TUI_DESK
from tests.console.test_tui_flows import app_for, desk, settle, sync  # noqa: F401 - desk is a fixture
from tui_desk.domain.statuses import Status
from tui_desk.store import TicketFilter
from tui_desk.tui.screens.detail import DetailScreen
from tui_desk.tui.screens.dialogs import ChoiceDialog


def ben_logs(store, case: str, summary: str) -> None:
    """Another agent writes to the ticket through the real command line."""
    subprocess.run(
        [TUI_DESK, "--db", str(store.path), "--agent", "ben", "log", case, "--channel", "phone", "--summary", summary],
        check=True,
        capture_output=True,
        env={"TUI_DESK_NOW": NOW.isoformat(), "PATH": "/usr/bin:/bin"},
    )


async def answer(pilot, value: str) -> None:
    dialog = pilot.app.screen
    assert isinstance(dialog, ChoiceDialog), dialog
    dialog.query_one("OptionList").highlighted = [v for v, _ in dialog.choices].index(value)
    await pilot.press("enter")
    await settle(pilot)


@sync
async def test_escalating_a_colleagues_ticket_asks_and_a_change_meanwhile_stops_it(desk):  # noqa: F811
    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    desk.assign(case, "ben")
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert "ben's ticket" in app.screen.title_text  # asked first
        ben_logs(desk, case, "Ben is on it")  # ... while the question is open
        await answer(pilot, "yes")
        assert desk.get(case).status == Status.L1.slug  # refused: the ticket moved on since it was read
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("e")  # the screen shows the ticket as it is now; asked again, it goes through
        await settle(pilot)
        await answer(pilot, "yes")
        assert desk.get(case).status == Status.L2.slug
        await pilot.press("a")
        await settle(pilot)
        await answer(pilot, "no")  # taking it asks too; "no" leaves it with ben
        assert desk.get(case).assignee == "ben"


@sync
async def test_u_undoes_the_agents_own_last_change(desk):  # noqa: F811
    case = desk.list_tickets(TicketFilter(unassigned=True, statuses=[Status.NEW, Status.TODO]), limit=1)[0].case_number
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        await pilot.press("a")  # nobody's ticket: taken without asking
        await settle(pilot)
        assert desk.get(case).assignee == "ana"
        await pilot.press("u")
        await settle(pilot)
        assert desk.get(case).assignee is None
        last = desk.entries(desk.get(case))[-1]
        assert last.summary.startswith("Undo of #") and last.corrects_seq == last.seq - 1


@sync
async def test_E_edits_the_ticket_and_a_mistake_stays_in_the_form(desk):  # noqa: F811, N802 - the key is E
    from textual.widgets import Input

    from tui_desk.tui.screens.forms.edit_ticket import EditTicketDialog

    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, EditTicketDialog)
        dialog.query_one("#email", Input).value = "no-at-sign"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog and "has no @" in str(dialog.query_one("#error").render())
        dialog.query_one("#email", Input).value = "fixed@example.com"
        dialog.query_one("#subject", Input).value = "Subject corrected"
        await pilot.press("ctrl+s")
        await settle(pilot)
    ticket = desk.get(case)
    assert (ticket.email, ticket.subject) == ("fixed@example.com", "Subject corrected")
    assert desk.entries(ticket)[-1].kind == "edit"


@sync
async def test_E_corrects_the_opening_time_by_the_time_rule(desk):  # noqa: F811, N802 - the key is E
    from datetime import timedelta

    from textual.widgets import Input

    from tui_desk.domain.dates import format_when

    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    ticket = desk.get(case)
    first = min(e.at for e in desk.entries(ticket))
    earlier = ticket.opened_at - timedelta(hours=1)
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        dialog = app.screen
        opened = dialog.query_one("#opened", Input)
        assert opened.value == format_when(ticket.opened_at, desk.config.tz)
        opened.value = "soon"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog and "cannot read the date" in str(dialog.query_one("#error").render())
        opened.value = format_when(first + timedelta(minutes=1), desk.config.tz)  # after the first entry
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert desk.get(case).version == ticket.version  # refused by the store: nothing written
        await pilot.press("E")
        await settle(pilot)
        app.screen.query_one("#opened", Input).value = format_when(earlier, desk.config.tz)
        await pilot.press("ctrl+s")
        await settle(pilot)
    edited = desk.get(case)
    assert edited.opened_at == earlier.replace(second=0, microsecond=0)
    assert desk.entries(edited)[-1].summary.startswith("Edited: opened at")


@sync
async def test_a_bulk_action_refuses_the_marked_tickets_that_changed_since_they_were_marked(desk):  # noqa: F811
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5")  # All open
        await settle(pilot)
        table = app.screen.table
        first, second = table.current.case_number, None
        await pilot.press("space")  # mark the first row (the cursor moves down)
        second = table.current.case_number
        await pilot.press("space")
        await settle(pilot)
        ben_logs(desk, first, "Ben took a call")  # the first ticket moves on after it was marked
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"+checked", "enter")
        await settle(pilot)
    tags = desk.tags([desk.get(first).id, desk.get(second).id])
    assert "checked" not in tags[desk.get(first).id]  # refused: changed since it was marked
    assert "checked" in tags[desk.get(second).id]


@sync
async def test_taking_a_colleagues_ticket_from_the_queue_asks_first(desk):  # noqa: F811
    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    desk.assign(case, "ben")
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("/", *case, "enter")  # Enter: to the rows found, the ticket under the cursor
        await settle(pilot)
        assert app.screen.table.current.case_number == case
        await pilot.press("a")
        await settle(pilot)
        await answer(pilot, "no")
        assert desk.get(case).assignee == "ben"
        await pilot.press("a")
        await settle(pilot)
        await answer(pilot, "yes")
    assert desk.get(case).assignee == "ana"
