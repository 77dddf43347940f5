"""The queue: quick views with counts, live search, sorting, single-key actions on one or many tickets."""

from __future__ import annotations

from functools import partial

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.domain.text import printable
from tui_desk.store import SORT_COLUMNS, TicketFilter, TicketSnapshot
from tui_desk.tui.context import StoreChanged
from tui_desk.tui.presenting import MAX_SAVED_VIEWS, VIEW_BY_KEY, VIEWS, QueueView, saved_view_of, saved_views
from tui_desk.tui.screens.queue_loader import DEFAULT_SORT, DEFAULT_VIEW, FirstRead, QueueLoader
from tui_desk.tui.screens.read_only import refuse_if_read_only, writes
from tui_desk.tui.widgets.key_bar import KeyBar
from tui_desk.tui.widgets.ticket_table import COLUMNS, PAGE_SIZE, QueueRow, TicketTable

SORTABLE = [c.key for c in COLUMNS if c.sortable and c.key in SORT_COLUMNS]
VIEW_TITLES = {v.key: v.title for v in VIEWS}
SHORT_VIEW_TITLES = {**VIEW_TITLES, "mine": "Mine", "open": "Open", "stuck": "Stuck"}  # for 80 columns
TINY_VIEW_TITLES = {**SHORT_VIEW_TITLES, "unassigned": "Unasg", "overdue": "Over"}  # 80 columns, big counts
COUNT_PAUSE_S = 2.0  # on a busy store, recount the views at most this often
SEARCH_DELAY_S = 0.01  # fold keys that arrive together (a paste, a fast burst) into one query
LIVE_SEARCH_FROM = 3  # characters
COUNT_AFTER_S = 0.15  # a search's count (and its id list) once typing pauses this long
# The keys of the saved views' slots, in order ([[views]] key = … or [keys] queue.saved_N remaps them).
SAVED_VIEW_KEYS = ("8", "9", "0", "f5", "f6", "f7", "f8", "f9", "f10")[:MAX_SAVED_VIEWS]


