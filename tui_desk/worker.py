"""The timer sweep: reminders, auto-close and resolved-close, applied exactly once by the console and the CLI.

``sweep_timers`` is the one function both use. It asks the ``timer_due_at`` index for the due tickets
(so its cost follows their number, not the store's size) and handles each in its own write
transaction, which holds the write lock from its first statement and re-reads the ticket: what a
parallel console or cron sweep committed first counts. The unique key of ``TimerEvent`` is the last
word: a second attempt at the same action is rolled back as a no-op instead of trusting a read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import peewee as pw

from tui_desk.domain import timers, vocabulary
from tui_desk.domain.clock import to_utc
from tui_desk.domain.dates import format_when, iso
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import WAITED_ON_PARTY, Status, status_of
from tui_desk.store import sqlite
from tui_desk.store.models import OutboxMessage, Ticket, TimerEvent

if TYPE_CHECKING:
    from tui_desk.store.operations import Store


@dataclass
class SweepResult:
    """What one sweep did: counts per kind of action, the tickets it touched and each action."""

    at: datetime | None = None
    reminders: int = 0
    skipped: int = 0
    auto_closed: int = 0
    resolved_closed: int = 0
    duplicates: int = 0  # actions another process had already applied: no-ops
    touched: list[str] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)

    @property
    def closed(self) -> int:
        return self.auto_closed + self.resolved_closed

    @property
    def acted(self) -> int:
        """How many reminders and closes were applied (truthy when the console should say so)."""
        return self.reminders + self.closed

    def summary(self) -> str:
        """``"2 reminders sent, 1 ticket closed"``; empty when the sweep did nothing."""
        parts = []
        if self.reminders:
            parts.append(f"{self.reminders} reminder{'s' if self.reminders != 1 else ''} sent")
        if self.closed:
            parts.append(f"{self.closed} ticket{'s' if self.closed != 1 else ''} closed")
        return ", ".join(parts)

    def as_dict(self) -> dict:
        return {
            "at": iso(self.at),
            "reminders": self.reminders,
            "skipped": self.skipped,
            "auto_closed": self.auto_closed,
            "resolved_closed": self.resolved_closed,
            "duplicates": self.duplicates,
            "touched": list(self.touched),
            "actions": list(self.actions),
            "summary": self.summary(),
        }


class _AlreadyAppliedError(Exception):
    """Raised inside a ticket's savepoint when an action's TimerEvent already exists."""


def due_ticket_ids(store: Store, now: datetime) -> list[int]:
    """Ids of the tickets whose next timer action is due, oldest due first (an index range scan)."""
    with store.reading():
        query = (
            Ticket.select(Ticket.id)
            .where(Ticket.timer_due_at <= now)
            .order_by(Ticket.timer_due_at, Ticket.id)
            .tuples()
        )
        return [row[0] for row in query]


def next_timer_due(store: Store) -> datetime | None:
    """The earliest ``timer_due_at`` in the store (one index lookup), or None when no timer runs."""
    with store.reading():
        value = Ticket.select(pw.fn.MIN(Ticket.timer_due_at)).scalar()
    if value is None:
        return None
    return to_utc(datetime.fromisoformat(value)) if isinstance(value, str) else to_utc(value)


def seconds_until_next_sweep(store: Store, ceiling_s: float, *, floor_s: float = 0.5) -> float:
    """How long a console's worker may sleep: until the next known due time, at most ``ceiling_s``.

    The ceiling makes it notice timers that other consoles or the CLI set meanwhile.
    """
    due = next_timer_due(store)
    if due is None:
        return ceiling_s
    wait = (due - store.now()).total_seconds()
    return max(floor_s, min(ceiling_s, wait)) if wait > 0 else floor_s


def sweep_timers(store: Store, now: datetime | None = None) -> SweepResult:
    """Apply every timer action due at ``now`` (default: the store's clock), each exactly once."""
    now = to_utc(now) if now is not None else store.now()
    if store.read_only:
        raise DeskError(f"the store {store.path} is open read-only; the sweep changes tickets, so it cannot run")
    result = SweepResult(at=now)
    # One connection for the whole sweep (contexts nest), one write transaction per ticket, so a
    # console typing into the same store waits at most for one ticket's actions.
    with store.reading():
        for ticket_id in due_ticket_ids(store, now):
            with sqlite.write_transaction(store.db):
                _sweep_ticket(store, ticket_id, now, result)
    return result


def _sweep_ticket(store: Store, ticket_id: int, now: datetime, result: SweepResult) -> None:
    """One ticket's due actions. Call inside a write transaction."""
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)  # re-read under the lock
    if ticket is None or ticket.timer_due_at is None or ticket.timer_due_at > now:
        return  # another sweep got here first, or a person moved the ticket meanwhile
    status = status_of(ticket.status)
    policy = store.config.timers
    plan = timers.plan_timers(status, ticket.period_started_at, ticket.reminders_done, now, policy)
    if not plan.actions:
        _reschedule(store, ticket, status, ticket.reminders_done)  # stale index value: put it right
        return
    applied: list[dict] = []
    try:
        with store.db.atomic():  # a savepoint: a duplicate rolls back this ticket's work only
            for action in plan.actions:
                applied.append(_apply(store, ticket, status, action, now))
            if not plan.closes:
                ticket.reminders_done = plan.reminders_done
                _reschedule(store, ticket, status, plan.reminders_done)
    except _AlreadyAppliedError:
        # Another process applied these already (its TimerEvent rows exist): count them, write
        # nothing, and move the ticket's schedule past them so no sweep keeps finding it due.
        result.duplicates += len(plan.actions)
        fresh = Ticket.get_by_id(ticket_id)
        if plan.closes:
            fresh.timer_due_at = None
        else:
            fresh.reminders_done = max(fresh.reminders_done, plan.reminders_done)
            fresh.timer_due_at = timers.next_due(status, fresh.period_started_at, fresh.reminders_done, policy)
        fresh.save(only=[Ticket.reminders_done, Ticket.timer_due_at])
        return
    for done in applied:
        kind = done["action"]
        if kind == "reminder":
            result.reminders += 1
        elif kind == "reminder_skipped":
            result.skipped += 1
        elif kind == "auto_close":
            result.auto_closed += 1
        elif kind == "resolved_close":
            result.resolved_closed += 1
    result.actions.extend(applied)
    result.touched.append(ticket.case_number)


