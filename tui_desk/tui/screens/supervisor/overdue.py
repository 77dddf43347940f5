"""The overdue panel: SLA breached or at risk, follow-ups missed, waiting tickets closing soon, idle tickets."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui_desk.domain.dates import format_when, short_span
from tui_desk.domain.statuses import Status, parse_status
from tui_desk.domain.text import clip, printable
from tui_desk.reporting.overdue import OverdueSection, overdue
from tui_desk.tui.colours import tone
from tui_desk.tui.context import StoreChanged
from tui_desk.tui.screens.read_only import refuse_if_read_only
from tui_desk.tui.screens.supervisor.nav import SupervisorNav, nav_bindings
from tui_desk.tui.widgets.key_bar import KeyBar

# Short section names for the table's heading rows (the full titles are in the counts line's help).
SHORT_TITLES = {
    "breached": "SLA breached",
    "at_risk": "SLA at risk",
    "follow_up": "Follow-up missed",
    "closing": "Closing soon",
    "idle": "No action",
    "stuck": "Refunds stuck",
}
# The counts line must fit 80 columns with all six sections.
TINY_TITLES = {
    "breached": "Breached",
    "at_risk": "At risk",
    "follow_up": "Follow-up",
    "closing": "Closing",
    "idle": "Idle",
    "stuck": "Stuck",
}
SHORT_STATUS = {
    Status.NEW: "New",
    Status.TODO: "To do next",
    Status.L1: "L1",
    Status.L2: "L2",
    Status.WAITING_SELLER: "Wait seller",
    Status.WAITING_BUYER: "Wait buyer",
    Status.WAITING_US: "Wait us",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
}


COLUMN_TITLES = {
    "case": "Case",
    "customer": "Customer",
    "status": "Status",
    "assignee": "Assignee",
    "late": "Late",
    "due": "Due",
}
BASE_WIDTHS = {"case": 17, "customer": 11, "status": 11, "assignee": 8, "late": 9, "due": 10}
LATE_WIDE = 15  # "10 d 23 h late": the long form of how late, once there is room for it
CUSTOMER_WIDE = 24


def column_widths(width: int) -> dict[str, int]:
    """The table's column widths at ``width`` cells: spare width goes to Late first (up to the long form of
    how late a ticket is), then to Customer. Each column costs two cells of padding, the scrollbar two."""
    used = sum(BASE_WIDTHS.values()) + 2 * len(BASE_WIDTHS) + 2
    spare = max(0, width - used)
    widths = dict(BASE_WIDTHS)
    to_late = min(spare, LATE_WIDE - widths["late"])
    widths["late"] += to_late
    widths["customer"] += min(spare - to_late, CUSTOMER_WIDE - widths["customer"])
    return widths


def late_text(row, width: int) -> str:
    """``7 d 13 h late`` where it fits, else ``7d 13h``."""
    long = row.how_late
    return long if len(long) <= width else short_span(row.late)


# The theme colour of each section (tui/colours.py makes it readable); the others are plain bold.
SECTION_ROLE = {"breached": "error", "at_risk": "warning", "follow_up": "accent", "stuck": "secondary"}
TIME_PASSES_S = 60.0  # lateness is shown in minutes: look again once a minute even if the store is quiet


class OverdueScreen(SupervisorNav, Screen):
    """Six sections with counts; Enter opens a ticket, a takes it, A assigns it; refreshes live."""

    HELP_TITLE = "Overdue panel keys"
    CSS_PATH = "supervisor.tcss"
    SCREEN_NAME = "overdue"
    BINDINGS = [
        Binding("enter", "open", "Open", id="overdue.open"),
        Binding("a", "take", "Take", id="overdue.take"),
        Binding("A", "assign", "Assign", id="overdue.assign"),
        *[
            Binding(str(i), f"jump('{key}')", title, show=False, id=f"overdue.jump_{key}")
            for i, (key, title) in enumerate(SHORT_TITLES.items(), start=1)
        ],
        *nav_bindings("overdue"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[OverdueSection] = []
        self._shown: tuple | None = None
        self._widths = column_widths(80)

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="supervisor-title")
        yield Static(id="counts", classes="supervisor-line")
        table = DataTable(id="overdue", cursor_type="row", zebra_stripes=False, show_cursor=True)
        self._add_columns(table, column_widths(80))
        yield table
        yield KeyBar()

    @staticmethod
    def _add_columns(table: DataTable, widths: dict[str, int]) -> None:
        for key, title in COLUMN_TITLES.items():
            table.add_column(title, key=key, width=widths[key])

    def on_resize(self) -> None:
        widths = column_widths(self.size.width)
        if widths != self._widths and self.sections:
            self._shown = None  # rebuilt at the new widths
            self.show(self.sections)

    def on_mount(self) -> None:
        self.show_title("Overdue")
        self.table.focus()
        self.reload()
        self.set_interval(TIME_PASSES_S, self.reload)

    @property
    def table(self) -> DataTable:
        return self.query_one("#overdue", DataTable)

    def on_store_changed(self, _: StoreChanged) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        store, now = self.app.store, self.app.now()
        self.app.run_db(lambda: overdue(store, now), on_done=self.show, group="overdue", exclusive=True)

    def show(self, sections: list[OverdueSection]) -> None:
        """Rebuild the table only when what it shows changed: a quiet store sends nothing down the wire."""
        self.sections = sections
        shown = (
            self.app.theme_variables,
            *(
                (s.key, s.count, tuple((r.case_number, r.status, r.assignee, r.how_late) for r in s.rows))
                for s in sections
            ),
        )
        if shown == self._shown:
            return
        self._shown = shown
        self.show_title("Overdue")
        width = self.query_one("#counts", Static).size.width or self.app.size.width
        for gap in ("  ", " "):  # two spaces between sections while they fit
            parts: list = []
            for i, s in enumerate(sections, start=1):
                style = self._section_style(s.key, "panel") if s.count else "dim"
                parts += [f"{i} ", (f"{TINY_TITLES[s.key]} {s.count}", style), gap if i < len(sections) else ""]
            counts = Content.assemble(*parts)
            if counts.cell_length <= width:
                break
        self.query_one("#counts", Static).update(counts)
        table = self.table
        keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
        widths = column_widths(self.size.width or 80)
        if widths != self._widths:
            self._widths = widths
            table.clear(columns=True)
            self._add_columns(table, widths)
        else:
            table.clear()
        late_width, customer_width = widths["late"], widths["customer"]
        tz = self.app.tz
        late = tone(self.app, "error")
        for s in sections:
            heading = Text(SHORT_TITLES[s.key], style=self._section_style(s.key))
            table.add_row(
                heading, Text(f"{s.count} ticket{'s' if s.count != 1 else ''}", style="bold"), key=f"section:{s.key}"
            )
            for r in s.rows:
                table.add_row(
                    Text(r.case_number),
                    Text(clip(printable(r.customer, one_line=True), customer_width)),
                    Text(SHORT_STATUS[parse_status(r.status)]),
                    Text(clip(printable(r.assignee or "-", one_line=True), 8)),
                    Text(late_text(r, late_width), style=late if r.late.total_seconds() > 0 else ""),
                    Text(r.what),
                    key=f"{s.key}:{r.case_number}",
                )
        self.query_one("#title", Static).tooltip = f"as of {format_when(self.app.now(), tz)}"
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        elif table.row_count > 1:
            table.move_cursor(row=1, animate=False)

    def _section_style(self, key: str, on: str = "surface") -> str:
        role = SECTION_ROLE.get(key)
        return tone(self.app, role, bold=True, on=on) if role else "bold"

    def current_case(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        section, _, case = key.partition(":")
        return None if section == "section" else case

    # -- actions --------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        case = self.current_case()
        if case:
            self.app.open_ticket(case)

    def action_jump(self, key: str) -> None:
        row = f"section:{key}"
        if row in self.table.rows:
            index = self.table.get_row_index(row)
            self.table.move_cursor(row=min(index + 1, self.table.row_count - 1), animate=False)
            self.table.scroll_to(y=index, animate=False)

    @refuse_if_read_only
    def action_take(self) -> None:
        case = self.current_case()
        if case:
            self._assign(case, self.app.agent)

    @refuse_if_read_only
    def action_assign(self) -> None:
        from tui_desk.tui.screens.dialogs import ask_for_agent

        case = self.current_case()
        if not case:
            return

        def chosen(name: str | None) -> None:
            if name is not None:
                self._assign(case, name.strip() or None)

        ask_for_agent(self.app, f"Assign {case} to", "", chosen)

    def _assign(self, case: str, who: str | None) -> None:
        store = self.app.store

        def done(_ticket) -> None:
            self.app.notify(f"{case} assigned to {who or 'nobody'}", markup=False)
            self.app.announce_change()

        self.app.run_db(store.assign, case, who, on_done=done, group="overdue-assign")
