"""The sweep in chunks: many tickets' actions written with a few statements per chunk, on both backends,
each action still exactly once (a replayed one rolls its chunk back and the chunk is done a ticket at a
time); on PostgreSQL, the round trips to the server counted from libpq's own trace."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import Counter
from datetime import timedelta

import pytest

from tui_desk.domain.statuses import Status
from tui_desk.store import sweep
from tui_desk.store.models import LogEntry, OutboxMessage, StatusChange, Ticket, TimerEvent
from tui_desk.store.sweep import sweep_timers
from tui_desk.store.verify import verify_store

pytestmark = pytest.mark.backends

DAY = timedelta(days=1)


def make_tickets(store, count: int) -> dict[str, list[str]]:
    """Tickets whose timers fall due differently: waiting on the buyer or seller, resolved."""
    kinds: dict[str, list[str]] = {"buyer": [], "seller": [], "resolved": []}
    for i in range(count):
        t = store.create_ticket(customer=f"Customer {i}", subject="Parcel", email=f"c{i}@example.com")
        kind = ("buyer", "seller", "resolved")[i % 3]
        target = {"buyer": Status.WAITING_BUYER, "seller": Status.WAITING_SELLER, "resolved": Status.RESOLVED}[kind]
        store.change_status(t.case_number, target, "Refund sent" if kind == "resolved" else None)
        kinds[kind].append(t.case_number)
    return kinds


def rows_by_ticket(store):
    with store.reading():
        events = Counter((e.ticket_id, e.action, e.slot) for e in TimerEvent.select())
        entries = Counter(e.ticket_id for e in LogEntry.select().where(LogEntry.agent == "system"))
        sent_by_timers = OutboxMessage.select().where(OutboxMessage.timer_event.is_null(False))
        messages = Counter(m.timer_event_id for m in sent_by_timers)
        closes = StatusChange.select().where(StatusChange.to_status == Status.CLOSED.slug).count()
    return events, entries, messages, closes


def test_a_sweep_of_many_tickets_in_chunks_applies_each_action_once(store, clock, monkeypatch):
    monkeypatch.setattr(sweep, "FIRST_CHUNK", 4)  # several chunks of different sizes
    kinds = make_tickets(store, 45)
    waiting = kinds["buyer"] + kinds["seller"]
    clock.advance(7 * DAY)  # reminder 2 sent, 1 skipped; the resolved ones close
    result = sweep_timers(store)
    assert (result.reminders, result.skipped, result.resolved_closed) == (len(waiting), len(waiting), 15)
    assert sorted(result.touched) == sorted(waiting + kinds["resolved"])
    events, entries, messages, closes = rows_by_ticket(store)
    assert set(events.values()) == {1} and len(events) == 2 * len(waiting) + 15
    assert set(messages.values()) == {1} and len(messages) == len(waiting) + 15
    assert closes == 15
    # Each reported outbox message and entry is the one written: ids reserved up front are the rows' ids.
    with store.reading():
        for action in result.actions:
            if action["outbox"] is not None:
                message = OutboxMessage.get_by_id(action["outbox"])
                assert message.case_number == action["case_number"] and message.kind == action["action"]
    for number in kinds["resolved"]:
        ticket = store.get(number)
        assert ticket.status == Status.CLOSED.slug and ticket.timer_due_at is None
    for number in waiting:
        ticket = store.get(number)
        assert ticket.reminders_done == 2 and ticket.timer_due_at == ticket.period_started_at + 9 * DAY
        assert [e.kind for e in store.entries(ticket)][-2:] == ["reminder_skipped", "reminder"]
    assert sweep_timers(store).acted == 0
    clock.advance(40 * DAY)
    result = sweep_timers(store)
    assert (result.auto_closed, result.reminders) == (len(waiting), 0)
    assert verify_store(store).ok


def test_a_replayed_action_in_a_chunk_is_a_no_op_and_the_other_tickets_are_swept(store, clock):
    kinds = make_tickets(store, 12)
    clock.advance(3 * DAY)
    first = sweep_timers(store)
    assert first.reminders == 8
    replayed = kinds["buyer"][1]
    log_count = store.get(replayed).log_count
    store.backend.run(  # the stale state a racing process would have seen: reminder 1 due again
        store.db,
        "UPDATE ticket SET reminders_done = 0, timer_due_at = ? WHERE case_number = ?",
        (Ticket.timer_due_at.db_value(clock.now()), replayed),
    )
    clock.advance(7 * DAY)  # the resolved tickets close, the others get reminder 3 (2 skipped)
    result = sweep_timers(store)
    # Its plan (skip 1-2, send 3) counts as done by the other process, whose event for slot 1 exists.
    assert result.duplicates == 2 and replayed not in result.touched
    assert result.resolved_closed == 4 and result.reminders == 7
    assert store.get(replayed).log_count == log_count and store.get(replayed).reminders_done == 3
    events, _, messages, _ = rows_by_ticket(store)
    assert set(events.values()) == {1} and set(messages.values()) == {1}
    assert verify_store(store).ok


class Trace:
    """What a connection sent the server, from libpq's protocol trace: ``waits`` counts the messages
    after which it waits for an answer (Sync, Query): its round trips."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def waits(self) -> int:
        return sum(1 for line in self.lines if line.split("\t")[2].split()[0] in ("Sync", "Query"))

    def __str__(self) -> str:
        return "".join(self.lines)


@contextlib.contextmanager
def traced(store):
    import psycopg.pq

    conn = store.db.connection()
    fd, name = tempfile.mkstemp(prefix="tui-desk-trace-")
    trace = Trace()
    conn.pgconn.trace(fd)
    conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
    try:
        yield trace
    finally:
        conn.pgconn.untrace()
        os.close(fd)
        with open(name, encoding="utf-8", errors="replace") as lines:
            trace.lines = [line for line in lines if line.startswith("F\t") and line.count("\t") >= 2]
        os.unlink(name)


@pytest.mark.postgres_only
def test_postgres_a_sweep_costs_a_few_round_trips_per_chunk_not_per_ticket(store, clock):
    make_tickets(store, 60)
    clock.advance(7 * DAY)
    with store.reading(), traced(store) as trace:
        result = sweep_timers(store)
    assert result.acted == 60
    # Was about eight per ticket (a SELECT, a savepoint and its release, each entry, event and message).
    assert trace.waits < 60, f"{trace.waits} round trips for 60 tickets"


@pytest.mark.postgres_only
def test_postgres_a_write_does_not_ask_whether_the_search_tables_exist_each_time(store):
    number = store.create_ticket(customer="Ana", subject="Kettle").case_number
    with store.reading(), traced(store) as trace:
        for i in range(3):
            store.add_entry(number, channel="note", summary=f"note {i}")
    assert trace.waits > 3 and "to_regclass" not in str(trace), str(trace)
