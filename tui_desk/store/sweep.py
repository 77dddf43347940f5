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
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import peewee as pw

from tui_desk.domain import log_texts, timers, vocabulary
from tui_desk.domain.clock import to_utc
from tui_desk.domain.dates import iso
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import WAITED_ON_PARTY, Status, status_of
from tui_desk.store import log, outbox
from tui_desk.store.models import Ticket

if TYPE_CHECKING:
    from tui_desk.store.core import Store


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
            with store.backend.write_transaction(store.db):
                deadline = time.monotonic() + BATCH_SECONDS
                while position < len(due):
                    # A ticket another process holds is its business: a sweep there, or a write, which
                    # applies the ticket's due timers itself (Store._changing) before it changes it.
                    _sweep_ticket(store, due[position], now, batch, skip_locked=True)
                    position += 1
                    if time.monotonic() >= deadline:
                        break
            result.add(batch)  # counted once committed, so a failed batch reports nothing it undid
    return result


def apply_due_timers(store: Store, ticket_id: int, now: datetime) -> SweepResult:
    """One ticket's due timer actions, before a write to it. Call inside the write's transaction.

    So a write sees the ticket as an on-time sweep would have left it: a reply that comes after the
    auto-close fell due finds the ticket Closed, whether or not any sweep ran since.
    """
    result = SweepResult(at=now)
    _sweep_ticket(store, ticket_id, now, result)
    return result


def _sweep_ticket(
    store: Store, ticket_id: int, now: datetime, result: SweepResult, *, skip_locked: bool = False
) -> None:
    """One ticket's due actions. Call inside a write transaction."""
    ticket = _TicketRow.read(store, ticket_id, skip_locked=skip_locked)  # re-read under the lock
    if ticket is None:
        return
    if ticket.timer_due_at is None or ticket.timer_due_at > now:
        return  # another sweep got here first, or a person moved the ticket meanwhile
    status = status_of(ticket.status)
    policy = store.config.timers
    plan = timers.plan_timers(status, ticket.period_started_at, ticket.reminders_done, now, policy)
    if not plan.actions:
        # A stale index value (no timer runs, or not yet due): put it right so no sweep keeps finding it.
        ticket.timer_due_at = timers.next_due(status, ticket.period_started_at, ticket.reminders_done, policy)
        ticket.write(store)
        return
    applied: list[dict] = []
    try:
        with _savepoint(store):  # a duplicate rolls back this ticket's work only
            for action in plan.actions:
                applied.append(_apply(store, ticket, status, action, now))
            if not plan.closes:
                ticket.reminders_done = plan.reminders_done
                ticket.timer_due_at = timers.next_due(status, ticket.period_started_at, plan.reminders_done, policy)
            ticket.write(store)
    except _AlreadyAppliedError:
        # Another process applied these already (its TimerEvent rows exist): count them, write
        # nothing else, and move the ticket's schedule past them so no sweep keeps finding it due.
        result.duplicates += len(plan.actions)
        fresh = _TicketRow.read(store, ticket_id)
        if plan.closes:
            fresh.timer_due_at = None
        else:
            fresh.reminders_done = max(fresh.reminders_done, plan.reminders_done)
            fresh.timer_due_at = timers.next_due(status, fresh.period_started_at, fresh.reminders_done, policy)
        fresh.write(store)
        return
    for done in applied:
        kind = done["action"]
        if kind == "reminder":
            result.reminders += 1
        elif kind == "reminder_skipped":
            result.skipped += done.get("through", done["slot"]) - done["slot"] + 1  # slots, not entries
        elif kind == "auto_close":
            result.auto_closed += 1
        elif kind == "resolved_close":
            result.resolved_closed += 1
    result.actions.extend(applied)
    result.touched.append(ticket.case_number)


# -- reading and writing a ticket with plain statements ------------------------------------------
# The sweep may have a thousand tickets to act on; building each statement through the ORM costs more
# than running it, so a ticket is read with one fixed SELECT and written back with an UPDATE of the
# columns that changed. Its log entries, status changes and messages go through the same writers as
# every other change (store/log.py, store/outbox.py).

