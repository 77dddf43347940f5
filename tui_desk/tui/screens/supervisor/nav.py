"""What the supervisor screens share: keys to move between them, the title line."""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from tui_desk.domain.dates import format_when
from tui_desk.domain.text import printable


def nav_bindings(here: str) -> list[Binding]:
    """Keys to the other supervisor screens (the footer does not offer the screen you are on)."""
    keys = [("o", "overdue", "Overdue"), ("w", "workload", "Workload"), ("r", "reports", "Reports")]
    return [
        *(
            Binding(key, f"go('{name}')", title, show=name != here, id=f"supervisor.{name}")
            for key, name, title in keys
        ),
        Binding("escape", "back", "Back", show=False, id="supervisor.back"),
        Binding("q", "app.quit", "Quit", id="supervisor.quit"),
    ]


class SupervisorNav:
    """Mixed into the overdue, workload and reports screens."""

    SCREEN_NAME = ""

    def action_go(self, name: str) -> None:
        from tui_desk.tui.screens.supervisor import SUPERVISOR_SCREENS  # those screens import this module

        if name == self.SCREEN_NAME:
            return
        # The supervisor screens replace one another, so moving between them never piles up screens.
        self.app.switch_screen(SUPERVISOR_SCREENS[name]())

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def show_title(self, what: str) -> None:
        app = self.app
        parts = [("tui-desk", "bold"), f"  {what}  ·  as of {format_when(app.now(), app.tz)}"]
        if app.store.read_only:
            parts.append(("  ·  read-only", "bold"))
        parts.append("  ·  " + printable(app.store.path.name, one_line=True))
        self.query_one("#title", Static).update(Content.assemble(*parts))
