"""Pilot tests of the console's flows on a real store in tmp_path, with a fixed clock."""

from __future__ import annotations

import asyncio
import functools
import html
import json
import os
import re
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from textual.widgets import Input, Select, TextArea

from tests.conftest import NOW, TUI_DESK, workers_done
from tui_desk.domain.clock import FixedClock
from tui_desk.domain.statuses import Status
from tui_desk.store import Store, TicketFilter, postgres
from tui_desk.store.backend import PostgresUrl
from tui_desk.store.demo import build_demo
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.detail import NEWEST_FIRST, DetailScreen
from tui_desk.tui.screens.dialogs import ChoiceDialog, StatusDialog
from tui_desk.tui.screens.forms.log_entry import LogEntryScreen
from tui_desk.tui.screens.queue import QueueScreen
from tui_desk.tui.widgets.ticket_table import PAGE_SIZE

MARKUP = "[bold]Refund[/bold] [@click=app.quit]now[/] \x1b[31mred"


@pytest.fixture
def desk(db_path, monkeypatch) -> Store:
    """A 40-ticket demo store plus one ticket whose subject is full of markup and escapes (``desk.db`` in
    tmp_path; in a test marked ``backends``, also a PostgreSQL database: the console shows the same)."""
    path = db_path
    if isinstance(db_path, PostgresUrl):
        # The console's LISTEN waits up to half a second per poll, and settle() waits for the poll worker.
        monkeypatch.setattr(postgres.ChangeWatch, "wait_s", 0.05)
    build_demo(path, tickets=40, seed=11, clock=FixedClock(NOW), progress=False)
    store = Store(path, clock=FixedClock(NOW), agent="ana")
    store.create_ticket(customer="[red]Mallory[/red]", subject=MARKUP, email="m@example.com", order_id="ORD-1")
    yield store
    store.close()


@pytest.fixture
def big(tmp_path) -> Store:
    """A 450-ticket demo store: several pages of queue."""
    path = tmp_path / "big.db"
    build_demo(path, tickets=450, seed=2, clock=FixedClock(NOW), progress=False)
    store = Store(path, clock=FixedClock(NOW), agent="ana")
    yield store
    store.close()


