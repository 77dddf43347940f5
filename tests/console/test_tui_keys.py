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


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
@sync
async def test_the_ticket_screen_shows_t_e_u_and_a_toast_leaves_the_dates_and_the_newest_entry_visible(desk, size):  # noqa: F811
    from textual.widgets._toast import Toast

    from tui_desk.tui.widgets.key_bar import KeyBar

    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    app = app_for(desk)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        bar = str(app.screen.query_one(KeyBar).render())
        assert all(item in bar for item in ("t Tags", "E Edit", "u Undo", "l Log", "s Status")), bar
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"+walkthrough", "enter")
        await settle(pilot)
        toasts = list(app.screen.query(Toast))
        assert toasts, "the change is announced"
        facts, timeline = app.screen.query_one("#facts"), app.screen.query_one("#timeline")
        last_row = timeline.size.height - 1
        assert not timeline.render_line(last_row).text.strip(), "the timeline ends with a blank line"
        assert "+walkthrough" in "".join(timeline.render_line(y).text for y in range(last_row))
        for toast in toasts:
            assert not toast.region.overlaps(facts.region), (toast.region, facts.region)  # the dates stay
            assert toast.region.y >= timeline.region.y + last_row, (toast.region, timeline.region)  # the entry too
            assert toast.region.bottom <= app.screen.query_one(KeyBar).region.y  # and the keys


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
@sync
async def test_a_toast_on_the_queue_leaves_every_row_and_its_due_column_visible(desk, size):  # noqa: F811
    from textual.widgets._toast import Toast

    app = app_for(desk)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")  # Unassigned: `a` takes the ticket without asking
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        toasts = list(app.screen.query(Toast))
        assert toasts, "the take is announced"
        table = app.screen.query_one("#tickets")
        for toast in toasts:
            assert not toast.region.overlaps(table.region), (toast.region, table.region)


def test_long_timeline_lines_wrap_at_the_width_and_lose_nothing():
    from tui_desk.tui.widgets.timeline import INDENT, TimelineEntry, lay_out

    summary = "Edited: reason “defective item” → “defective item: the motor fuse blows each time the jug is seated”"
    entry = TimelineEntry(
        seq=8, kind="edit", at="2026-11-14 14:30 UTC", until="", channel="system", direction="internal",
        sender="system", agent="a-very-long-agent-name-from-the-directory", summary=summary, body="",
        attachments=(), corrects=None, corrected_by=(), follow_up="",
    )  # fmt: skip
    for width in (50, 74, 96):
        lines = ["".join(text for text, _ in line) for line in lay_out([entry], width)]
        assert all(len(line) <= width for line in lines), (width, lines)
        assert all(line.startswith(" " * INDENT) for line in lines[1:] if line)
        words = " ".join(line.strip() for line in lines).split()
        assert words == f"#8 2026-11-14 14:30 UTC system · a-very-long-agent-name-from-the-directory {summary}".split()
