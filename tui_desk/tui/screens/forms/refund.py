"""The refund form (`R` on a refund ticket): amount, currency and each milestone with its date.

The rules are domain/refunds.py's, applied by ``Store.set_refund``: the form only reads what is typed
(dates as everywhere: ``now``, ``14:30``, ``yesterday``, ``-2d``) and shows a refusal at the field it
names, keeping what was typed. The write is guarded by the snapshot of the ticket the opening screen
showed: if the ticket moved on, nothing is written and the form says what changed (a second Ctrl+S
then records on the ticket as it is now).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static

from tui_desk.domain import refunds
from tui_desk.domain.dates import format_when, parse_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.refunds import CURRENCY_DECIMALS, MILESTONES, Refund, RefundError
from tui_desk.store import TicketChanged, TicketSnapshot
from tui_desk.tui.context import DeskContext
from tui_desk.tui.presenting import refund_timeline
from tui_desk.tui.screens.dialogs import DIALOG_CSS
from tui_desk.tui.widgets.form_select import FormSelect

FIELDS = ("refund", "amount", "currency", *MILESTONES)
LABELS = {"approved": "Approved", "initiated": "Initiated", "refunded": "Refunded"}


def open_refund_form(app, case_number: str, seen: TicketSnapshot) -> None:
    """Open the form on ``case_number`` as the calling screen showed it (``seen`` guards the write)."""
    app.push_screen(RefundDialog(case_number, seen))


def _row(label: str, widget, name: str) -> ComposeResult:
    with Horizontal(classes="row", id=f"row-{name}"):
        yield Label(label)
        yield widget


class RefundDialog(ModalScreen[bool]):
    """Answers True once something was recorded, False when cancelled."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="RefundDialog")
        + """
    RefundDialog > Vertical { width: 72; }
    RefundDialog .row { height: 1; }
    RefundDialog .row Label { width: 10; color: $text-muted; }
    RefundDialog .row.invalid Label { color: $error; text-style: bold; }
    RefundDialog .row Input { width: 1fr; }
    RefundDialog .row Select { width: 1fr; }
    RefundDialog #history { color: $text-muted; height: auto; }
    """
    )
    AUTO_FOCUS = "#amount"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="refund.cancel"),
        Binding("ctrl+s", "save", "Record", id="refund.save"),
    ]

    def __init__(self, case_number: str, seen: TicketSnapshot) -> None:
        super().__init__()
        self.case_number = case_number
        self.seen = seen
        self.history: list[Refund] | None = None  # None until read
        self.saving = False

    @property
    def desk(self) -> DeskContext:
        return self.app

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(f"Refund for {self.case_number}"), classes="dialog-title", id="title")
            yield Static("", id="history")
            yield from _row("Refund", FormSelect([], allow_blank=True, compact=True, id="refund", prompt="…"), "refund")
            yield from _row("Amount", Input(compact=True, id="amount", placeholder="e.g. 49.90"), "amount")
            codes = sorted(CURRENCY_DECIMALS)
            currency = Input(
                compact=True,
                id="currency",
                placeholder="ISO 4217, e.g. EUR (→ completes)",
                suggester=SuggestFromList(codes, case_sensitive=False),
            )
            yield from _row("Currency", currency, "currency")
            for name in MILESTONES:
                yield from _row(LABELS[name], Input(compact=True, id=name), name)
            yield Static("", classes="field-error", id="error")
            yield Static(
                "dates: now, 14:30, yesterday, -2d · blank: not yet · Ctrl+S records · Escape cancels · "
                "each change is logged, old → new",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        store, case = self.desk.store, self.case_number

        def read() -> list[Refund]:
            return store.refunds(store.get(case))

        self.desk.run_db(read, on_done=self.show_history, group="refund-form")

    # -- what the case has --------------------------------------------------------------------

    @property
    def current(self) -> Refund | None:
        return self.history[-1] if self.history else None

    def show_history(self, history: list[Refund]) -> None:
        self.history = history
        tz = self.desk.tz
        lines = [refund_timeline(r, tz) for r in history] or ["no refund recorded yet"]
        self.query_one("#history", Static).update(Content("\n".join(lines)))
        current = self.current
        select = self.query_one("#refund", Select)
        options = []
        if current is None:
            options.append(("Refund 1", "current"))
        else:
            options.append((f"Refund {current.number} (current)", "current"))
            if current.done:
                options.append((f"Refund {current.number + 1} (a new refund on this case)", "new"))
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = "new" if current is not None and current.done else "current"
        self._fill()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "refund" and self.history is not None:
            self._fill()

    def _new(self) -> bool:
        return self.query_one("#refund", Select).value == "new"

    def _fill(self) -> None:
        """Recorded milestones shown (and closed to typing); the next ones open; the currency carried."""
        current, new = self.current, self._new()
        currency = self.query_one("#currency", Input)
        if current is not None and current.currency and not currency.value:
            currency.value = current.currency
        currency.disabled = bool(current and current.milestones and not new)
        first_open = None
        for name in MILESTONES:
            field = self.query_one(f"#{name}", Input)
            recorded = None if new or current is None else current.milestones.get(name)
            if recorded is not None:
                field.value = format_when(recorded.at, self.desk.tz)
                field.disabled = True
            else:
                if field.disabled:
                    field.value = ""
                field.disabled = False
                first_open = first_open or name
        amount = self.query_one("#amount", Input)
        before = None if new or current is None else (current.latest.amount if current.latest else current.amount)
        amount.placeholder = (
            f"blank: {refunds.money(before, current.currency)} as before; less: partial"
            if before is not None
            else "e.g. 49.90"
        )
        if first_open is None and not new:
            self._error(f"refund {current.number} is refunded: nothing more to record on it")
        elif first_open not in (None, "approved") and not amount.value and isinstance(self.focused, Input | None):
            # Where the agent goes next: R, `now`, Enter records the next milestone now.
            self.set_focus(self.query_one(f"#{first_open}", Input))

    # -- recording ------------------------------------------------------------------------------

    def _error(self, message: str, field: str | None = None) -> None:
        self.query_one("#error", Static).update(Content(message))
        for name in FIELDS:
            self.query_one(f"#row-{name}").set_class(name == field, "invalid")
        if field in FIELDS and field != "refund":
            widget = self.query_one(f"#{field}")
            if not widget.disabled:
                widget.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if self.history is None or self.saving:
            return
        now, tz = self.desk.now(), self.desk.tz
        dates = {}
        for name in MILESTONES:
            field = self.query_one(f"#{name}", Input)
            if field.disabled or not field.value.strip():
                continue
            try:
                dates[name] = parse_when(field.value, now, tz)
            except DeskError as err:
                self._error(f"{name}: {err}", name)
                return
        amount = self.query_one("#amount", Input).value
        currency_field = self.query_one("#currency", Input)
        current = self.current
        currency = None if currency_field.disabled else currency_field.value
        if currency is not None and current is not None and currency.strip().upper() == (current.currency or ""):
            currency = None if not self._new() else currency
        store, case, seen, new = self.desk.store, self.case_number, self.seen, self._new()

        def record():
            return store.set_refund(
                case,
                amount=amount if amount.strip() else None,
                currency=currency if currency and currency.strip() else None,
                approved_at=dates.get("approved"),
                initiated_at=dates.get("initiated"),
                refunded_at=dates.get("refunded"),
                new=new,
                expected=seen,
            )

        def done(_ticket) -> None:
            self.saving = False
            self.desk.announce_change()
            self.app.notify(f"{case}: refund recorded", markup=False)
            self.dismiss(True)

        def failed(err: Exception) -> None:
            self.saving = False
            if isinstance(err, TicketChanged):
                self.seen = err.current  # the agent saw what changed: the next Ctrl+S records on it
                self._error(f"Not recorded: {err}")
                self.reload()
            elif isinstance(err, RefundError):
                self._error(f"Not recorded: {err}", err.field)
            else:
                self._error(f"Not recorded: {err}")

        self.saving = True
        self.desk.run_db(record, on_done=done, on_error=failed, group="refund-save")

    def action_cancel(self) -> None:
        self.dismiss(False)
