"""The timer sweep: reminders, auto-close and resolved-close, applied exactly once by the console and the CLI.

``sweep_timers`` is the one function both use. It asks the ``timer_due_at`` index for the due tickets
(so its cost follows their number, not the store's size) and applies each ticket's actions whole,
inside a write transaction that holds the write lock from its first statement (short ones: at most
``BATCH_SECONDS``, several tickets each) and after re-reading the ticket under that lock: what a
parallel console or cron sweep committed first counts. The unique key of ``TimerEvent`` is the last
word: a second attempt at the same action is rolled back as a no-op instead of trusting a read.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import peewee as pw

from tui_desk.domain import timers, vocabulary
from tui_desk.domain.clock import to_utc
from tui_desk.domain.dates import format_when, iso
from tui_desk.domain.errors import DeskError
from tui_desk.domain.evidence import entry_digest
from tui_desk.domain.statuses import WAITED_ON_PARTY, Status, status_of
from tui_desk.store import sqlite
from tui_desk.store.models import OutboxMessage, Ticket, UTCDateTimeField

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

    def add(self, other: SweepResult) -> None:
        for name in ("reminders", "skipped", "auto_closed", "resolved_closed", "duplicates"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.touched.extend(other.touched)
        self.actions.extend(other.actions)

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


BATCH_SECONDS = 0.05  # the longest a sweep holds the write lock at a time


class _AlreadyAppliedError(Exception):
    """Raised inside a ticket's savepoint when an action's TimerEvent already exists."""


def due_query(now: datetime) -> pw.ModelSelect:
    """The due tickets' ids, oldest due first: a range scan of the ``timer_due_at`` index."""
    return Ticket.select(Ticket.id).where(Ticket.timer_due_at <= now).order_by(Ticket.timer_due_at, Ticket.id)


def due_ticket_ids(store: Store, now: datetime) -> list[int]:
    """Ids of the tickets whose next timer action is due at ``now``."""
    with store.reading():
        return [row[0] for row in due_query(now).tuples()]


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
    # A hair past the due time: a timer that wakes a millisecond early would find nothing due yet.
    wait = (due - store.now()).total_seconds() + 0.05
    return max(floor_s, min(ceiling_s, wait))


def sweep_timers(store: Store, now: datetime | None = None) -> SweepResult:
    """Apply every timer action due at ``now`` (default: the store's clock), each exactly once."""
    now = to_utc(now) if now is not None else store.now()
    if store.read_only:
        raise DeskError(f"the store {store.path} is open read-only; the sweep changes tickets, so it cannot run")
    result = SweepResult(at=now)
    # One connection for the whole sweep (contexts nest; connecting costs more than an idle sweep's
    # query). Tickets go in short write transactions of at most BATCH_SECONDS each: a console typing
    # into the same store waits at most that long, and a thousand due tickets do not pay a thousand
    # commits (each flushes the WAL and the search index). Every ticket's actions are whole inside
    # one transaction, in a savepoint of their own.
    with store.reading():
        due = due_ticket_ids(store, now)
        position = 0
        while position < len(due):
            batch = SweepResult()
            with sqlite.write_transaction(store.db):
                deadline = time.monotonic() + BATCH_SECONDS
                while position < len(due):
                    _sweep_ticket(store, due[position], now, batch)
                    position += 1
                    if time.monotonic() >= deadline:
                        break
            result.add(batch)  # counted once committed, so a failed batch reports nothing it undid
    return result


