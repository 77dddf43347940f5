"""The "You have an unsaved draft" question over a form: keys typed while it is coming up or shown are
neither lost nor reordered, whatever the answer; Escape is "not now" (the draft stays, the form closes).
Also the time rule in the forms: a contact before the ticket opened is refused at its field, and the
new-ticket form's Opened field dates the opening."""

from __future__ import annotations

import asyncio
import random

import pytest
from textual import events
from textual.widgets import Input

from tests.conftest import NOW, workers_done
from tui_desk.domain.clock import FixedClock
from tui_desk.store import Store, TicketSnapshot
from tui_desk.store.demo import build_demo
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.dialogs import DraftQuestion
from tui_desk.tui.screens.forms.log_entry import LogEntryScreen
from tui_desk.tui.screens.forms.new_ticket import NewTicketScreen
from tui_desk.tui.screens.queue import QueueScreen
from tui_desk.tui.state import keep_new_ticket_draft, new_ticket_draft

SENTENCE = "Customer says the belt is synthetic"


@pytest.fixture
def desk(tmp_path) -> Store:
    path = tmp_path / "desk.db"
    build_demo(path, tickets=30, seed=5, clock=FixedClock(NOW), progress=False)
    store = Store(path, clock=FixedClock(NOW), agent="ana")
    yield store
    store.close()


async def settle(pilot, rounds: int = 4) -> None:
    for _ in range(rounds):
        await workers_done(pilot.app)
        await pilot.pause()


def key_of(character: str) -> events.Key:
    return events.Key("space" if character == " " else character, character)


async def open_and_type(app: DeskApp, pilot, opener: str, text: str, seed: int) -> None:
    """The opening key, then the text 5-60 ms apart from the first moment: some keys reach the form before
    the question shows, the rest are typed while it is up. Then wait for the question."""
    rng = random.Random(seed)
    app.post_message(events.Key(opener, opener))
    for character in text:
        await asyncio.sleep(rng.uniform(0.005, 0.06))
        app.post_message(key_of(character))
    await until(pilot, lambda: isinstance(app.screen, DraftQuestion))


async def until(pilot, condition, timeout: float = 10.0) -> None:
    """Wait for the console to get there (a loaded machine is slow), then for its workers."""
    for _ in range(int(timeout / 0.05)):
        await settle(pilot, rounds=1)
        if condition():
            break
        await pilot.pause(0.05)
    await settle(pilot)
    assert condition(), pilot.app.screen


def first_row(desk: Store) -> str:
    """The ticket the queue opens on (its first row): `l` logs on it."""

    async def run() -> str:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: getattr(app.screen, "table", None) is not None and app.screen.table.current)
            return app.screen.table.current.case_number

    return asyncio.run(run())


def a_draft(desk: Store, case: str, summary: str) -> None:
    data = {"summary": summary, "channel": "phone", "body": "the customer said"}
    desk.save_draft(case, data, TicketSnapshot.of(desk.get(case)))


@pytest.mark.parametrize("seed", [1, 2])
def test_keys_typed_while_the_draft_question_is_up_follow_the_restored_draft(desk, seed):
    case = first_row(desk)
    a_draft(desk, case, "Half typed. ")

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.screen.table.focus()
            await open_and_type(app, pilot, "l", SENTENCE, seed)
            await pilot.press("enter")  # Restore the draft (the first choice)
            await settle(pilot)
            form = app.screen
            assert isinstance(form, LogEntryScreen)
            assert form.query_one("#summary", Input).value == "Half typed. " + SENTENCE
            await pilot.press(*" ok", "ctrl+s")
            await settle(pilot)
        assert desk.entries(desk.get(case))[-1].summary == "Half typed. " + SENTENCE + " ok"
        assert desk.load_draft(case) is None

    asyncio.run(run())


def test_keys_typed_while_the_draft_question_is_up_stay_when_the_draft_is_discarded(desk):
    case = first_row(desk)
    a_draft(desk, case, "Old words")

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await open_and_type(app, pilot, "l", SENTENCE, 3)
            await pilot.press("down", "enter")  # Discard it and start fresh
            await settle(pilot)
            form = app.screen
            assert isinstance(form, LogEntryScreen)
            assert form.query_one("#summary", Input).value == SENTENCE
            await pilot.press("ctrl+s")
            await settle(pilot)
        assert desk.entries(desk.get(case))[-1].summary == SENTENCE
        assert desk.load_draft(case) is None

    asyncio.run(run())


def test_escape_on_the_draft_question_keeps_the_draft_and_closes_the_form(desk):
    case = first_row(desk)
    a_draft(desk, case, "Half typed")
    count = desk.get(case).log_count

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await open_and_type(app, pilot, "l", "abc", 4)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, QueueScreen))
            assert any("draft is kept" in str(n.message) for n in app._notifications)
            await pilot.press("l")  # offered again, as it was
            await until(pilot, lambda: isinstance(app.screen, DraftQuestion))
            assert "summary: Half typed" in app.screen.lines

    asyncio.run(run())
    data, _version = desk.load_draft(case)
    assert data["summary"] == "Half typed" and desk.get(case).log_count == count


def test_the_new_ticket_question_keeps_keys_typed_meanwhile_and_escape_keeps_the_draft(desk):
    key = desk.path.resolve()
    keep_new_ticket_draft(key, {"customer": "Ines ", "subject": "Kettle leaks", "kind": "refund"})

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await open_and_type(app, pilot, "n", "Ortega", 5)
            await pilot.press("escape")  # not now
            await settle(pilot)
            assert isinstance(app.screen, QueueScreen)
            assert new_ticket_draft(key)["customer"] == "Ines "
            await open_and_type(app, pilot, "n", "Ortega", 6)
            await pilot.press("enter")  # restore
            await settle(pilot)
            form = app.screen
            assert isinstance(form, NewTicketScreen)
            assert form.query_one("#customer", Input).value == "Ines Ortega"
            assert form.query_one("#subject", Input).value == "Kettle leaks"

    asyncio.run(run())


def test_the_log_form_refuses_a_contact_before_the_ticket_opened_at_its_start_field(desk):
    case = desk.create_ticket(customer="Ada", subject="Typed in late").case_number

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.open_log_entry(case)
            await settle(pilot)
            form = app.screen
            form.query_one("#start", Input).value = "13:50"
            form.query_one("#summary", Input).value = "The call before"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is form
            error = str(form.query_one("#error-start").render())
            assert "before the ticket opened (14:30)" in error and "edit --opened" in error
            assert "invalid" in form.query_one("#row-start").classes

    asyncio.run(run())
    assert desk.get(case).log_count == 1


def test_the_new_ticket_form_takes_when_the_ticket_opened(desk):
    before = desk.count_tickets()

    async def run() -> None:
        app = DeskApp(desk, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, NewTicketScreen)
            for name, value in (("customer", "Ada"), ("subject", "Called at nine"), ("opened", "in a bit")):
                form.query_one(f"#{name}", Input).value = value
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is form and "invalid" in form.query_one("#row-opened").classes
            form.query_one("#opened", Input).value = "9:00"
            await pilot.press("ctrl+s")
            await settle(pilot)

    asyncio.run(run())
    assert desk.count_tickets() == before + 1
    created = desk.list_tickets(sort="case", descending=True, limit=1)[0]
    assert created.subject == "Called at nine" and created.opened_at == NOW.replace(hour=9, minute=0)
