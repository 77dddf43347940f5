"""Writing to a party of the case: the reply is logged as an outbound email and queued for delivery.

The log form's rules hold: a draft is kept as you type (its own, beside the log form's), Ctrl+S saves
in a worker, a ticket changed underneath is shown before anything is written, Escape asks first.
"""

from __future__ import annotations

import functools
import os
import shlex
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Select, Static, TextArea

from tui_desk.domain import log_texts
from tui_desk.domain.dates import format_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import NOTE_REQUIRED, WAITED_ON_PARTY, Status, parse_status, status_of
from tui_desk.domain.text import printable
from tui_desk.store import TicketChanged, TicketSnapshot
from tui_desk.store.outbox import party_address
from tui_desk.tui.screens.forms.canned_picker import pick_canned_reply
from tui_desk.tui.screens.forms.drafts import DraftWriter, KeepsDraft
from tui_desk.tui.screens.forms.log_entry import PathSuggester, _row, status_rows
from tui_desk.tui.widgets.key_bar import KeyBar
from tui_desk.tui.widgets.long_text import LongText

REPLY_FORM = "reply"  # the reply form's drafts, beside the log form's (store/drafts.py)
TEXT_FIELDS = ("to", "attachments", "status_note")


def default_recipient(ticket) -> str:
    """The waited-on party's address, else the customer's (blank when the ticket has none)."""
    party = WAITED_ON_PARTY.get(status_of(ticket.status), "buyer")
    return party_address(ticket, party) or ticket.email or ""


