"""How tickets and log entries read on screen: due-next text, timer text, the queue's views. No Textual here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from tui_desk.config import Config, SavedView
from tui_desk.domain import refunds
from tui_desk.domain.dates import format_span
from tui_desk.domain.overdue import Promise, pending_promises
from tui_desk.domain.statuses import NOT_CLOSED_STATUSES, WAITING_ON_PARTY_STATUSES, Status, status_of
from tui_desk.domain.text import printable
from tui_desk.store import TicketFilter
from tui_desk.store.models import Ticket
from tui_desk.store.views import view_filter, view_sort

# "Waiting" means waiting on the buyer or the seller; Waiting on Us is our move, in "All open".
WAITING_STATUSES = WAITING_ON_PARTY_STATUSES


@dataclass(frozen=True)
class QueueView:
    """A quick view of the queue: a name, a key to reach it and the filter it applies."""

    key: str
    title: str
    columns: tuple[str, ...] = ()  # the built-in views show every column that fits
    sort: tuple[str, bool] | None = None
    saved: SavedView | None = None

    def filter(self, agent: str, now: datetime, search: str | None = None) -> TicketFilter:
        flt = {
            "mine": TicketFilter(statuses=NOT_CLOSED_STATUSES, assignee=agent),
            "unassigned": TicketFilter(statuses=NOT_CLOSED_STATUSES, unassigned=True),
            "waiting": TicketFilter(statuses=WAITING_STATUSES),
            "overdue": TicketFilter(overdue_at=now),  # domain/overdue.py, as the store's SQL
            "open": TicketFilter(statuses=NOT_CLOSED_STATUSES),
            "closed": TicketFilter(statuses=(Status.CLOSED,)),
            "stuck": TicketFilter(stuck_refunds_at=now),  # domain/refunds.py, as the store's SQL
        }[self.key]
        flt.search = search or None
        return flt


# "All open" is every status but Closed: a Resolved ticket can still be reopened for 7 days.
VIEWS = (
    QueueView("mine", "My tickets"),
    QueueView("unassigned", "Unassigned"),
    QueueView("waiting", "Waiting"),
    QueueView("overdue", "Overdue"),
    QueueView("open", "All open"),
    QueueView("closed", "Closed"),
    QueueView("stuck", "Refunds stuck"),
)
VIEW_BY_KEY = {v.key: v for v in VIEWS}
MAX_SAVED_VIEWS = 9  # each has a binding slot on the queue (queue.saved_1 … queue.saved_9)


@dataclass(frozen=True)
class SavedQueueView(QueueView):
    """A ``[[views]]`` view of the config, beside the built-in six."""

    def filter(self, agent: str, now: datetime, search: str | None = None) -> TicketFilter:
        return view_filter(self.saved, agent, now, search)


def saved_views(config: Config) -> tuple[QueueView, ...]:
    return tuple(
        SavedQueueView(v.slug, v.name, columns=v.columns, sort=view_sort(v), saved=v)
        for v in config.views[:MAX_SAVED_VIEWS]
    )


def saved_view_of(
    view: QueueView, name: str, search: str, sort: tuple[str, bool], columns: tuple[str, ...]
) -> SavedView:
    """The queue as it is now (a view, the search typed, the sort, the columns) as a ``[[views]]`` entry."""
    if view.saved is not None:
        base = view.saved
        text = " ".join(t for t in (base.text, search) if t)
        return SavedView(
            name=name,
            status=base.status,
            assignee=base.assignee,
            tag=base.tag,
            kind=base.kind,
            priority=base.priority,
            text=text,
            due=base.due,
            sort=("-" if sort[1] else "") + sort[0],
            columns=columns,
        )
    open_slugs = tuple(s.slug for s in NOT_CLOSED_STATUSES)
    fields = {
        "mine": {"status": open_slugs, "assignee": "me"},
        "unassigned": {"status": open_slugs, "assignee": "none"},
        "waiting": {"status": tuple(s.slug for s in WAITING_STATUSES)},
        "overdue": {"due": "overdue"},
        "open": {"status": open_slugs},
        "closed": {"status": (Status.CLOSED.slug,)},
    }[view.key]
    return SavedView(name=name, text=search, sort=("-" if sort[1] else "") + sort[0], columns=columns, **fields)


SHORT_WHAT = {"follow-up": "f-up", "auto-close": "close"}
# How the due-next column names each promise of domain/overdue.py.
PROMISE_WHAT = {Promise.FOLLOW_UP: "follow-up", Promise.RESPONSE: "reply", Promise.RESOLUTION: "SLA"}


@dataclass(frozen=True)
class Due:
    """What falls due next on a ticket."""

    what: str  # "follow-up", "SLA", "reminder 2", "auto-close", "close"
    at: datetime

    def text(self, now: datetime) -> str:
        span = format_span(self.at - now)
        return f"{self.what} {span} ago" if self.at < now else f"{self.what} in {span}"

    def short(self, now: datetime) -> str:
        """``SLA -3d4h``, ``rem2 1d``, ``f-up 5h`` for the queue's narrow column; minus means overdue."""
        span = format_span(self.at - now).replace(" min", "m").replace(" ", "")
        what = SHORT_WHAT.get(self.what, self.what.replace("reminder ", "rem"))
        return f"{what} -{span}" if self.at < now else f"{what} {span}"


