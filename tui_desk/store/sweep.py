"""The timer sweep: reminders, auto-close and resolved-close, applied exactly once by the console and the CLI.

``sweep_timers`` is the one function both use. It asks the ``timer_due_at`` index for the due tickets
(so its cost follows their number, not the store's size) and applies each ticket's actions whole,
inside a write transaction that holds the write lock from its first statement (short ones: about
``BATCH_SECONDS``, a chunk of tickets each) and after re-reading the tickets under that lock (on
PostgreSQL, row locks that skip a ticket another process holds): what a parallel console or cron sweep
committed first counts. A chunk costs a few statements, not a few per ticket: its tickets are read with
one SELECT, and its entries, timer events, messages and ticket rows are inserted and updated with one
statement per table (ids reserved up front), which on PostgreSQL saves a round trip per row.

The unique key of ``TimerEvent`` is the last word: a second attempt at the same action is a no-op
instead of trusting a read. When a chunk finds one of its actions applied already, the chunk is rolled
back and done again a ticket at a time, each in a savepoint, so only that ticket's work is undone.
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


BATCH_SECONDS = 0.05  # about the longest a sweep holds the write lock (or a chunk's row locks) at a time
FIRST_CHUNK = 16  # tickets in the first transaction; the next ones fit BATCH_SECONDS at the pace measured
MAX_CHUNK = 256


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
        position, size = 0, FIRST_CHUNK
        while position < len(due):
            chunk = due[position : position + size]
            started = time.monotonic()
            batch = SweepResult()
            try:
                with store.backend.write_transaction(store.db):
                    _sweep_chunk(store, chunk, now, batch)
            except _AlreadyAppliedError:
                # Some action was applied already by another process: the chunk again (the transaction
                # rolled back), a ticket at a time, each in a savepoint that undoes that ticket's work only.
                # A ticket another process holds is its business: a sweep there, or a write, which applies
                # the ticket's due timers itself (Store._changing) before it changes it.
                batch = SweepResult()
                with store.backend.write_transaction(store.db):
                    for ticket_id in chunk:
                        _sweep_ticket(store, ticket_id, now, batch, skip_locked=True)
            result.add(batch)  # counted once committed, so a failed batch reports nothing it undid
            position += len(chunk)
            size = _next_chunk_size(size, len(chunk), time.monotonic() - started)
    return result


def _next_chunk_size(size: int, done: int, seconds: float) -> int:
    """As many tickets as fit in ``BATCH_SECONDS`` at the pace of the last chunk (at most twice as many)."""
    if seconds <= 0:
        return min(MAX_CHUNK, size * 2)
    fits = int(BATCH_SECONDS * done / seconds)
    return max(1, min(MAX_CHUNK, size * 2, fits))


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
    """One ticket's due actions, each row written at once. Call inside a write transaction."""
    ticket = _TicketRow.read(store, ticket_id, skip_locked=skip_locked)  # re-read under the lock
    work = _plan(store, ticket, now)
    if work is None:
        return
    if not work.actions:
        ticket.write(store)  # the stale index value put right
        return
    rows = _Direct(store)
    try:
        with _savepoint(store):  # a duplicate rolls back this ticket's work only
            applied = _apply_all(store, rows, work, now)
            ticket.write(store)
    except _AlreadyAppliedError:
        # Another process applied these already (its TimerEvent rows exist): count them, write
        # nothing else, and move the ticket's schedule past them so no sweep keeps finding it due.
        plan, status, policy = work.plan, work.status, store.config.timers
        result.duplicates += len(plan.actions)
        fresh = _TicketRow.read(store, ticket_id)
        if plan.closes:
            fresh.timer_due_at = None
        else:
            fresh.reminders_done = max(fresh.reminders_done, plan.reminders_done)
            fresh.timer_due_at = timers.next_due(status, fresh.period_started_at, fresh.reminders_done, policy)
        fresh.write(store)
        return
    _count(result, ticket, applied)


def _sweep_chunk(store: Store, ticket_ids: list[int], now: datetime, result: SweepResult) -> None:
    """Several tickets' due actions with a few statements in all: the tickets read (and, on PostgreSQL,
    locked) with one SELECT, every row of a table inserted with one statement. Call inside a write
    transaction; raises ``_AlreadyAppliedError`` (roll it back) if any action was applied already."""
    tickets = _TicketRow.read_many(store, ticket_ids, skip_locked=True)
    plans = []
    for ticket_id in ticket_ids:
        work = _plan(store, tickets.get(ticket_id), now)
        if work is not None:
            plans.append(work)
    wanted = {"log_entry": 0, "timer_event": 0, "outbox_message": 0}
    for work in plans:
        for action, texts in zip(work.actions, work.texts, strict=True):
            wanted["log_entry"] += 1 + (action.action in _CLOSES)  # a close also writes its status entry
            wanted["timer_event"] += len(action.slots)
            wanted["outbox_message"] += texts.mail_subject is not None
    rows = _Queued(store, store.backend.new_ids(store.db, wanted))
    applied = [_apply_all(store, rows, work, now) if work.actions else [] for work in plans]
    rows.insert()
    updates: dict[str, list] = {}
    for work in plans:
        change = work.ticket.changes()
        if change is not None:
            updates.setdefault(change[0], []).append(change[1])
    for sql, params in updates.items():
        store.backend.run_many(store.db, sql, params)
    for work, done in zip(plans, applied, strict=True):
        if done:
            _count(result, work.ticket, done)


