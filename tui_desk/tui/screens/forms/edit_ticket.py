"""The edit form (`E` on a ticket): correct its priority, subject, customer, email, order, reason, kind or
opening time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from tui_desk.domain.dates import format_when, parse_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.vocabulary import PRIORITIES, require_text
from tui_desk.store.models import Ticket
from tui_desk.tui.screens.dialogs import DIALOG_CSS
from tui_desk.tui.widgets.form_select import FormSelect

TEXT_FIELDS = (("subject", "Subject"), ("customer", "Customer"), ("email", "Email"), ("order_id", "Order"))


def _row(label: str, widget) -> ComposeResult:
    with Horizontal(classes="row"):
        yield Label(label)
        yield widget


class EditTicketDialog(ModalScreen[dict | None]):
    """Answers the fields that changed (name -> new text; ``opened`` -> the new opening), or None when
    cancelled.

    What is typed is checked here first, so a mistake is shown at once and nothing typed is lost; the
    store checks again when it writes (and refuses if the ticket moved on since it was shown).
    """

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="EditTicketDialog")
        + """
    EditTicketDialog .row { height: 1; }
    EditTicketDialog .row Label { width: 10; color: $text-muted; }
    EditTicketDialog .row Input { width: 1fr; }
    EditTicketDialog .row Select { width: 20; }
    """
    )
    AUTO_FOCUS = "#subject"  # the field people correct most; keys typed ahead land there
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="edit.cancel"),
        Binding("ctrl+s", "save", "Save", id="edit.save"),
    ]

    def __init__(self, ticket: Ticket, kinds: list[str]) -> None:
        super().__init__()
        self.ticket = ticket
        self.kinds = kinds

    def compose(self) -> ComposeResult:
        t = self.ticket
        with Vertical():
            yield Static(Content(f"Edit {t.case_number}"), classes="dialog-title")
            priorities = [(p, p) for p in PRIORITIES]
            yield from _row(
                "Priority", FormSelect(priorities, value=t.priority, allow_blank=False, compact=True, id="priority")
            )
            for name, label in (*TEXT_FIELDS, ("reason", "Reason")):
                # Not selected on focus: a key typed corrects the text instead of replacing it.
                field = Input(getattr(t, name) or "", compact=True, select_on_focus=False, id=name)
                yield from _row(label, field)
            kinds = [(k, k) for k in self.kinds]
            yield from _row("Kind", FormSelect(kinds, value=t.kind, allow_blank=False, compact=True, id="kind"))
            yield from _row("Opened", Input(self._opened_text, compact=True, select_on_focus=False, id="opened"))
            yield Static("", classes="field-error", id="error")
            yield Static("Ctrl+S saves · Escape cancels · each change is logged, old → new", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    @property
    def _opened_text(self) -> str:
        return format_when(self.ticket.opened_at, self.app.tz)

    def changes(self) -> dict:
        """The fields whose value differs from the ticket's, as typed; ``DeskError`` for an unreadable date."""
        found: dict = {}
        for name in ("priority", "kind"):
            value = self.query_one(f"#{name}", Select).value
            if value != getattr(self.ticket, name):
                found[name] = value
        for name in (*(n for n, _ in TEXT_FIELDS), "reason"):  # blank email, order or reason clears it
            value = self.query_one(f"#{name}", Input).value
            if value.strip() != (getattr(self.ticket, name) or "").strip():
                found[name] = value
        opened = self.query_one("#opened", Input).value
        if opened.strip() != self._opened_text:  # same dates as the log form's Start (``log --at``)
            found["opened"] = parse_when(opened, self.app.now(), self.app.tz)
        return found

    def action_save(self) -> None:
        try:
            found = self.changes()
            for name in ("subject", "customer"):
                if name in found:
                    require_text(found[name], name)
            if found.get("email", "").strip() and "@" not in found["email"]:
                raise DeskError(f"email {found['email'].strip()!r} has no @")
        except DeskError as err:
            self.query_one("#error", Static).update(Content(str(err)))
            return
        self.dismiss(found or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
