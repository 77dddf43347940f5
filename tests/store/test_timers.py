"""The timer table walked with an injected clock on a real store: reminders, auto-close, resolved-close, catch-up."""

from datetime import timedelta

import peewee as pw
import pytest

from tui_desk.config import Config
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.domain.timers import TimerPolicy
from tui_desk.store import Store
from tui_desk.store.models import OutboxMessage, StatusChange, Ticket, TimerEvent
from tui_desk.store.sweep import SweepResult, due_query, next_timer_due, sweep_timers
from tui_desk.store.verify import verify_store

pytestmark = pytest.mark.backends  # store, CLI, timer, concurrency and evidence tests: both backends

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def waiting(store, status=Status.WAITING_BUYER, **kw):
    fields = dict(customer="Maria Garcia", subject="Parcel never arrived", email="maria@example.com")
    fields.update(kw)
    t = store.create_ticket(**fields)
    store.change_status(t.case_number, status)
    return t.case_number


def timer_entries(store, number, kinds=("reminder", "reminder_skipped", "auto_close", "resolved_close")):
    return [e for e in store.entries(store.get(number)) if e.kind in kinds]


def outbox(store, number):
    with store.reading():
        return list(
            OutboxMessage.select()
            .where((OutboxMessage.case_number == number) & OutboxMessage.timer_event.is_null(False))
            .order_by(OutboxMessage.id)
        )


def run_console_for(store, clock, span, step=HOUR) -> list[SweepResult]:
    """Sweep every ``step`` for ``span``, as an open console would; the results that did something."""
    acted = []
    end = clock.now() + span
    while clock.now() < end:
        clock.advance(min(step, end - clock.now()))
        result = sweep_timers(store)
        if result.acted or result.skipped:
            acted.append(result)
    return acted


def test_reminders_on_days_3_6_9_and_no_fourth_then_closed_after_30_days(store, clock):
    start = clock.now()
    number = waiting(store)
    assert store.get(number).timer_due_at == start + 3 * DAY

    run_console_for(store, clock, 29 * DAY + 23 * HOUR)
    reminders = timer_entries(store, number)
    assert [e.kind for e in reminders] == ["reminder"] * 3
    assert [e.due_at for e in reminders] == [start + 3 * DAY, start + 6 * DAY, start + 9 * DAY]
    # Hourly sweeps on the hour: each applied exactly when due; logged_at is the applied time.
    assert [e.logged_at for e in reminders] == [e.due_at for e in reminders]
    assert all(e.agent == "system" and e.sender == "system" and e.direction == "out" for e in reminders)
    assert [e.summary for e in reminders][0] == "Reminder 1 of 3 sent to the buyer"
    assert store.get(number).status == Status.WAITING_BUYER.slug  # still waiting at 29 days 23 hours

    messages = outbox(store, number)
    assert [m.recipient for m in messages] == ["buyer"] * 3
    assert {m.address for m in messages} == {"maria@example.com"}
    assert "closed in 27 days" in messages[0].body and "closed in 21 days" in messages[2].body
    assert number in messages[0].body and "Parcel never arrived" in messages[0].body

    run_console_for(store, clock, 1 * HOUR)
    ticket = store.get(number)
    assert ticket.status == Status.CLOSED.slug
    assert ticket.closed_at == start + 30 * DAY and ticket.timer_due_at is None
    close = timer_entries(store, number, ("auto_close",))
    assert len(close) == 1 and close[0].due_at == start + 30 * DAY and close[0].agent == "system"
    last = store.entries(ticket)[-1]
    assert last.kind == "status" and last.agent == "system" and "→ Closed" in last.summary
    with store.reading():
        change = StatusChange.select().where(StatusChange.ticket == ticket.id).order_by(StatusChange.id.desc()).get()
    assert change.agent == "system" and change.to_status == "closed"
    messages = outbox(store, number)
    assert len(messages) == 4 and "we waited 30 days" in messages[-1].body

    run_console_for(store, clock, 60 * DAY, step=DAY)
    assert len(timer_entries(store, number)) == 4  # nothing after the close
    assert verify_store(store).ok


