"""Saved views (``[[views]]`` in config.toml) as ticket filters: one function for the console and ``list --view``."""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta

from tui_desk.config import Config, SavedView
from tui_desk.domain.errors import DeskError
from tui_desk.domain.sla import parse_span
from tui_desk.domain.statuses import NOT_CLOSED_STATUSES, parse_status
from tui_desk.store.queries import TicketFilter


def find_view(config: Config, name: str) -> SavedView:
    """The saved view of this name (any case); a one-line error naming the nearest one."""
    for view in config.views:
        if view.name.lower() == name.strip().lower():
            return view
    names = [v.name for v in config.views]
    near = difflib.get_close_matches(name, names, n=1)
    hint = f'; did you mean "{near[0]}"?' if near else (f" (saved views: {', '.join(names)})" if names else "")
    raise DeskError(f"no saved view {name!r} in the config's [[views]]{hint}")


def view_filter(view: SavedView, agent: str, now: datetime, search: str | None = None) -> TicketFilter:
    """The tickets a saved view shows; ``search`` (the console's search box) narrows its own text."""
    statuses = tuple(parse_status(s) for s in view.status)
    flt = TicketFilter(
        statuses=statuses,
        tag=view.tag or None,
        kind=view.kind or None,
        priorities=view.priority,
        search=" ".join(t for t in (view.text, search or "") if t.strip()) or None,
    )
    who = view.assignee.lower()
    if who == "none":
        flt.unassigned = True
    elif who:
        flt.assignee = agent if who == "me" else view.assignee
    if view.due == "overdue":
        flt.overdue_at = now
    elif view.due:
        flt.due_before = now + clock_span(view.due)
        flt.statuses = statuses or NOT_CLOSED_STATUSES
    return flt


def clock_span(text: str) -> timedelta:
    """A view's ``due = "2d 4h"`` in clock time: what falls due in the next two days, whatever the SLA
    calendar (its days are working days, see domain/sla.py; a queue's horizon is the agent's clock)."""
    span = parse_span(text, "due")
    return timedelta(days=span.days) + span.time


def view_sort(view: SavedView) -> tuple[str, bool] | None:
    """(column, descending) of ``sort = "-due"``; None if the view leaves the order alone."""
    if not view.sort:
        return None
    return view.sort.lstrip("-"), view.sort.startswith("-")
