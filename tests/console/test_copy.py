"""Copying: `y` puts the case number on the clipboard (OSC 52, so a terminal over SSH gets it too), `Y`
offers the email, order and final digest."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from textual.geometry import Offset

from tests.conftest import NOW, TUI_DESK
from tests.console.test_forms_tmux import TMUX, Terminal
from tests.console.test_tui_flows import app_for, desk, settle, sync  # noqa: F401 - desk is a fixture
from tui_desk.tui.screens.dialogs import ChoiceDialog
from tui_desk.tui.widgets.timeline import Timeline


@sync
async def test_y_copies_the_case_number_and_shift_y_the_chosen_value(desk):  # noqa: F811
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        row = app.screen.table.current
        await pilot.press("y")
        assert app.clipboard == row.case_number
        ticket = desk.get(row.case_number)
        await pilot.press("Y")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("end", "enter")  # the last choice: the final digest
        await settle(pilot)
        assert app.clipboard == ticket.log_head and len(ticket.log_head) == 64
        app.open_ticket(row.case_number)
        await settle(pilot)
        await pilot.press("Y", "down", "enter")  # the second choice: the email
        await settle(pilot)
        assert app.clipboard == ticket.email


@pytest.mark.skipif(TMUX is None, reason="needs tmux (apt-get install tmux)")
def test_the_osc52_sequence_reaches_the_terminal(tmp_path, isolated_env):
    """tmux with set-clipboard on takes an application's OSC 52 into its paste buffer: what the real
    console wrote to its terminal is read back from there."""
    db = tmp_path / "desk.db"
    env = {"TERM": "xterm-256color", "LANG": "C.UTF-8", "TUI_DESK_NOW": NOW.isoformat(), "TUI_DESK_AGENT": "ana"}
    env.update({k: os.environ[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")})
    env["TUI_DESK_CONFIG"] = os.environ["TUI_DESK_CONFIG"]
    subprocess.run(
        [TUI_DESK, "--db", str(db), "new", "--customer", "Ines Ortega", "--subject", "Parcel lost"],
        check=True,
        capture_output=True,
    )
    terminal = Terminal()
    try:
        terminal.start([TUI_DESK, "--db", str(db)], env)
        terminal.tmux("set-option", "-s", "set-clipboard", "on")
        terminal.wait_for("TD-REF-2026-00001")
        time.sleep(0.5)
        terminal.keys("y")
        terminal.wait_for("Copied case number")
        assert terminal.tmux("show-buffer").stdout == "TD-REF-2026-00001"
        terminal.keys("q")
    finally:
        terminal.close()


# Under load this test once selected nothing now and then: the forms the console builds ahead (app._build_forms)
# were mounted mid-drag, and each text field's first cursor cleared the selection on the screen in view.
async def _oldest_entry_in_view(app, pilot):
    """Open the first queued ticket, its timeline scrolled to the oldest entry: (the timeline, its first line)."""
    await settle(pilot)
    app.open_ticket(app.screen.table.current.case_number)
    await settle(pilot)
    timeline = app.screen.query_one(Timeline)
    timeline.action_scroll_home()
    await settle(pilot)
    return timeline, "".join(text for text, _ in timeline._lines[0])


@sync
async def test_text_selected_with_the_mouse_in_the_timeline_is_copied(desk):  # noqa: F811
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        timeline, first = await _oldest_entry_in_view(app, pilot)
        # Drag only once the screen shows the oldest line where the agent would start (under load the
        # repaint after the scroll comes later than the Pilot's pause: the drag then met a stale paint).
        top_left = timeline.content_region.offset
        for _ in range(250):
            if app.screen.get_widget_and_offset_at(*top_left) == (timeline, Offset(0, 0)):
                break
            await pilot.pause(0.02)
        # What the screen's selection was after each step, for the message when it selects nothing.
        steps = []

        def note(step: str) -> None:
            screen = app.screen
            state = screen._select_state
            steps.append(
                f"{step}: captured={app.mouse_captured!r} selecting={screen._selecting} "
                f"start={state and state.start.content_widget!r} end={state and state.end!r} "
                f"attached={timeline.is_attached} same_timeline={screen.query_one(Timeline) is timeline}"
            )

        await pilot.mouse_down(timeline, offset=(0, 0))
        note("down")
        await pilot.hover(timeline, offset=(11, 0))
        note("hover")
        await pilot.mouse_up(timeline, offset=(11, 0))
        note("up")
        await pilot.pause()
        selected = app.screen.get_selected_text()
        assert selected and first.startswith(selected) and len(selected) >= 10, (selected, first, steps)
        await pilot.press("ctrl+c")
        assert app.clipboard == selected


@sync
async def test_a_form_built_off_screen_keeps_the_text_being_selected(desk):  # noqa: F811
    """The console builds its forms ahead, at idle time; a text field's first cursor there used to clear the
    selection the agent was dragging on the screen in view (DeskApp.clear_selection)."""
    from tui_desk.tui.screens.forms.new_ticket import NewTicketScreen

    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        timeline, first = await _oldest_entry_in_view(app, pilot)
        await pilot.mouse_down(timeline, offset=(0, 0))
        await pilot.hover(timeline, offset=(11, 0))
        form = NewTicketScreen()  # what _build_forms does for each form: install it, compose and mount it
        app.install_screen(form, name="built-mid-drag")
        _screen, mounted = app._get_screen(form)
        await mounted
        await pilot.pause()
        await pilot.mouse_up(timeline, offset=(11, 0))
        await pilot.pause()
        selected = app.screen.get_selected_text()
        assert selected and first.startswith(selected) and len(selected) >= 10, (selected, first)