def test_nothing_happens_a_minute_before_the_first_reminder(store, clock):
    number = waiting(store)
    clock.advance(3 * DAY - timedelta(minutes=1))
    assert not sweep_timers(store).acted
    clock.advance(timedelta(minutes=1))
    result = sweep_timers(store)
    assert (result.reminders, result.touched, result.summary()) == (1, [number], "1 reminder sent")


def test_an_answer_on_day_2_stops_everything(store, clock):
    number = waiting(store)
    clock.advance(2 * DAY)
    store.add_entry(number, channel="email", sender="buyer", summary="Here are the photos")
    ticket = store.get(number)
    assert ticket.status == Status.WAITING_US.slug and ticket.timer_due_at is None
    assert run_console_for(store, clock, 40 * DAY, step=6 * HOUR) == []
    assert timer_entries(store, number) == [] and outbox(store, number) == []


@pytest.mark.parametrize(
    "entry",
    [
        dict(channel="note", summary="Checked tracking"),  # an agent's note
        dict(channel="email", sender="seller", summary="Seller says shipped"),  # not the waited-on party
        dict(channel="email", direction="out", sender="agent", summary="Nudged the buyer"),
    ],
)
def test_only_the_waited_on_partys_message_stops_the_clock(store, clock, entry):
    start = clock.now()
    number = waiting(store)
    clock.advance(DAY)
    store.add_entry(number, **entry)
    store.tag(number, add=["vip"])
    assert store.get(number).timer_due_at == start + 3 * DAY  # neither stopped nor restarted
    run_console_for(store, clock, 2 * DAY)
    assert [e.due_at for e in timer_entries(store, number)] == [start + 3 * DAY]


def test_waiting_again_starts_a_fresh_period(store, clock):
    number = waiting(store)
    run_console_for(store, clock, 4 * DAY)  # reminder 1 on day 3
    store.add_entry(number, channel="email", sender="buyer", summary="Which photos?")
    clock.advance(DAY)
    restart = clock.now()
    store.change_status(number, Status.WAITING_BUYER)
    run_console_for(store, clock, 12 * DAY)
    reminders = timer_entries(store, number)
    assert [e.due_at - restart for e in reminders[1:]] == [3 * DAY, 6 * DAY, 9 * DAY]
    assert [e.summary for e in reminders] == [f"Reminder {n} of 3 sent to the buyer" for n in (1, 1, 2, 3)]
    run_console_for(store, clock, 18 * DAY)  # day 35 of the ticket, day 30 of the second period
    ticket = store.get(number)
    assert ticket.status == Status.CLOSED.slug and ticket.closed_at == restart + 30 * DAY


def test_waiting_on_seller_reminds_the_seller_and_a_partner_answer_stops_it(store, clock):
    number = waiting(store, Status.WAITING_SELLER)
    run_console_for(store, clock, 3 * DAY)
    [message] = outbox(store, number)
    assert message.recipient == "seller" and message.address is None  # the mail script knows the seller
    store.add_entry(number, channel="email", sender="partner", sender_name="Shop support", summary="On it")
    assert store.get(number).status == Status.WAITING_US.slug
    assert run_console_for(store, clock, 30 * DAY, step=DAY) == []


def test_resolved_and_answered_on_day_5_is_reopened(store, clock):
    number = waiting(store)
    store.change_status(number, Status.RESOLVED, "Refund sent")
    run_console_for(store, clock, 5 * DAY)
    store.add_entry(number, channel="email", sender="buyer", summary="The refund is short by 5 EUR")
    ticket = store.get(number)
    assert ticket.status == Status.WAITING_US.slug and ticket.timer_due_at is None
    assert run_console_for(store, clock, 20 * DAY, step=DAY) == []
    assert store.get(number).status == Status.WAITING_US.slug