def timer_due(ticket: Ticket, config: Config) -> Due | None:
    """The next timer action of the current waiting/resolved period, named ("reminder 2", "auto-close")."""
    if ticket.timer_due_at is None or ticket.period_started_at is None:
        return None
    status = status_of(ticket.status)
    if status is Status.RESOLVED:
        return Due("close", ticket.timer_due_at)
    if status.is_waiting_on_party:
        close_at = ticket.period_started_at + config.timers.waiting_close_after
        if ticket.timer_due_at < close_at:
            return Due(f"reminder {ticket.reminders_done + 1}", ticket.timer_due_at)
        return Due("auto-close", ticket.timer_due_at)
    return None


def next_due(ticket: Ticket, config: Config) -> Due | None:
    """The earliest of the promises still owed (domain/overdue.py) and the timer; None for a Closed ticket.

    The queue marks a row ``!`` when this is past: for the promises that is exactly the domain's rule, so a
    Resolved ticket's old follow-up, which nobody owes any more, neither shows here nor marks the row.
    """
    if ticket.status == Status.CLOSED.slug:
        return None
    candidates = [Due(PROMISE_WHAT[owed.promise], owed.due_at) for owed in pending_promises(ticket)]
    timer = timer_due(ticket, config)
    if timer is not None:
        candidates.append(timer)
    return min(candidates, key=lambda d: d.at) if candidates else None


def timer_text(ticket: Ticket, config: Config, now: datetime) -> str:
    """``reminder 2 in 1 d 4 h`` / ``closes in 3 d`` / ``no timer running``."""
    due = timer_due(ticket, config)
    if due is None:
        return "no timer running"
    if due.what in ("close", "auto-close"):
        span = format_span(due.at - now)
        return f"closes {span} ago (due)" if due.at < now else f"closes in {span}"
    return due.text(now)


def ago(at: datetime | None, now: datetime) -> str:
    """``3d``, ``5h``, ``12m`` (the largest unit only) for the queue's narrow last-action column."""
    if at is None:
        return ""
    seconds = int((now - at).total_seconds())
    if seconds < 60:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "now"


def short_date(at: datetime | None, tz: tzinfo) -> str:
    return "" if at is None else f"{at.astimezone(tz):%Y-%m-%d}"


def one_line(text: str | None) -> str:
    """Customer text for a table cell: controls escaped, whitespace folded."""
    return printable(text, one_line=True)


def refund_short(ticket: Ticket, now: datetime) -> str:
    """The queue's refund column: the current refund's latest milestone and its age (``init 2d``)."""
    latest = next(
        (name for name in reversed(refunds.MILESTONES) if getattr(ticket, refunds.DATE_FIELD[name]) is not None), None
    )
    if latest is None:
        return ""
    text = f"{refunds.SHORT[latest]} {ago(getattr(ticket, refunds.DATE_FIELD[latest]), now)}"
    return text if len(text) <= REFUND_WIDTH else text.replace(" ", "")


REFUND_WIDTH = 7


def refund_timeline(refund: refunds.Refund, tz: tzinfo) -> str:
    """``Refund 1  approved 12 Nov → initiated 14 Nov (2 d) → refunded 19 Nov (5 d) · 100.00 EUR``.

    A partial refund says what reached the customer of what was approved.
    """
    steps = [f"{name} {at.astimezone(tz):%-d %b}" + (f" ({gap})" if gap else "") for name, at, gap in refund.steps()]
    approved = refund.milestones.get("approved")
    amount = refunds.money(approved.amount if approved else refund.amount, refund.currency)
    if refund.partial:
        amount = f"{refunds.money(refund.latest.amount, refund.currency)} of {amount} (partial)"
    if not refund.done and refund.next_milestone and refund.milestones:
        steps.append(f"{refund.next_milestone} …")
    return f"Refund {refund.number}  " + (" → ".join(steps) or "no milestone yet") + f" · {amount}"