def sync(test):
    """Run an async Pilot test with asyncio.run (no pytest async plugin needed)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


async def settle(pilot, rounds: int = 4) -> None:
    """Let database workers finish and their results paint."""
    for _ in range(rounds):
        await workers_done(pilot.app)
        await pilot.pause()


def screen_text(app: DeskApp) -> str:
    """What the terminal shows, as plain text (from the SVG screenshot)."""
    svg = app.export_screenshot()
    return html.unescape("".join(re.findall(r"<text [^>]*>(.*?)</text>", svg))).replace("\xa0", " ")


def app_for(store: Store, **kw) -> DeskApp:
    return DeskApp(store, timers=False, **kw)


@pytest.mark.backends
@sync
async def test_triage_search_view_assign_and_bulk_status(desk):
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        table = queue.table
        open_count = desk.count_tickets(TicketFilter(statuses=[s for s in Status if s is not Status.CLOSED]))
        assert table.total == open_count
        assert queue.counts["open"] == open_count

        # live search: the markup ticket by a word of its customer name
        await pilot.press("slash", *"mallory")
        await pilot.pause(0.3)
        await settle(pilot)
        assert table.total == 1
        assert table.current.customer == "[red]Mallory[/red]"
        await pilot.press(*["backspace"] * 5)  # "ma": below three letters the whole view is back
        await pilot.pause(0.3)
        await settle(pilot)
        assert queue.search == "" and table.total == open_count
        await pilot.press(*"llory")
        await pilot.pause(0.3)
        await settle(pilot)
        assert table.total == 1
        await pilot.press("escape")  # one Escape clears the box and goes back to the table
        await pilot.pause(0.3)
        await settle(pilot)
        assert table.total == open_count and table.has_focus
        assert queue.query_one("#search", Input).value == ""

        # view switch: Closed
        await pilot.press("6")
        await settle(pilot)
        closed = desk.count_tickets(TicketFilter(statuses=[Status.CLOSED]))
        assert table.total == closed and all(table.row_at(i).status is Status.CLOSED for i in range(min(closed, 20)))

        # assign to me from the Unassigned view
        await pilot.press("2")
        await settle(pilot)
        case = table.current.case_number
        await pilot.press("a")
        await settle(pilot)
        assert desk.get(case).assignee == "ana"

        # bulk: mark two rows in All open, move both to L1 in progress
        await pilot.press("5")
        await settle(pilot)
        marked = []
        for _ in range(2):
            marked.append(table.current)
            await pilot.press("space")
        assert len(table.marked) == 2
        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, StatusDialog) and dialog.current is None
        target = next(i for i, s in enumerate(dialog.targets) if s is Status.L2)
        dialog.query_one("OptionList").highlighted = target
        await pilot.press("enter")
        await settle(pilot)
        for row in marked:
            assert desk.get(row.case_number).status == Status.L2.slug
        assert not table.marked


@sync
async def test_the_first_page_is_read_while_the_console_starts(desk, monkeypatch):
    reads: list[str] = []
    list_tickets = Store.list_tickets

    def spy(self, *args, **kwargs):
        reads.append(threading.current_thread().name)
        return list_tickets(self, *args, **kwargs)

    monkeypatch.setattr(Store, "list_tickets", spy)
    app = app_for(desk)
    assert app.first_queue_page is not None  # reading before the app even runs
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.table
        flt = TicketFilter(statuses=[s for s in Status if s is not Status.CLOSED])
        expected = desk.ticket_ids(flt, sort="case", descending=True)
        assert [table.row_at(i).id for i in range(min(len(expected), PAGE_SIZE))] == expected[:PAGE_SIZE]
        assert table.total == len(expected)
        assert reads == ["first-page"]  # the screen took that page instead of reading it again
        assert app.first_queue_page is None


@sync
async def test_letters_typed_right_after_slash_land_in_the_search_box(desk):
    """Keys that arrive together (a fast typist, a terminal over SSH) are routed before `/` moves the focus."""
    from textual import events

    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        queue = app.screen
        for name, character in [("slash", "/"), *[(c, c) for c in "mallory"]]:
            app.post_message(events.Key(name, character))
        await pilot.pause(0.3)
        await settle(pilot)
        assert queue.query_one("#search", Input).value == "mallory"
        assert queue.search == "mallory" and queue.table.total == 1
        for name in ("escape", "enter"):  # clear the search, open the row under the cursor
            app.post_message(events.Key(name, None))
        await pilot.pause(0.3)
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and queue.search == ""


@sync
async def test_open_ticket_shows_fields_and_timeline(desk):
    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert len(screen.view.entries) == len(desk.entries(desk.get(case)))
        text = screen_text(app)
        assert case in text and "Timer" in text and "Opened" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


@sync
async def test_the_detail_screen_shows_only_the_case_opened(desk):
    """The detail screen is built once and reused: nothing of one case may show on the next."""
    first, second = [t.case_number for t in desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=2)]
    subject = desk.get(first).subject
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(first)
        await settle(pilot)
        built = app.screen
        assert built.case_number == first and subject in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        seen: list[str] = []
        display = app._display

        def spy(screen, renderable):  # every frame painted until the second case is in
            if renderable is not None and isinstance(screen, DetailScreen):
                seen.append(screen_text(app))
            return display(screen, renderable)

        app._display = spy
        app.open_ticket(second)
        await settle(pilot)
        assert app.screen is built and built.view.ticket.case_number == second
        assert seen and not any(first in frame or subject in frame for frame in seen)
        assert len(built.view.entries) == len(desk.entries(desk.get(second)))
        # Going to another case from the palette while a detail screen is open stacks a second one.
        app.open_ticket(first)
        await settle(pilot)
        assert app.screen is not built and app.screen.view.ticket.case_number == first
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is built and second in screen_text(app)


@sync
async def test_keys_typed_ahead_never_show_one_ticket_under_another_s_number(desk):
    """Enter, Escape, Down, Enter in one burst reuse the ticket screen for the second case before the
    first case's load is in: when that load arrives late, it must not fill the second case's screen."""
    first, second = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=2)
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(first.case_number)
        await settle(pilot)
        screen = app.screen
        late = screen.view  # what a load of the first case delivers
        app.pop_screen()
        app.open_ticket(second.case_number)
        assert app.screen is screen
        screen.show_view(late)  # arriving after the screen moved on
        assert screen.view is None or screen.view.ticket.case_number == second.case_number
        await settle(pilot)
        screen.show_view(late)  # or after the second case's own load
        assert screen.view.ticket.case_number == second.case_number
        text = screen_text(app)
        assert second.case_number in text and first.case_number not in text
        await pilot.press("l")
        await settle(pilot)
        assert app.screen.case_number == second.case_number  # the log entry goes where the screen said


@sync
async def test_a_long_history_shows_its_newest_entries_first_then_all(desk):
    ticket = desk.create_ticket(customer="Long Story", subject="A long history", email="long@example.com")
    desk.add_entry(ticket.case_number, channel="email", summary="Entry that gets corrected")
    target = desk.get(ticket.case_number).log_count
    for i in range(2 * NEWEST_FIRST + 10):
        desk.add_entry(ticket.case_number, channel="chat", summary=f"Interaction {i}")
    desk.add_entry(ticket.case_number, channel="note", summary="Correction", corrects=target)
    total = desk.get(ticket.case_number).log_count
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        sizes: list[int] = []
        show_header = DetailScreen._show_header

        def spy(screen):
            sizes.append(len(screen.view.entries))
            show_header(screen)

        DetailScreen._show_header = spy
        try:
            app.open_ticket(ticket.case_number)
            await settle(pilot)
        finally:
            DetailScreen._show_header = show_header
        screen = app.screen
        assert sizes == [NEWEST_FIRST, total]
        assert [e.seq for e in screen.view.entries] == list(range(1, total + 1))
        assert screen.view.entries[-1].corrects == target
        assert screen.view.entries[target - 1].corrected_by == (total,)
        text = screen_text(app)
        assert f"corrects #{target}" in text and "Correction" in text
        timeline = screen.query_one("#timeline")
        await pilot.press("home")  # a jump, not a second-long animation through the history
        await pilot.pause()
        assert timeline.scroll_y == 0 and "#1 " in screen_text(app)
        await pilot.press("end")
        await pilot.pause()
        assert timeline.scroll_y == timeline.max_scroll_y > 0


@sync
async def test_an_attachment_opens_with_the_system_opener(desk, tmp_path, monkeypatch):
    """A stand-in ``xdg-open`` on PATH (a real program) records what it was asked to open."""
    proof = tmp_path / "receipt [b]1.pdf"
    proof.write_bytes(b"%PDF receipt")
    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    desk.add_entry(case, channel="email", summary="Receipt attached", attachments=[proof])
    stored = desk.blobs.path_of(desk.entries(desk.get(case))[-1].attachment_list[0].sha256)
    opener_dir = tmp_path / "bin"
    opener_dir.mkdir()
    opened = tmp_path / "opened.txt"
    opener = opener_dir / "xdg-open"
    opener.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n')
    opener.chmod(0o755)
    monkeypatch.setenv("PATH", f"{opener_dir}:{os.environ['PATH']}")
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        assert [label for _, label in dialog.choices][-1].endswith("receipt [b]1.pdf (12 B)")
        dialog.query_one("OptionList").highlighted = len(dialog.choices) - 1
        await pilot.press("enter")
        await settle(pilot)
        for _ in range(100):
            if opened.exists():
                break
            await pilot.pause(0.05)
        assert opened.read_text() == str(stored)
        assert stored.read_bytes() == b"%PDF receipt"
        assert isinstance(app.screen, DetailScreen)
        monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))  # no opener: the path is shown instead
        app.screen.open_file("receipt.pdf", stored)
        await settle(pilot)
        assert any(str(stored) in n.message and "stored at" in n.message for n in app._notifications)


@sync
async def test_a_half_typed_new_ticket_is_kept_and_offered_back(desk, isolated_env):
    from tui_desk.tui.screens.forms.drafts import DRAFT_DELAY_S
    from tui_desk.tui.screens.forms.new_ticket import NewTicketScreen

    before = desk.count_tickets()
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NewTicketScreen)
        await pilot.press(*"Ines Ortega", "tab", "tab", "tab", *"Kettle leaks [at] base")
        await pilot.pause(DRAFT_DELAY_S + 0.2)
        # the console is torn down mid-form (as when the terminal goes away)
    assert desk.count_tickets() == before
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog) and "Ines Ortega" in " ".join(app.screen.lines)
        await pilot.press("enter")  # restore
        await settle(pilot)
        form = app.screen
        assert form.query_one("#customer", Input).value == "Ines Ortega"
        assert form.query_one("#subject", Input).value == "Kettle leaks [at] base"
        await pilot.press("escape")  # leaving keeps it
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape", "n")
        await settle(pilot)
        assert isinstance(app.screen, NewTicketScreen)  # created: nothing is offered back any more
    created = desk.list_tickets(sort="case", descending=True, limit=1)[0]
    assert (created.customer, created.subject) == ("Ines Ortega", "Kettle leaks [at] base")
    assert desk.count_tickets() == before + 1


@sync
async def test_on_a_closed_row_the_keys_that_would_be_refused_are_not_offered(desk):
    from tui_desk.tui.screens.dialogs import HelpScreen

    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        queue = app.screen

        def offered() -> set[str]:
            return {b.binding.action for b in queue.active_bindings.values() if b.enabled}

        assert {"log", "status", "assign_me"} <= offered()
        await pilot.press("6")  # the Closed view
        await settle(pilot)
        assert queue.table.current.status is Status.CLOSED
        assert not {"log", "status", "assign_me", "tags"} & offered() and "open" in offered()
        await pilot.press("space")  # marked rows: the keys apply to the marks (and say what was refused)
        await settle(pilot)
        assert "status" in offered()
        await pilot.press("5")
        await settle(pilot)
        assert "log" in offered()
        app.open_ticket(desk.list_tickets(TicketFilter(statuses=[Status.CLOSED]), limit=1)[0].case_number)
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Escalate" not in text and " l Log" not in text and "Back" in text


@sync
async def test_closed_ticket_is_read_only(desk):
    case = desk.list_tickets(TicketFilter(statuses=[Status.CLOSED]), limit=1)[0].case_number
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        before = desk.get(case).version
        for key in ("l", "s", "a", "t", "e"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, DetailScreen), key
        assert desk.get(case).version == before
        assert "read-only" in screen_text(app)


async def fill(pilot, screen: LogEntryScreen, **values) -> None:
    for name, value in values.items():
        widget = screen.query_one(f"#{name}")
        if isinstance(widget, Input):
            widget.focus()
            widget.value = value
        elif isinstance(widget, TextArea):
            widget.text = value
        elif isinstance(widget, Select):
            widget.value = value
    await pilot.pause()


@pytest.mark.backends
@sync
async def test_log_entry_with_attachment_and_status_change(desk, tmp_path):
    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    proof = tmp_path / "proof of postage.pdf"
    proof.write_bytes(b"%PDF-1.4 proof")
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_log_entry(case)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LogEntryScreen)
        await pilot.press(*"Asked buyer for photos")
        await fill(
            pilot,
            screen,
            channel="email",
            direction="out",
            body="Could you send photos?\nThanks",
            attachments=f"'{proof}'",
            follow_up="+2d",
            status="waiting-buyer",
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, LogEntryScreen)
    ticket = desk.get(case)
    assert ticket.status == Status.WAITING_BUYER.slug
    entry = [e for e in desk.entries(ticket) if e.kind == "message"][-1]
    assert entry.summary == "Asked buyer for photos" and entry.direction == "out"
    assert entry.body == "Could you send photos?\nThanks"
    assert [(a.name, a.size) for a in entry.attachment_list] == [("proof of postage.pdf", 14)]
    assert desk.load_draft(case) is None


@sync
async def test_blank_summary_is_refused_at_its_field(desk):
    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    before = desk.get(case).log_count
    app = app_for(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_log_entry(case)
        await settle(pilot)
        screen = app.screen
        await fill(pilot, screen, summary="   ", body="typed content stays", start="yesterday 25:00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "required" in str(screen.query_one("#error-summary").render())
        assert "cannot read" in str(screen.query_one("#error-start").render())
        assert screen.query_one("#body", TextArea).text == "typed content stays"
    assert desk.get(case).log_count == before


@sync
async def test_draft_survives_teardown_and_is_offered_back(desk):
    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_log_entry(case)
        await settle(pilot)
        await pilot.press(*"Half typed")
        await fill(pilot, app.screen, body="the customer said…", channel="phone")
        await pilot.pause(0.6)  # the draft is saved shortly after the last keystroke
        await settle(pilot)
    # the app is gone without saving or cancelling; the draft is in the store
    data, _version = desk.load_draft(case)
    assert data["summary"] == "Half typed" and data["channel"] == "phone"

    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        assert "draft waiting" in screen_text(app)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("enter")  # restore
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#summary", Input).value == "Half typed"
        assert screen.query_one("#body", TextArea).text == "the customer said…"
        assert screen.query_one("#channel", Select).value == "phone"
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert desk.entries(desk.get(case))[-1].summary == "Half typed"
    assert desk.load_draft(case) is None


@sync
async def test_changed_underneath_is_shown_before_saving(desk):
    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_log_entry(case)
        await settle(pilot)
        await pilot.press(*"My note")
        # another agent logs meanwhile, through the real command line
        subprocess.run(
            [
                TUI_DESK,
                "--db",
                str(desk.path),
                "--agent",
                "ben",
                "log",
                case,
                "--channel",
                "phone",
                "--summary",
                "Ben called the buyer",
            ],
            check=True,
            capture_output=True,
            env={"TUI_DESK_NOW": NOW.isoformat(), "PATH": "/usr/bin:/bin"},
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        assert any("Ben called the buyer" in line for line in dialog.lines)
        save = [value for value, _ in dialog.choices].index("save")
        dialog.query_one("OptionList").highlighted = save
        await pilot.press("enter")
        await settle(pilot)
    summaries = [e.summary for e in desk.entries(desk.get(case))]
    assert summaries[-2:] == ["Ben called the buyer", "My note"]


@sync
async def test_markup_laden_text_shows_literally(desk):
    case = desk.list_tickets(TicketFilter(search="mallory"))[0].case_number
    app = app_for(desk)
    # Wide enough for every column (the refund one too) and the customer's whole name in its own.
    async with app.run_test(size=(180, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"mallory", "enter")
        await pilot.pause(0.3)
        await settle(pilot)
        shot = screen_text(app)
        assert "[red]Mallory[/red]" in shot and "[bold]Refund[/bold]" in shot
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.case_number == case
        shot = screen_text(app)
        assert "[bold]Refund[/bold] [@click=app.quit]now[/]" in shot
        assert "\\x1b[31mred" in shot  # the escape byte is shown, not obeyed


@pytest.mark.backends
@sync
async def test_changes_by_the_cli_appear_without_refresh(desk):
    case = desk.list_tickets(TicketFilter(search="mallory"))[0].case_number
    app = DeskApp(desk, timers=False, poll_interval=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_ticket(case)
        await settle(pilot)
        before = len(app.screen.view.entries)
        subprocess.run(
            [TUI_DESK, "--db", str(desk.path), "--agent", "ben", "assign", case, "ben"],
            check=True,
            capture_output=True,
            env={"TUI_DESK_NOW": NOW.isoformat(), "PATH": "/usr/bin:/bin"},
        )
        for _ in range(20):
            await pilot.pause(0.1)
            await settle(pilot, 1)
            if len(app.screen.view.entries) > before:
                break
        assert len(app.screen.view.entries) == before + 1
        assert app.screen.ticket.assignee == "ben"


@sync
async def test_locked_store_warns_and_keeps_running(desk):
    case = desk.list_tickets(TicketFilter(statuses=[Status.L1]), limit=1)[0].case_number
    blocker = sqlite3.connect(desk.path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        app = app_for(desk)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.screen.table.total > 0  # reading still works under a write lock (WAL)
            app.screen.table.cursor = 0
            app.screen.query_one("#search", Input).value = ""
            await pilot.press("a")
            for _ in range(60):
                await pilot.pause(0.25)
                if app._notifications:
                    break
            messages = [n.message for n in app._notifications]
            assert any("busy" in m or "locked" in m for m in messages), messages
            assert app.is_running
    finally:
        blocker.rollback()
        blocker.close()
    assert desk.get(case).version >= 1


@sync
async def test_palette_goes_to_case_and_theme_persists(desk, isolated_env):
    case = desk.list_tickets(TicketFilter(search="mallory"))[0].case_number
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*case[-5:])
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.case_number == case
        await pilot.press("escape")
        await settle(pilot)
        # Found by name too: "go to" offers it, and it asks for the number.
        await pilot.press("ctrl+p", *"go to")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*case[-5:], "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.case_number == case
        app.theme = "nord"
        await pilot.pause()
    state = json.loads(Path(isolated_env / ".local/state/tui-desk/console.json").read_text())
    assert state["theme"] == "nord"
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"


@sync
async def test_deep_scroll_fetches_pages_on_demand(big):
    store = big
    flt = TicketFilter(statuses=[s for s in Status if s is not Status.CLOSED])
    oldest = store.list_tickets(flt, sort="case", limit=1)[0].case_number
    app = app_for(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.table
        assert table.total == store.count_tickets(flt) > 200
        assert len(table._pages) == 1  # only the first page was read
        await pilot.press("end")
        await settle(pilot)
        assert table.current.case_number == oldest
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        assert table.current is not None and table.cursor == table.total - 1 - 2 * table._visible_rows


@sync
@pytest.mark.parametrize("sort", ["case", "customer", "due"])
async def test_the_end_of_a_long_view_is_read_from_the_end(big, sort):
    store = big
    flt = TicketFilter(statuses=[s for s in Status if s is not Status.CLOSED])
    app = app_for(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        queue = app.screen
        while queue.table.sort_key != sort:
            await pilot.press("o")
            await settle(pilot)
        table = queue.table
        expected = store.ticket_ids(flt, sort=sort, descending=table.descending)
        table.on_deep_page = None  # no id list: the pages come from LIMIT queries alone
        table.focus()
        await pilot.press("end")
        await settle(pilot)
        last = (table.total - 1) // PAGE_SIZE
        assert [row.id for row in table._pages[last]] == expected[last * PAGE_SIZE :]
        await pilot.press("pageup", "pageup", "pageup", "pageup", "pageup", "pageup")
        await settle(pilot)
        shown = [table.row_at(i) for i in range(table.cursor, table.total)]
        assert [row.id for row in shown] == expected[table.cursor :]


@sync
async def test_a_broad_search_shows_its_first_page_then_its_count(big):
    store = big
    flt = TicketFilter(statuses=[s for s in Status if s is not Status.CLOSED], search="ord")
    matches = store.count_tickets(flt)
    assert matches > 2 * PAGE_SIZE
    oldest = store.list_tickets(flt, sort="case", limit=1)[0].case_number
    newest = store.list_tickets(flt, sort="case", descending=True, limit=1)[0].case_number
    app = app_for(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        queue = app.screen
        totals: list = []
        show_status = queue._show_status
        queue._show_status = lambda: (totals.append(queue.total), show_status())[1]
        await pilot.press("slash", *"ord ")  # the space changes nothing: the count still comes
        await pilot.pause(0.3)
        await settle(pilot)
        assert totals == [None, matches]  # rows first, with "…" for the count; then the count
        assert f"All open: {matches:,} tickets" in str(queue.query_one("#status-line").render())
        table = queue.table
        assert table.total == matches and table.current.case_number == newest
        table.focus()
        await pilot.press("end")
        await settle(pilot)
        assert table.current.case_number == oldest


@sync
async def test_timers_are_swept_on_open_and_reported(tmp_path):
    from datetime import timedelta

    clock = FixedClock(NOW - timedelta(days=4))
    store = Store(tmp_path / "t.db", clock=clock, agent="ana")
    case = store.create_ticket(customer="Ola", subject="Where is my parcel", email="ola@example.com").case_number
    store.change_status(case, Status.WAITING_BUYER)
    clock.set(NOW)  # four days later: the first reminder (day 3) is due
    app = DeskApp(store, timers=True, live=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(40):
            await pilot.pause(0.1)
            if any("reminder" in n.message for n in app._notifications):
                break
        assert any("reminder" in n.message for n in app._notifications)
        await settle(pilot)
        assert app.screen.table.total == 1
    kinds = [e.kind for e in store.entries(store.get(case))]
    assert kinds.count("reminder") == 1
    store.close()


@sync
async def test_new_ticket_and_help(desk):
    from tui_desk.tui.screens.dialogs import HelpScreen

    app = app_for(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Take: assign to me" in screen_text(app)
        await pilot.press("escape", "n")
        await settle(pilot)
        await pilot.press("ctrl+s")  # nothing typed: refused, nothing created
        await settle(pilot)
        before = desk.count_tickets()
        assert "required" in screen_text(app) and desk.count_tickets() == before
        await pilot.press(*"Zoë [i]Q[/i]", "tab", *"zoe@example.com", "tab", "tab", *"Toaster sparks")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        ticket = desk.get(app.screen.case_number)
        assert (ticket.customer, ticket.subject, ticket.email) == ("Zoë [i]Q[/i]", "Toaster sparks", "zoe@example.com")
        assert desk.count_tickets() == before + 1


@sync
async def test_read_only_store_offers_no_changes(desk):
    path = desk.path
    desk.close()
    store = Store(path, clock=FixedClock(NOW), agent="ana", read_only=True)
    app = app_for(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        case = app.screen.table.current.case_number
        version = store.get(case).version
        for key in ("a", "s", "l", "n", "t"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, QueueScreen), key
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert store.get(case).version == version