_CLOSES = ("auto_close", "resolved_close")


@dataclass
class _Work:
    """A ticket's due actions as planned, with the words of each (log_texts), before anything is written."""

    ticket: _TicketRow
    status: Status
    plan: timers.TimerPlan
    texts: list = field(default_factory=list)

    @property
    def actions(self) -> tuple[timers.TimerAction, ...]:
        return self.plan.actions


def _plan(store: Store, ticket: _TicketRow | None, now: datetime) -> _Work | None:
    """What is due on ``ticket`` (read under the lock) at ``now``; None when nothing is (or it is gone).

    With no action due after all, the ticket's stale ``timer_due_at`` is set right (in memory; written
    with the ticket), so no sweep keeps finding it.
    """
    if ticket is None:
        return None
    if ticket.timer_due_at is None or ticket.timer_due_at > now:
        return None  # another sweep got here first, or a person moved the ticket meanwhile
    status = status_of(ticket.status)
    policy = store.config.timers
    plan = timers.plan_timers(status, ticket.period_started_at, ticket.reminders_done, now, policy)
    work = _Work(ticket, status, plan)
    if not plan.actions:
        ticket.timer_due_at = timers.next_due(status, ticket.period_started_at, ticket.reminders_done, policy)
        return work
    party = WAITED_ON_PARTY.get(status, "buyer")  # Resolved: the customer is told
    for action in plan.actions:
        work.texts.append(
            log_texts.timer_action(
                action.action,
                slot=action.slot,
                through=action.through,
                party=party,
                case_number=ticket.case_number,
                subject=ticket.subject,
                period_started_at=ticket.period_started_at,
                due_at=action.due_at,
                now=now,
                policy=policy,
                templates=store.config.templates,
            )
        )
    return work


def _apply_all(store: Store, rows: _Rows, work: _Work, now: datetime) -> list[dict]:
    """Write a ticket's planned actions through ``rows``, then move its schedule (in memory)."""
    applied = [
        _apply(store, rows, work.ticket, work.status, action, texts, now)
        for action, texts in zip(work.actions, work.texts, strict=True)
    ]
    plan = work.plan
    if not plan.closes:
        work.ticket.reminders_done = plan.reminders_done
        work.ticket.timer_due_at = timers.next_due(
            work.status, work.ticket.period_started_at, plan.reminders_done, store.config.timers
        )
    return applied


def _count(result: SweepResult, ticket: _TicketRow, applied: list[dict]) -> None:
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


# -- reading and writing tickets with plain statements -------------------------------------------
# The sweep may have a thousand tickets to act on; building each statement through the ORM costs more
# than running it, so tickets are read with one fixed SELECT and written back with an UPDATE of the
# columns that changed. Their log entries, status changes and messages go through the same writers as
# every other change (store/log.py, store/outbox.py).