def _sweep_ticket(store: Store, ticket_id: int, now: datetime, result: SweepResult) -> None:
    """One ticket's due actions. Call inside a write transaction."""
    row = _TicketRow.read(store, ticket_id)  # re-read under the lock
    if row is None:
        return
    ticket = row.ticket
    if ticket.timer_due_at is None or ticket.timer_due_at > now:
        return  # another sweep got here first, or a person moved the ticket meanwhile
    status = status_of(ticket.status)
    policy = store.config.timers
    plan = timers.plan_timers(status, ticket.period_started_at, ticket.reminders_done, now, policy)
    if not plan.actions:
        # A stale index value (no timer runs, or not yet due): put it right so no sweep keeps finding it.
        ticket.timer_due_at = timers.next_due(status, ticket.period_started_at, ticket.reminders_done, policy)
        row.write(store)
        return
    applied: list[dict] = []
    try:
        with _savepoint(store):  # a duplicate rolls back this ticket's work only
            for action in plan.actions:
                applied.append(_apply(store, row, status, action, now))
            if not plan.closes:
                ticket.reminders_done = plan.reminders_done
                ticket.timer_due_at = timers.next_due(status, ticket.period_started_at, plan.reminders_done, policy)
            row.write(store)
    except _AlreadyAppliedError:
        # Another process applied these already (its TimerEvent rows exist): count them, write
        # nothing else, and move the ticket's schedule past them so no sweep keeps finding it due.
        result.duplicates += len(plan.actions)
        row = _TicketRow.read(store, ticket_id)
        fresh = row.ticket
        if plan.closes:
            fresh.timer_due_at = None
        else:
            fresh.reminders_done = max(fresh.reminders_done, plan.reminders_done)
            fresh.timer_due_at = timers.next_due(status, fresh.period_started_at, fresh.reminders_done, policy)
        row.write(store)
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


# -- writing with plain statements ---------------------------------------------------------------
# The sweep may have a thousand tickets to act on; building each statement through the ORM costs
# more than running it, so the per-ticket writes are fixed statements. They write exactly what the
# store's own operations write: the log entry as ``Store._append`` chains it, the status change as
# ``Store._set_status`` makes it (its field logic is shared: ``Store._status_fields``), and
# tests/test_timers.py compares a swept close with a store-made one, column by column.

