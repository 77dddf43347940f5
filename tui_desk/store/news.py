"""What an agent should be told without asking: a party answered one of their tickets, one became overdue.

The console asks after every change it hears of (and once a minute, since time makes tickets late); each
answer carries the newest entry id and the overdue set it saw, so the next question asks only what is new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import peewee as pw

from tui_desk.store.models import LogEntry, Ticket
from tui_desk.store.queries import overdue_condition


@dataclass(frozen=True)
class Answer:
    case_number: str
    sender: str  # buyer, seller, partner
    sender_name: str
    summary: str


@dataclass
class News:
    last_entry_id: int
    overdue: frozenset[str]
    answers: list[Answer] = field(default_factory=list)
    newly_overdue: list[str] = field(default_factory=list)


def news_for(store, agent: str, now: datetime, seen: News | None) -> News:
    """Answers from a party on ``agent``'s tickets since ``seen``, and their tickets overdue now and not then.

    With ``seen`` None this is the baseline: nothing is news yet (what was there before the console opened
    is on the screen already)."""
    with store.reading():
        newest = LogEntry.select(pw.fn.max(LogEntry.id)).scalar() or 0
        mine_late = frozenset(
            case
            for (case,) in Ticket.select(Ticket.case_number)
            .where((Ticket.assignee == agent) & overdue_condition(now))
            .tuples()
        )
        if seen is None:
            return News(newest, mine_late)
        answers = []
        if newest > seen.last_entry_id:
            rows = (
                LogEntry.select(Ticket.case_number, LogEntry.sender, LogEntry.sender_name, LogEntry.summary)
                .join(Ticket)
                .where(
                    (LogEntry.id > seen.last_entry_id)
                    & (LogEntry.direction == "in")
                    & (LogEntry.agent != agent)  # what I logged myself I know already
                    & (Ticket.assignee == agent)
                )
                .order_by(LogEntry.id)
                .tuples()
            )
            answers = [Answer(*row) for row in rows]
    return News(newest, mine_late, answers, sorted(mine_late - seen.overdue))