class ReplyScreen(KeepsDraft, Screen):
    CSS_PATH = "log_entry.tcss"
    DEFAULT_CLASSES = "form-screen reply-form"
    AUTO_FOCUS = "#body"
    HELP_TITLE = "Reply keys"
    BINDINGS = [
        Binding("ctrl+s", "save", "Send", priority=True, id="reply.save"),
        Binding("ctrl+t", "canned", "Canned reply", id="reply.canned"),
        Binding("escape", "cancel", "Cancel", id="reply.cancel"),
    ]

    def __init__(self, case_number: str = "") -> None:
        super().__init__()
        self.case_number = case_number.strip().upper()
        self.ticket = None
        self.snapshot: TicketSnapshot | None = None
        self.dirty = self.ready = self.saving = self.finished = False
        self._draft_timer = None
        self._draft_warned = False
        self.drafts = DraftWriter()
        self.tags: tuple[str, ...] = ()  # from a canned reply: added when it is sent

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble(("Reply ", "bold"), (self.case_number, "bold"), "  loading…"), id="head")
        with VerticalScroll(id="form"):
            yield from _row(
                "To", Input(placeholder="buyer, seller, partner or an address", compact=True, id="to"), "to"
            )
            yield from _row("Message", LongText(compact=True, id="body", soft_wrap=True), "body")
            yield from _row(
                "Files",
                Input(
                    placeholder="paths, space-separated (→ completes)",
                    compact=True,
                    suggester=PathSuggester(),
                    id="attachments",
                ),
                "attachments",
            )
            yield from status_rows("status note (Resolved needs one)")
        yield Static("", id="form-error", classes="field-error")
        yield Static("", id="draft-state", classes="field-error")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#body", TextArea).styles.height = 10
        self._read_ticket(self.case_number, self._loaded, form=REPLY_FORM, group="reply-open")

    def _loaded(self, result) -> None:
        ticket, draft = result
        if ticket.status == Status.CLOSED.slug:
            self.app.warn(f"{ticket.case_number} is Closed, which is final; open a follow-up to write again")
            self.finished = True
            self.dismiss()
            return
        self.ticket, self.snapshot = ticket, TicketSnapshot.of(ticket)
        self.query_one("#head", Static).update(
            Content.assemble(
                ("Reply ", "bold"),
                (ticket.case_number, "bold"),
                f"  {status_of(ticket.status).label}  ",
                printable(ticket.customer, one_line=True),
                " · ",
                printable(ticket.subject, one_line=True),
            )
        )
        to = self.query_one("#to", Input)
        if not to.value:
            with self.prevent(Input.Changed):
                to.value = default_recipient(ticket)
        if draft is None:
            self._become_ready()
            return
        from tui_desk.tui.screens.dialogs import ChoiceDialog

        data, _ = draft

        def chosen(answer: str | None) -> None:
            if answer == "discard":
                store = self.app.store
                discard = functools.partial(store.discard_draft, self.case_number, form=REPLY_FORM)
                self.app.run_db(self.drafts.write, self.drafts.ticket(), discard, group="draft")
            else:
                self.restore(data)
            self._become_ready()

        saved = data.get("_saved_at", "")
        self.app.push_screen(
            ChoiceDialog(
                "You have an unsaved reply for this ticket",
                [f"last saved {saved}" if saved else "saved earlier"],
                [("restore", "Restore the draft"), ("discard", "Discard it and start fresh")],
            ),
            chosen,
        )

    def _become_ready(self) -> None:
        self._ready_now()
        if self.app.store.read_only:
            self._draft_failed("the store is read-only")
        elif self.query_one("#body", TextArea).text:
            self._changed()

    # -- values and drafts ------------------------------------------------------------------

    def values(self) -> dict:
        data = {name: self.query_one(f"#{name}", Input).value for name in TEXT_FIELDS}
        status = self.query_one("#status", Select)
        data["status"] = None if status.is_blank() else status.value
        data["body"] = self.query_one("#body", TextArea).text
        data["tags"] = list(self.tags)
        return data

    def restore(self, data: dict) -> None:
        with self.prevent(Input.Changed, Select.Changed, TextArea.Changed):
            for name in TEXT_FIELDS:
                if isinstance(data.get(name), str):
                    self.query_one(f"#{name}", Input).value = data[name]
            status = self.query_one("#status", Select)
            if data.get("status") in {v for _, v in status._options}:
                status.value = data["status"]
            self.query_one("#body", TextArea).text = data.get("body", "") or ""
        self.tags = tuple(t for t in data.get("tags", []) if isinstance(t, str))
        self.dirty = True

    def _keep_draft(self) -> None:
        if self.finished or self.snapshot is None or self.app.store.read_only:
            return
        self.app.run_db(
            self.drafts.write,
            self.drafts.ticket(),
            self._store_draft,
            self._draft_data(),
            on_done=self._draft_kept,
            on_error=self._draft_failed,
            group="draft",
        )

    def on_input_changed(self, _: Input.Changed) -> None:
        self._changed()

    def on_select_changed(self, _: Select.Changed) -> None:
        self._changed()

    def on_text_area_changed(self, _: TextArea.Changed) -> None:
        self._changed()

    def flush_draft(self) -> None:
        """Save the draft right now, on this thread (the console or its terminal is going away)."""
        if not self.finished and self._unsaved() and self.snapshot is not None and not self.app.store.read_only:
            self.drafts.write(self.drafts.ticket(), self._store_draft, self._draft_data())

    def _draft_data(self) -> dict:
        data = self.values()
        data["_saved_at"] = format_when(self.app.now(), self.app.tz)
        return data

    def _store_draft(self, data: dict) -> None:
        self.app.store.save_draft(self.case_number, data, self.snapshot, form=REPLY_FORM)

    # -- canned replies ----------------------------------------------------------------------

    def action_canned(self) -> None:
        if self.ticket is not None:
            pick_canned_reply(self, self._use_canned)

    def _use_canned(self, reply) -> None:
        try:
            text = reply.fill(self.ticket, self.app.agent)
        except (KeyError, ValueError, IndexError) as err:
            self.app.warn(f"canned reply {reply.name}: {err}")
            return
        body = self.query_one("#body", TextArea)
        body.text = text if not body.text.strip() else body.text.rstrip() + "\n\n" + text
        if reply.status is not None:
            self.query_one("#status", Select).value = reply.status.slug
        self.tags = tuple(dict.fromkeys((*self.tags, *reply.tags)))
        body.focus()
        self._changed()

    # -- saving -----------------------------------------------------------------------------

    def _form_error(self, message) -> None:
        error = self.query_one("#form-error", Static)
        error.update(message)
        error.set_class(bool(message), "shown")

    def check(self) -> dict | None:
        v = self.values()
        problems = []
        if not v["body"].strip():
            problems.append("the message is blank")
        if not v["to"].strip():
            problems.append("give a recipient: buyer, seller, partner or an address")
        try:
            paths = [Path(os.path.expanduser(p)) for p in shlex.split(v["attachments"])]
        except ValueError as err:
            problems.append(f"cannot read the paths: {err}")
            paths = []
        problems += [f"{p}: no such file" for p in paths if not p.is_file()]
        status = parse_status(v["status"]) if v["status"] else None
        if status in NOTE_REQUIRED and not v["status_note"].strip():
            problems.append(f"{status.label} needs {NOTE_REQUIRED[status]}")
        if problems:
            self._form_error(Content("Not sent: " + "; ".join(problems)))
            return None
        self._form_error("")
        return {
            "channel": "email",
            "direction": "out",
            "sender": "agent",
            "summary": log_texts.reply_summary(v["body"]),
            "body": v["body"],
            "attachments": paths,
            "status": status,
            "status_note": v["status_note"].strip() or None,
            "mail_to": v["to"].strip(),
        }

    def action_save(self) -> None:
        if self.saving or not self.ready or self.snapshot is None:
            return
        self._stop_draft_timer()
        args = self.check()
        if args is not None:
            self._commit(args, self.snapshot)

    def _commit(self, args: dict, expected: TicketSnapshot) -> None:
        self.saving = True
        store, case, drafts, tags = self.app.store, self.case_number, self.drafts, self.tags

        def save():
            entry = drafts.finish(
                lambda: store.add_entry(case, expected=expected, forget_draft=True, draft_form=REPLY_FORM, **args)
            )
            if tags:
                store.tag(case, add=tags)
            return entry.seq

        self.app.run_db(
            save, on_done=self._saved, on_error=lambda err: self._save_failed(err, args), group="reply-save"
        )

    def _saved(self, seq: int) -> None:
        self.saving = False
        self.finished = True
        self.app.notify(f"{self.case_number}: reply #{seq} logged and queued", markup=False)
        self.app.announce_change()
        self.dismiss()

    def _save_failed(self, err: Exception, args: dict) -> None:
        self.saving = False
        if isinstance(err, TicketChanged):
            from tui_desk.tui.screens.dialogs import ChoiceDialog

            def chosen(answer: str | None) -> None:
                self.snapshot = err.current
                if answer == "save":
                    self._commit(args, err.current)
                self._changed()

            self.app.push_screen(
                ChoiceDialog(
                    f"{self.case_number} changed while you were typing",
                    err.changes,
                    [("save", "Send my reply anyway"), ("edit", "Keep editing")],
                ),
                chosen,
            )
            return
        self._changed()
        self._form_error(Content(f"Not sent: {err if isinstance(err, DeskError) else repr(err)}"))

    def action_cancel(self) -> None:
        if not self._unsaved():
            self.finished = True
            self.dismiss()
            return
        from tui_desk.tui.screens.dialogs import ChoiceDialog

        def chosen(answer: str | None) -> None:
            if answer == "keep":
                self._keep_draft()
                self.finished = True
                self.dismiss()
            elif answer == "discard":
                self.finished = True
                self._stop_draft_timer()
                store = self.app.store
                discard = functools.partial(store.discard_draft, self.case_number, form=REPLY_FORM)
                self.app.run_db(self.drafts.finish, discard, group="draft")
                self.dismiss()

        self.app.push_screen(
            ChoiceDialog(
                "Leave this reply?",
                ["It is not sent yet."],
                [("edit", "Keep editing"), ("keep", "Leave; keep it as a draft"), ("discard", "Leave and discard it")],
            ),
            chosen,
        )
