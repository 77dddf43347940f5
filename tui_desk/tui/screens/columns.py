"""The column chooser: which of the queue's columns a view shows, kept at any width that holds them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from tui_desk.tui.screens.dialogs import DIALOG_CSS
from tui_desk.tui.widgets.ticket_table import COLUMNS


class ColumnsDialog(ModalScreen[list[str] | None]):
    """Space ticks a column, Enter keeps the ticked ones (in the table's order), Escape cancels."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ColumnsDialog") + "ColumnsDialog SelectionList { height: auto; }"
    BINDINGS = [
        Binding("enter", "keep", "Keep", id="columns.keep", priority=True),
        Binding("escape", "cancel", "Cancel", id="columns.cancel"),
    ]

    def __init__(self, view_title: str, shown: tuple[str, ...]) -> None:
        super().__init__()
        self.view_title = view_title
        self.shown = set(shown)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(f"Columns of {self.view_title}"), classes="dialog-title")
            yield SelectionList[str](*[(c.title, c.key, c.key in self.shown) for c in COLUMNS], id="columns")
            yield Static("Space ticks · Enter keeps · Escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_keep(self) -> None:
        ticked = set(self.query_one(SelectionList).selected)
        self.dismiss([c.key for c in COLUMNS if c.key in ticked] or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
