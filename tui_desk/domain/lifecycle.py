"""What entering a status does to a ticket's own fields: its dates, its timer schedule and its SLA clocks.

One function for every writer that moves a ticket (a person's status change, the sweep's auto-close),
so a ticket closed by the sweep looks exactly like one closed by hand. It works on any object with the
ticket's attribute names, in memory; the caller writes the row.
"""

from __future__ import annotations

from datetime import datetime

from tui_desk.domain import sla, timers
from tui_desk.domain.statuses import Status, status_of


def enter_status(
    ticket, target: Status, now: datetime, *, timer_policy: timers.TimerPolicy, sla_policy: sla.SlaPolicy
) -> None:
    """Move ``ticket`` to ``target`` at ``now``: status dates, the waiting/resolved period, timers and SLA clocks."""
    old = ticket.status
    ticket.status = target.slug
    ticket.status_changed_at = now
    if target is Status.RESOLVED:
        ticket.resolved_at = now
    elif target is Status.CLOSED:
        ticket.closed_at = now
        ticket.follow_up_at = None
    elif status_of(old) is Status.RESOLVED:
        ticket.resolved_at = None  # reopened
    ticket.period_started_at = now if (target.is_waiting_on_party or target is Status.RESOLVED) else None
    ticket.reminders_done = 0
    ticket.timer_due_at = timers.next_due(target, ticket.period_started_at, 0, timer_policy)
    clocks = sla.status_changed(
        sla.read_clocks(ticket),
        old=status_of(old),
        new=target,
        now=now,
        opened_at=ticket.opened_at,
        priority=ticket.priority,
        responded_at=ticket.first_response_at,
        policy=sla_policy,
    )
    sla.write_clocks(ticket, clocks)
