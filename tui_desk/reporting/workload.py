"""Workload per agent: open, overdue (the one rule of domain/overdue.py), waiting, resolved this week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee as pw

from tui_desk.domain.clock import to_utc
from tui_desk.domain.statuses import OPEN_STATUSES, WAITING_ON_PARTY_STATUSES
from tui_desk.store.models import Ticket
from tui_desk.store.queries import overdue_condition

OPEN_SLUGS = [s.slug for s in OPEN_STATUSES]
WAITING_SLUGS = [s.slug for s in WAITING_ON_PARTY_STATUSES]


@dataclass
class AgentLoad:
    agent: str | None  # None: unassigned
    open: int = 0
    overdue: int = 0
    waiting: int = 0
    resolved_this_week: int = 0

    def as_dict(self) -> dict:
        return {
            "agent": self.agent,
            "open": self.open,
            "overdue": self.overdue,
            "waiting": self.waiting,
            "resolved_this_week": self.resolved_this_week,
        }


def week_start(at: datetime, tz) -> datetime:
    """Monday 00:00 of the week holding ``at``, in ``tz``, as UTC."""
    local = to_utc(at).astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, datetime.min.time(), tzinfo=tz).astimezone(to_utc(at).tzinfo)


def workload(store, now: datetime | None = None) -> list[AgentLoad]:
    """Per agent: open tickets, overdue ones (SLA breached or a follow-up missed), waiting, resolved this week.

    "Overdue" is domain/overdue.py's rule in its SQL form: the tickets of the panel's first and third sections,
    counted in one grouped query.
    """
    now = to_utc(now or store.now())
    is_open = Ticket.status.in_(OPEN_SLUGS)
    late = overdue_condition(now)

    def count(condition):
        return pw.fn.sum(pw.Case(None, [(condition, 1)], 0))

    query = (
        Ticket.select(
            Ticket.assignee,
            count(is_open),
            count(late),
            count(Ticket.status.in_(WAITING_SLUGS)),
            count(Ticket.resolved_at >= week_start(now, store.config.tz)),
        )
        .group_by(Ticket.assignee)
        .tuples()
    )
    with store.reading():
        loads = [
            AgentLoad(agent, open_ or 0, late_ or 0, waiting or 0, resolved or 0)
            for agent, open_, late_, waiting, resolved in query
            if open_ or resolved
        ]
    return sorted(loads, key=lambda a: (a.agent is None, (a.agent or "").lower()))
