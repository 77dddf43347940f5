"""Logging an interaction from the keyboard: every field, Ctrl+S to save, drafts kept in the store as you type."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
from datetime import datetime
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.suggester import Suggester
from textual.widgets import Input, Label, Select, Static, TextArea

from tui_desk.domain import vocabulary
from tui_desk.domain.dates import format_when, parse_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import NOTE_REQUIRED, Status, parse_status, status_of
from tui_desk.domain.text import printable
from tui_desk.store import TicketChanged, TicketSnapshot
from tui_desk.store.drafts import ENTRY_FORM
from tui_desk.tui.screens.forms.drafts import FIELD_KEYS, DraftWriter, KeepsDraft
from tui_desk.tui.screens.reuse import Reused
from tui_desk.tui.widgets.form_select import FormSelect
from tui_desk.tui.widgets.key_bar import KeyBar
from tui_desk.tui.widgets.long_text import LongText

TEXT_FIELDS = ("sender_name", "start", "end", "summary", "attachments", "follow_up", "status_note")
SELECT_FIELDS = ("channel", "direction", "sender", "status")


class PathSuggester(Suggester):
    """Completes the last path typed in the attachments field from the file system.

    The completion is what is typed plus the rest of the name, with spaces, quotes and backslashes
    escaped, so the field still splits into the same paths (``rma\\ label.pdf``).
    """

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value or value.endswith(" ") and not value.endswith("\\ "):
            return None
        try:
            words = shlex.split(value)
        except ValueError:
            return None
        if not words:
            return None
        folder, prefix = os.path.split(os.path.expanduser(words[-1]))
        try:
            # The file system may be slow (a network mount): never on the event loop.
            entries = await asyncio.to_thread(os.listdir, folder or ".")
        except OSError:
            return None
        names = sorted(n for n in entries if n.startswith(prefix) and not n.startswith("."))
        if not names:
            return None
        rest = names[0][len(prefix) :]
        if os.path.isdir(os.path.join(folder, names[0])):
            rest += "/"
        return value + re.sub(r"([\s'\"\\])", r"\\\1", rest) if rest else None


def _row(label: str, widget, name: str) -> ComposeResult:
    with Horizontal(classes="row", id=f"row-{name}"):
        yield Label(label, classes="label")
        yield widget
    yield Static("", classes="field-error", id=f"error-{name}")


def status_rows(note_placeholder: str) -> ComposeResult:
    """The optional status change that goes with an entry or a reply, and its note."""
    yield from _row(
        "Status",
        FormSelect(
            [(s.label, s.slug) for s in Status if s is not Status.NEW],
            prompt="no change",
            compact=True,
            id="status",
        ),
        "status",
    )
    yield from _row("Note", Input(placeholder=note_placeholder, compact=True, id="status_note"), "status_note")


DEFAULT_CHANNEL = "note"  # a quick entry is most often the agent's own note: internal, from the agent


class LogEntryScreen(KeepsDraft, Reused, Screen):
    """The form; ``snapshot`` is the ticket as it was when typing began, to tell what changed underneath.

    The app builds it once (at idle time) and reuses it: ``open_case`` empties it for the next ticket
    before it is shown, so it takes typing the moment `l` is pressed; the ticket and any draft are
    read in a worker once it is up.
    """

    CSS_PATH = "log_entry.tcss"
    DEFAULT_CLASSES = "form-screen"
    AUTO_FOCUS = "#summary"
    HELP_TITLE = "Log entry keys"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="log.save"),
        Binding("ctrl+t", "canned", "Canned reply", show=False, id="log.canned"),
        Binding("escape", "cancel", "Cancel", id="log.cancel"),
        *FIELD_KEYS,
    ]

    def __init__(self, case_number: str = "") -> None:
        super().__init__()
        self._reset(case_number)

    def _reset(self, case_number: str) -> None:
        self.case_number = case_number.strip().upper()
        self.snapshot: TicketSnapshot | None = None
        self.dirty = False
        self.ready = False  # True once the ticket (and any draft) is loaded
        self.saving = False
        self.finished = False
        self._draft_timer = None
        self._draft_warned = False
        self.drafts = DraftWriter()
        self._to_load = bool(self.case_number)
        self._in_error: set[str] = getattr(self, "_in_error", set())  # kept: those still shown get cleared

    def open_case(self, case_number: str) -> None:
        """Empty the (already built) form for ``case_number``; called before it is shown again."""
        self._stop_draft_timer()
        self._reset(case_number)
        if not self.is_mounted:
            return  # compose shows this case
        self.query_one("#head", Static).update(self._loading_head())
        with self.prevent(Input.Changed, Select.Changed, TextArea.Changed):
            for name in TEXT_FIELDS:
                self.query_one(f"#{name}", Input).value = ""
            self.query_one("#channel", Select).value = DEFAULT_CHANNEL
            self._set_party(DEFAULT_CHANNEL)
            self.query_one("#status", Select).clear()
            self.query_one("#body", TextArea).text = ""
        for name in (*TEXT_FIELDS, *SELECT_FIELDS, "body"):
            self._clear_error(name)
        self._form_error("")
        self._draft_kept()
        self.query_one("#form", VerticalScroll).scroll_home(animate=False)
        self.set_focus(self.query_one("#summary", Input))

    def takes_typing(self) -> bool:
        """For the app's type-ahead: keys typed before now go to the focused field (see tui/typeahead.py)."""
        return self.is_mounted and self.focused is not None

    def _loading_head(self) -> Content:
        return Content.assemble(("Log entry ", "bold"), (self.case_number, "bold"), "  loading…")

    def compose(self) -> ComposeResult:
        yield Static(self._loading_head(), id="head")
        with VerticalScroll(id="form"):
            yield from _row(
                "Channel",
                FormSelect(
                    [(c, c) for c in vocabulary.CHANNELS],
                    value=DEFAULT_CHANNEL,
                    allow_blank=False,
                    compact=True,
                    id="channel",
                ),
                "channel",
            )
            yield from _row(
                "Direction",
                FormSelect(
                    [(d, d) for d in vocabulary.DIRECTIONS],
                    prompt="auto",
                    value="internal" if DEFAULT_CHANNEL == "note" else Select.BLANK,
                    compact=True,
                    id="direction",
                ),
                "direction",
            )
            yield from _row(
                "From",
                FormSelect(
                    [(s, s) for s in vocabulary.SENDERS],
                    prompt="auto",
                    value="agent" if DEFAULT_CHANNEL == "note" else Select.BLANK,
                    compact=True,
                    id="sender",
                ),
                "sender",
            )
            yield from _row(
                "Name", Input(placeholder="sender's name (optional)", compact=True, id="sender_name"), "sender_name"
            )
            yield from _row(
                "Start", Input(placeholder="now  (14:30, yesterday 9:00, -2h)", compact=True, id="start"), "start"
            )
            yield from _row(
                "End", Input(placeholder="(optional) end of the call or chat", compact=True, id="end"), "end"
            )
            yield from _row(
                "Summary",
                Input(placeholder="one line: what happened (required)", compact=True, id="summary"),
                "summary",
            )
            yield from _row("Content", LongText(compact=True, id="body", soft_wrap=True), "body")
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
            yield from _row(
                "Follow-up",
                Input(placeholder="promised by (+2d, tomorrow 9:00)", compact=True, id="follow_up"),
                "follow_up",
            )
            yield from status_rows("status note (Resolved/Closed need one)")
        yield Static("", id="form-error", classes="field-error")
        yield Static("", id="draft-state", classes="field-error")
        yield KeyBar()

    def on_screen_resume(self) -> None:
        # Also when a dialog over the form closes: read the ticket once per opening.
        if self._to_load:
            self._to_load = False
            self._load()

    def _load(self) -> None:
        self._read_ticket(self.case_number, self._loaded, form=ENTRY_FORM, group="log-open")

    def _loaded(self, result) -> None:
        ticket, draft = result
        if ticket.status == Status.CLOSED.slug:
            self.app.warn(f"{ticket.case_number} is Closed, which is final; nothing can be logged on it")
            self.finished = True
            self.dismiss()
            return
        self.snapshot = TicketSnapshot.of(ticket)
        self.query_one("#head", Static).update(
            Content.assemble(
                ("Log entry ", "bold"),
                (ticket.case_number, "bold"),
                f"  {status_of(ticket.status).label}  ",
                printable(ticket.customer, one_line=True),
                " · ",
                printable(ticket.subject, one_line=True),
            )
        )
        if draft is None:
            self._become_ready()
            return
        data, _base_version = draft
        from tui_desk.tui.screens.dialogs import DraftQuestion

        saved = data.get("_saved_at", "")
        summary = printable(data.get("summary", ""), one_line=True) or "(no summary yet)"

        def chosen(answer: str | None) -> None:
            if answer is None:  # "not now": the draft stays as it is, the form closes
                self.finished = True
                self.app.notify(f"The draft is kept: l brings it back{_dropped(self.values(), question)}", markup=False)
                self.dismiss()
                return
            if answer == "discard":
                store, case = self.app.store, self.case_number
                self.app.run_db(self.drafts.write, self.drafts.ticket(), store.discard_draft, case, group="draft")
            else:
                self.restore(data)
            self._become_ready()

        question = DraftQuestion(
            self,
            "You have an unsaved draft for this ticket",
            [f"last saved {saved}" if saved else "saved earlier", f"summary: {summary}"],
            [("restore", "Restore the draft"), ("discard", "Discard it and start fresh")],
        )
        self.app.push_screen(question, chosen)

    def _become_ready(self) -> None:
        self._ready_now()
        if self.app.store.read_only:
            self._draft_failed("the store is read-only")
        typed = self._clean
        if any(typed[name] for name in (*TEXT_FIELDS, "body")):
            self._changed()  # typed while the ticket was read: keep it too

    # -- the form's values ------------------------------------------------------------------

    def values(self) -> dict:
        data: dict = {name: self.query_one(f"#{name}", Input).value for name in TEXT_FIELDS}
        for name in SELECT_FIELDS:
            select = self.query_one(f"#{name}", Select)
            data[name] = None if select.is_blank() else select.value
        data["body"] = self.query_one("#body", TextArea).text
        return data

    def restore(self, data: dict) -> None:
        """Put a draft back; what was typed since the form opened stays, after the draft's text."""
        typed = self.values()
        with self.prevent(Input.Changed, Select.Changed, TextArea.Changed):
            for name in TEXT_FIELDS:
                if isinstance(data.get(name), str):
                    box = self.query_one(f"#{name}", Input)
                    box.value = data[name] + typed[name]
                    box.cursor_position = len(box.value)
            for name in SELECT_FIELDS:
                value = data.get(name)
                select = self.query_one(f"#{name}", Select)
                if value is None:
                    if name != "channel":
                        select.clear()
                elif value in {v for _, v in select._options}:
                    select.value = value
            body = self.query_one("#body", TextArea)
            body.text = (data.get("body", "") or "") + typed["body"]
            body.move_cursor(body.document.end)
        base = data.get("_base")
        if isinstance(base, dict):
            try:
                self.snapshot = TicketSnapshot(**base)
            except TypeError:
                pass
        self.dirty = True
        self.notify("Draft restored", markup=False)

    def _keep_draft(self) -> None:
        self._save_draft()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._clear_error(event.input.id)
        self._changed()

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self.focus_next()  # Enter moves on, like Tab; Ctrl+S saves

    def on_select_changed(self, event: Select.Changed) -> None:
        self._clear_error(event.select.id)
        if event.select.id == "channel" and isinstance(event.value, str):
            self._set_party(event.value)
        self._changed()

    def _set_party(self, channel: str) -> None:
        """A note is internal and the agent's; leaving the note channel puts direction and sender back on auto."""
        direction, sender = self.query_one("#direction", Select), self.query_one("#sender", Select)
        if channel == "note":
            direction.value, sender.value = "internal", "agent"
        elif direction.value == "internal":
            direction.clear()
            sender.clear()

    def on_text_area_changed(self, _: TextArea.Changed) -> None:
        self._changed()

    def _draft_data(self) -> dict:
        data = self.values()
        data["_saved_at"] = format_when(self.app.now(), self.app.tz)
        if self.snapshot is not None:
            s = self.snapshot
            data["_base"] = {"version": s.version, "log_count": s.log_count, "status": s.status, "assignee": s.assignee}
        return data

    def _save_draft(self) -> None:
        if self.finished or self.snapshot is None:
            return
        if self.app.store.read_only:
            self._draft_failed("the store is read-only")
            return
        drafts, number = self.drafts, self.drafts.ticket()
        self.app.run_db(
            drafts.write,
            number,
            self.app.store.save_draft,
            self.case_number,
            self._draft_data(),
            self.snapshot,
            on_done=self._draft_kept,
            on_error=self._draft_failed,
            group="draft",
        )

    def flush_draft(self) -> None:
        """Save the draft right now, on this thread (the console or its terminal is going away)."""
        if not self.finished and self._unsaved() and self.snapshot is not None and not self.app.store.read_only:
            self.drafts.write(
                self.drafts.ticket(), self.app.store.save_draft, self.case_number, self._draft_data(), self.snapshot
            )

    # -- checking ---------------------------------------------------------------------------

    def _clear_error(self, name: str | None) -> None:
        # Only fields shown in error: a query walks the whole form, and this runs on every keystroke.
        if name and name in self._in_error:
            self._in_error.discard(name)
            for error in self.query(f"#error-{name}"):
                error.update("")
                error.remove_class("shown")
            for row in self.query(f"#row-{name}"):
                row.remove_class("invalid")

    def _show_error(self, name: str, message: str) -> None:
        self._in_error.add(name)
        error = self.query_one(f"#error-{name}", Static)
        error.update(Content(message))
        error.add_class("shown")
        self.query_one(f"#row-{name}").add_class("invalid")

    def check(self) -> dict | None:
        """The store's arguments from the form, or None after showing each problem at its field."""
        v = self.values()
        now, tz = self.app.now(), self.app.tz
        errors: dict[str, str] = {}
        args: dict = {"channel": v["channel"] or "email", "sender_name": v["sender_name"], "body": v["body"]}
        try:
            args["direction"], args["sender"] = vocabulary.resolve_party(args["channel"], v["direction"], v["sender"])
        except DeskError as err:
            errors["direction" if "direction" in str(err) or "note" in str(err) else "sender"] = str(err)

        def when(name: str) -> datetime | None:
            if not v[name].strip():
                return None
            try:
                return parse_when(v[name], now, tz)
            except DeskError as err:
                errors[name] = str(err)
                return None

        args["at"], args["until"], args["follow_up"] = when("start"), when("end"), when("follow_up")
        if args["at"] and args["until"] and args["until"] < args["at"]:
            errors["end"] = "the contact ends before it starts"
        # An end in the past with no start is no error: the start defaults to now, and the end is read as a
        # start given later.
        if not v["summary"].strip():
            errors["summary"] = "the summary is required: one line on what happened"
        try:
            paths = shlex.split(v["attachments"])
        except ValueError as err:
            errors["attachments"] = f"cannot read the paths: {err}"
            paths = []
        files = []
        for p in paths:
            path = Path(os.path.expanduser(p))
            if not path.is_file():
                errors["attachments"] = f"{p}: no such file" if not path.exists() else f"{p}: not a file"
            files.append(path)
        args["attachments"] = files
        status = None
        if v["status"]:
            status = parse_status(v["status"])
            if status in NOTE_REQUIRED and not v["status_note"].strip():
                errors["status_note"] = f"{status.label} needs {NOTE_REQUIRED[status]}"
        args["status"], args["status_note"] = status, v["status_note"].strip() or None
        args["summary"] = v["summary"]
        for name in (*TEXT_FIELDS, *SELECT_FIELDS, "body"):
            self._clear_error(name)
        for name, message in errors.items():
            self._show_error(name, message)
        if errors:
            first = next(iter(errors))
            widget = self.query_one(f"#{first}")
            widget.focus()
            self._form_error(Content(f"{len(errors)} field(s) need a look; nothing saved"))
            return None
        self._form_error("")
        return args

    # -- saving -----------------------------------------------------------------------------

    def _form_error(self, message) -> None:
        """The message under the form (hidden while empty)."""
        error = self.query_one("#form-error", Static)
        error.update(message)
        error.set_class(bool(message), "shown")

    def action_save(self) -> None:
        if self.saving or not self.ready or self.snapshot is None:
            return
        self._stop_draft_timer()  # the save forgets the draft: no write of it is scheduled after
        args = self.check()
        if args is None:
            return
        self._commit(args, self.snapshot)

    def _commit(self, args: dict, expected: TicketSnapshot | None) -> None:
        self.saving = True
        self._stop_draft_timer()
        store, case, drafts = self.app.store, self.case_number, self.drafts

        def save():
            # After every draft write already under way, and no draft write after it (DraftWriter).
            entry = drafts.finish(lambda: store.add_entry(case, expected=expected, forget_draft=True, **args))
            return entry.seq

        self.app.run_db(save, on_done=self._saved, on_error=lambda err: self._save_failed(err, args), group="log-save")

    def _saved(self, seq: int) -> None:
        self.saving = False
        self.finished = True
        self._stop_draft_timer()
        self.app.notify(f"{self.case_number}: entry #{seq} logged", markup=False)
        self.app.announce_change()
        self.dismiss()

    def _save_failed(self, err: Exception, args: dict) -> None:
        self.saving = False
        if isinstance(err, TicketChanged):
            self._changed_underneath(err, args)
            return
        self._changed()  # the entry is not logged: keep the draft going
        message = str(err)
        field = _field_for(message)
        if field:
            self._show_error(field, message)
        self._form_error(Content(f"Not saved: {message}"))

    def _changed_underneath(self, err: TicketChanged, args: dict) -> None:
        from tui_desk.tui.screens.dialogs import ChoiceDialog

        def chosen(answer: str | None) -> None:
            self.snapshot = err.current  # the agent has now seen what changed
            if answer == "save":
                self._commit(args, err.current)
            elif answer == "review":
                self.app.open_ticket(self.case_number)
            self._changed()

        self.app.push_screen(
            ChoiceDialog(
                f"{self.case_number} changed while you were typing",
                err.changes,
                [
                    ("review", "Review the ticket first (Escape there comes back here)"),
                    ("save", "Save my entry anyway"),
                    ("edit", "Keep editing"),
                ],
            ),
            chosen,
        )

    # -- canned replies (replies/NAME.md): the text into the content, its status into the form ------

    def action_canned(self) -> None:
        from tui_desk.tui.screens.forms.canned_picker import pick_canned_reply

        if self.ready:
            pick_canned_reply(self, self._use_canned)

    def _use_canned(self, reply) -> None:
        store, case, agent = self.app.store, self.case_number, self.app.agent

        def fill(ticket) -> None:
            body, text = self.query_one("#body", TextArea), reply.fill(ticket, agent)
            body.text = text if not body.text.strip() else body.text.rstrip() + "\n\n" + text
            if reply.status is not None:
                self.query_one("#status", Select).value = reply.status.slug
            body.focus()
            self._changed()

        self.app.run_db(store.get, case, on_done=fill, group="canned")

    # -- leaving ----------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if not self._unsaved():
            self.finished = True
            self.dismiss()
            return
        from tui_desk.tui.screens.dialogs import ChoiceDialog

        def chosen(answer: str | None) -> None:
            if answer == "keep":
                self._save_draft()
                self.finished = True
                self.dismiss()
            elif answer == "discard":
                self.finished = True
                self._stop_draft_timer()
                self.app.run_db(self.drafts.finish, self.app.store.discard_draft, self.case_number, group="draft")
                self.dismiss()

        self.app.push_screen(
            ChoiceDialog(
                "Leave this entry?",
                ["What you typed is not logged yet."],
                [("edit", "Keep editing"), ("keep", "Leave; keep it as a draft"), ("discard", "Leave and discard it")],
            ),
            chosen,
        )


def _dropped(values: dict, question) -> str:
    """What a "not now" leaves behind: keys typed on the form, or while the question was up."""
    typed = sum(len(values[name]) for name in (*TEXT_FIELDS, "body")) + len(question.typed)
    return f" (the {typed} key(s) typed meanwhile are not kept)" if typed else ""


def _field_for(message: str) -> str | None:
    """Which field a store refusal is about, to show it there."""
    lowered = message.lower()
    for needle, field in (
        ("contact's end", "end"),  # the time rule (Store._check_times): before the opening, in the future
        ("the contact time", "start"),
        ("attachment", "attachments"),
        ("summary", "summary"),
        ("ends before", "end"),
        ("needs", "status_note"),
        ("cannot move", "status"),
        ("already", "status"),
        ("inbound", "sender"),
        ("outbound", "sender"),
        ("note is internal", "direction"),
        ("channel", "channel"),
    ):
        if needle in lowered:
            return field
    return None