_TICKET_FIELDS = Ticket._meta.sorted_fields
_FIELD_NAMES = [f.name for f in _TICKET_FIELDS]
_SELECT_TICKET = "SELECT {} FROM ticket WHERE id = ?".format(", ".join(f'"{f.column_name}"' for f in _TICKET_FIELDS))
_INSERT_ENTRY = (
    "INSERT INTO log_entry(ticket_id, seq, kind, at, until, logged_at, channel, direction, sender, sender_name, "
    "agent, summary, body, follow_up_at, corrects_id, due_at, digest) "
    "VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, '', ?, ?, ?, NULL, NULL, ?, ?)"
)
_INSERT_EVENT = (
    "INSERT INTO timer_event(ticket_id, action, period_started_at, slot, due_at, applied_at, outcome, entry_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_INSERT_OUTBOX = (
    "INSERT INTO outbox_message(ticket_id, timer_event_id, recipient, address, case_number, subject, body, "
    "created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)"
)
_INSERT_STATUS_CHANGE = (
    "INSERT INTO status_change(ticket_id, entry_id, at, from_status, to_status, agent, note) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# Cached: a sweep stamps the same few instants (its own time, the due times) many times over.
_stamp = functools.lru_cache(maxsize=1024)(UTCDateTimeField().db_value)
_iso = functools.lru_cache(maxsize=1024)(iso)


def _execute(store: Store, sql: str, params: tuple | list = ()):
    """Run a fixed statement on this thread's connection (errors reach ``Store._errors`` as sqlite3's own)."""
    return store.db.connection().execute(sql, params)


@contextlib.contextmanager
def _savepoint(store: Store) -> Iterator[None]:
    """A savepoint with a fixed name (so SQLite reuses the compiled statements), released or rolled back."""
    _execute(store, "SAVEPOINT timer_ticket")
    try:
        yield
    except BaseException:
        _execute(store, "ROLLBACK TO timer_ticket")
        _execute(store, "RELEASE timer_ticket")
        raise
    _execute(store, "RELEASE timer_ticket")


_FIELDS_BY_NAME = {f.name: f for f in _TICKET_FIELDS}


class _LazyTicket:
    """A ticket's row with the model's attribute names; a column becomes a Python value when first read.

    Reminders read a dozen of the ticket's forty columns; closes (``Store._status_fields`` and the SLA
    helpers) read and set more. Setting an attribute records its name, so ``write`` looks at those only.
    """

    def __init__(self, raw: dict) -> None:
        self.__dict__["_raw"] = raw
        self.__dict__["_set"] = set()

    def __setattr__(self, name: str, value) -> None:
        self.__dict__[name] = value
        self._set.add(name)

    def __getattr__(self, name: str):
        try:
            field = _FIELDS_BY_NAME[name]
        except KeyError:
            raise AttributeError(name) from None
        value = field.python_value(self._raw[name])
        self.__dict__[name] = value
        return value


class _TicketRow:
    """A ticket read with one plain SELECT; ``write`` updates only the columns that changed."""

    def __init__(self, ticket: _LazyTicket) -> None:
        self.ticket = ticket

    @classmethod
    def read(cls, store: Store, ticket_id: int) -> _TicketRow | None:
        raw = _execute(store, _SELECT_TICKET, (ticket_id,)).fetchone()
        if raw is None:
            return None
        return cls(_LazyTicket(dict(zip(_FIELD_NAMES, raw, strict=True))))

    def write(self, store: Store) -> None:
        ticket = self.ticket
        raw = ticket._raw
        changed = []
        for name in ticket._set:
            field = _FIELDS_BY_NAME[name]
            stored = field.db_value(getattr(ticket, name))
            if stored != raw[name]:
                changed.append((field, stored))
        ticket._set.clear()
        if not changed:
            return
        # Only the changed columns: an UPDATE naming the searchable columns would re-index the ticket.
        sql = "UPDATE ticket SET {} WHERE id = ?".format(", ".join(f'"{f.column_name}" = ?' for f, _ in changed))
        _execute(store, sql, [stored for _, stored in changed] + [self.ticket.id])
        raw.update({f.name: stored for f, stored in changed})


def _append(
    store: Store,
    ticket: _LazyTicket,
    *,
    kind: str,
    direction: str,
    summary: str,
    body: str,
    at: datetime,
    due_at: datetime | None = None,
) -> tuple[int, int]:
    """A ``system`` entry chained exactly as ``Store._append`` chains one; returns (id, seq)."""
    fields = dict(
        seq=ticket.log_count + 1,
        kind=kind,
        at=at,
        until=None,
        logged_at=at,
        channel=vocabulary.SYSTEM_CHANNEL,
        direction=direction,
        sender=vocabulary.SYSTEM,
        sender_name="",
        agent=vocabulary.SYSTEM,
        summary=summary,
        body=body,
        follow_up_at=None,
        corrects_seq=None,
        due_at=due_at,
    )
    # The digest covers instants as the store's text (what ``iso_micro`` makes), so stamp them once.
    at_text, due_text = _stamp(at), _stamp(due_at)
    fields.update(at=at_text, logged_at=at_text, due_at=due_text)
    digest = entry_digest(ticket.log_head, fields, [])
    cursor = _execute(
        store,
        _INSERT_ENTRY,
        (
            ticket.id,
            fields["seq"],
            kind,
            at_text,
            at_text,
            vocabulary.SYSTEM_CHANNEL,
            direction,
            vocabulary.SYSTEM,
            vocabulary.SYSTEM,
            summary,
            body,
            due_text,
            digest,
        ),
    )
    ticket.log_count += 1
    ticket.log_head = digest
    if ticket.last_action_at is None or at > ticket.last_action_at:
        ticket.last_action_at = at
    ticket.version += 1
    return cursor.lastrowid, fields["seq"]


def _close(store: Store, ticket: _LazyTicket, note: str, now: datetime) -> None:
    """The status change to Closed, by ``system``, as ``Store._set_status(..., by_system=True)`` makes it."""
    old = ticket.status
    entry_id, _ = _append(
        store,
        ticket,
        kind="status",
        direction="internal",
        summary=f"Status: {status_of(old).label} → {Status.CLOSED.label}",
        body=note,
        at=now,
    )
    _execute(
        store,
        _INSERT_STATUS_CHANGE,
        (ticket.id, entry_id, _stamp(now), old, Status.CLOSED.slug, vocabulary.SYSTEM, note),
    )
    store._status_fields(ticket, Status.CLOSED, now)


def _days_left(until: datetime, now: datetime) -> int:
    """Whole days left, rounded up: a reminder sent a few seconds late still says 27 days, not 26."""
    return max(0, math.ceil((until - now) / timedelta(days=1)))


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return str(int(days)) if days == int(days) else f"{days:g}"


def _fill(store: Store, template: str, values: dict) -> str:
    try:
        return store.config.templates[template].format(**values)
    except (KeyError, IndexError, ValueError, AttributeError) as err:  # config checks this; a last guard
        raise DeskError(f"config: templates.{template} cannot be filled in ({err})") from None


def _apply(store: Store, row: _TicketRow, status: Status, action: timers.TimerAction, now: datetime) -> dict:
    """Write one action: its log entry, its TimerEvent (the exactly-once key), its outbox message."""
    ticket = row.ticket
    policy = store.config.timers
    period = ticket.period_started_at
    party = WAITED_ON_PARTY.get(status, "buyer")  # Resolved: the customer is told
    values = {"case_number": ticket.case_number, "subject": ticket.subject, "party": party}
    note = ""
    mail_subject = None
    direction = "out"
    if action.action in ("reminder", "reminder_skipped"):
        close_at = period + policy.waiting_close_after
        values.update(days_left=_days_left(close_at, now), days=_days(policy.waiting_close_after))
        of = f"{action.slot} of {policy.max_reminders}"
        if action.action == "reminder":
            summary = f"Reminder {of} sent to the {party}"
            body = _fill(store, "reminder", values)
            mail_subject = f"[{ticket.case_number}] Reminder: {ticket.subject}"
        else:
            closing = now >= close_at
            summary = f"Reminder {of} to the {party} skipped: " + (
                "the ticket is closed instead" if closing else "a later reminder is sent instead"
            )
            body = f"Due {format_when(action.due_at)}; no sweep ran until " + (
                "the close was due." if closing else "a later reminder was due."
            )
            direction = "internal"
    elif action.action == "auto_close":
        values.update(days_left=0, days=_days(policy.waiting_close_after))
        summary = f"Closed after {values['days']} days without an answer from the {party}; {party} told"
        body = _fill(store, "auto_close", values)
        mail_subject = f"[{ticket.case_number}] Closed: {ticket.subject}"
        note = f"No answer from the {party} in {values['days']} days"
    elif action.action == "resolved_close":
        values.update(days_left=0, days=_days(policy.resolved_close_after))
        summary = f"Closed for good {values['days']} days after it was resolved; {party} told"
        body = _fill(store, "resolved_close", values)
        mail_subject = f"[{ticket.case_number}] Closed: {ticket.subject}"
        note = f"Resolved {values['days']} days ago without disagreement"
    else:  # pragma: no cover - plan_timers only makes the four kinds above
        raise ValueError(action.action)
    entry_id, seq = _append(
        store,
        ticket,
        kind=action.action,
        direction=direction,
        summary=summary,
        body=body,
        at=now,
        due_at=action.due_at,
    )
    outcome = {"reminder": "sent", "reminder_skipped": "skipped"}.get(action.action, "closed")
    event_action = "reminder" if action.action == "reminder_skipped" else action.action
    cursor = _execute(
        store,
        _INSERT_EVENT,
        (ticket.id, event_action, _stamp(period), action.slot, _stamp(action.due_at), _stamp(now), outcome, entry_id),
    )
    if cursor.rowcount != 1:  # the unique key (ticket, action, period, slot) already holds this one
        raise _AlreadyAppliedError()
    event_id = cursor.lastrowid
    message_id = None
    if mail_subject is not None:
        address = ticket.email if party == "buyer" else None
        message_id = _execute(
            store,
            _INSERT_OUTBOX,
            (ticket.id, event_id, party, address, ticket.case_number, mail_subject, body, _stamp(now)),
        ).lastrowid
    if action.action in ("auto_close", "resolved_close"):
        _close(store, ticket, note, now)
    return {
        "case_number": ticket.case_number,
        "action": action.action,
        "slot": action.slot,
        "due_at": _iso(action.due_at),
        "applied_at": _iso(now),
        "entry": seq,
        "outbox": message_id,
    }


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
