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
