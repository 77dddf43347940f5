"""Opening a ticket by hand: the customer's details and the issue, Ctrl+S to create it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Static, TextArea

from tui_desk.domain import vocabulary
from tui_desk.domain.errors import DeskError
from tui_desk.tui.widgets.key_bar import KeyBar

FIELDS = ("customer", "email", "order_id", "subject", "reason", "tags")


class NewTicketScreen(Screen):
    CSS_PATH = "log_entry.tcss"  # the form layout it shares with the log-entry screen
    DEFAULT_CLASSES = "form-screen"
    BINDINGS = [
        Binding("ctrl+s", "save", "Create", priority=True, id="new.save"),
        Binding("escape", "cancel", "Cancel", id="new.cancel"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("New ticket", "bold"), id="head")
        kinds = list(self.app.store.config.kinds)
        with VerticalScroll(id="form"):
            for label, widget in (
                ("Kind", Select([(k, k) for k in kinds], value=kinds[0], allow_blank=False, compact=True, id="kind")),
                ("Customer", Input(placeholder="name or username (required)", compact=True, id="customer")),
                ("Email", Input(placeholder="contact email", compact=True, id="email")),
                ("Order", Input(placeholder="order id", compact=True, id="order_id")),
                ("Subject", Input(placeholder="the issue in one line (required)", compact=True, id="subject")),
                ("Reason", Input(placeholder="e.g. defective item, not delivered", compact=True, id="reason")),
                ("Priority", Select([(p, p) for p in vocabulary.PRIORITIES], value="normal", allow_blank=False,
                                    compact=True, id="priority")),
                ("Tags", Input(placeholder="space-separated", compact=True, id="tags")),
                ("Details", TextArea(compact=True, id="body", soft_wrap=True)),
            ):
                with Horizontal(classes="row", id=f"row-{widget.id}"):
                    yield Label(label, classes="label")
                    yield widget
        yield Static("", id="form-error", classes="field-error")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#customer", Input).focus()

    def _form_error(self, message) -> None:
        """The message under the form (hidden while empty)."""
        error = self.query_one("#form-error", Static)
        error.update(message)
        error.set_class(bool(message), "shown")

    def action_save(self) -> None:
        values = {name: self.query_one(f"#{name}", Input).value for name in FIELDS}
        missing = [n for n in ("customer", "subject") if not values[n].strip()]
        for name in FIELDS:
            self.query_one(f"#row-{name}").set_class(name in missing, "invalid")
        if missing:
            self._form_error(Content(f"{' and '.join(missing)} required; nothing saved"))
            self.query_one(f"#{missing[0]}", Input).focus()
            return
        store = self.app.store
        kind = self.query_one("#kind", Select).value
        priority = self.query_one("#priority", Select).value
        body = self.query_one("#body", TextArea).text

        def create() -> str:
            ticket = store.create_ticket(
                customer=values["customer"], subject=values["subject"], kind=kind, email=values["email"],
                order_id=values["order_id"], reason=values["reason"], priority=priority,
                tags=values["tags"].split(), description=body,
            )
            return ticket.case_number

        def created(case: str) -> None:
            self.app.notify(f"{case} opened", markup=False)
            self.app.announce_change()
            self.dismiss()
            self.app.open_ticket(case)

        def failed(err: Exception) -> None:
            self._form_error(Content(f"Not created: {err}"))
            if isinstance(err, DeskError):
                for name in FIELDS:
                    if name.split("_")[0] in str(err).lower():
                        self.query_one(f"#row-{name}").add_class("invalid")

        self.app.run_db(create, on_done=created, on_error=failed, group="new-ticket")

    def action_cancel(self) -> None:
        self.dismiss()
