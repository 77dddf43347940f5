"""What "overdue" means: a promise made to the customer is broken while work on the ticket is still owed.

This is the one definition. The queue's Overdue view and its ``!`` mark, the overdue panel's "SLA breached"
and "Promised follow-ups missed" sections and workload's overdue count all ask it: Python code through
``broken_promises`` / ``is_overdue``, SQL through ``store.queries.overdue_condition``, which is built from
the names below (``OWING_STATUSES``, ``Promise``, ``DUE_FIELD``, ``KEPT_FIELD``, ``is_late``) so that the two
forms cannot drift apart.

A ticket-like object is anything with the attributes ``status`` (a ``Status`` or its slug),
``first_response_at``, ``sla_response_due_at``, ``sla_resolution_due_at`` and ``follow_up_at``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import NamedTuple

from tui_desk.domain.statuses import OPEN_STATUSES, Status, status_of


class Promise(enum.Enum):
    """The promises that can be broken; the value is the word the panel shows."""

    RESPONSE = "response"  # a first response by the SLA's response due time
    RESOLUTION = "resolution"  # a resolution by the SLA's resolution due time
    FOLLOW_UP = "follow-up"  # a follow-up an agent promised the customer


# Promises count only while work is owed. A Resolved ticket owes nothing until the customer reopens it;
# its due times stay on the ticket, so a reopened ticket owes them again. A Closed one owes nothing, ever.
OWING_STATUSES: tuple[Status, ...] = OPEN_STATUSES

SLA_PROMISES = (Promise.RESPONSE, Promise.RESOLUTION)

# The attribute (and Ticket column) holding each promise's due time. The resolution due time is empty
# while the SLA clock is paused (waiting on a party), and a kept follow-up is cleared by the store.
DUE_FIELD = {
    Promise.RESPONSE: "sla_response_due_at",
    Promise.RESOLUTION: "sla_resolution_due_at",
    Promise.FOLLOW_UP: "follow_up_at",
}
# The response promise is the one whose due time stays after it is kept (the SLA report needs it):
# a first response on record is what keeps it.
KEPT_FIELD = {Promise.RESPONSE: "first_response_at"}


class Owed(NamedTuple):
    promise: Promise
    due_at: datetime


def is_late(due_at, now):
    """Strictly past its due time: a promise due at 14:00 is kept at 14:00:00 and broken a moment later.

    Strict because domain/sla.py counts a breach "once the due time is past" and the panel shows a ticket
    due this very instant as at risk, not breached. Written with ``<`` alone so the store applies the very
    same comparison to a column (a Peewee expression) as this module applies to a datetime.
    """
    return due_at < now


def owes(status: Status | str) -> bool:
    """Whether promises count in this status (a ``Status`` or its slug)."""
    return _status(status) in OWING_STATUSES


def pending_promises(ticket) -> list[Owed]:
    """The promises the ticket still owes, past due or not, soonest first; none unless its status owes work."""
    if not owes(ticket.status):
        return []
    found = []
    for promise in Promise:
        due_at = getattr(ticket, DUE_FIELD[promise])
        kept_by = KEPT_FIELD.get(promise)
        if due_at is not None and (kept_by is None or getattr(ticket, kept_by) is None):
            found.append(Owed(promise, due_at))
    return sorted(found, key=_soonest)


def broken_promises(ticket, now: datetime) -> list[Owed]:
    """Why the ticket is overdue at ``now``: its broken promises, most late first (empty: not overdue)."""
    return [owed for owed in pending_promises(ticket) if is_late(owed.due_at, now)]


def is_overdue(ticket, now: datetime) -> bool:
    return bool(broken_promises(ticket, now))


def _soonest(owed: Owed) -> tuple[datetime, int]:
    return owed.due_at, list(Promise).index(owed.promise)


def _status(status: Status | str) -> Status:
    return status if isinstance(status, Status) else status_of(status)