def test_resolved_and_silent_is_closed_after_7_days_and_cannot_be_reopened(store, clock):
    number = waiting(store)
    store.change_status(number, Status.RESOLVED, "Refund sent")
    resolved = clock.now()
    run_console_for(store, clock, 7 * DAY - HOUR)
    assert store.get(number).status == Status.RESOLVED.slug
    [result] = run_console_for(store, clock, HOUR)
    assert (result.resolved_closed, result.summary()) == (1, "1 ticket closed")
    ticket = store.get(number)
    assert ticket.status == Status.CLOSED.slug and ticket.closed_at == resolved + 7 * DAY
    [close] = timer_entries(store, number)
    assert close.kind == "resolved_close" and close.due_at == resolved + 7 * DAY
    [message] = outbox(store, number)
    assert message.recipient == "buyer" and "the 7 days to disagree" in message.body
    with pytest.raises(DeskError, match="Closed"):
        store.add_entry(number, channel="email", sender="buyer", summary="I disagree!")
    with pytest.raises(DeskError, match="Closed"):
        store.change_status(number, Status.WAITING_US)
    assert store.get(number).status == Status.CLOSED.slug


def test_a_7_day_gap_sends_one_reminder_not_two(store, clock):
    start = clock.now()
    number = waiting(store)
    clock.advance(7 * DAY)
    result = sweep_timers(store)
    assert (result.reminders, result.skipped) == (1, 1)
    skipped, sent = timer_entries(store, number)
    assert (skipped.kind, skipped.due_at) == ("reminder_skipped", start + 3 * DAY)
    assert (sent.kind, sent.due_at, sent.logged_at) == ("reminder", start + 6 * DAY, start + 7 * DAY)
    assert "Reminder 2 of 3" in sent.summary and skipped.direction == "internal"
    [message] = outbox(store, number)
    assert "closed in 23 days" in message.body
    # The schedule goes on from there: reminder 3 on day 9, then the close.
    assert store.get(number).timer_due_at == start + 9 * DAY
    with store.reading():
        events = [(e.slot, e.outcome) for e in TimerEvent.select().order_by(TimerEvent.slot)]
    assert events == [(1, "skipped"), (2, "sent")]


def test_a_45_day_gap_closes_without_a_burst(store, clock):
    number = waiting(store)
    clock.advance(45 * DAY)
    result = sweep_timers(store)
    assert (result.reminders, result.skipped, result.auto_closed) == (0, 3, 1)
    assert result.summary() == "1 ticket closed"
    [message] = outbox(store, number)  # the close notice only
    assert "now closed" in message.body
    assert [e.kind for e in timer_entries(store, number)] == ["reminder_skipped", "auto_close"]
    assert store.get(number).status == Status.CLOSED.slug


def test_one_reminder_per_ticket_per_sweep_whatever_the_gap(store, clock):
    numbers = [waiting(store) for _ in range(3)]
    clock.advance(10 * DAY)
    result = sweep_timers(store)
    assert (result.reminders, result.skipped) == (3, 6)
    assert sorted(result.touched) == sorted(numbers)
    assert result.summary() == "3 reminders sent"


def test_a_second_sweep_at_the_same_time_does_nothing(store, clock):
    waiting(store)
    clock.advance(3 * DAY)
    assert sweep_timers(store).reminders == 1
    again = sweep_timers(store)
    assert (again.acted, again.summary(), again.touched) == (0, "", [])


def test_the_unique_key_makes_a_replayed_action_a_no_op(store, clock):
    """Even if a ticket's schedule says a reminder is still due (a stale read), it is not sent twice."""
    number = waiting(store)
    clock.advance(3 * DAY)
    sweep_timers(store)
    log_count = store.get(number).log_count
    # Forge the stale state a racing process would have seen.
    store.backend.run(
        store.db,
        "UPDATE ticket SET reminders_done = 0, timer_due_at = ? WHERE case_number = ?",
        (Ticket.timer_due_at.db_value(clock.now()), number),  # slot 1 due again
    )
    result = sweep_timers(store)
    assert (result.reminders, result.duplicates, result.touched) == (0, 1, [])
    ticket = store.get(number)
    assert ticket.log_count == log_count and len(outbox(store, number)) == 1
    # The schedule moved past the replayed slot, so no sweep keeps finding the ticket due.
    assert ticket.reminders_done == 1 and ticket.timer_due_at > clock.now()
    assert verify_store(store).ok


