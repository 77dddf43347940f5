"""The status and one-line dialogs are built once and reused: each showing asks only its own question."""

from __future__ import annotations

import asyncio

from textual.widgets import Input, OptionList, Static

from tests.console.test_draft_question import desk, settle  # noqa: F401 - desk is a fixture
from tui_desk.domain.statuses import TRANSITIONS, Status, status_of
from tui_desk.store import TicketFilter
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.dialogs import PromptDialog, StatusDialog


def test_a_reused_status_dialog_shows_the_ticket_it_is_opened_for_and_nothing_typed_before(desk):  # noqa: F811
    first = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0]
    second = desk.list_tickets(TicketFilter(statuses=[Status.WAITING_BUYER]), limit=1)[0]

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            shown = []
            for ticket in (first, second):
                app.open_ticket(ticket.case_number)
                await settle(pilot)
                await pilot.press("s")
                await settle(pilot)
                dialog = app.screen
                assert isinstance(dialog, StatusDialog)
                title = str(dialog.query_one(".dialog-title", Static).render())
                options = dialog.query_one(OptionList)
                labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
                assert ticket.case_number in title and status_of(ticket.status).label in title
                assert labels == [
                    s.label for s in sorted(TRANSITIONS[status_of(ticket.status)], key=list(Status).index)
                ]
                assert dialog.query_one("#note", Input).value == ""
                assert app.focused is options
                await pilot.press("tab", *"half a note", "escape")
                await settle(pilot)
                await pilot.press("escape")
                await settle(pilot)
                shown.append(dialog)
            assert shown[0] is shown[1]  # the same dialog, asked again

            app.open_ticket(first.case_number)
            await settle(pilot)
            prompts = []
            for key in ("t", "A"):
                await pilot.press(key)
                await settle(pilot)
                prompt = app.screen
                assert isinstance(prompt, PromptDialog)
                assert prompt.query_one(Input).value == ("" if key == "t" else first.assignee or "")
                prompts.append(prompt)
                await pilot.press(*"zz", "escape")
                await settle(pilot)
            assert prompts[0] is prompts[1] and "Assign" in prompts[1].title_text

    asyncio.run(run())