def _reschedule(store: Store, ticket: Ticket, status: Status, reminders_done: int) -> None:
    ticket.timer_due_at = timers.next_due(status, ticket.period_started_at, reminders_done, store.config.timers)
    ticket.save(only=[Ticket.reminders_done, Ticket.timer_due_at])


def _days_left(until: datetime, now: datetime) -> int:
    """Whole days left, rounded up: a reminder sent a few seconds late still says 27 days, not 26."""
    return max(0, math.ceil((until - now) / timedelta(days=1)))


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return str(int(days)) if days == int(days) else f"{days:g}"


def _apply(store: Store, ticket: Ticket, status: Status, action: timers.TimerAction, now: datetime) -> dict:
    """Write one action: its log entry, its TimerEvent (the exactly-once key), its outbox message."""
    policy = store.config.timers
    period = ticket.period_started_at
    party = WAITED_ON_PARTY.get(status, "buyer")  # Resolved: the customer is told
    values = {
        "case_number": ticket.case_number,
        "subject": ticket.subject,
        "party": party,
    }
    recipient = party
    note = ""
    if action.action in ("reminder", "reminder_skipped"):
        close_at = period + policy.waiting_close_after
        values.update(days_left=_days_left(close_at, now), days=_days(policy.waiting_close_after))
        of = f"{action.slot} of {policy.max_reminders}"
        if action.action == "reminder":
            summary = f"Reminder {of} sent to the {party}"
            body = store.config.templates["reminder"].format(**values)
            mail_subject = f"[{ticket.case_number}] Reminder: {ticket.subject}"
        else:
            closing = now >= close_at
            summary = f"Reminder {of} to the {party} skipped: " + (
                "the ticket is closed instead" if closing else "a later reminder is sent instead"
            )
            body = f"Due {format_when(action.due_at)}; no sweep ran until " + (
                "the close was due." if closing else "a later reminder was due."
            )
            mail_subject = None
        direction = "out" if action.action == "reminder" else "internal"
    elif action.action == "auto_close":
        values.update(days_left=0, days=_days(policy.waiting_close_after))
        summary = f"Closed after {values['days']} days without an answer from the {party}; {party} told"
        body = store.config.templates["auto_close"].format(**values)
        mail_subject = f"[{ticket.case_number}] Closed: {ticket.subject}"
        direction = "out"
        note = f"No answer from the {party} in {values['days']} days"
    elif action.action == "resolved_close":
        values.update(days_left=0, days=_days(policy.resolved_close_after))
        summary = f"Closed for good {values['days']} days after it was resolved; {party} told"
        body = store.config.templates["resolved_close"].format(**values)
        mail_subject = f"[{ticket.case_number}] Closed: {ticket.subject}"
        direction = "out"
        note = f"Resolved {values['days']} days ago without disagreement"
    else:  # pragma: no cover - plan_timers only makes the four kinds above
        raise ValueError(action.action)
    entry = store._append(
        ticket,
        kind=action.action,
        channel=vocabulary.SYSTEM_CHANNEL,
        direction=direction,
        sender=vocabulary.SYSTEM,
        summary=summary,
        body=body,
        at=now,
        due_at=action.due_at,
        agent=vocabulary.SYSTEM,
    )
    outcome = {"reminder": "sent", "reminder_skipped": "skipped"}.get(action.action, "closed")
    event_action = "reminder" if action.action == "reminder_skipped" else action.action
    inserted = (
        TimerEvent.insert(
            ticket=ticket.id,
            action=event_action,
            period_started_at=period,
            slot=action.slot,
            due_at=action.due_at,
            applied_at=now,
            outcome=outcome,
            entry=entry.id,
        )
        .on_conflict_ignore()
        .execute()
    )
    if not _row_was_inserted(store, inserted):
        raise _AlreadyAppliedError()
    message_id = None
    if mail_subject is not None:
        message_id = OutboxMessage.insert(
            ticket=ticket.id,
            timer_event=inserted,
            recipient=recipient,
            address=ticket.email if recipient == "buyer" else None,
            case_number=ticket.case_number,
            subject=mail_subject,
            body=body,
            created_at=now,
        ).execute()
    if action.action in ("auto_close", "resolved_close"):
        store._set_status(ticket, Status.CLOSED, note, by_system=True)
    return {
        "case_number": ticket.case_number,
        "action": action.action,
        "slot": action.slot,
        "due_at": iso(action.due_at),
        "applied_at": iso(now),
        "entry": entry.seq,
        "outbox": message_id,
    }