class QueueScreen(Screen):
    """Triage: a ticket table on a quick view, filtered live by the search box."""

    CSS_PATH = "queue.tcss"
    PALETTE_SKIP = ("view(",)  # the palette offers "View: …" commands instead
    BINDINGS = [
        Binding("enter", "open", "Open", id="queue.open"),
        Binding("n", "new", "New", tooltip="New ticket", id="queue.new"),
        Binding("l", "log", "Log", tooltip="Log an interaction", id="queue.log"),
        Binding("r", "reply", "Reply", show=False, tooltip="Reply by email", id="queue.reply"),
        Binding("s", "status", "Status", tooltip="Change the status", id="queue.status"),
        Binding("a", "assign_me", "Take", tooltip="Take: assign to me", id="queue.assign_me"),
        Binding("A", "assign", "Assign to…", show=False, id="queue.assign"),
        Binding("t", "tags", "Tags (+add -remove)", show=False, id="queue.tags"),
        Binding("R", "refund", "Refund", show=False, tooltip="Record refund milestones", id="queue.refund"),
        Binding("slash", "search", "Search", tooltip="Search (live, as you type)", id="queue.search"),
        Binding("o", "sort", "Sort by the next column", show=False, id="queue.sort"),
        Binding("O", "reverse", "Reverse sort", show=False, id="queue.reverse"),
        Binding("escape", "back", "Clear the search or the marks", show=False, id="queue.back"),
        Binding("q", "app.quit", "Quit", id="queue.quit"),
        Binding("colon", "jump", "Jump to case", tooltip="Jump to a case by part of its number", id="queue.jump"),
        Binding("y", "copy", "Copy the case number", show=False, id="queue.copy"),
        Binding("Y", "copy_menu", "Copy…", show=False, tooltip="Copy the email, order or digest", id="queue.copy_menu"),
        *[
            Binding(str(i), f"view('{v.key}')", v.title, show=False, id=f"queue.view_{v.key}")
            for i, v in enumerate(VIEWS, start=1)
        ],
        *[
            Binding(key, f"saved({i})", f"Saved view {i}", show=False, id=f"queue.saved_{i}")
            for i, key in enumerate(SAVED_VIEW_KEYS, start=1)
        ],
        Binding("c", "columns", "Columns…", show=False, tooltip="Choose this view's columns", id="queue.columns"),
        Binding(
            "V", "save_view", "Save as a view…", show=False, tooltip="Save this view and search", id="queue.save_view"
        ),
    ]

    def __init__(self, view: str = DEFAULT_VIEW) -> None:
        super().__init__()
        self.view: QueueView = VIEW_BY_KEY[view]
        self.views: tuple[QueueView, ...] = VIEWS  # and the config's [[views]], once mounted
        self.search = ""
        self.counts: dict[str, int | None] = {v.key: None for v in VIEWS}
        self.total: int | None = None
        self._search_timer = None
        self._count_timer = None  # a search's count, waiting for typing to pause
        self._keys_for: tuple | None = None  # the row state the key bar was last worked out for
        self.loads = 0  # result sets shown so far (benchmarks and tests wait on it)
        self._counting = False
        self._count_again = False

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(id="views")
        with Horizontal(id="search-bar"):
            yield Static("/", id="search-label")
            yield Input(
                placeholder="search case, customer, email, order, subject, log (live from 3 letters)",
                id="search",
                compact=True,
            )
        yield TicketTable(id="tickets")
        yield Static(id="status-line")
        yield KeyBar()

    def on_mount(self) -> None:
        self.table.sort_key, self.table.descending = DEFAULT_SORT  # newest first: cheap at any size
        self.views = (*VIEWS, *saved_views(self.app.store.config))
        self.counts.update({v.key: None for v in self.views if v.key not in self.counts})
        self.table.column_keys = self._columns_of(self.view)
        self.query_one("#title", Static).update(
            Content.assemble(
                ("tui-desk", "bold"),
                "  queue  ·  agent ",
                (printable(self.app.agent), "bold"),
                "  ·  ",
                printable(self.app.store.path.name, one_line=True),
                ("  ·  read-only", "bold $warning") if self.app.store.read_only else "",
            )
        )
        self.table.focus()  # the first load comes with the screen's first resume, like every later one

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    # -- loading ----------------------------------------------------------------------------

    def current_filter(self) -> TicketFilter:
        return self.view.filter(self.app.agent, self.app.now(), self.search)

    def reload(self, *, keep_position: bool = False, recount: bool = False) -> None:
        """Read the visible page and the count in a worker (see ``QueueLoader``); the table fetches further
        pages itself. ``recount`` counts the views again too."""
        if self._count_timer is not None:
            self._count_timer.stop()  # that count belongs to the result set this load replaces
            self._count_timer = None
        started = self.app.first_queue_page if not self.loads and not keep_position and not self.search else None
        self.app.first_queue_page = None
        load = QueueLoader(
            self.app,
            self.current_filter(),
            self.table.sort_key,
            self.table.descending,
            search=bool(self.search),
            keep_position=keep_position,
            first_row=(int(self.table.scroll_y) // PAGE_SIZE) * PAGE_SIZE if keep_position else 0,
            started=started,
        )
        self.app.run_db(load.read, on_done=partial(self._show_load, load, recount), group="queue", exclusive=True)

    def _show_load(self, load: QueueLoader, recount: bool, read: FirstRead) -> None:
        table = self.table
        self.total = read.total
        self.loads += 1  # benchmarks and tests wait on it
        table.loading_message = "No tickets here." if not self.search else "No ticket matches."
        if read.total is None:
            # The first page of a big result: the count follows once typing pauses (a count for
            # every prefix typed would only compete with the next keystroke's page).
            generation = table.reset(read.pages, len(read.page), read.page)
            self._show_status()
            self._count_timer = self.set_timer(COUNT_AFTER_S, partial(self._count_search, load, generation))
            return
        page_number = load.first_row // PAGE_SIZE
        generation = table.reset(
            read.pages, read.total, read.page, page_number=page_number, keep_position=load.keep_position
        )
        self._show_status()
        if recount or self.loads == 1:
            self._count_views()  # after the rows: the first paint does not wait for six counts
        if not read.by_ids:
            # Only when someone scrolls deep: the id list costs a scan, OFFSET near the top does not.
            table.on_deep_page = partial(self._read_ids_for_deep_pages, load, generation)

    def _count_search(self, load: QueueLoader, generation: int) -> None:
        self.app.run_db(
            load.count_search, on_done=partial(self._show_search_count, load, generation), group="queue", exclusive=True
        )

    def _show_search_count(self, load: QueueLoader, generation: int, ids: list[int]) -> None:
        # The rows are on screen: only the count and the cheaper pages are new.
        self.total = len(ids)
        self.table.complete(load.pages_by_ids(ids), len(ids), generation)
        self._show_status()

    def _read_ids_for_deep_pages(self, load: QueueLoader, generation: int) -> None:
        table = self.table
        self.app.run_db(
            load.ordered_ids,
            on_done=lambda ids: table.upgrade_loader(load.pages_by_ids(ids), generation),
            group="queue-ids",
            exclusive=True,
            quiet=True,
        )

    def _count_views(self) -> None:
        """Count the six views; while a count runs, later requests fold into one more run after it."""
        if self._counting:
            self._count_again = True
            return
        self._counting, self._count_again = True, False
        store, agent, now = self.app.store, self.app.agent, self.app.now()

        views = self.views

        def count() -> dict[str, int]:
            return {v.key: store.count_tickets(v.filter(agent, now)) for v in views}

        def show(counts: dict[str, int]) -> None:
            self.counts.update(counts)
            self._show_views()
            finished()

        def finished(_err: Exception | None = None) -> None:
            self._counting = False
            if self._count_again:
                self.set_timer(COUNT_PAUSE_S, self._count_views)

        self.app.run_db(count, on_done=show, on_error=finished, group="queue-counts")
        self._show_views()

    def _show_views(self) -> None:
        views = self.query_one("#views", Static)
        # Shorter and shorter titles until the line fits; last, only the current view keeps its title.
        levels = ((VIEW_TITLES, " ", False), (SHORT_VIEW_TITLES, " ", False), (TINY_VIEW_TITLES, "", False))
        for titles, pad, bare in (*levels, (TINY_VIEW_TITLES, "", True)):
            parts: list = []
            for i, v in enumerate(self.views, start=1):
                n = self.counts.get(v.key)
                key, title = (
                    (str(i), titles[v.key]) if v.saved is None else self._saved_label(i, titles is TINY_VIEW_TITLES)
                )
                count = "…" if n is None else f"{n:,}"
                label = (
                    f"{pad}{key} {count}{pad}" if bare and v is not self.view else f"{pad}{key} {title} {count}{pad}"
                )
                style = "reverse bold" if v is self.view else ("bold $error" if v.key == "overdue" and n else "")
                parts.append((label, style) if style else label)
                parts.append("│" if i < len(self.views) else "")
            content = Content.assemble(*parts)
            if content.cell_length <= (views.size.width or self.app.size.width) - 1:
                break
        views.update(content)

    def _show_status(self) -> None:
        table = self.table
        shown = "…" if self.total is None else f"{self.total:,} ticket{'s' if self.total != 1 else ''}"
        order = "descending" if table.descending else "ascending"
        parts = [f"{self.view.title}: {shown}", f"sorted by {table.sort_key.replace('_', ' ')} ({order})"]
        if self.search:
            parts.append(f"search “{printable(self.search, one_line=True)}”")
        if table.marked:
            parts.append(f"{len(table.marked)} marked (s/a/A/t apply to them)")
        self.query_one("#status-line", Static).update(Content("  ·  ".join(parts)))
        self.on_ticket_table_current_changed(TicketTable.CurrentChanged())  # new rows: maybe other keys

    def on_resize(self) -> None:
        self._show_views()

    def on_store_changed(self, _: StoreChanged) -> None:
        self.reload(keep_position=True, recount=True)

    def on_screen_resume(self) -> None:
        self.reload(keep_position=self.loads > 0, recount=True)

    # -- search -----------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "search":
            return
        typed = event.value.strip()
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        # One or two letters match most of a big store: those wait for Enter; longer text searches live.
        # Backspacing below that shows the whole view again (the box never says less than the filter).
        if typed and len(typed) < LIVE_SEARCH_FROM:
            typed = ""
        if typed == self.search:
            return
        self.search = typed
        self._search_timer = self.set_timer(SEARCH_DELAY_S, self.reload)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            typed = event.value.strip()
            if typed != self.search:
                if self._search_timer is not None:
                    self._search_timer.stop()
                self.search = typed
                self.reload()
            self.set_focus(self.table)

    # Focus moves at once here (``Widget.focus`` waits a turn): keys typed right after `/`, Enter or
    # Escape go where those keys sent the agent, not to the widget they left.
    def action_search(self) -> None:
        self.set_focus(self.query_one("#search", Input))

    def action_back(self) -> None:
        box = self.query_one("#search", Input)
        if box.has_focus:  # one Escape clears the search and goes back to the rows
            box.value = ""
            self.set_focus(self.table)
        elif self.table.marked:
            self.table.clear_marks()
        elif self.search:
            box.value = ""

    # -- views and sorting ------------------------------------------------------------------

    def action_view(self, key: str) -> None:
        self._switch(next(v for v in self.views if v.key == key))

    def action_saved(self, slot: int) -> None:
        saved = self.views[len(VIEWS) :]
        if 0 < slot <= len(saved):
            self._switch(saved[slot - 1])

    def _switch(self, view: QueueView) -> None:
        self.view = view
        self.table.clear_marks()
        self.table.column_keys = self._columns_of(view)
        if view.sort is not None:
            self.table.sort_key, self.table.descending = view.sort
        self._show_views()
        self.reload()

    def _saved_label(self, index: int, tiny: bool) -> tuple[str, str]:
        """The key and title the views line shows for the saved view at ``index`` (1-based, all views)."""
        view = self.views[index - 1]
        slot = index - len(VIEWS)
        key = view.saved.key or SAVED_VIEW_KEYS[slot - 1]
        return key, view.title[:6] if tiny else view.title

    def _columns_of(self, view: QueueView) -> tuple[str, ...]:
        """The columns picked for this view (``c``), else the view's own, else ``[console] columns``."""
        from tui_desk.tui.state import load_state

        picked = load_state().get("queue_columns", {})
        chosen = picked.get(view.key) if isinstance(picked, dict) else None
        if isinstance(chosen, list) and chosen:
            return tuple(str(c) for c in chosen)
        return view.columns or self.app.store.config.console.columns

    def action_columns(self) -> None:
        from tui_desk.tui.screens.columns import ColumnsDialog
        from tui_desk.tui.state import load_state, save_state

        def chosen(keys: list[str] | None) -> None:
            if keys is None:
                return
            picked = load_state().get("queue_columns", {})
            picked = dict(picked) if isinstance(picked, dict) else {}
            picked[self.view.key] = keys
            save_state({"queue_columns": picked})  # kept for the next run: a preference
            self.table.column_keys = tuple(keys)

        current = self.table.column_keys or tuple(self.table.shown_columns)
        self.app.push_screen(ColumnsDialog(self.view.title, current), chosen)

    def action_save_view(self) -> None:
        from tui_desk.config import append_view
        from tui_desk.tui.screens.dialogs import PromptDialog

        taken = {v.title.lower() for v in self.views}

        def check(text: str) -> str | None:
            name = text.strip()
            if not name:
                return "a saved view needs a name"
            return f"there is a view named {name!r} already" if name.lower() in taken else None

        def chosen(name: str | None) -> None:
            if not name:
                return
            sort = (self.table.sort_key, self.table.descending)
            saved = saved_view_of(self.view, name.strip(), self.search, sort, self.table.column_keys)
            self.app.run_db(append_view, saved, on_done=lambda path: self._saved(saved, path), group="save-view")

        if self.view.key == "stuck":
            self.app.warn("the Refunds stuck view follows the [refunds] rules: it cannot be saved as a view")
            return
        if len(self.views) - len(VIEWS) >= MAX_SAVED_VIEWS:
            self.app.warn(f"the queue has room for {MAX_SAVED_VIEWS} saved views; remove one from the config first")
            return
        self.app.push_screen(PromptDialog("Save this view as", "a name, e.g. Billing disputes", check=check), chosen)

    def _saved(self, saved, path) -> None:
        from tui_desk.store.views import view_sort
        from tui_desk.tui.presenting import SavedQueueView

        view = SavedQueueView(saved.slug, saved.name, columns=saved.columns, sort=view_sort(saved), saved=saved)
        self.views = (*self.views, view)
        self.counts[view.key] = None
        key = SAVED_VIEW_KEYS[len(self.views) - len(VIEWS) - 1]
        self.app.notify(f"Saved view {saved.name} (key {key}) in {path}", markup=False)
        with self.prevent(Input.Changed):  # the view's own text is the search now
            self.query_one("#search", Input).value = ""
        self.search = ""
        self._switch(view)
        self._count_views()

    def action_sort(self) -> None:
        keys = SORTABLE
        current = self.table.sort_key
        self._sort_by(keys[(keys.index(current) + 1) % len(keys)] if current in keys else keys[0])

    def action_reverse(self) -> None:
        self.table.descending = not self.table.descending
        self.reload()

    def _sort_by(self, key: str) -> None:
        if self.table.sort_key == key:
            self.table.descending = not self.table.descending
        else:
            self.table.sort_key, self.table.descending = key, False
        self.reload()

    def on_ticket_table_sort_requested(self, event: TicketTable.SortRequested) -> None:
        self._sort_by(event.key)

    def on_ticket_table_marks_changed(self, _: TicketTable.MarksChanged) -> None:
        self._show_status()

    def palette_commands(self):
        for v in self.views:
            yield SystemCommand(f"View: {v.title}", "Switch the queue to this view", _call(self.action_view, v.key))
        for key in SORTABLE:
            label = next(c.title for c in COLUMNS if c.key == key)
            yield SystemCommand(f"Sort by {label}", "Sort the queue (again: reverse)", _call(self._sort_by, key))

    # -- actions on tickets -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "saved":
            return bool(parameters) and 0 < parameters[0] <= len(self.views) - len(VIEWS)
        tables = self.query(TicketTable)
        current = tables.first().current if tables else None
        if self.app.store.read_only and writes(self, action):
            return True  # it says "read-only: ..." (screens/read_only.py)
        if action in ("open", "log", "reply", "copy", "copy_menu") and current is None:
            return False
        if action == "refund" and (current is None or current.kind != "refund" or current.status is Status.CLOSED):
            return False
        if (
            action in ("status", "assign_me", "assign", "tags", "log", "reply")
            and current is not None
            and current.status is Status.CLOSED
            and not tables.first().marked
        ):
            return False  # Closed is final: the key bar does not offer what would be refused
        return True

    def _key_state(self) -> tuple:
        table = self.table
        current = table.current
        return (current is None, current is not None and current.status is Status.CLOSED, bool(table.marked))

    def on_ticket_table_current_changed(self, _: TicketTable.CurrentChanged) -> None:
        state = self._key_state()
        if state != self._keys_for:
            self._keys_for = state
            self.refresh_bindings()

    def _target_rows(self) -> list[QueueRow]:
        """The marked rows, else the one under the cursor."""
        return list(self.table.marked.values()) or ([self.table.current] if self.table.current else [])

    def _targets(self) -> list[tuple[str, TicketSnapshot]]:
        """The target tickets, each with the version its row showed."""
        return [(row.case_number, TicketSnapshot.at_version(row.version)) for row in self._target_rows()]

    def action_open(self) -> None:
        row = self.table.current
        if row is not None:
            self.app.open_ticket(row.case_number)

    def on_ticket_table_opened(self, event: TicketTable.Opened) -> None:
        self.app.open_ticket(event.row.case_number)

    @refuse_if_read_only
    def action_new(self) -> None:
        self.app.open_new_ticket()

    def action_jump(self) -> None:
        from tui_desk.tui.screens.jump import ask_and_jump

        ask_and_jump(self.app)

    def action_copy(self) -> None:
        from tui_desk.tui.screens.copying import copy_text

        if self.table.current is not None:
            copy_text(self.app, "case number", self.table.current.case_number)

    def action_copy_menu(self) -> None:
        from tui_desk.tui.screens.copying import copy_menu

        if self.table.current is not None:
            copy_menu(self.app, self.table.current.case_number)

    @refuse_if_read_only
    def action_log(self) -> None:
        row = self.table.current
        if row is not None:
            self.app.open_log_entry(row.case_number)

    @refuse_if_read_only
    def action_reply(self) -> None:
        row = self.table.current
        if row is not None:
            self.app.open_reply(row.case_number)

    @refuse_if_read_only
    def action_refund(self) -> None:
        from tui_desk.tui.screens.forms.refund import open_refund_form

        row = self.table.current
        if row is not None:
            open_refund_form(self.app, row.case_number, TicketSnapshot.at_version(row.version))

    @refuse_if_read_only
    def action_status(self) -> None:
        from tui_desk.tui.screens.dialogs import StatusDialog

        targets = self._targets()
        cases = [case for case, _ in targets]
        if not cases:
            return
        current = self.table.current.status if len(cases) == 1 and self.table.current else None

        def chosen(result: tuple[Status, str] | None) -> None:
            if result is not None:
                status, note = result
                self._apply(
                    targets,
                    lambda c, seen: self.app.store.change_status(c, status, note or None, expected=seen),
                    f"to {status.label}",
                )

        self.app.push_screen(self.app.form(StatusDialog).ask(cases, current), chosen)

    @refuse_if_read_only
    def action_assign_me(self) -> None:
        targets = self._targets()
        if not targets:
            return
        me = self.app.agent

        def take() -> None:
            self._apply(targets, lambda c, seen: self.app.store.assign(c, me, expected=seen), f"assigned to {me}")

        theirs = [row for row in self._target_rows() if row.assignee not in ("", me)]
        if not theirs:
            take()
            return
        from tui_desk.tui.screens.dialogs import ChoiceDialog

        lines = [f"{row.case_number} is assigned to {row.assignee}" for row in theirs[:5]]
        if len(theirs) > 5:
            lines.append(f"and {len(theirs) - 5} more")
        title = f"Take {_count([r.case_number for r in theirs])} from a colleague?"
        choices = [("yes", "Take them anyway" if len(theirs) > 1 else "Take it anyway"), ("no", "Leave them")]
        self.app.push_screen(ChoiceDialog(title, lines, choices), lambda answer: take() if answer == "yes" else None)

    @refuse_if_read_only
    def action_assign(self) -> None:
        from tui_desk.tui.screens.dialogs import ask_for_agent

        targets = self._targets()
        cases = [case for case, _ in targets]
        if not cases:
            return

        def chosen(name: str | None) -> None:
            if name is not None:
                who = name.strip() or None
                self._apply(
                    targets,
                    lambda c, seen: self.app.store.assign(c, who, expected=seen),
                    f"assigned to {who or 'nobody'}",
                )

        ask_for_agent(self.app, f"Assign {_count(cases)} to", "", chosen)

    @refuse_if_read_only
    def action_tags(self) -> None:
        from tui_desk.tui.screens.dialogs import PromptDialog, check_tags_text, parse_tag_changes

        targets = self._targets()
        cases = [case for case, _ in targets]
        if not cases:
            return

        def chosen(text: str | None) -> None:
            if text:
                try:
                    add, remove = parse_tag_changes(text)
                except DeskError as err:
                    self.app.warn(err)
                    return
                self._apply(targets, lambda c, seen: self.app.store.tag(c, add, remove, expected=seen), "tags changed")

        self.app.push_screen(
            self.app.form(PromptDialog).ask(
                f"Tags for {_count(cases)}", "+tag to add, -tag to remove", check=check_tags_text
            ),
            chosen,
        )

    def _apply(self, targets: list[tuple[str, TicketSnapshot]], operation, what: str) -> None:
        """Apply one store operation to each ticket in a worker; report what worked and what was refused.

        ``operation(case, seen)`` is guarded by the version the row showed: a ticket changed since is
        refused and named (a colleague's move, a timer), the others still apply.
        """
        cases = [case for case, _ in targets]

        def run() -> tuple[list[str], list[str]]:
            done, refused = [], []
            for case, seen in targets:
                try:
                    operation(case, seen)
                    done.append(case)
                except Exception as err:  # noqa: BLE001 - each refusal is reported, the rest still applies
                    refused.append(str(err) if str(err).startswith(case) else f"{case}: {err}")
            return done, refused

        def report(result: tuple[list[str], list[str]]) -> None:
            done, refused = result
            if done:
                self.app.notify(f"{_count(done)} {what}", markup=False)
            if refused:
                more = f" (+{len(refused) - 3} more)" if len(refused) > 3 else ""
                self.app.notify("\n".join(refused[:3]) + more, severity="warning", markup=False, timeout=8)
            if len(cases) > 1:
                self.table.clear_marks()
            self.app.announce_change()

        self.app.run_db(run, on_done=report, group="queue-apply")


def _count(cases: list[str]) -> str:
    return cases[0] if len(cases) == 1 else f"{len(cases)} tickets"


def _call(fn, *args):
    return lambda: fn(*args)