def test_a_stale_due_time_on_a_ticket_without_timers_is_cleared(store, clock):
    t = store.create_ticket(customer="Kim", subject="Login")
    store.backend.run(store.db, "UPDATE ticket SET timer_due_at = ? WHERE id = ?", ("2026-11-01 00:00:00.000000", t.id))
    result = sweep_timers(store)
    assert not result.acted and store.get(t.case_number).timer_due_at is None


def test_next_timer_due_is_the_earliest_due_time(store, clock):
    assert next_timer_due(store) is None
    start = clock.now()
    waiting(store)
    clock.advance(HOUR)
    number = waiting(store)
    store.change_status(number, Status.RESOLVED, "Done")
    assert next_timer_due(store) == start + 3 * DAY
    clock.advance(3 * DAY)
    sweep_timers(store)
    assert next_timer_due(store) == start + 6 * DAY


def test_configured_durations_and_templates(tmp_path, clock):
    config = Config(
        timers=TimerPolicy(
            reminder_interval=DAY, max_reminders=2, waiting_close_after=5 * DAY, resolved_close_after=2 * DAY
        ),
        templates={
            "reminder": "{party}: {case_number} closes in {days_left} of {days} days",
            "auto_close": "{case_number} closed after {days} days",
            "resolved_close": "{subject} closed after {days} days",
        },
    )
    store = Store(tmp_path / "c.db", config=config, clock=clock, agent="ana")
    start = clock.now()
    number = waiting(store)
    run_console_for(store, clock, 5 * DAY)
    assert [e.due_at - start for e in timer_entries(store, number)] == [DAY, 2 * DAY, 5 * DAY]
    bodies = [m.body for m in outbox(store, number)]
    assert bodies == [
        f"buyer: {number} closes in 4 of 5 days",
        f"buyer: {number} closes in 3 of 5 days",
        f"{number} closed after 5 days",
    ]
    store.close()


def test_sweeping_a_read_only_store_is_refused(db_path, store, clock):
    waiting(store)
    store.close()
    clock.advance(4 * DAY)
    reader = Store(db_path, clock=clock, read_only=True)
    with pytest.raises(DeskError, match="read-only"):
        sweep_timers(reader)
    reader.close()
    writer = Store(db_path, clock=clock)
    assert writer.get("TD-REF-2026-00001").reminders_done == 0
    writer.close()


def test_summary_wording():
    assert SweepResult().summary() == ""
    assert SweepResult(reminders=2, auto_closed=1).summary() == "2 reminders sent, 1 ticket closed"
    assert SweepResult(auto_closed=1, resolved_closed=2).summary() == "3 tickets closed"
    assert SweepResult(skipped=2).acted == 0


def test_a_swept_close_writes_the_ticket_as_the_store_would(store, clock):
    """A regression test: the sweep and a person's status change both close through ``log.change_status``."""
    swept, by_store = waiting(store, priority="high"), waiting(store, priority="high")
    clock.advance(45 * DAY)
    note = "No answer from the buyer in 30 days"
    with store.writing():
        store._set_status(Ticket.get(Ticket.case_number == by_store), Status.CLOSED, note, by_system=True)
    assert sweep_timers(store).touched == [swept]
    a, b = store.get(swept), store.get(by_store)
    differ = {"id", "case_number", "log_count", "log_head", "version"}
    for field in Ticket._meta.sorted_fields:
        if field.name not in differ:
            assert getattr(a, field.name) == getattr(b, field.name), field.name
    entry_a, entry_b = store.entries(a)[-1], store.entries(b)[-1]
    for name in ("kind", "at", "logged_at", "channel", "direction", "sender", "agent", "summary", "body", "due_at"):
        assert getattr(entry_a, name) == getattr(entry_b, name), name
    with store.reading():
        changes = [
            StatusChange.select().where(StatusChange.ticket == t.id).order_by(StatusChange.id.desc()).get()
            for t in (a, b)
        ]
    assert [(c.at, c.from_status, c.to_status, c.agent, c.note) for c in changes] == [
        (clock.now(), "waiting-buyer", "closed", "system", note)
    ] * 2
    assert verify_store(store).ok