_TICKET_FIELDS = Ticket._meta.sorted_fields
_FIELD_NAMES = [f.name for f in _TICKET_FIELDS]
_SELECT_TICKETS = "SELECT {} FROM ticket WHERE ".format(", ".join(f'"{f.column_name}"' for f in _TICKET_FIELDS))
_EVENT_COLUMNS = "ticket_id, action, period_started_at, slot, due_at, applied_at, outcome, entry_id"
_INSERT_EVENT = f"INSERT INTO timer_event({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
_INSERT_EVENT_ROW = (
    f"INSERT INTO timer_event(id, {_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
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


@functools.cache
def _select_many(size: int) -> str:
    # Chunks are padded to a power of two, so a handful of statement texts serve every chunk.
    return _SELECT_TICKETS + "id IN ({})".format(", ".join("?" * size))


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
        sql = store.backend.locked_sql(_SELECT_TICKETS + "id = ?", skip_locked=skip_locked)
        raw = _execute(store, sql, (ticket_id,)).fetchone()
        return None if raw is None else cls(dict(zip(_FIELD_NAMES, raw, strict=True)))

    @classmethod
    def read_many(cls, store: Store, ticket_ids: list[int], *, skip_locked: bool = False) -> dict[int, _TicketRow]:
        """The tickets by id, locked until the commit (one statement); those gone or held are left out."""
        size = 1 << (len(ticket_ids) - 1).bit_length()
        params = [*ticket_ids, *[ticket_ids[-1]] * (size - len(ticket_ids))]
        sql = store.backend.locked_sql(_select_many(size), skip_locked=skip_locked)
        rows = (cls(dict(zip(_FIELD_NAMES, raw, strict=True))) for raw in _execute(store, sql, params).fetchall())
        return {row.id: row for row in rows}

    def changes(self) -> tuple[str, list] | None:
        """The UPDATE of the columns set to a new value and its parameters (None: nothing changed)."""
        raw = self._raw
        changed = []
        for name in self._set:
            field = _FIELDS_BY_NAME[name]
            stored = field.db_value(getattr(self, name))
            if stored != raw[name]:
                changed.append((field, stored))
        self._set.clear()
        if not changed:
            return None
        changed.sort(key=lambda change: change[0].column_name)  # the same columns: the same statement
        raw.update({f.name: stored for f, stored in changed})
        # Only the changed columns: an UPDATE naming the searchable columns would re-index the ticket.
        sql = "UPDATE ticket SET {} WHERE id = ?".format(", ".join(f'"{f.column_name}" = ?' for f, _ in changed))
        return sql, [stored for _, stored in changed] + [self.id]

    def write(self, store: Store) -> None:
        change = self.changes()
        if change is not None:
            _execute(store, *change)


class _Rows:
    """Where a ticket's timer rows go: written one by one (``_Direct``) or queued for a chunk (``_Queued``)."""

    def entry(self, ticket: _TicketRow, entry: log.NewEntry) -> tuple[int, int]:
        raise NotImplementedError

    def event(self, row: tuple) -> int:
        """The event's id; raises ``_AlreadyAppliedError`` when its unique key holds one already."""
        raise NotImplementedError

    def message(self, **fields) -> int:
        raise NotImplementedError

    def close(self, ticket: _TicketRow, **fields) -> None:
        raise NotImplementedError


class _Direct(_Rows):
    def __init__(self, store: Store) -> None:
        self.db = store.db
        self.backend = store.backend

    def entry(self, ticket, entry):
        return log.append_row(self.db, ticket, entry)

    def event(self, row):
        event_id = self.backend.insert(self.db, _INSERT_EVENT, row)
        if event_id is None:  # the unique key (ticket, action, period, slot) already holds this one
            raise _AlreadyAppliedError()
        return event_id

    def message(self, **fields):
        return outbox.queue_message(self.db, **fields)

    def close(self, ticket, **fields):
        log.change_status(self.db, ticket, Status.CLOSED, **fields)


class _Queued(_Rows):
    """A chunk's rows, given the ids ``new_ids`` reserved, inserted by ``insert`` one statement per table."""

    def __init__(self, store: Store, ids: dict[str, list[int]]) -> None:
        self.db = store.db
        self.backend = store.backend
        self.entries = log.EntryQueue(ids["log_entry"])
        self._event_ids = iter(ids["timer_event"])
        self._message_ids = iter(ids["outbox_message"])
        self.events: list[tuple] = []
        self.messages: list[tuple] = []

    def entry(self, ticket, entry):
        return self.entries.append_row(ticket, entry)

    def event(self, row):
        event_id = next(self._event_ids)
        self.events.append((event_id, *row))
        return event_id

    def message(self, **fields):
        message_id = next(self._message_ids)
        self.messages.append((message_id, *outbox.message_row(**fields)))
        return message_id

    def close(self, ticket, **fields):
        log.change_status(self.db, ticket, Status.CLOSED, queue=self.entries, **fields)

    def insert(self) -> None:
        self.entries.insert(self.db)
        if self.backend.run_many(self.db, _INSERT_EVENT_ROW, self.events) < len(self.events):
            raise _AlreadyAppliedError()  # a unique key held one already: the caller rolls the chunk back
        outbox.queue_messages(self.db, self.messages)


def _apply(
    store: Store, rows: _Rows, ticket: _TicketRow, status: Status, action: timers.TimerAction, texts, now: datetime
) -> dict:
    """Write one action: its log entry, its TimerEvent (the exactly-once key), its outbox message."""
    period = ticket.period_started_at
    party = WAITED_ON_PARTY.get(status, "buyer")  # Resolved: the customer is told
    entry = log.system_entry(
        action.action, texts.summary, at=now, body=texts.body, direction=texts.direction, agent=vocabulary.SYSTEM
    )
    entry.due_at = action.due_at
    entry_id, seq = rows.entry(ticket, entry)
    outcome = {"reminder": "sent", "reminder_skipped": "skipped"}.get(action.action, "closed")
    event_action = "reminder" if action.action == "reminder_skipped" else action.action
    stamp = log.stamp
    policy = store.config.timers
    # One event per slot (the exactly-once key), all pointing at the one entry of a run of skipped reminders.
    event_id = None
    for slot in action.slots:
        due_at = timers.reminder_due(period, slot, policy) if action.through else action.due_at
        event_id = rows.event(
            (ticket.id, event_action, stamp(period), slot, stamp(due_at), stamp(now), outcome, entry_id)
        )
    message_id = None
    if texts.mail_subject is not None:
        message_id = rows.message(
            ticket_id=ticket.id,
            recipient=party,
            address=outbox.party_address(ticket, party),
            case_number=ticket.case_number,
            subject=texts.mail_subject,
            body=texts.body,
            created_at=now,
            timer_event_id=event_id,
            kind=action.action,
        )
    if action.action in _CLOSES:
        rows.close(
            ticket,
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
