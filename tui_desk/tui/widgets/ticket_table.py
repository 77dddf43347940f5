"""The queue's table: a line-API scroll view that paints only the visible rows and fetches pages on demand.

The built-in DataTable keeps every row in memory; at 100,000 tickets that is seconds to first paint.
Here the table knows only the row count; pages of rows come from the store through a loader that the
screen supplies, run off the UI thread, and a small LRU cache keeps the pages recently seen.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_desk.config import Config
from tui_desk.domain.overdue import is_overdue
from tui_desk.domain.refunds import stuck
from tui_desk.domain.statuses import Status, status_of
from tui_desk.domain.text import clip
from tui_desk.store.models import Ticket
from tui_desk.tui.colours import late_style, legible, priority_style, status_style
from tui_desk.tui.presenting import REFUND_WIDTH, ago, next_due, one_line, refund_short, short_date

PAGE_SIZE = 100
CACHED_PAGES = 40
DEEP_PAGE = 3  # from this page on, OFFSET queries get slow on big stores: ask for the ordered ids


@dataclass(frozen=True)
class QueueRow:
    """One ticket as the queue shows it; built in a worker thread, so painting does no database work."""

    id: int
    case_number: str
    status: Status
    priority: str
    assignee: str
    customer: str
    order: str
    subject: str
    tags: str
    opened: str
    last_action: str
    due: str
    overdue: bool
    version: int  # the ticket as this row shows it: an action on the row is refused if it moved on
    kind: str = ""
    refund: str = ""  # the current refund's latest milestone and its age
    refund_stuck: bool = False  # domain/refunds.stuck: waiting at that milestone too long

    @classmethod
    def of(cls, ticket: Ticket, tags: list[str], now: datetime, config: Config, tz: tzinfo) -> QueueRow:
        due = next_due(ticket, config)
        return cls(
            id=ticket.id,
            case_number=ticket.case_number,
            status=status_of(ticket.status),
            priority=ticket.priority,
            assignee=one_line(ticket.assignee or ""),
            customer=one_line(ticket.customer),
            order=one_line(ticket.order_id or ""),
            subject=one_line(ticket.subject),
            tags=" ".join(tags),
            opened=short_date(ticket.opened_at, tz),
            last_action=ago(ticket.last_action_at, now),
            due=due.short(now) if due else "",
            overdue=is_overdue(ticket, now),  # the Overdue view's rule: a past-due timer is the sweep's, not late
            version=ticket.version,
            kind=ticket.kind,
            refund=refund_short(ticket, now),
            refund_stuck=stuck(ticket, now, config.refunds) is not None,
        )


@dataclass(frozen=True)
class Column:
    key: str  # also the store's sort key, where there is one
    title: str
    width: int
    rank: int  # columns with the highest rank go first when the terminal is narrow
    flex: int = 0
    sortable: bool = True


COLUMNS = (
    Column("case", "Case", 17, 0),
    Column("status", "Status", 17, 0),
    Column("priority", "Prio", 4, 4),
    Column("assignee", "Agent", 7, 3),
    Column("customer", "Customer", 12, 2, flex=1),
    Column("order", "Order", 10, 7),
    Column("subject", "Subject", 20, 0, flex=3),
    Column("tags", "Tags", 12, 8, sortable=False),
    Column("opened", "Opened", 10, 6),
    Column("last_action", "Last", 7, 5),
    Column("due", "Due next", 12, 1),
    Column("refund", "Refund", REFUND_WIDTH, 5, sortable=False),  # from about 110 columns
)
PRIORITY_SHORT = {"urgent": "urg!", "high": "high", "normal": "norm", "low": "low"}
MARK_WIDTH = 2  # "●!" before the first column: marked, overdue


def fit(text: str, width: int) -> str:
    """Exactly ``width`` terminal cells: padded, or cut with an ellipsis (wide characters count double)."""
    if text.isascii():
        return clip(text, width).ljust(width)
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, max(width - 1, 0)) + "…"


def layout(width: int, keys: tuple[str, ...] = ()) -> list[tuple[Column, int]]:
    """The columns that fit ``width`` cells, in order, with their widths (flex columns take the rest).

    ``keys``: the columns an agent or a saved view picked, kept in that order; only when even those do
    not fit are the least important of them dropped. Empty: every column, the least important dropped first.
    """
    by_key = {c.key: c for c in COLUMNS}
    chosen = [by_key[k] for k in keys if k in by_key] or list(COLUMNS)
    if not any(c.flex for c in chosen):  # the last picked column takes the spare width
        last = chosen[-1]
        chosen[-1] = Column(last.key, last.title, last.width, last.rank, 1, last.sortable)

    def needed(cols: list[Column]) -> int:
        return MARK_WIDTH + sum(c.width for c in cols) + (len(cols) - 1)

    while needed(chosen) > width and len(chosen) > 1:
        chosen.remove(max(chosen, key=lambda c: (c.rank, list(by_key).index(c.key))))
    spare = max(width - needed(chosen), 0)
    flex_total = sum(c.flex for c in chosen) or 1
    result = []
    given = 0
    flex_cols = [c for c in chosen if c.flex]
    for col in chosen:
        extra = 0
        if col.flex:
            extra = spare * col.flex // flex_total
            if col is flex_cols[-1]:
                extra = spare - given
            given += extra
        result.append((col, col.width + extra))
    return result


class TicketTable(ScrollView, can_focus=True):
    """Rows of tickets with a cursor, marks (space) and a sort column; pages fetched through ``loader``."""

    COMPONENT_CLASSES = {
        "ticket-table--header",
        "ticket-table--cursor",
        "ticket-table--marked",
        "ticket-table--dim",
    }
    DEFAULT_CSS = """
    TicketTable { background: $surface; }
    TicketTable > .ticket-table--header { text-style: bold; background: $panel; color: $foreground; }
    TicketTable > .ticket-table--cursor { background: $block-cursor-blurred-background; }
    TicketTable:focus > .ticket-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    TicketTable > .ticket-table--marked { background: $accent 30%; }
    TicketTable > .ticket-table--dim { color: $text-muted; }
    """
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home,g", "jump(0)", "First", show=False, id="table.first"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="table.last"),
        Binding("space", "mark", "Mark", show=False, id="table.mark"),
    ]

    cursor = reactive(0, always_update=True, repaint=True)

    class SortRequested(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class Opened(Message):
        """A row was chosen with Enter or a double click."""

        def __init__(self, row: QueueRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.total = 0
        self.loader: Callable[[int, int], list[QueueRow]] | None = None
        self.sort_key = "case"
        self.descending = True
        self.marked: dict[int, QueueRow] = {}  # ticket id -> the row as it was when marked
        self._pages: OrderedDict[int, list[QueueRow]] = OrderedDict()
        self._stale: dict[int, list[QueueRow]] = {}
        self._pending: set[int] = set()
        self._generation = 0
        self._columns: list[tuple[Column, int]] = layout(80)
        self._layout_width = 80
        self._column_keys: tuple[str, ...] = ()  # the columns picked (empty: all that fit)
        self.loading_message = "Loading…"
        self.on_deep_page: Callable[[], object] | None = None  # called once when a page past DEEP_PAGE is wanted
        self._palette: tuple[tuple, dict[str, Style]] = ((), {})  # the theme's cell styles, per theme

    # -- data ---------------------------------------------------------------------------

    def reset(
        self,
        loader: Callable[[int, int], list[QueueRow]],
        total: int,
        page: list[QueueRow] | None = None,
        *,
        page_number: int = 0,
        keep_position: bool = False,
    ) -> int:
        """Show a new result set, with its page ``page_number`` if already read; return its generation.

        With ``keep_position`` (a live refresh) old rows stay until new ones come."""
        self._generation += 1
        self.loader = loader
        self.total = total
        self._stale = dict(self._pages) if keep_position else {}
        self._pages.clear()
        self._pending.clear()
        self.on_deep_page = None
        if page is not None:
            self._pages[page_number] = page
        if not keep_position:
            self.cursor = 0
            self.scroll_to(y=0, animate=False, immediate=True)
        else:
            self.cursor = min(self.cursor, max(total - 1, 0))
        self._update_virtual_size()
        self.refresh()
        return self._generation

    def complete(self, loader: Callable[[int, int], list[QueueRow]], total: int, generation: int) -> None:
        """The whole size of a result set whose first page is shown, and a loader for all of it."""
        if generation == self._generation:
            self.loader = loader
            self.total = total
            self._update_virtual_size()
            self.refresh()

    def upgrade_loader(self, loader: Callable[[int, int], list[QueueRow]], generation: int) -> None:
        """Swap in a faster loader for the same result set (ignored if a newer set replaced it)."""
        if generation == self._generation:
            self.loader = loader

    def row_at(self, index: int) -> QueueRow | None:
        if not 0 <= index < self.total:
            return None
        page, offset = divmod(index, PAGE_SIZE)
        rows = self._pages.get(page) or self._stale.get(page)
        if rows is None or offset >= len(rows):
            return None
        return rows[offset]

    @property
    def current(self) -> QueueRow | None:
        return self.row_at(self.cursor)

    def _request(self, page: int) -> None:
        if page in self._pending or self.loader is None:
            return
        if page >= DEEP_PAGE and self.on_deep_page is not None:
            hook, self.on_deep_page = self.on_deep_page, None
            hook()
        self._pending.add(page)
        generation = self._generation
        loader = self.loader

        def done(rows: list[QueueRow]) -> None:
            self._pending.discard(page)
            if generation != self._generation:
                return  # a newer search or view replaced this result set
            self._pages[page] = rows
            self._stale.pop(page, None)
            if page == self.cursor // PAGE_SIZE:
                self.post_message(self.CurrentChanged())
            while len(self._pages) > CACHED_PAGES:
                self._pages.popitem(last=False)
            self.refresh()

        def failed(_: Exception) -> None:
            self._pending.discard(page)

        self.app.run_db(loader, page * PAGE_SIZE, PAGE_SIZE, on_done=done, on_error=failed, group=f"table-page-{page}")

    # -- geometry -----------------------------------------------------------------------

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)

    def on_resize(self, event: Resize) -> None:
        self._update_virtual_size()

    @property
    def column_keys(self) -> tuple[str, ...]:
        return self._column_keys

    @column_keys.setter
    def column_keys(self, keys: tuple[str, ...]) -> None:
        """Show these columns (in this order) at any width that can hold them; empty: all that fit."""
        if tuple(keys) != self._column_keys:
            self._column_keys = tuple(keys)
            self._layout_width = -1
            self.refresh()

    @property
    def shown_columns(self) -> list[str]:
        return [col.key for col, _ in self._columns]

    def _layout_for(self, width: int) -> list[tuple[Column, int]]:
        # Laid out when painting: the scrollbar appears after the first resize and takes two cells.
        if width != self._layout_width:
            self._columns, self._layout_width = layout(width, self._column_keys), width
        return self._columns

    @property
    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def watch_cursor(self, cursor: int) -> None:
        self.post_message(self.CurrentChanged())
        top = int(self.scroll_y)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, immediate=True)
        elif cursor >= top + self._visible_rows:
            self.scroll_to(y=cursor - self._visible_rows + 1, animate=False, immediate=True)

    # -- actions ------------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, self.cursor + step))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * self._visible_rows)

    def action_jump(self, where: int) -> None:
        if self.total:
            self.cursor = 0 if where == 0 else self.total - 1

    def action_mark(self) -> None:
        row = self.current
        if row is None:
            return
        if row.id in self.marked:
            del self.marked[row.id]
        else:
            self.marked[row.id] = row
        self.action_cursor(1)
        self.refresh()
        self.post_message(self.MarksChanged(len(self.marked)))

    class CurrentChanged(Message):
        """The row under the cursor moved, or its page arrived (the screen's keys may depend on it)."""

    class MarksChanged(Message):
        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    def clear_marks(self) -> None:
        self.marked.clear()
        self.refresh()
        self.post_message(self.MarksChanged(0))

    def on_click(self, event: Click) -> None:
        if event.y == 0:
            x = MARK_WIDTH
            for col, width in self._columns:
                if x <= event.x < x + width + 1:
                    if col.sortable:
                        self.post_message(self.SortRequested(col.key))
                    return
                x += width + 1
            return
        index = int(self.scroll_y) + event.y - 1
        if 0 <= index < self.total:
            if index == self.cursor and event.chain >= 2 and self.current is not None:
                self.post_message(self.Opened(self.current))
            self.cursor = index

    # -- painting -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        self._layout_for(width)
        if y == 0:
            return self._header(width)
        index = int(self.scroll_y) + y - 1
        if index >= self.total:
            if self.total == 0 and y == 1:
                dim = self.get_component_rich_style("ticket-table--dim")
                return Strip([Segment(clip(self.loading_message, width).ljust(width), dim)], width)
            return Strip.blank(width, self.rich_style)
        page = index // PAGE_SIZE
        if page not in self._pages:
            self._request(page)
        else:
            self._pages.move_to_end(page)
        row = self.row_at(index)
        if row is None:
            dim = self.get_component_rich_style("ticket-table--dim")
            return Strip([Segment("  …".ljust(width), dim)], width)
        return self._row_strip(row, index, width)

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("ticket-table--header")
        segments = [Segment(" " * MARK_WIDTH, style)]
        for i, (col, w) in enumerate(self._columns):
            title = col.title
            if col.key == self.sort_key:
                title += " ▼" if self.descending else " ▲"
            segments.append(Segment(fit(title, w) + (" " if i < len(self._columns) - 1 else ""), style))
        return Strip(segments).extend_cell_length(width, style).crop(0, width)

    def _row_strip(self, row: QueueRow, index: int, width: int) -> Strip:
        base = self.rich_style
        if row.id in self.marked:
            base = base + self.get_component_rich_style("ticket-table--marked")
        # On the cursor row the cursor's own colours win: a status colour need not read on its background.
        cursor = self.get_component_rich_style("ticket-table--cursor") if index == self.cursor else None
        palette = self._cell_styles()
        overdue = palette["late"]
        mark = ("●" if row.id in self.marked else " ") + ("!" if row.overdue else " ")
        segments = [Segment(mark, _over(base + overdue if row.overdue else base, cursor))]
        last = len(self._columns) - 1
        for i, (col, w) in enumerate(self._columns):
            text, style = self._cell(row, col.key, palette)
            cell = fit(text, w) + (" " if i < last else "")
            segments.append(Segment(cell, _over(base + style if style else base, cursor)))
        return Strip(segments).extend_cell_length(width, _over(base, cursor)).crop(0, width)

    def _cell_styles(self) -> dict[str, Style]:
        """Status, priority and late colours from the theme, readable on the table (see ``tui/colours.py``)."""
        variables, background = self.app.theme_variables, self.rich_style.bgcolor
        key = (variables, background)  # both are replaced, not changed, when the theme changes
        if self._palette[0] != key:
            styles = {f"status:{s.slug}": Style.parse(status_style(variables, s)) for s in Status}
            for p in ("urgent", "high", "normal", "low"):
                styles[f"priority:{p}"] = Style.parse(priority_style(variables, p) or "none")
            styles["late"] = Style.parse(late_style(variables))
            self._palette = (key, {k: legible(v, background) for k, v in styles.items()})
        return self._palette[1]

    @staticmethod
    def _cell(row: QueueRow, key: str, palette: dict[str, Style]) -> tuple[str, Style | None]:
        if key == "status":
            return row.status.label, palette[f"status:{row.status.slug}"]
        if key == "priority":
            return PRIORITY_SHORT.get(row.priority, row.priority), palette.get(f"priority:{row.priority}")
        if key == "due":
            return row.due, palette["late"] if row.overdue else None
        if key == "refund":
            return row.refund, palette["late"] if row.refund_stuck else None
        return getattr(row, "case_number" if key == "case" else key), None


def _over(style: Style, cursor: Style | None) -> Style:
    return style if cursor is None else style + cursor