@pytest.mark.sqlite_only  # SQLite's EXPLAIN QUERY PLAN
def test_the_due_query_is_an_index_range_scan(store):
    """The sweep's cost follows the number of due tickets: SQLite walks the timer_due_at index, never the table."""
    with store.reading():
        sql, params = due_query(store.now()).sql()
        plan = " ".join(row[-1] for row in store.backend.run(store.db, "EXPLAIN QUERY PLAN " + sql, params))
        assert "SEARCH" in plan and "INDEX ticket_timer_due_at (timer_due_at<?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # the index gives the order too
        sql, params = Ticket.select(pw.fn.MIN(Ticket.timer_due_at)).sql()
        plan = " ".join(row[-1] for row in store.backend.run(store.db, "EXPLAIN QUERY PLAN " + sql, params))
        assert "INDEX ticket_timer_due_at" in plan, plan  # next_timer_due: one index lookup


def test_a_reply_after_the_close_fell_due_finds_the_ticket_closed_without_any_sweep(store, clock):
    """Due timers are applied before a write, in its transaction: the write sees an on-time sweep's result."""
    number = waiting(store)
    clock.advance(34 * DAY)  # closed on day 30; no sweep has run
    with pytest.raises(DeskError, match=r"was closed on .*No answer from the buyer in 30 days.*--references"):
        store.add_entry(number, channel="email", summary="Sorry, I was away", direction="in", sender="buyer")
    ticket = store.get(number)
    assert ticket.status == Status.CLOSED.slug
    assert [e.kind for e in timer_entries(store, number)] == ["reminder_skipped", "auto_close"]
    assert "Sorry, I was away" not in [e.summary for e in store.entries(ticket)]
    assert sweep_timers(store).acted == 0  # applied exactly once: the sweep finds nothing left


def test_a_reply_on_day_8_after_resolved_does_not_reopen_it(store, clock):
    number = waiting(store)
    store.change_status(number, Status.RESOLVED, "Refund sent")
    clock.advance(8 * DAY)
    with pytest.raises(DeskError, match="was closed"):
        store.add_entry(number, channel="email", summary="Thanks!", direction="in", sender="buyer")
    assert store.get(number).status == Status.CLOSED.slug


def test_a_sweep_writes_at_most_one_skipped_entry_per_ticket(tmp_path, clock):
    """Hourly reminders (the most the config allows: 20, at least an hour apart) and a sweep after a
    long gap: one skipped entry per ticket naming the whole run, one TimerEvent per slot, verify clean."""
    config = Config(timers=TimerPolicy(reminder_interval=HOUR, max_reminders=20, waiting_close_after=30 * DAY))
    store = Store(tmp_path / "h.db", config=config, clock=clock, agent="ana")
    numbers = [waiting(store) for _ in range(2)]
    clock.advance(15 * HOUR + 30 * timedelta(minutes=1))
    result = sweep_timers(store)
    assert (result.reminders, result.skipped) == (2, 28)  # slots 1-14 skipped and 15 sent, on each ticket
    for number in numbers:
        skipped = timer_entries(store, number, kinds=("reminder_skipped",))
        assert [e.summary for e in skipped] == [
            "Reminders 1 to 14 of 20 to the buyer skipped: a later reminder is sent instead"
        ]
        assert [e.summary for e in timer_entries(store, number, kinds=("reminder",))] == [
            "Reminder 15 of 20 sent to the buyer"
        ]
    clock.advance(40 * DAY)  # slots 16-20 skipped, then the close: one more skipped entry, not five
    assert sweep_timers(store).skipped == 10
    for number in numbers:
        assert [e.kind for e in timer_entries(store, number)] == [
            "reminder_skipped",
            "reminder",
            "reminder_skipped",
            "auto_close",
        ]
    with store.reading():
        events = list(TimerEvent.select().where(TimerEvent.outcome == "skipped").order_by(TimerEvent.id))
        assert len(events) == 2 * 19 and len({(e.ticket_id, e.slot) for e in events}) == 38
        first_run = [e for e in events if e.ticket_id == events[0].ticket_id][:14]
        assert len({e.entry_id for e in first_run}) == 1  # the run's events all point at its one entry
        assert [e.due_at - first_run[0].period_started_at for e in first_run] == [n * HOUR for n in range(1, 15)]
    assert verify_store(store).ok
    store.close()
