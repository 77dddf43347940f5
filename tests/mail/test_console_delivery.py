"""An open console delivers the outbox by itself, off the UI thread, soon after a message is queued."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from tui_desk.config import load_config
from tui_desk.store import Store
from tui_desk.tui.app import DeskApp


def test_the_console_sends_a_new_tickets_acknowledgement(db_path, clock, smtp_server, mail_config):
    config = replace(load_config(mail_config), mail=replace(load_config(mail_config).mail, deliver_interval_s=0.5))
    store = Store(db_path, config=config, clock=clock, agent="ana")

    async def run() -> None:
        app = DeskApp(store, clock=clock, live=False)
        async with app.run_test(size=(100, 30)) as pilot:
            ticket = store.create_ticket(customer="Bea", subject="Kettle leaks", email="bea@example.com")
            start = time.monotonic()
            while not smtp_server.received:
                assert time.monotonic() - start < 30, "the console never delivered the acknowledgement"
                await pilot.pause(0.2)
            ((_, rcpts, message),) = smtp_server.received
            assert rcpts == ["bea@example.com"]
            assert message["Subject"] == f"[{ticket.case_number}] Kettle leaks"
            await app.workers.wait_for_complete()

    asyncio.run(run())


def test_the_console_fetches_the_imap_mailbox_by_itself(db_path, clock, isolated_env, dovecot):
    from tests.mail.test_fetch import _imap_config
    from tests.mail.test_receive import eml

    _imap_config(isolated_env, dovecot, "interval_seconds = 0.5\n")
    config = load_config(isolated_env / "config.toml")
    store = Store(db_path, config=config, clock=clock, agent="ana")
    imap = dovecot.session()
    imap.append("INBOX", None, None, eml(subject="Lamp flickers", message_id="<lamp@x>").replace(b"\n", b"\r\n"))
    imap.logout()

    async def run() -> None:
        app = DeskApp(store, clock=clock, live=False)
        async with app.run_test(size=(100, 30)) as pilot:
            start = time.monotonic()
            while not [t for t in store.list_tickets() if t.subject == "Lamp flickers"]:
                assert time.monotonic() - start < 30, "the console never fetched the mailbox"
                await pilot.pause(0.2)
            await app.workers.wait_for_complete()

    asyncio.run(run())