_TICKET_FIELDS = Ticket._meta.sorted_fields
_FIELD_NAMES = [f.name for f in _TICKET_FIELDS]
_SELECT_TICKET = "SELECT {} FROM ticket WHERE id = ?".format(", ".join(f'"{f.column_name}"' for f in _TICKET_FIELDS))
_INSERT_EVENT = (
    "INSERT INTO timer_event(ticket_id, action, period_started_at, slot, due_at, applied_at, outcome, entry_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_iso = functools.lru_cache(maxsize=1024)(iso)


def _execute(store: Store, sql: str, params: tuple | list = ()):
    """Run a fixed statement on this thread's connection (errors reach ``Store._errors`` as the driver's own)."""
    return store.backend.run(store.db, sql, params)


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


class _TicketRow:
    """A ticket read with one plain SELECT, under the model's attribute names; ``write`` updates what changed.

    A column becomes a Python value when first read: reminders read a dozen of the ticket's forty
    columns; closes (domain/lifecycle.py and the SLA clocks) read and set more. Setting an attribute
    records its name, so ``write`` compares only those.
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

    @classmethod
    def read(cls, store: Store, ticket_id: int, *, skip_locked: bool = False) -> _TicketRow | None:
        """The ticket, locked until the commit; None if it is gone (or, ``skip_locked``, held by another)."""
        sql = store.backend.locked_sql(_SELECT_TICKET, skip_locked=skip_locked)
        raw = _execute(store, sql, (ticket_id,)).fetchone()
        return None if raw is None else cls(dict(zip(_FIELD_NAMES, raw, strict=True)))

    def write(self, store: Store) -> None:
        raw = self._raw
        changed = []
        for name in self._set:
            field = _FIELDS_BY_NAME[name]
            stored = field.db_value(getattr(self, name))
            if stored != raw[name]:
                changed.append((field, stored))
        self._set.clear()
        if not changed:
            return
        # Only the changed columns: an UPDATE naming the searchable columns would re-index the ticket.
        sql = "UPDATE ticket SET {} WHERE id = ?".format(", ".join(f'"{f.column_name}" = ?' for f, _ in changed))
        _execute(store, sql, [stored for _, stored in changed] + [self.id])
        raw.update({f.name: stored for f, stored in changed})


def _apply(store: Store, ticket: _TicketRow, status: Status, action: timers.TimerAction, now: datetime) -> dict:
    """Write one action: its log entry, its TimerEvent (the exactly-once key), its outbox message."""
    period = ticket.period_started_at
    party = WAITED_ON_PARTY.get(status, "buyer")  # Resolved: the customer is told
    texts = log_texts.timer_action(
        action.action,
        slot=action.slot,
        through=action.through,
        party=party,
        case_number=ticket.case_number,
        subject=ticket.subject,
        period_started_at=period,
        due_at=action.due_at,
        now=now,
        policy=store.config.timers,
        templates=store.config.templates,
    )
    entry = log.system_entry(
        action.action, texts.summary, at=now, body=texts.body, direction=texts.direction, agent=vocabulary.SYSTEM
    )
    entry.due_at = action.due_at
    entry_id, seq = log.append_row(store.db, ticket, entry)
    outcome = {"reminder": "sent", "reminder_skipped": "skipped"}.get(action.action, "closed")
    event_action = "reminder" if action.action == "reminder_skipped" else action.action
    stamp = log.stamp
    policy = store.config.timers
    # One event per slot (the exactly-once key), all pointing at the one entry of a run of skipped reminders.
    event_id = None
    for slot in action.slots:
        due_at = timers.reminder_due(period, slot, policy) if action.through else action.due_at
        event_id = store.backend.insert(
            store.db,
            _INSERT_EVENT,
            (ticket.id, event_action, stamp(period), slot, stamp(due_at), stamp(now), outcome, entry_id),
        )
        if event_id is None:  # the unique key (ticket, action, period, slot) already holds this one
            raise _AlreadyAppliedError()
    message_id = None
    if texts.mail_subject is not None:
        address = outbox.party_address(ticket, party)
        message_id = outbox.queue_message(
            store.db,
            ticket.id,
            party,
            address,
            ticket.case_number,
            texts.mail_subject,
            texts.body,
            created_at=now,
            timer_event_id=event_id,
            kind=action.action,
        )
    if action.action in ("auto_close", "resolved_close"):
        log.change_status(
            store.db,
            ticket,
            Status.CLOSED,
            note=texts.note,
            agent=vocabulary.SYSTEM,
            at=now,
            timer_policy=store.config.timers,
            sla_policy=store.config.sla,
        )
    return {
        "case_number": ticket.case_number,
        "action": action.action,
        "slot": action.slot,
        **({"through": action.through} if action.through > action.slot else {}),
        "due_at": _iso(action.due_at),
        "applied_at": _iso(now),
        "entry": seq,
        "outbox": message_id,
    }
