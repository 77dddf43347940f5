"""Workload per agent: open tickets (with a bar), overdue, waiting on a party, resolved this week."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui_desk.domain.text import clip, printable
from tui_desk.reporting.workload import AgentLoad, workload
from tui_desk.tui.colours import tone
from tui_desk.tui.context import StoreChanged
from tui_desk.tui.screens.supervisor.charts import bar
from tui_desk.tui.screens.supervisor.nav import SupervisorNav, nav_bindings
from tui_desk.tui.widgets.key_bar import KeyBar

BAR_WIDTH = 24


class WorkloadScreen(SupervisorNav, Screen):
    """One row per agent, and the unassigned pile."""

    CSS_PATH = "supervisor.tcss"
    SCREEN_NAME = "workload"
    BINDINGS = [*nav_bindings("workload")]

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple | None = None  # the theme and the loads last shown

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="supervisor-title")
        yield Static(
            "Open tickets per agent; overdue = SLA breached or a promised follow-up missed.", classes="supervisor-line"
        )
        table = DataTable(id="workload", cursor_type="row", zebra_stripes=False)
        table.add_column("Agent", key="agent", width=14)
        table.add_column("Open", key="open", width=5)
        table.add_column("", key="bar", width=BAR_WIDTH)
        table.add_column("Overdue", key="overdue", width=7)
        table.add_column("Waiting", key="waiting", width=7)
        table.add_column("Resolved wk", key="resolved", width=11)
        yield table
        yield KeyBar()

    def on_mount(self) -> None:
        self.show_title("Workload")
        self.query_one(DataTable).focus()
        self.reload()

    def on_store_changed(self, _: StoreChanged) -> None:
        self.reload()

    def reload(self) -> None:
        store, now = self.app.store, self.app.now()
        self.app.run_db(lambda: workload(store, now), on_done=self.show, group="workload", exclusive=True)

    def show(self, loads: list[AgentLoad]) -> None:
        shown = (self.app.theme_variables, loads)
        if shown == self._shown:
            return
        self._shown = shown
        table = self.query_one(DataTable)
        table.clear()
        top = max((w.open for w in loads), default=0)
        bar_style, late, done = (tone(self.app, r) for r in ("primary", "error", "success"))
        for w in loads:
            name = Text(clip(printable(w.agent, one_line=True), 14)) if w.agent else Text("(unassigned)", style="dim")
            table.add_row(
                name,
                Text(str(w.open), justify="right"),
                Text(bar(w.open, top, BAR_WIDTH), style=bar_style),
                Text(str(w.overdue), justify="right", style=f"bold {late}" if w.overdue else ""),
                Text(str(w.waiting), justify="right"),
                Text(str(w.resolved_this_week), justify="right", style=done if w.resolved_this_week else ""),
                key=w.agent or "",
            )
        if not loads:
            table.add_row(Text("no open tickets", style="dim"), "", "", "", "", "")
