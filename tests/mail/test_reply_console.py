"""The reply form in a running console (Pilot): r, type, Ctrl+S; the message reaches the SMTP server."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from tests.conftest import workers_done
from tui_desk.config import load_config
from tui_desk.store import Store
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.forms.reply import ReplyScreen


async def _until(pilot, condition, what: str) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < 30, what
        await pilot.pause(0.1)


def _store(db_path, clock, mail_config) -> Store:
    config = load_config(mail_config)
    config = replace(config, mail=replace(config.mail, deliver_interval_s=0.5))
    return Store(db_path, config=config, clock=clock, agent="ana")


def test_r_writes_a_reply_that_is_logged_and_delivered(db_path, clock, smtp_server, mail_config, isolated_env):
    (isolated_env / "replies").mkdir()
    (isolated_env / "replies" / "ask-photo.md").write_text(
        "---\nstatus: waiting-on-buyer\ntags: needs-photo\n---\nHello {customer}, a photo please.\n", encoding="utf-8"
    )
    store = _store(db_path, clock, mail_config)
    ticket = store.create_ticket(customer="Bea", subject="Kettle leaks", email="bea@example.com")

    async def run() -> None:
        app = DeskApp(store, clock=clock, live=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: len(smtp_server.received) == 1, "the acknowledgement was not sent")
            await workers_done(app)
            await pilot.press("r")
            await _until(pilot, lambda: isinstance(app.screen, ReplyScreen) and app.screen.ready, "no reply form")
            form = app.screen
            assert form.query_one("#to").value == "bea@example.com"  # the customer: nobody is waited on
            await pilot.press("ctrl+t")
            await _until(pilot, lambda: type(app.screen).__name__ == "CannedReplyPicker", "no canned reply list")
            await pilot.press("p", "h", "o", "enter")
            await _until(pilot, lambda: app.screen is form, "the picker did not close")
            await pilot.press("end", *" Thanks!")
            await pilot.press("ctrl+s")
            await _until(pilot, lambda: len(smtp_server.received) == 2, "the reply did not reach the server")
            await workers_done(app)

    asyncio.run(run())
    _, rcpts, message = smtp_server.received[1]
    assert rcpts == ["bea@example.com"]
    assert message["Subject"] == f"[{ticket.case_number}] Kettle leaks"
    assert message.get_content().startswith("Hello Bea, a photo please.")
    assert "Thanks!" in message.get_content()
    shown = store.describe(store.get(ticket.case_number))
    assert shown["status"] == "Waiting on Buyer" and shown["tags"] == ["needs-photo"]
    reply = next(e for e in shown["log"] if e["channel"] == "email" and e["direction"] == "out")
    assert reply["body"].startswith("Hello Bea, a photo please.")
    assert store.load_draft(ticket.case_number, form="reply") is None  # sent: its draft is gone


def test_a_half_typed_reply_is_kept_as_its_own_draft_and_offered_again(db_path, clock, smtp_server, mail_config):
    store = _store(db_path, clock, mail_config)
    ticket = store.create_ticket(customer="Bea", subject="Kettle leaks", email="bea@example.com")
    case = ticket.case_number

    async def first() -> None:
        app = DeskApp(store, clock=clock, live=False, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            app.open_reply(case)
            await _until(pilot, lambda: isinstance(app.screen, ReplyScreen) and app.screen.ready, "no reply form")
            await pilot.press(*"Half a thought")
            await _until(pilot, lambda: store.load_draft(case, form="reply") is not None, "no draft kept")
            await workers_done(app)

    async def second() -> None:
        app = DeskApp(store, clock=clock, live=False, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            app.open_reply(case)
            await _until(pilot, lambda: type(app.screen).__name__ == "ChoiceDialog", "the draft was not offered")
            await pilot.press("enter")  # restore
            await _until(pilot, lambda: isinstance(app.screen, ReplyScreen) and app.screen.ready, "no reply form")
            assert app.screen.query_one("#body").text == "Half a thought"
            await workers_done(app)

    asyncio.run(first())
    assert store.load_draft(case) is None  # the log form's draft is another one
    assert store.load_draft(case, form="reply")[0]["body"] == "Half a thought"
    asyncio.run(second())
