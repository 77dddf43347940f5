"""Keys the footer and help promise, pressed for real."""

from __future__ import annotations

import pytest

from tests.console.test_tui_flows import app_for, desk, screen_text, settle, sync  # noqa: F401 - desk is a fixture
from tui_desk.domain.statuses import Status
from tui_desk.store import TicketFilter


@pytest.mark.parametrize("where", ["queue", "detail"])
@sync
async def test_q_quits(desk, where):  # noqa: F811
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        if where == "detail":
            case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
            app.open_ticket(case)
            await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


@sync
async def test_choice_labels_are_never_markup(desk):  # noqa: F811
    from tui_desk.tui.screens.dialogs import ChoiceDialog

    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ChoiceDialog("Attachments", [], [("a", "rma label [red].pdf"), ("b", "[@click=app.quit]x[/]")]))
        await settle(pilot)
        text = screen_text(app)
        assert "rma label [red].pdf" in text and "[@click=app.quit]x[/]" in text
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.is_running


def test_path_completion_escapes_what_the_field_splits_on(tmp_path):
    import asyncio
    import shlex

    from tui_desk.tui.screens.forms.log_entry import PathSuggester

    (tmp_path / "rma label [red].pdf").write_bytes(b"x")
    typed = f"{tmp_path}/rm"
    completed = asyncio.run(PathSuggester().get_suggestion(typed))
    assert completed.startswith(typed)
    assert shlex.split(completed) == [f"{tmp_path}/rma label [red].pdf"]


@sync
async def test_a_bad_tag_keeps_the_dialog_and_what_was_typed(desk):  # noqa: F811
    from textual.widgets import Input

    from tui_desk.tui.screens.dialogs import PromptDialog

    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        await pilot.press(*"+vip bad tag!", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        assert app.screen.query_one(Input).value == "+vip bad tag!"
        assert "tag" in screen_text(app).lower() and "must be one word" in screen_text(app)


@sync
async def test_assigning_to_a_new_name_asks_for_a_second_enter(desk):  # noqa: F811
    from tui_desk.tui.screens.dialogs import PromptDialog

    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        await pilot.press("ctrl+u", *"chole", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog) and "Enter again" in screen_text(app)
        assert desk.get(case).assignee != "chole"
        await pilot.press("ctrl+u", *"chloe", "enter")  # a known agent goes through at once
        await settle(pilot)
        assert not isinstance(app.screen, PromptDialog)
        assert desk.get(case).assignee == "chloe"
