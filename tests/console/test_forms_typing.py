"""Typing into the forms the moment they open: every key lands, in the order typed; one save, no ghost draft."""

from __future__ import annotations

import asyncio
import random

import pytest
from textual import events
from textual.widgets import Input

from tests.conftest import NOW, workers_done
from tui_desk.domain.clock import FixedClock
from tui_desk.store import Store
from tui_desk.store.demo import build_demo
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.forms.log_entry import LogEntryScreen
from tui_desk.tui.screens.forms.new_ticket import NewTicketScreen
from tui_desk.tui.screens.queue import QueueScreen
from tui_desk.tui.state import keep_new_ticket_draft


@pytest.fixture
def desk(tmp_path) -> Store:
    path = tmp_path / "desk.db"
    build_demo(path, tickets=40, seed=11, clock=FixedClock(NOW), progress=False)
    store = Store(path, clock=FixedClock(NOW), agent="ana")
    yield store
    store.close()


async def settle(pilot, rounds: int = 4) -> None:
    for _ in range(rounds):
        await workers_done(pilot.app)
        await pilot.pause()


def key_of(character: str) -> events.Key:
    return events.Key("space" if character == " " else character, character)


async def type_at_once(app: DeskApp, opener: str, sentence: str, rng: random.Random) -> None:
    """The opening key, then the sentence's keys one by one, 20-150 ms apart, as a terminal delivers them."""
    app.post_message(events.Key(opener, opener))
    for character in sentence:
        await asyncio.sleep(rng.uniform(0.02, 0.15))
        app.post_message(key_of(character))


SENTENCES = [
    ("l", LogEntryScreen, "#summary", "Customer says the belt is synthetic"),
    ("n", NewTicketScreen, "#customer", "Maria Jose Fernandez Lopez"),
]


@pytest.mark.parametrize(("opener", "form", "field", "sentence"), SENTENCES, ids=["log", "new"])
def test_words_typed_right_after_opening_a_form_arrive_in_order(desk, opener, form, field, sentence):
    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, QueueScreen)
            for attempt in range(3):
                rng = random.Random(attempt)
                await type_at_once(app, opener, sentence, rng)
                await pilot.pause(0.3)
                await settle(pilot)
                assert isinstance(app.screen, form)
                screen = app.screen
                assert screen.query_one(field, Input).value == sentence, f"attempt {attempt}"
                screen.finished = True  # leave without a draft, for the next attempt
                screen.dismiss()
                await settle(pilot)
                if isinstance(screen, LogEntryScreen):
                    desk.discard_draft(screen.case_number)
                else:
                    keep_new_ticket_draft(desk.path.resolve(), None)

    asyncio.run(run())


def test_a_save_at_any_moment_after_typing_leaves_one_entry_and_no_draft(desk):
    """Ctrl+S 0 to 600 ms after the last key (every 100 ms): the entry once, and no draft written after it."""
    case = desk.list_tickets(limit=1)[0].case_number

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            for step, delay in enumerate(range(0, 601, 100)):
                before = desk.get(case).log_count
                app.open_log_entry(case)
                await settle(pilot)
                assert isinstance(app.screen, LogEntryScreen)
                summary = f"Called back, try {step}"
                for character in summary:
                    app.post_message(key_of(character))
                    await asyncio.sleep(0.02)
                await asyncio.sleep(delay / 1000)
                app.post_message(events.Key("ctrl+s", None))
                await pilot.pause(0.5)  # any draft write still scheduled would have landed by now
                await settle(pilot)
                assert not isinstance(app.screen, LogEntryScreen), delay
                assert desk.load_draft(case) is None, f"a draft came back {delay} ms after"
                entries = desk.entries(desk.get(case))
                assert desk.get(case).log_count == before + 1, delay
                assert [e.summary for e in entries].count(summary) == 1

    asyncio.run(run())


def test_a_draft_that_cannot_be_kept_says_so(desk, tmp_path, monkeypatch):
    """The state folder cannot be written: the new-ticket form says the draft is NOT kept, and leaving
    does not claim it was."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocked))  # the state folder would have to be inside a file

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            await pilot.press(*"Ines Ortega")
            await pilot.pause(0.3)
            await settle(pilot)
            form = app.screen
            assert isinstance(form, NewTicketScreen)
            assert "NOT kept" in str(form.query_one("#draft-state").render())
            await pilot.press("escape")
            await settle(pilot)
            messages = [str(n.message) for n in app._notifications]
            assert not any("is kept as a draft" in m for m in messages), messages
            assert any("NOT kept" in m for m in messages), messages

    asyncio.run(run())


def test_a_quick_note_is_internal_from_the_agent_and_help_says_log_entry_keys(desk):
    case = desk.list_tickets(limit=1)[0].case_number

    async def run() -> None:
        from tui_desk.tui.screens.dialogs import HelpScreen

        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.open_log_entry(case)
            await settle(pilot)
            await pilot.press(*"Checked the courier's site", "f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            assert "Log entry keys" in str(app.screen.query("Static").first().render())
            await pilot.press("escape", "ctrl+s")
            await settle(pilot)
        entry = desk.entries(desk.get(case))[-1]
        assert (entry.summary, entry.channel, entry.direction, entry.sender) == (
            "Checked the courier's site",
            "note",
            "internal",
            "agent",
        )

    asyncio.run(run())


def test_tab_typed_fast_after_n_moves_to_the_next_field_also_on_a_reused_form(desk):
    """Typed 20 ms apart after `n`: "Zoe Fast", Tab, "zoe@example.com" — customer and email, each in its field,
    also the second time (the form built before, reused, focus left on a later field)."""

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            for attempt in range(2):  # the second time the form is the one built before, reused
                keys = [events.Key("n", "n"), *map(key_of, "Zoe Fast"), events.Key("tab", "\t")]
                keys += map(key_of, "zoe@example.com")
                for key in keys:
                    app.post_message(key)
                    await asyncio.sleep(0.02)  # a fast typist; the form is not ready for the first ones
                await pilot.pause(0.3)
                await settle(pilot)
                screen = app.screen
                assert isinstance(screen, NewTicketScreen)
                got = (screen.query_one("#customer", Input).value, screen.query_one("#subject", Input).value)
                assert screen.query_one("#customer", Input).value == "Zoe Fast", f"attempt {attempt}: {got}"
                assert screen.query_one("#email", Input).value == "zoe@example.com", f"attempt {attempt}"
                await pilot.press("tab", *"x")  # leave focus on a later field, as an agent does
                screen.finished = True
                screen.dismiss()
                await settle(pilot)
                keep_new_ticket_draft(desk.path.resolve(), None)

    asyncio.run(run())
