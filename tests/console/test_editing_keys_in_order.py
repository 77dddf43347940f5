"""Editing keys typed in one burst with letters (as a terminal over a slow link delivers them) are applied
in the order typed: a Backspace, Ctrl+U or an arrow key reaches the text field in its place, not after
the letters typed behind it (Textual runs a field's own key bindings only once the key has bubbled back up
to the app, while the letters behind it go straight to the field: "abcd⌫xy" came out "abcdx")."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual import events

from tests.conftest import NOW
from tui_desk.domain.clock import FixedClock
from tui_desk.store import Store
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.forms.log_entry import LogEntryScreen

NAMED = {" ": "space", ",": "comma"}

# What is typed (a key name in <>), and what the field holds after it.
BURSTS = [
    ("abcd<backspace>xy", "abcxy"),
    ("wrong<ctrl+u>right", "right"),
    ("ac<left>b<end>d", "abcd"),
    ("bc<home>a<end>d", "abcd"),
]
INPUT_ONLY = [  # an Input's emacs keys; in the content box Ctrl+E opens $EDITOR
    ("bc<ctrl+a>a<ctrl+e>d", "abcd"),
    ("one two<ctrl+w>three", "one three"),
]


def keys_of(burst: str) -> list[events.Key]:
    keys, rest = [], burst
    while rest:
        if rest.startswith("<"):
            name, rest = rest[1:].split(">", 1)
            keys.append(events.Key(name, None))
        else:
            keys.append(events.Key(NAMED.get(rest[0], rest[0]), rest[0]))
            rest = rest[1:]
    return keys


@pytest.fixture
def desk(tmp_path) -> Store:
    store = Store(tmp_path / "desk.db", clock=FixedClock(NOW), agent="ana")
    yield store
    store.close()


async def until(pilot, condition, what: str) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < 20, what
        await pilot.pause(0.05)


@pytest.mark.parametrize("field", ["#summary", "#body"], ids=["input", "text-area"])
def test_editing_keys_in_a_burst_apply_in_the_order_typed(desk, field):
    case = desk.create_ticket(customer="Bea", subject="Kettle leaks").case_number
    bursts = BURSTS + (INPUT_ONLY if field == "#summary" else [])

    async def run() -> list[tuple[str, str]]:
        found = []
        app = DeskApp(desk, clock=desk.clock, live=False, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            app.open_log_entry(case)
            await until(pilot, lambda: isinstance(app.screen, LogEntryScreen) and app.screen.ready, "no form")
            form = app.screen
            widget = form.query_one(field)
            widget.focus()
            await pilot.pause()
            for burst, _ in bursts:
                for key in keys_of(burst):  # all at once, as one read from the terminal
                    app.post_message(key)
                await pilot.pause(0.3)
                await pilot.pause()
                text = widget.text if field == "#body" else widget.value
                found.append((burst, text))
                if field == "#body":
                    widget.text = ""
                else:
                    widget.value = ""
            form.finished = True
        return found

    found = asyncio.run(run())
    assert found == bursts


def test_a_summary_and_ctrl_s_in_one_burst_log_the_whole_summary(desk):
    """Ctrl+S binds with priority: it ran at the app's door before the letters ahead of it were in the
    field, and the form refused a blank summary (or could have saved it cut short)."""
    case = desk.create_ticket(customer="Bea", subject="Kettle leaks").case_number

    async def save_at_once(attempt: int) -> None:
        app = DeskApp(desk, clock=desk.clock, live=False, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            app.open_log_entry(case)
            await until(pilot, lambda: isinstance(app.screen, LogEntryScreen) and app.screen.ready, "no form")
            for key in keys_of(f"Called back, all good {attempt}<ctrl+s>"):
                app.post_message(key)
            await until(pilot, lambda: not isinstance(app.screen, LogEntryScreen), "the entry was not saved")
            await pilot.pause()

    async def run() -> None:
        for attempt in range(3):
            await save_at_once(attempt)

    asyncio.run(run())
    summaries = [e.summary for e in desk.entries(desk.get(case))][1:]
    assert summaries == [f"Called back, all good {n}" for n in range(3)]
