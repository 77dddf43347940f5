"""The console quits with a form open: everything typed up to the quit is in the kept draft, up to the
last key, and the next opening offers it back exactly. For each form that keeps a draft (log entry,
reply, new ticket) and both ways out: the console ends right after the last key (as a test's Pilot
does), and Ctrl+Q typed in the same burst as the words (as a terminal delivers them)."""

from __future__ import annotations

import asyncio

import pytest
from textual import events

from tests.conftest import NOW, workers_done
from tui_desk.domain.clock import FixedClock
from tui_desk.store import Store
from tui_desk.store.drafts import ENTRY_FORM
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.forms.log_entry import LogEntryScreen
from tui_desk.tui.screens.forms.new_ticket import NewTicketScreen
from tui_desk.tui.screens.forms.reply import REPLY_FORM, ReplyScreen
from tui_desk.tui.state import keep_new_ticket_draft, new_ticket_draft

SENTENCE = "Belt is synthetic, wants a refund"
TRIES = 2  # each try a fresh console: a timed draft may have caught the last key by luck


@pytest.fixture
def desk(tmp_path) -> Store:
    store = Store(tmp_path / "desk.db", clock=FixedClock(NOW), agent="ana")
    yield store
    store.close()


def key_of(character: str) -> events.Key:
    return events.Key({" ": "space", ",": "comma"}.get(character, character), character)


async def until(pilot, condition, what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(what)


# The form, how the app opens it, the field typed into, and where its draft is read back.
FORMS = {
    "log": (LogEntryScreen, lambda app, case: app.open_log_entry(case), "#summary"),
    "reply": (ReplyScreen, lambda app, case: app.open_reply(case), "#body"),
    "new": (NewTicketScreen, lambda app, _case: app.open_new_ticket(), "#customer"),
}


FORM_NAME = {"log": ENTRY_FORM, "reply": REPLY_FORM}


def kept(desk: Store, form: str, case: str) -> str | None:
    """The typed field of the kept draft, read from the store (or the console's state file)."""
    if form == "new":
        draft = new_ticket_draft(desk.path.resolve())
        return None if draft is None else draft["customer"]
    draft = desk.load_draft(case, form=FORM_NAME[form])
    return None if draft is None else draft[0]["summary" if form == "log" else "body"]


def forget(desk: Store, form: str, case: str) -> None:
    if form == "new":
        keep_new_ticket_draft(desk.path.resolve(), None)
    else:
        desk.discard_draft(case, form=FORM_NAME[form])


async def type_and_quit(desk: Store, form: str, case: str, text: str, how: str) -> None:
    screen_type, opener, field = FORMS[form]
    app = DeskApp(desk, clock=desk.clock, live=False, timers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        opener(app, case)
        await until(pilot, lambda: isinstance(app.screen, screen_type) and app.screen.ready, "the form did not open")
        await until(pilot, lambda: app.screen.focused is app.screen.query_one(field), "the field has no focus")
        if how == "pilot":
            await pilot.press(*[key_of(c).key for c in text])  # and the console ends at once
        else:
            for character in text:  # one burst, the quit key last, as the terminal sends them
                app.post_message(key_of(character))
            app.post_message(events.Key("ctrl+q", None))
            await until(pilot, lambda: not app.is_running, "Ctrl+Q did not quit")


async def read_back(desk: Store, form: str, case: str) -> str:
    screen_type, opener, field = FORMS[form]
    app = DeskApp(desk, clock=desk.clock, live=False, timers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        opener(app, case)
        await until(pilot, lambda: type(app.screen).__name__ in ("DraftQuestion", "ChoiceDialog"), "no draft offered")
        await pilot.press("enter")  # restore
        await until(pilot, lambda: isinstance(app.screen, screen_type) and app.screen.ready, "the form did not open")
        text = app.screen.query_one(field).text if field == "#body" else app.screen.query_one(field).value
        app.screen.finished = True  # leave it as it is
        await workers_done(app)
        return text


@pytest.mark.parametrize("how", ["pilot", "ctrl+q"])
@pytest.mark.parametrize("form", ["log", "reply", "new"])
def test_every_key_typed_before_the_console_quits_is_in_the_draft(desk, form, how):
    case = desk.create_ticket(customer="Bea", subject="Kettle leaks", email="bea@example.com").case_number
    for attempt in range(TRIES):
        text = f"{SENTENCE} {attempt}"
        asyncio.run(type_and_quit(desk, form, case, text, how))
        assert kept(desk, form, case) == text, f"try {attempt}: the kept draft lost its last keys"
        if attempt == 0:  # and the console offers it back as it was
            assert asyncio.run(read_back(desk, form, case)) == text
        forget(desk, form, case)


@pytest.mark.parametrize("form", ["log", "reply", "new"])
def test_a_single_key_typed_right_before_ctrl_q_is_kept(desk, form):
    """The form was clean until this one key: the quit may come before the field's Changed message reaches
    the form (its ``dirty`` flag), and the key must be kept all the same."""
    case = desk.create_ticket(customer="Bea", subject="Kettle leaks", email="bea@example.com").case_number
    for attempt in range(TRIES):
        asyncio.run(type_and_quit(desk, form, case, "x", "ctrl+q"))
        assert kept(desk, form, case) == "x", f"try {attempt}"
        forget(desk, form, case)
