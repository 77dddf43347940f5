"""Picking a canned reply (replies/NAME.md) from a list that narrows as you type, fuzzily, by name and text."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_desk.domain.text import printable
from tui_desk.mail.canned import CannedReply
from tui_desk.tui.screens.dialogs import DIALOG_CSS


def ranked(replies: list[CannedReply], query: str) -> list[CannedReply]:
    """The replies matching ``query`` (fuzzy, on the name first, then the first line), best first."""
    if not query.strip():
        return list(replies)
    matcher = Matcher(query.strip())
    scored = []
    for reply in replies:
        first = next((line for line in reply.text.splitlines() if line.strip()), "")
        score = max(matcher.match(reply.name) * 2, matcher.match(first))
        if score > 0:
            scored.append((-score, reply.name, reply))
    return [reply for *_, reply in sorted(scored, key=lambda s: (s[0], s[1]))]


class CannedReplyPicker(ModalScreen[CannedReply | None]):
    """Type to narrow, Up/Down to choose, Enter to take it; Escape leaves the form as it was."""

    DEFAULT_CSS = DIALOG_CSS.format(name="CannedReplyPicker") + (
        "CannedReplyPicker > Vertical { width: 76; } CannedReplyPicker OptionList { height: auto; max-height: 12; }"
    )
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="canned.cancel"),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
    ]

    def __init__(self, replies: list[CannedReply]) -> None:
        super().__init__()
        self.replies = replies
        self.shown: list[CannedReply] = list(replies)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Canned reply", classes="dialog-title")
            yield Input(placeholder="type to narrow (fuzzy)", compact=True, id="canned-query")
            yield OptionList(*self._options(), id="canned-list")
            hint = "Enter takes it · Escape cancels" if self.replies else "No canned replies: add replies/NAME.md"
            yield Static(hint, classes="hint")

    def _options(self) -> list[Option]:
        options = []
        for reply in self.shown:
            first = next((line for line in reply.text.splitlines() if line.strip()), "")
            extra = f"  → {reply.status.label}" if reply.status else ""
            options.append(
                Option(Content.assemble((reply.name, "bold"), "  ", printable(first[:50], one_line=True), extra))
            )
        return options

    def on_input_changed(self, event: Input.Changed) -> None:
        self.shown = ranked(self.replies, event.value)
        options = self.query_one("#canned-list", OptionList)
        options.clear_options()
        options.add_options(self._options())
        if self.shown:
            options.highlighted = 0

    def on_mount(self) -> None:
        if self.shown:
            self.query_one("#canned-list", OptionList).highlighted = 0

    def action_move(self, step: int) -> None:
        options = self.query_one("#canned-list", OptionList)
        if self.shown:
            options.highlighted = max(0, min(len(self.shown) - 1, (options.highlighted or 0) + step))

    def on_input_submitted(self, _: Input.Submitted) -> None:
        index = self.query_one("#canned-list", OptionList).highlighted
        self.dismiss(self.shown[index] if self.shown and index is not None else None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.shown[event.option_index])


def pick_canned_reply(screen, on_picked) -> None:
    """Read the replies folder in a worker, then show the picker over ``screen``; ``on_picked(reply)``."""
    from tui_desk.mail.canned import list_replies

    def show(replies: list[CannedReply]) -> None:
        screen.app.push_screen(CannedReplyPicker(replies), lambda reply: reply and on_picked(reply))

    screen.app.run_db(list_replies, on_done=show, group="canned")
