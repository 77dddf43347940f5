"""How the queue reads a result set (a view, a search, an order) for its table, off the UI thread.

A search fetches every matching id in order at once (one query gives the count, the order and cheap
pages). In case-number order (the default) the first page comes before that, from a LIMIT query that
SQLite answers without reading every match, and the count follows: a search for three letters in a big
store shows rows at once and "…" for the count until it is known. A plain view shows its first page
from a LIMIT query and its count at once; the ordered ids are fetched only once someone scrolls deep,
so that deep scrolling never runs an OFFSET scan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import partial

from textual.worker import get_current_worker

from tui_desk.store import Store, TicketFilter
from tui_desk.store.models import Ticket
from tui_desk.tui.context import DeskContext
from tui_desk.tui.presenting import VIEW_BY_KEY
from tui_desk.tui.widgets.ticket_table import PAGE_SIZE, QueueRow

DEFAULT_VIEW = "open"
DEFAULT_SORT = ("case", True)  # newest first: cheap at any size

PageReader = Callable[[int, int], list[QueueRow]]  # (offset, limit) -> rows, as the table asks for them


def queue_rows(store: Store, tickets: list[Ticket], now: datetime, tz: tzinfo) -> list[QueueRow]:
    tags = store.tags(t.id for t in tickets)
    return [QueueRow.of(t, tags[t.id], now, store.config, tz) for t in tickets]


def read_page(
    store: Store,
    flt: TicketFilter,
    sort: str,
    descending: bool,
    now: datetime,
    tz: tzinfo,
    offset: int,
    limit: int,
    total: int | None = None,
) -> list[QueueRow]:
    """Rows ``offset`` to ``offset + limit`` of a view; past the middle of a view of known ``total``
    size they are read from its end, reversed, so a jump to the last page skips no rows."""
    if total is not None and offset > total // 2:
        count = max(0, min(limit, total - offset))
        tail = store.list_tickets(flt, sort=sort, descending=not descending, offset=total - offset - count, limit=count)
        return queue_rows(store, tail[::-1], now, tz)
    return queue_rows(
        store, store.list_tickets(flt, sort=sort, descending=descending, offset=offset, limit=limit), now, tz
    )


def read_first_page(
    store: Store, flt: TicketFilter, sort: str, descending: bool, now: datetime, tz: tzinfo
) -> tuple[int, list[QueueRow]]:
    """A view's size and first page (counted only when it fills more than a page)."""
    page = read_page(store, flt, sort, descending, now, tz, 0, PAGE_SIZE)
    return (len(page) if len(page) < PAGE_SIZE else store.count_tickets(flt)), page


class FirstPage(Future):
    """The queue's first page, read in a thread while the console starts (see ``DeskApp``)."""

    def __init__(self, store: Store, agent: str, now: datetime, tz: tzinfo) -> None:
        super().__init__()
        self.matches = (VIEW_BY_KEY[DEFAULT_VIEW].filter(agent, now), *DEFAULT_SORT)
        threading.Thread(target=self._read, args=(store, now, tz), daemon=True, name="first-page").start()

    def _read(self, store: Store, now: datetime, tz: tzinfo) -> None:
        try:
            self.set_result(read_first_page(store, self.matches[0], *DEFAULT_SORT, now, tz))
        except Exception as err:  # noqa: BLE001 - the screen's worker reports it
            self.set_exception(err)
        finally:
            store.db.close()  # this thread's own connection


@dataclass(frozen=True)
class FirstRead:
    """What a load shows first: the size (None: a search's first page, its count to follow), the page
    at the load's first row, and how the table reads the other pages."""

    total: int | None
    page: list[QueueRow]
    pages: PageReader
    by_ids: bool  # the pages come from the ordered id list (no deep OFFSET scans to avoid)


class QueueLoader:
    """One load of the queue's table: made on the UI thread, its reads run in workers.

    ``read`` picks the way the result set is read first; ``count_search`` is the count of a search
    shown by its first page; ``rows_by_offset`` and ``rows_by_ids`` read the pages the table asks for.
    """

    def __init__(
        self,
        desk: DeskContext,
        flt: TicketFilter,
        sort: str,
        descending: bool,
        *,
        search: bool,
        keep_position: bool,
        first_row: int,
        started: FirstPage | None,
    ) -> None:
        self.store, self.now, self.tz = desk.store, desk.now(), desk.tz
        self.flt, self.sort, self.descending = flt, sort, descending
        self.search = search
        self.keep_position = keep_position
        self.first_row = first_row  # a page boundary; not 0 only for a refresh deep in the list
        # The first page the console read while starting, if it is this load's.
        self.started = started if started is not None and started.matches == (flt, sort, descending) else None
        self.total: int | None = None  # the view's size once counted (then deep pages are read from the end)

    # -- the first read, in a worker ---------------------------------------------------------

    def read(self) -> FirstRead:
        if self.search and not self.keep_position and self.sort == "case":
            return self.search_first_page()
        if self.search:
            return self.search_by_ids()
        if self.first_row:
            return self.deep_page_after_count()
        return self.view_first_page()

    def search_first_page(self) -> FirstRead:
        """A search in case order: its first page from a LIMIT query; the count waits for typing to pause."""
        page = self.rows_by_offset(0, PAGE_SIZE)
        return FirstRead(len(page) if len(page) < PAGE_SIZE else None, page, self.rows_by_offset, by_ids=False)

    def search_by_ids(self) -> FirstRead:
        """A search in any other order (or refreshed): every matching id in order, then pages of those."""
        ids = self.ordered_ids()
        return FirstRead(
            len(ids), self.rows_by_ids(ids, self.first_row, PAGE_SIZE), self.pages_by_ids(ids), by_ids=True
        )

    def deep_page_after_count(self) -> FirstRead:
        """A refresh deep in a view: the count first, so that the page can be read from the end."""
        self.total = self.store.count_tickets(self.flt)
        return FirstRead(self.total, self.rows_by_offset(self.first_row, PAGE_SIZE), self.rows_by_offset, by_ids=False)

    def view_first_page(self) -> FirstRead:
        """A view from its top: its first page and size (read while the console started, if it was)."""
        if self.started is not None:
            self.total, page = self.started.result()
        else:
            self.total, page = read_first_page(self.store, self.flt, self.sort, self.descending, self.now, self.tz)
        return FirstRead(self.total, page, self.rows_by_offset, by_ids=False)

    def count_search(self) -> list[int]:
        """The count of a search shown by its first page, once typing paused: its ordered ids (cheaper pages)."""
        return self.ordered_ids()

    # -- pages ------------------------------------------------------------------------------

    def ordered_ids(self) -> list[int]:
        """Every id of the result set in order; stopped inside SQLite when a newer load supersedes this."""
        worker = get_current_worker()
        return self.store.ticket_ids(
            self.flt, sort=self.sort, descending=self.descending, cancelled=lambda: worker.is_cancelled
        )

    def rows_by_offset(self, offset: int, limit: int) -> list[QueueRow]:
        return read_page(self.store, self.flt, self.sort, self.descending, self.now, self.tz, offset, limit, self.total)

    def rows_by_ids(self, ids: list[int], offset: int, limit: int) -> list[QueueRow]:
        return queue_rows(self.store, self.store.tickets_by_id(ids[offset : offset + limit]), self.now, self.tz)

    def pages_by_ids(self, ids: list[int]) -> PageReader:
        return partial(self.rows_by_ids, ids)
