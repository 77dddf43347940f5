"""Opening a ticket by hand: the customer's details and the issue, Ctrl+S to create it.

What is typed is kept as a draft as you type (in the console's state file: a ticket that does not
exist yet has no place in the store) and offered back the next time the form opens, also after the
terminal went away. Creating the ticket forgets it; Escape keeps it.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Static, TextArea
from textual.widgets.select import InvalidSelectValueError

from tui_desk.domain import vocabulary
from tui_desk.domain.dates import parse_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.text import printable
from tui_desk.tui.screens.forms.drafts import FIELD_KEYS, DraftWriter, KeepsDraft
from tui_desk.tui.screens.reuse import Reused
from tui_desk.tui.state import keep_new_ticket_draft, new_ticket_draft
from tui_desk.tui.widgets.case_suggester import follows_input
from tui_desk.tui.widgets.form_select import FormSelect
from tui_desk.tui.widgets.key_bar import KeyBar
from tui_desk.tui.widgets.long_text import LongText

FIELDS = ("customer", "email", "order_id", "subject", "reason", "opened", "tags", "references")


class NewTicketScreen(KeepsDraft, Reused, Screen):
    """Built once by the app and reused: ``open_form`` empties it before it is shown again."""

    CSS_PATH = "log_entry.tcss"  # the form layout it shares with the log-entry screen
    DEFAULT_CLASSES = "form-screen"
    AUTO_FOCUS = "#customer"
    HELP_TITLE = "New ticket keys"
    BINDINGS = [
        Binding("ctrl+s", "save", "Create", priority=True, id="new.save"),
        Binding("escape", "cancel", "Cancel", id="new.cancel"),
        *FIELD_KEYS,
    ]

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("New ticket", "bold"), id="head")
        kinds = list(self.app.store.config.kinds)
        with VerticalScroll(id="form"):
            for label, widget in (
                (
                    "Kind",
                    FormSelect([(k, k) for k in kinds], value=kinds[0], allow_blank=False, compact=True, id="kind"),
                ),
                ("Customer", Input(placeholder="name or username (required)", compact=True, id="customer")),
                ("Email", Input(placeholder="contact email", compact=True, id="email")),
                ("Order", Input(placeholder="order id", compact=True, id="order_id")),
                ("Subject", Input(placeholder="the issue in one line (required)", compact=True, id="subject")),
                ("Reason", Input(placeholder="e.g. defective item, not delivered", compact=True, id="reason")),
                (
                    "Opened",
                    Input(placeholder="now  (or when it began: 9:00, yesterday 16:00)", compact=True, id="opened"),
                ),
                (
                    "Priority",
                    FormSelect(
                        [(p, p) for p in vocabulary.PRIORITIES],
                        value="normal",
                        allow_blank=False,
                        compact=True,
                        id="priority",
                    ),
                ),
                ("Tags", Input(placeholder="space-separated", compact=True, id="tags")),
                ("Follows", follows_input(self.app.store)),
                ("Details", LongText(compact=True, id="body", soft_wrap=True)),
            ):
                with Horizontal(classes="row", id=f"row-{widget.id}"):
                    yield Label(label, classes="label")
                    yield widget
        yield Static("", id="form-error", classes="field-error")
        yield Static("", id="draft-state", classes="field-error")
        yield KeyBar()

    def __init__(self) -> None:
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self.ready = False  # True once any draft was restored or declined
        self.dirty = False  # typed since the form opened (or the draft was restored)
        self.finished = False
        self._draft_timer = None
        self._draft_warned = False
        self.drafts = DraftWriter()
        self._to_load = True
        self.kept = False  # the last draft write succeeded
        self._leave_anyway = False

    def open_form(self) -> None:
        """Empty the (already built) form; called before it is shown again."""
        self._stop_draft_timer()
        self._reset()
        if not self.is_mounted:
            return
        with self.prevent(Input.Changed, Select.Changed, TextArea.Changed):
            for name in FIELDS:
                self.query_one(f"#{name}", Input).value = ""
            kind = self.query_one("#kind", Select)
            kind.value = next(iter(self.app.store.config.kinds))
            self.query_one("#priority", Select).value = "normal"
            self.query_one("#body", TextArea).text = ""
        for name in FIELDS:
            self.query_one(f"#row-{name}").remove_class("invalid")
        self._form_error("")
        self._draft_kept()
        self.set_focus(self.query_one("#customer", Input))

    def takes_typing(self) -> bool:
        """For the app's type-ahead: keys typed before now go to the focused field (see tui/typeahead.py)."""
        return self.is_mounted and self.focused is not None

    def on_screen_resume(self) -> None:
        # Also when a dialog over the form closes: look for a draft once per opening, off the UI thread.
        if self._to_load:
            self._to_load = False
            self.app.run_db(new_ticket_draft, self._store_key, on_done=self._loaded, group="new-ticket-open")

    def _loaded(self, draft: dict | None) -> None:
        if not draft:
            self._become_ready()
            return
        from tui_desk.tui.screens.dialogs import DraftQuestion

        def chosen(answer: str | None) -> None:
            if answer is None:  # "not now": the draft stays as it is, the form closes
                self.finished = True
                typed = self._typed(self.values()) or question.typed
                meanwhile = " (what you typed meanwhile is not kept)" if typed else ""
                self.app.notify(f"The new ticket is kept as a draft: n brings it back{meanwhile}", markup=False)
                self.dismiss()
                return
            if answer == "discard":
                self.app.run_db(self.drafts.write, self.drafts.ticket(), keep_new_ticket_draft, self._store_key, None)
            else:
                self.restore(draft)
            self._become_ready()

        customer = printable(str(draft.get("customer", "")), one_line=True) or "(no customer yet)"
        subject = printable(str(draft.get("subject", "")), one_line=True) or "(no subject yet)"
        question = DraftQuestion(
            self,
            "You have an unfinished new ticket",
            [f"customer: {customer}", f"subject: {subject}"],
            [("restore", "Restore it"), ("discard", "Discard it and start fresh")],
        )
        self.app.push_screen(question, chosen)

    def _become_ready(self) -> None:
        self._ready_now()
        if self._typed(self._clean):
            self._changed()  # typed while the draft was looked for: keep it too

    @staticmethod
    def _typed(values: dict) -> bool:
        return any(str(v).strip() for k, v in values.items() if k not in ("kind", "priority"))

    @property
    def _store_key(self) -> Path:
        return self.app.store.path.resolve()

    # -- the draft --------------------------------------------------------------------------

    def values(self) -> dict:
        data: dict = {name: self.query_one(f"#{name}", Input).value for name in FIELDS}
        data["kind"] = self.query_one("#kind", Select).value
        data["priority"] = self.query_one("#priority", Select).value
        data["body"] = self.query_one("#body", TextArea).text
        return data

    def restore(self, data: dict) -> None:
        """Put a draft back; what was typed since the form opened stays, after the draft's text."""
        typed = self.values()
        for name in FIELDS:
            if isinstance(data.get(name), str):
                box = self.query_one(f"#{name}", Input)
                box.value = data[name] + typed[name]
                box.cursor_position = len(box.value)
        for name in ("kind", "priority"):
            try:
                self.query_one(f"#{name}", Select).value = data.get(name)
            except InvalidSelectValueError:
                pass  # a kind the config no longer has: the form's default stays
        if isinstance(data.get("body"), str):
            body = self.query_one("#body", TextArea)
            body.text = data["body"] + typed["body"]
            body.move_cursor(body.document.end)
        self.dirty = False

    def _keep_draft(self) -> None:
        values = self.values()
        if self.finished or not self._typed(values):
            return
        self.app.run_db(
            self.drafts.write,
            self.drafts.ticket(),
            keep_new_ticket_draft,
            self._store_key,
            values,
            on_done=self._draft_written,
            on_error=self._draft_not_written,
            group="draft",
        )

    def _draft_written(self, kept: bool) -> None:
        if kept:
            self.kept = True
            self._draft_kept()

    def _draft_not_written(self, err: Exception) -> None:
        self.kept = False
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        where = f" ({err.filename})" if isinstance(err, OSError) and err.filename else ""
        self._draft_failed(f"cannot write the console's state file{where}: {reason}")

    def on_input_changed(self, _: Input.Changed) -> None:
        self._changed()

    def on_select_changed(self, _: Select.Changed) -> None:
        self._changed()

    def on_text_area_changed(self, _: TextArea.Changed) -> None:
        self._changed()

    def flush_draft(self) -> None:
        """Keep what is typed now (also called when the terminal goes away)."""
        if not self.finished and self._unsaved():
            values = self.values()
            if self._typed(values):
                self.drafts.write(self.drafts.ticket(), keep_new_ticket_draft, self._store_key, values)

    def _form_error(self, message) -> None:
        """The message under the form (hidden while empty)."""
        error = self.query_one("#form-error", Static)
        error.update(message)
        error.set_class(bool(message), "shown")

    def action_save(self) -> None:
        if not self.ready or self.finished:
            return
        values = {name: self.query_one(f"#{name}", Input).value for name in FIELDS}
        missing = [n for n in ("customer", "subject") if not values[n].strip()]
        for name in FIELDS:
            self.query_one(f"#row-{name}").set_class(name in missing, "invalid")
        if missing:
            self._form_error(Content(f"{' and '.join(missing)} required; nothing saved"))
            self.query_one(f"#{missing[0]}", Input).focus()
            return
        store = self.app.store
        opened = None
        if values["opened"].strip():
            try:
                opened = parse_when(values["opened"], self.app.now(), self.app.tz)
            except DeskError as err:
                self.query_one("#row-opened").add_class("invalid")
                self._form_error(Content(f"Opened: {err}; nothing saved"))
                self.query_one("#opened", Input).focus()
                return
        kind = self.query_one("#kind", Select).value
        priority = self.query_one("#priority", Select).value
        body = self.query_one("#body", TextArea).text
        self._stop_draft_timer()
        drafts, key = self.drafts, self._store_key

        def create() -> str:
            # After every draft write under way; none after it (DraftWriter).
            return drafts.finish(create_and_forget)

        def create_and_forget() -> str:
            ticket = store.create_ticket(
                customer=values["customer"],
                subject=values["subject"],
                kind=kind,
                email=values["email"],
                order_id=values["order_id"],
                reason=values["reason"],
                priority=priority,
                tags=values["tags"].split(),
                description=body,
                opened=opened,
                references=values["references"].strip() or None,
            )
            try:
                keep_new_ticket_draft(key, None)
            except OSError:
                pass  # the ticket is created; a draft that cannot be forgotten could not be kept either
            return ticket.case_number

        def created(case: str) -> None:
            self.finished = True
            self.app.notify(f"{case} opened", markup=False)
            self.app.announce_change()
            self.dismiss()
            self.app.open_ticket(case)

        def failed(err: Exception) -> None:
            self._changed()
            self._form_error(Content(f"Not created: {err}"))
            if isinstance(err, DeskError):
                for name in FIELDS:
                    if name.split("_")[0] in str(err).lower():
                        self.query_one(f"#row-{name}").add_class("invalid")

        self.app.run_db(create, on_done=created, on_error=failed, group="new-ticket")

    def action_cancel(self) -> None:
        self._stop_draft_timer()
        if self._unsaved() and self._typed(self.values()):
            try:
                self.flush_draft()
            except OSError as err:
                self._draft_not_written(err)
                self.app.notify(
                    "The new ticket was NOT kept: the console's state file cannot be written; "
                    "it is still here (Escape again leaves it)",
                    severity="error",
                    markup=False,
                    timeout=8,
                )
                if not self._leave_anyway:
                    self._leave_anyway = True
                    return
            else:
                self.app.notify("The new ticket is kept as a draft: n brings it back", markup=False)
        self._leave_anyway = False
        self.finished = True
        self.dismiss()