def _row_was_inserted(store: Store, rowid) -> bool:
    """INSERT OR IGNORE leaves ``changes()`` at 0 when the unique key already existed."""
    return bool(rowid) and store.db.execute_sql("SELECT changes()").fetchone()[0] == 1


# -- the outbox the sweep fills ------------------------------------------------------------------


def pending_outbox(store: Store, *, include_sent: bool = False) -> list[OutboxMessage]:
    """Messages a mail script still has to deliver, oldest first (all of them with ``include_sent``)."""
    query = OutboxMessage.select().order_by(OutboxMessage.id)
    if not include_sent:
        query = query.where(OutboxMessage.sent_at.is_null())
    with store.reading():
        return list(query)


def mark_sent(store: Store, message_id: int) -> OutboxMessage:
    """Record that a mail script delivered the message; refused if it does not exist or was marked already."""
    now = store.now()
    with store.writing():
        # A conditional update: two mail scripts racing for one message cannot both succeed.
        changed = (
            OutboxMessage.update(sent_at=now)
            .where((OutboxMessage.id == message_id) & OutboxMessage.sent_at.is_null())
            .execute()
        )
        message = OutboxMessage.get_or_none(OutboxMessage.id == message_id)
    if message is None:
        raise DeskError(f"no outbox message {message_id}")
    if not changed:
        raise DeskError(f"outbox message {message_id} was already marked sent at {format_when(message.sent_at)}")
    return message


def describe_message(message: OutboxMessage) -> dict:
    return {
        "id": message.id,
        "case_number": message.case_number,
        "recipient": message.recipient,
        "address": message.address,
        "subject": message.subject,
        "body": message.body,
        "created_at": iso(message.created_at),
        "sent_at": iso(message.sent_at),
        "timer_event": message.timer_event_id,
    }
